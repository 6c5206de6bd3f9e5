package bridge

import "context"

// Payload is a mapped record as the Target receives it: JSON-able values
// keyed by CRM field.
type Payload = map[string]any

// Target is the CRM side of one stream: one entity (organization, contact,
// product …). Implementations wrap their errors in the engine's classes
// (errors.go).
type Target interface {
	// Entity names the CRM entity; identities are kept per entity.
	Entity() string
	// Find looks an existing CRM record up by the payload's natural key
	// (organization: CNPJ or name; contact: e-mail; product: name). With
	// live false the target may answer from an index it built by listing
	// the CRM once; live is true when an earlier attempt at this record may
	// have created it (timeout, crash), and the CRM itself must be asked.
	Find(ctx context.Context, p Payload, live bool) (crmID string, found bool, err error)
	// Create creates a record and returns its CRM id.
	Create(ctx context.Context, p Payload) (crmID string, err error)
	// Update overwrites the fields in p on the record crmID.
	Update(ctx context.Context, crmID string, p Payload) error
	// KeysOf returns the part of p that Find looks records up by (name,
	// CNPJ, e-mail …), itself a payload Find accepts. The engine records it
	// before a create leaves, so a create whose response was lost is still
	// found after the ERP record changed (renamed, new e-mail).
	KeysOf(p Payload) Payload
}

// NaturalKeyNamer is implemented by targets that name, for messages, the
// natural key they find records by ("e-mail (or name in its
// organization)").
type NaturalKeyNamer interface {
	NaturalKey() string
}

// ExclusiveKey is implemented by targets whose natural key identifies one
// real thing (a contact's e-mail is one person): when another ERP record
// already owns the CRM record with that key, the write is refused instead
// of creating a second record with the same key — unless the target is a
// SharedKeys one that sends the record without that key.
type ExclusiveKey interface {
	ExclusiveKey() bool
}

// SharedKeys is implemented by ExclusiveKey targets whose records can go
// without the natural key another ERP record owns (a contact without the
// e-mail of a shared mailbox): the record is sent without it, and what was
// left out is listed as a warning of the record.
type SharedKeys interface {
	// DropKey returns p without the natural key Find matched it by, and
	// that key as messages name it (`e-mail "compras@acme.com"`). ok is
	// false when p has no such key left, or the record must not go
	// without it (the target's policy): the write is then refused
	// (ErrKeyTaken).
	DropKey(p Payload) (q Payload, key string, ok bool)
}
