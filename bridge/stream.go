package bridge

import (
	"context"
	"fmt"

	"github.com/erpbridge/erpbridge/erp"
)

// Mode says which writes a stream may make.
type Mode string

// Stream modes.
const (
	ModeUpsert     Mode = "upsert"      // create new records, update changed ones
	ModeCreateOnly Mode = "create_only" // never update a record the CRM already has
	ModeUpdateOnly Mode = "update_only" // never create; update records found by identity or natural key
)

// Deletes says what a deleted ERP record does to its CRM record.
type Deletes string

// Delete policies.
const (
	DeletesIgnore Deletes = "ignore" // leave the CRM record alone
	DeletesMark   Deletes = "mark"   // update it with the Mapper's mark payload
)

// Mapped is what a Mapper makes of one ERP record.
type Mapped struct {
	// Payload is the CRM payload; nil when Skip or Errors are set.
	Payload Payload
	// Fingerprint identifies the payload (and the mapping version): an
	// unchanged fingerprint means zero API calls.
	Fingerprint string
	// Errors are per-field problems with the ERP data (each names the ERP key
	// and the field). The record is parked with level "skip"; the batch goes on.
	Errors []error
	// Warnings are problems of fields left out of Payload (each names the ERP
	// key and the field): the record is sent without them, and they are
	// listed (level skip, not a failure) until the record maps without them.
	// With Skip, they say why the record is left out, and the skip is listed
	// the same way (a record that must not vanish unnoticed).
	Warnings []error
	// Skip leaves the record out on purpose (e.g. a blocked customer under
	// blocked = "skip"), with the reason.
	Skip       bool
	SkipReason string
	// Retry means the record cannot be mapped now for a reason that may pass
	// (a dependency could not be synced yet). The record is queued without a
	// payload and mapped again from the ERP when it is retried.
	Retry error
}

// Resolver gives a Mapper the CRM id of a record of another stream, syncing
// it on demand when the CRM does not have it yet (a contact's organization).
type Resolver interface {
	Resolve(ctx context.Context, stream, erpKey string) (crmID string, err error)
}

// PagePreparer is a Mapper that reads what a whole page of records needs
// at once (the related rows of every record in one query, instead of one
// query per record) before the page's records are mapped one by one. Map
// must still work for a record the page did not prepare (a retried record,
// or a prepare that failed: it then reads what it needs itself), and give
// the same payload either way. The engine calls PreparePage(ctx, nil) when
// the page is done: the mapper forgets what it read.
type PagePreparer interface {
	PreparePage(ctx context.Context, recs []erp.Record)
}

// Mapper turns ERP records into CRM payloads.
type Mapper interface {
	// Map maps a live record.
	Map(ctx context.Context, rec erp.Record, r Resolver) Mapped
	// MapDeleted maps a deleted record to the payload that marks its CRM
	// record (deletes = "mark"); Skip when nothing is to be done.
	MapDeleted(ctx context.Context, rec erp.Record, r Resolver) Mapped
}

// Stream is one named flow from an ERP table to a CRM entity.
type Stream struct {
	Name    string
	Source  erp.Source
	Mapper  Mapper
	Target  Target
	Mode    Mode
	Deletes Deletes
	// DependsOn names streams whose records this one links to; they run first.
	DependsOn []string
	// MappingHash identifies everything the stream's payloads depend on
	// besides the ERP rows (its mapping and settings). When it differs from
	// the hash of the stream's last completed full pass, the next run is a
	// full pass: every record is mapped again and only those whose payload
	// changed are sent. Empty turns the check off.
	MappingHash string
}

// mappingKey is the store meta key of a stream's mapping hash.
func mappingKey(stream string) string { return "mapping_hash:" + stream }

func (s *Stream) validate() error {
	switch {
	case s.Name == "":
		return fmt.Errorf("stream without a name")
	case s.Source == nil || s.Mapper == nil || s.Target == nil:
		return fmt.Errorf("stream %s: source, mapper and target are required", s.Name)
	}
	switch s.Mode {
	case ModeUpsert, ModeCreateOnly, ModeUpdateOnly:
	default:
		return fmt.Errorf("stream %s: unknown mode %q", s.Name, s.Mode)
	}
	switch s.Deletes {
	case DeletesIgnore, DeletesMark:
	default:
		return fmt.Errorf("stream %s: unknown deletes policy %q", s.Name, s.Deletes)
	}
	return nil
}
