package bridge

import (
	"context"
	"errors"
	"time"
)

// Payload is a mapped record as the Target receives it: JSON-able values
// keyed by CRM field.
type Payload = map[string]any

// Target is the CRM side of one stream: one entity (organization, contact,
// product …). Implementations classify their errors with the sentinels below.
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

// Error classes a Target wraps its errors in (errors.Is).
var (
	// ErrRejected: the CRM refused this payload (validation, duplicate
	// name). Retrying the same payload cannot help: the item is parked with
	// level "skip" until the ERP record changes.
	ErrRejected = errors.New("rejected by the CRM")
	// ErrRateLimited: the account's request budget is spent. The item is
	// retried later without using up an attempt.
	ErrRateLimited = errors.New("rate limited")
	// ErrOutcomeUnknown: a create was sent but its response never came.
	// The next attempt resolves it by natural-key lookup before sending.
	ErrOutcomeUnknown = errors.New("outcome unknown")
	// ErrGone: the CRM record no longer exists (deleted in the CRM). The
	// identity is dropped and the record created again.
	ErrGone = errors.New("CRM record not found")
	// ErrFatal: every write would fail the same way (credentials refused).
	// The run stops; the item is retried on a later run without losing an
	// attempt.
	ErrFatal = errors.New("CRM refuses the integration")
)

// ExistsError is what Target.Create returns when the CRM refuses the create
// because a record with the same unique natural key exists (RD Station:
// organization and product names). The engine adopts that record unless
// another ERP record owns it.
type ExistsError struct {
	CRMID string // the existing record
	Err   error  // the CRM's answer
}

func (e *ExistsError) Error() string {
	return "already in the CRM as " + e.CRMID + ": " + e.Err.Error()
}
func (e *ExistsError) Unwrap() error { return e.Err }

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

// ErrKeyTaken: the record's natural key is another ERP record's (an
// ExclusiveKey target) and it cannot go without it. It is an ErrRejected
// that is a policy outcome rather than a failure: the item is parked with
// level "skip" and counted as skipped.
var ErrKeyTaken = errors.New("its natural key belongs to another ERP record")

// ErrListingCapped: the CRM cut a listing short (RD Station v1 lists at
// most 10,000 records); what follows the last record listed must be read
// another way (a later window, a search).
var ErrListingCapped = errors.New("listing capped by the CRM")

// Unrepeatable is implemented by targets whose creates are not idempotent
// and cannot be looked up (RD Station Marketing events: a SALE sent twice
// counts twice, and the API cannot be asked which events it has). The
// engine then records, in its own transaction right before each create
// leaves, that it is leaving (its natural keys, as any create's), and
// clears that record when the create definitely did not happen (an error
// other than ErrOutcomeUnknown). A create recorded as leaving without an
// outcome (a lost answer, a crash) is never sent again blindly: the next
// attempt asks the target's Find with live true, which either proves it
// did not happen (not found: it is sent), proves it did (found: it is
// done), or cannot tell (ErrUnresolvable: it is parked for a person,
// listed by `erpbridge errors list`). A write never recorded as leaving
// (a crash before it left) is simply sent. Each record's write is a
// create: an event is never updated.
type Unrepeatable interface {
	Unrepeatable() bool
}

// ErrUnresolvable: whether an earlier attempt of an Unrepeatable target's
// create reached the target cannot be told. The item is parked (level
// error) with the reason; `erpbridge errors resolve` records what a person
// found out.
var ErrUnresolvable = errors.New("outcome of an earlier attempt cannot be known")

// ErrDeferred: the record cannot be written before a given time (a
// per-record quota of the target: RD Station Marketing writes one contact
// at most 24 times a day). The item waits until then without using up an
// attempt; other records go on. Return a *DeferError.
var ErrDeferred = errors.New("deferred by the target")

// DeferError is an ErrDeferred naming when the record may go.
type DeferError struct {
	Until time.Time
	Err   error
}

func (e *DeferError) Error() string {
	return "deferred until " + e.Until.UTC().Format(time.RFC3339) + ": " + e.Err.Error()
}
func (e *DeferError) Unwrap() error        { return e.Err }
func (e *DeferError) Is(target error) bool { return target == ErrDeferred }

// Upserter is implemented by targets whose records are addressed by their
// natural key and written by an upsert (RD Station Marketing contacts: a
// PATCH by e-mail creates or updates). Find answers from the key alone,
// without asking the target: a record it finds may not exist there yet.
// A write of a record no identity has yet is then counted as a create, by
// the run and by the dry run (the bill of a target priced by its records
// counts them).
type Upserter interface {
	Upserts() bool
}

func upserts(t Target) bool {
	u, ok := t.(Upserter)
	return ok && u.Upserts()
}
