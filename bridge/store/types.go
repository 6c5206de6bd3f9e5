package store

import (
	"encoding/json"
	"errors"
	"time"
)

// ErrCorrupt reports a store file that is not a SQLite database or fails its
// integrity check. The file is left untouched; the error text says what to do.
var ErrCorrupt = errors.New("checkpoint store is corrupt")

// ErrTooNew reports a store file written by a newer erpbridge (its schema
// version is above the one this binary knows).
var ErrTooNew = errors.New("checkpoint store was written by a newer erpbridge")

// ErrNotStore reports a SQLite file that erpbridge did not create. The file
// is left untouched.
var ErrNotStore = errors.New("file is not an erpbridge checkpoint store")

// ErrNotOpen reports an outbox item that does not exist or is already done.
var ErrNotOpen = errors.New("outbox item is not open")

// ErrNoRun reports a run id that does not exist.
var ErrNoRun = errors.New("run not found")

// Cursor is a stream's read position in its source.
type Cursor struct {
	Stream string
	// Position is source-defined and opaque to the store, e.g. JSON
	// {"stamp":"…","recno":123}. Empty until first set.
	Position string
	// FullPassAt is when the last full pass over the source completed.
	FullPassAt time.Time
	// UpdatedAt is when the cursor row last changed.
	UpdatedAt time.Time
}

// Identity links one ERP record to its CRM record.
type Identity struct {
	Entity string // CRM entity, e.g. "organization"
	ERPKey string // ERP natural key, e.g. "000123|01"
	CRMID  string // CRM id; empty when not known yet
	// Fingerprint is the hash of the last payload the CRM confirmed; empty
	// forces the next sync of the record to send it.
	Fingerprint string
	SyncedAt    time.Time // when the CRM last confirmed a write
	Deleted     bool      // the ERP record was deleted (and the delete synced)
}

// Op is what an outbox item asks the target to do.
type Op string

// Outbox operations.
const (
	OpCreate Op = "create"
	OpUpdate Op = "update"
	OpDelete Op = "delete"
	OpMark   Op = "mark" // mark as deleted (custom field or tag) instead of deleting
)

func (o Op) valid() bool {
	switch o {
	case OpCreate, OpUpdate, OpDelete, OpMark:
		return true
	}
	return false
}

// State is where an outbox item is in its life.
type State string

// Outbox states. Every state but StateDone is "open".
const (
	StatePending  State = "pending"  // waiting to be sent
	StateInflight State = "inflight" // being sent; outcome unknown until resolved
	StateFailed   State = "failed"   // last attempt failed; retried at NextAttemptAt
	StateParked   State = "parked"   // given up; waits for a newer payload or `errors retry`
	StateDone     State = "done"     // confirmed by the target
)

// Level classifies an outbox error.
type Level string

// Error levels.
const (
	LevelNone  Level = ""
	LevelSkip  Level = "skip"  // expected: bad ERP data, e.g. an invalid e-mail
	LevelError Level = "error" // unexpected: API failure, bug, outage
)

// OutboxItem is one write to the CRM or the ERP, recorded before it is sent.
type OutboxItem struct {
	ID            int64
	Stream        string
	Entity        string
	ERPKey        string
	Op            Op
	Payload       []byte // JSON
	Fingerprint   string
	State         State
	Attempts      int
	NextAttemptAt time.Time
	LastError     string
	Level         Level
	CRMID         string // target id when known (updates, deletes) or once done
	RunID         int64  // run that last enqueued the item; 0 = none
	CreatedAt     time.Time
	UpdatedAt     time.Time
	// HasFollowUp reports a newer payload stored while the item was
	// inflight; it is applied when the item resolves (see package doc).
	HasFollowUp bool
	// SentKeys are the natural keys (as the target defines them, JSON) of
	// every create sent for this record whose outcome is not known to have
	// failed: a lost create is resolved by what was sent, even after the
	// record changed. Kept across Enqueue, Fail and Park; cleared by
	// Complete. See Tx.SetSentKeys.
	SentKeys []json.RawMessage
	// WaitsOnEntity and WaitsOnKey name the record a parked item waits on
	// (a dependency with bad ERP data); see Tx.Wait.
	WaitsOnEntity, WaitsOnKey string
}

// OutboxFilter selects open outbox items. Zero fields match everything.
type OutboxFilter struct {
	Stream string
	Entity string
	ERPKey string
	Level  Level
	// States restricts the states; empty means every open state (for
	// OpenItems) or failed+parked (for Errors and RetryParked).
	States []State
	// Since keeps items updated at or after this time (`--since 24h`).
	Since time.Time
	// Limit caps the number of items returned; 0 means 1000.
	Limit int
}

// OutboxCount is the number of open items of one stream in one state.
type OutboxCount struct {
	Stream string
	State  State
	N      int64
}

// RunKind says what a run does.
type RunKind string

// Run kinds.
const (
	RunIncremental RunKind = "incremental"
	RunFull        RunKind = "full"
	RunDry         RunKind = "dry-run"
)

// RunStatus is how a run ended, as seen when it is read.
type RunStatus string

// Run statuses.
const (
	RunRunning     RunStatus = "running"
	RunOK          RunStatus = "ok"
	RunFailed      RunStatus = "failed"      // finished with an error
	RunInterrupted RunStatus = "interrupted" // never finished: the process stopped or crashed
)

// RunStats are a run's counters, written when it finishes.
type RunStats struct {
	Read, Created, Updated, Unchanged, Skipped, Failed, Deleted, APICalls int64
	// Err is the error that ended the run; empty for a successful run.
	Err string
}

// Run is one pass of one stream.
type Run struct {
	ID         int64
	Stream     string
	Kind       RunKind
	Status     RunStatus
	StartedAt  time.Time
	FinishedAt time.Time     // zero unless finished
	Duration   time.Duration // finish − start; zero unless finished
	Stats      RunStats
}

// toNanos converts t to stored form: UTC Unix nanoseconds, 0 for the zero time.
func toNanos(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

// fromNanos is the inverse of toNanos.
func fromNanos(n int64) time.Time {
	if n == 0 {
		return time.Time{}
	}
	return time.Unix(0, n).UTC()
}
