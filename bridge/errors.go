package bridge

import "errors"

// The engine's error classes: the one public set of errors the engine (this
// package and bridge/inbound) acts on. A target system, an ERP order sink or
// a Directory wraps its errors in them (errors.Is), and each adapter does so
// in one function: rdstation/crm/target's classify for the RD Station CRM
// client, erp/protheus/streams/wondeals's sinkError for the ERP order sinks
// (erp/resterp, erp/sqlerp). Vendor clients keep their own precise errors
// (crm.ErrValidation, resterp.ErrUnauthorized …); nothing outside an
// adapter classifies them. docs/design.md ("Errors") lists where each
// adapter translates.
//
// Errors that only stop a command with what to do — the checkpoint store's
// (store.ErrCorrupt, ErrTooNew, ErrNotStore, ErrStoreLost), the data
// directory lock's (dirlock.ErrLocked), health.ErrTokenRequired — are
// reported as they are and stay with the package that returns them.

// Writes to a target system (Target.Find, Create, Update).
var (
	// ErrRejected: the target refused this payload (validation, duplicate
	// name). Retrying the same payload cannot help: the item is parked with
	// level "skip" and counted failed until the ERP record changes (a new
	// payload) or `erpbridge errors retry`.
	ErrRejected = errors.New("rejected by the CRM")
	// ErrRateLimited: the account's request budget is spent. The item
	// waits (pending, Options.RateLimitDelay) without using up an attempt.
	ErrRateLimited = errors.New("rate limited")
	// ErrOutcomeUnknown: a write was sent but its answer never came; it may
	// have been applied. The engine retries it like any failure, and the
	// retry looks the record up live by the keys recorded before the create
	// (Target.KeysOf), so it never doubles. The won-deal flow counts it as
	// lost (Report.Lost) and asks the ERP (OrderSink.Status) before it sends
	// the order again.
	ErrOutcomeUnknown = errors.New("outcome unknown")
	// ErrGone: the target record no longer exists (deleted in the CRM). An
	// update drops the identity and creates the record again (update_only:
	// skipped; a delete mark: nothing left to mark); a won deal that is gone
	// becomes no order.
	ErrGone = errors.New("CRM record not found")
	// ErrFatal: every write would fail the same way (credentials refused, an
	// order route that is not there). The run stops; the item is retried on
	// a later run without losing an attempt. The won-deal flow stops too,
	// and records nothing against the deal.
	ErrFatal = errors.New("the integration is refused")
	// ErrKeyTaken: the record's natural key is another ERP record's (an
	// ExclusiveKey target) and it cannot go without it. It is an ErrRejected
	// that is a policy outcome rather than a failure: the item is parked with
	// level "skip" and counted as skipped.
	ErrKeyTaken = errors.New("its natural key belongs to another ERP record")
	// ErrListingCapped: the target cut a listing short (RD Station v1 lists
	// at most 10,000 records); what follows the last record listed must be
	// read another way. The won-deal poll goes on from the last deal listed
	// on its next run.
	ErrListingCapped = errors.New("listing capped by the CRM")
)

// ExistsError is what Target.Create returns when the CRM refuses the create
// because a record with the same unique natural key exists (RD Station:
// organization and product names). The engine adopts that record unless
// another ERP record owns it (then the write is an ErrRejected).
type ExistsError struct {
	CRMID string // the existing record
	Err   error  // the CRM's answer
}

func (e *ExistsError) Error() string {
	return "already in the CRM as " + e.CRMID + ": " + e.Err.Error()
}
func (e *ExistsError) Unwrap() error { return e.Err }

// Dependencies (Resolver.Resolve).
var (
	// ErrNoDependency is returned (wrapped) by Resolve when the record asked
	// for will not be in the CRM: it is not in the ERP, it is deleted, or
	// its stream skips it on purpose (e.g. a blocked customer). A Mapper
	// usually goes on without the link.
	ErrNoDependency = errors.New("dependency not synced")
	// ErrDependencyRejected is returned (wrapped) by Resolve when the record
	// asked for was refused for bad ERP data. A record waiting on it waits at
	// level "skip" (it is not an outage) and follows once the data is fixed.
	ErrDependencyRejected = errors.New("dependency has bad ERP data")
)

// DependencyError is what Resolve returns when the record asked for is not
// in the CRM and will not be by syncing it now: it names the record, and
// Err says why (errors.Is ErrNoDependency or ErrDependencyRejected). A
// record that waits on a dependency with bad ERP data waits until that
// record changes, pointing at its entry in the error list rather than
// copying its error.
type DependencyError struct {
	Stream, Entity, Key string
	Err                 error
}

func (e *DependencyError) Error() string { return e.Err.Error() }
func (e *DependencyError) Unwrap() error { return e.Err }

// ErrAccountChanged reports a checkpoint store filled from another CRM
// account (or from a CRM emptied since) than the one the credentials reach
// now (CheckAccount): every CRM id it holds is foreign there, so syncing
// would change nothing, or the wrong records. The bridge does not start;
// the error says what to do.
var ErrAccountChanged = errors.New("the CRM is not the one this checkpoint store was filled from")

// ErrNoCounterpart is wrapped by an inbound.Directory when a CRM record has
// no ERP record (an organization not made from an ERP customer, a product
// not made from an ERP product): the won deal cannot become an order until
// it has. The deal is recorded invalid with the problem, noted on the deal,
// and looked at again later.
var ErrNoCounterpart = errors.New("no ERP counterpart")
