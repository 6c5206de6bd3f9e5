package inbound

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"strings"
	"sync"
	"time"

	"github.com/shopspring/decimal"
	"go.uber.org/zap"

	"github.com/erpbridge/erpbridge/bridge"
	"github.com/erpbridge/erpbridge/bridge/retry"
	"github.com/erpbridge/erpbridge/bridge/store"
	"github.com/erpbridge/erpbridge/erp"
)

// never is a next attempt that does not come (until `erpbridge errors retry`).
var never = time.Date(2200, 1, 1, 0, 0, 0, 0, time.UTC) // within UnixNano's range

// Stream is the name runs, cursors and logs use for the won-deal poll.
const Stream = "won_deals"

// Deal is a deal as the CRM gives it to the poller.
type Deal struct {
	ID, Name string
	// Won: the deal is won now (false once lost or reopened).
	Won bool
	// ClosedAt is when it was won; zero when the CRM does not say.
	ClosedAt time.Time
	// OrganizationID and OrganizationName are the deal's organization
	// ("" when it has none); OwnerID its owner.
	OrganizationID, OrganizationName, OwnerID string
	// PipelineID is the deal's pipeline, "" when the listing does not say
	// (then StageID's pipeline in Options.Stages).
	PipelineID, PipelineName, StageID string
	// OrderNumber is the value of the deal's order-number field ("" none).
	OrderNumber string
}

// Line is one product line of a deal.
type Line struct {
	ProductID, Name           string
	Quantity, Price, Discount decimal.Decimal
	// DiscountPercent: Discount is a percentage of the unit price, not a
	// value off the line.
	DiscountPercent bool
}

// CRM is what the poller needs from the CRM. Errors wrap the engine's
// classes: bridge.ErrGone for a deal that no longer exists, bridge.ErrFatal
// for refused credentials, bridge.ErrListingCapped for a listing the CRM
// cut short.
type CRM interface {
	// WonDeals lists the deals won between from and to, by close time,
	// ascending.
	WonDeals(ctx context.Context, from, to time.Time) iter.Seq2[Deal, error]
	// Deal reads one deal.
	Deal(ctx context.Context, id string) (Deal, error)
	// Lines reads a deal's product lines.
	Lines(ctx context.Context, dealID string) ([]Line, error)
	// SetOrderNumber writes the ERP order number into the deal's
	// order-number field.
	SetOrderNumber(ctx context.Context, dealID, number string) error
	// Note writes a note onto the deal.
	Note(ctx context.Context, dealID, text string) error
}

// Directory finds the ERP counterparts of CRM records. A record without
// one is an error wrapping bridge.ErrNoCounterpart.
type Directory interface {
	// Customer returns the ERP customer code and store of an organization.
	Customer(ctx context.Context, organizationID string) (code, store string, err error)
	// Product returns the ERP product code of a CRM product.
	Product(ctx context.Context, productID string) (string, error)
	// Seller returns the ERP seller code of a CRM user ("" when none).
	Seller(ctx context.Context, userID string) (string, error)
	// FromERP reports whether the bridge made the deal from an ERP order.
	FromERP(ctx context.Context, dealID string) (bool, error)
}

// Options tune a Poller.
type Options struct {
	// Overlap is re-read behind the last poll; Lookback is how far back the
	// first poll looks.
	Overlap, Lookback time.Duration
	// Defaults gives every order its OrderType, PaymentTerms, PriceTable
	// and Seller (used when the deal's owner is no ERP seller).
	Defaults erp.Order
	// TES and Operation are every item's C6_TES and C6_OPER.
	TES, Operation string
	// UseDealPrices sends the deal's net unit prices; otherwise the ERP
	// prices the items from its price table.
	UseDealPrices bool
	// Notes writes rejections and missing counterparts onto the deal.
	Notes bool
	// Numbers: the CRM has an order-number field (CRM.SetOrderNumber).
	Numbers bool
	// ZoneMargin widens every listing window on both sides, for a CRM that
	// reads the window in the account's time zone, unknown to the bridge.
	ZoneMargin time.Duration
	// RetryAfter is how long an invalid or rejected deal waits before it
	// is looked at again (default 1h); a lost answer waits RetryLost
	// (default 1m).
	RetryAfter, RetryLost time.Duration
	// SweepWindow is how far back Sweep looks (default 30 days).
	SweepWindow time.Duration
	Now         func() time.Time
	Logger      *zap.Logger
	// AfterSubmit, when set, runs after the ERP answered an order and
	// before the answer is recorded (crash tests).
	AfterSubmit func()

	// Pipelines, when not nil, are the pipelines (id → name) whose won
	// deals become orders: a deal won in any other (a partner or
	// after-sales pipeline, the copy a pipeline makes of its won deals) is
	// skipped without an API call and counted in Report.OtherPipeline, and
	// never sent, whatever its state. Stages gives the pipeline of a stage
	// id, for a deal read with its stage but not its pipeline. A deal whose
	// pipeline is unknown is not sent.
	Pipelines map[string]string
	Stages    map[string]string
}

// Poller moves won deals into the ERP.
type Poller struct {
	mu   sync.Mutex // one run at a time
	crm  CRM
	st   *store.Store
	sink erp.OrderSink
	dir  Directory
	o    Options
}

// New returns a Poller. The sink's errors wrap the engine's classes, as
// the CRM's do: bridge.ErrOutcomeUnknown for an order that may exist (the
// answer was lost), bridge.ErrFatal for one no retry helps (credentials
// refused); the component that builds the sink translates its own errors.
func New(c CRM, st *store.Store, sink erp.OrderSink, dir Directory, o Options) *Poller {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = zap.NewNop()
	}
	if o.RetryAfter <= 0 {
		o.RetryAfter = time.Hour
	}
	if o.RetryLost <= 0 {
		o.RetryLost = time.Minute
	}
	if o.SweepWindow <= 0 {
		o.SweepWindow = 30 * 24 * time.Hour
	}
	return &Poller{crm: c, st: st, sink: sink, dir: dir, o: o}
}

// Report counts what one run did.
type Report struct {
	Listed   int // won deals the poll listed
	Skipped  int // deals from ERP orders, or already handled
	Sent     int // orders sent to the ERP
	Waiting  int // accepted, waiting for the ERP job
	Ordered  int // order numbers written back onto deals
	Rejected int // refused by the ERP
	Invalid  int // deals that cannot become orders (missing counterparts)
	Lost     int // sends whose answer was lost: the order may exist (asked again later)
	Unsent   int // sends that failed before reaching the ERP (sent again later)
	// FirstFailure is the first of the Lost and Unsent errors, for the summary.
	FirstFailure string
	// OtherPipeline counts won deals of pipelines not in Options.Pipelines:
	// skipped, never orders.
	OtherPipeline int
}

// Stats is the report as a run's statistics: read = listed, created =
// sent, updated = numbers written back, failed = rejected or invalid.
func (r Report) Stats() store.RunStats {
	return store.RunStats{Read: int64(r.Listed), Created: int64(r.Sent), Updated: int64(r.Ordered),
		Skipped: int64(r.Skipped + r.OtherPipeline), Failed: int64(r.Rejected + r.Invalid)}
}

// Run settles the deals on their way, then polls for newly won deals. A
// per-deal problem is recorded on the deal's writeback and the run goes
// on; an error means the CRM, the ERP or the store failed as a whole.
func (p *Poller) Run(ctx context.Context) (rep Report, err error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	runID, err := p.st.StartRun(ctx, Stream, store.RunIncremental)
	if err != nil {
		return rep, err
	}
	defer func() {
		// Recorded as a run, so status, metrics and logs show the poll.
		stats := rep.Stats()
		if err != nil {
			stats.Err = err.Error()
		}
		if ferr := p.st.FinishRun(context.WithoutCancel(ctx), runID, stats); ferr != nil && err == nil {
			err = ferr
		}
	}()
	return p.run(ctx, false)
}

// Sweep lists the deals won in the last SweepWindow, whatever the cursor
// says, and sends any the polls missed (a deal whose closed_at the CRM set
// late, a listing that shifted while it was paged). Deals already handled
// cost a store read each. Run it with the nightly full pass.
func (p *Poller) Sweep(ctx context.Context) (rep Report, err error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.run(ctx, true)
}

func (p *Poller) run(ctx context.Context, sweep bool) (Report, error) {
	var rep Report
	start := p.o.Now().UTC()
	if err := p.settle(ctx, &rep); err != nil {
		return rep, err
	}
	cur, ok, err := p.st.Cursor(ctx, Stream)
	if err != nil {
		return rep, err
	}
	from := start.Add(-p.o.Lookback)
	if ok && cur.Position != "" && !sweep {
		if from, err = time.Parse(time.RFC3339Nano, cur.Position); err != nil {
			return rep, fmt.Errorf("reading the %s cursor %q: %w", Stream, cur.Position, err)
		}
	}
	if sweep {
		from = start.Add(-p.o.SweepWindow)
	}
	from = from.Add(-p.o.Overlap)
	var last time.Time // the latest closed_at listed
	ascending := true
	for deal, err := range p.crm.WonDeals(ctx, from.Add(-p.o.ZoneMargin), start.Add(p.o.ZoneMargin)) {
		if errors.Is(err, bridge.ErrListingCapped) && ascending && !last.IsZero() && !sweep {
			// More won deals than one listing returns: go on from the last
			// one next run (the listing is by closed_at, ascending).
			p.o.Logger.Warn("won deals: the listing is capped; the next run goes on from the last deal listed",
				zap.String("stream", Stream), zap.Time("closed_at", last))
			return rep, p.setCursor(ctx, last.Add(p.o.ZoneMargin))
		}
		if err != nil {
			return rep, fmt.Errorf("listing won deals: %w", err)
		}
		rep.Listed++
		if t := deal.ClosedAt; !t.IsZero() {
			ascending = ascending && !t.Before(last)
			last = t
		}
		if err := p.consider(ctx, deal, &rep); err != nil {
			return rep, err
		}
	}
	if sweep {
		return rep, nil // a sweep looks back; it does not move the cursor
	}
	// Every deal of the window is recorded (or skipped for good): the next
	// poll may start here.
	return rep, p.setCursor(ctx, start)
}

func (p *Poller) setCursor(ctx context.Context, at time.Time) error {
	return p.st.Update(ctx, func(tx *store.Tx) error { return tx.SetCursor(Stream, at.UTC().Format(time.RFC3339Nano)) })
}

// errNoLongerWon is the error of a deal reopened or lost before its order
// was made; listed as won again, it is sent again.
const errNoLongerWon = "the deal is no longer won in the CRM"

// pipelineOf returns the id of a deal's pipeline as the CRM gave the
// deal, else its stage's pipeline in Options.Stages; "" when none says.
func (p *Poller) pipelineOf(d Deal) string {
	if d.PipelineID != "" {
		return d.PipelineID
	}
	return p.o.Stages[d.StageID]
}

// ordersFrom reports whether the deal's pipeline makes ERP orders of its
// won deals, and which pipeline that is.
func (p *Poller) ordersFrom(d Deal) (pipeline string, ok bool) {
	pipeline = p.pipelineOf(d)
	if p.o.Pipelines == nil {
		return pipeline, true
	}
	_, ok = p.o.Pipelines[pipeline]
	return pipeline, ok
}

// consider handles one listed won deal.
func (p *Poller) consider(ctx context.Context, deal Deal, rep *Report) error {
	if pipeline, ok := p.ordersFrom(deal); !ok {
		rep.OtherPipeline++
		p.o.Logger.Debug("won deals: a deal won outside won_deals.pipelines is no ERP order", zap.String("stream", Stream),
			zap.String("crm_id", deal.ID), zap.String("pipeline", pipeline))
		return nil
	}
	if w, has, err := p.st.Writeback(ctx, deal.ID); err != nil {
		return err
	} else if has {
		if w.State == store.WritebackInvalid && w.Error == errNoLongerWon {
			return p.check(ctx, p.send(ctx, deal, w, rep), w)
		}
		rep.Skipped++ // on its way (settle handles it) or finished
		return nil
	}
	if strings.TrimSpace(deal.OrderNumber) != "" {
		rep.Skipped++ // it has an ERP order already
		return nil
	}
	if fromERP, err := p.dir.FromERP(ctx, deal.ID); err != nil {
		return err
	} else if fromERP {
		rep.Skipped++
		return nil
	}
	w := store.Writeback{DealID: deal.ID, DealName: deal.Name}
	return p.check(ctx, p.send(ctx, deal, w, rep), w)
}

// check turns a failure with one deal into a problem of that deal, so one
// deal never holds up the others: it is recorded (and retried, backing
// off) unless the failure stops every deal (refused credentials, a
// cancelled run, the store).
func (p *Poller) check(ctx context.Context, err error, w store.Writeback) error {
	if err == nil {
		return nil
	}
	if isFatal(err) || ctx.Err() != nil || errors.Is(err, errStore) {
		return err
	}
	p.o.Logger.Warn("won deals: a deal failed; it is tried again later", zap.String("stream", Stream),
		zap.String("crm_id", w.DealID), zap.Error(err))
	// Re-read: the failure may have come after a state change.
	if cur, has, rerr := p.st.Writeback(ctx, w.DealID); rerr != nil {
		return rerr
	} else if has {
		w = cur
	}
	if w.State == "" || w.State == store.WritebackWritten {
		w.State = store.WritebackInvalid // nothing was sent: map it again later
	}
	w.Error, w.Attempts = err.Error(), w.Attempts+1
	w.NextAttemptAt = p.o.Now().Add(p.backoff(w.Attempts))
	return p.put(ctx, w)
}

// backoff is the wait before attempt n+1: RetryLost doubling, at most RetryAfter.
func (p *Poller) backoff(n int) time.Duration {
	return retry.Policy{First: p.o.RetryLost, Max: p.o.RetryAfter}.Delay(n)
}

// settle moves on every writeback that is due, each at most once per run.
func (p *Poller) settle(ctx context.Context, rep *Report) error {
	now := p.o.Now()
	var after store.Writeback
	for {
		due, err := p.st.OpenWritebacks(ctx, now, after, 100)
		if err != nil {
			return err
		}
		for _, w := range due {
			if err := p.check(ctx, p.settleOne(ctx, w, rep), w); err != nil {
				return err
			}
		}
		if len(due) < 100 {
			return nil
		}
		after = due[len(due)-1]
	}
}

func (p *Poller) settleOne(ctx context.Context, w store.Writeback, rep *Report) error {
	switch w.State {
	case store.WritebackDone:
		return p.writeBack(ctx, w, rep)
	case store.WritebackWaiting:
		res, ok, err := p.sink.Status(ctx, w.DealID)
		if err != nil {
			return p.lost(ctx, w, err, rep)
		}
		if !ok {
			// The ERP accepted it, and now has no trace of it (a staging row
			// removed, the branch changed): sending again could make a second
			// order, so a person decides.
			rep.Rejected++
			w.State, w.NextAttemptAt = store.WritebackRejected, never
			w.Error = "the ERP accepted this deal's order request and no longer has it (staging row removed, or won_deals.filial changed?): " +
				"check SC5 for C5_XCRMID = " + w.DealID + " before `erpbridge errors retry`"
			return p.put(ctx, w)
		}
		return p.apply(ctx, w, res, rep)
	case store.WritebackRejected:
		// Has the ERP team retried it on their side (a staging row set back
		// to waiting)? A rejection the ERP still holds stays one: a staging
		// row is processed again only when the ERP team resets it.
		res, ok, err := p.sink.Status(ctx, w.DealID)
		if err != nil {
			return p.lost(ctx, w, err, rep)
		}
		switch {
		case ok && res.State != erp.OrderRejected:
			return p.apply(ctx, w, res, rep)
		case ok:
			w.Error, w.NextAttemptAt = res.Error, p.o.Now().Add(p.o.RetryAfter)
			if w.Attempts == 0 { // `erpbridge errors retry`
				w.Attempts = 1
				p.o.Logger.Warn("won deals: the ERP still holds this deal's order as rejected; the ERP team processes it again by setting its staging status back to waiting",
					zap.String("stream", Stream), zap.String("crm_id", w.DealID))
			}
			return p.put(ctx, w)
		case w.Attempts == 0: // retried, and the ERP keeps no rejection (REST): send again
			return p.resend(ctx, w, rep)
		}
		w.NextAttemptAt = never // only `erpbridge errors retry` sends it again
		return p.put(ctx, w)
	default: // submitting (answer lost or crash), invalid (retry due)
		return p.resend(ctx, w, rep)
	}
}

// resend maps the deal again from the CRM and sends it.
func (p *Poller) resend(ctx context.Context, w store.Writeback, rep *Report) error {
	if w.State == store.WritebackSubmitting {
		// Did the ERP get it before the answer was lost?
		res, ok, err := p.sink.Status(ctx, w.DealID)
		if err != nil {
			return p.lost(ctx, w, err, rep)
		}
		if ok {
			return p.apply(ctx, w, res, rep)
		}
	}
	deal, err := p.crm.Deal(ctx, w.DealID)
	if errors.Is(err, bridge.ErrGone) {
		w.State, w.Error, w.NextAttemptAt = store.WritebackInvalid, "the deal is gone from the CRM", never
		return p.put(ctx, w)
	}
	if err != nil {
		return fmt.Errorf("reading deal %s: %w", w.DealID, err)
	}
	if !deal.Won {
		// Reopened or lost since: no order, unless it is listed won again.
		w.State, w.Error, w.NextAttemptAt = store.WritebackInvalid, errNoLongerWon, never
		return p.put(ctx, w)
	}
	if pipeline, ok := p.ordersFrom(deal); !ok {
		// Moved to another pipeline since, or won_deals.pipelines changed.
		if deal.PipelineName != "" {
			pipeline = fmt.Sprintf("%q", deal.PipelineName)
		}
		w.State, w.NextAttemptAt = store.WritebackInvalid, never
		w.Error = "the deal is in pipeline " + pipeline + ", not one of won_deals.pipelines: it becomes no ERP order " +
			"(when it should, add its pipeline and run `erpbridge errors retry`)"
		return p.put(ctx, w)
	}
	w.DealName = deal.Name
	return p.send(ctx, deal, w, rep)
}

// send maps a won deal to an order and submits it.
func (p *Poller) send(ctx context.Context, deal Deal, w store.Writeback, rep *Report) error {
	log := p.o.Logger.With(zap.String("stream", Stream), zap.String("crm_id", deal.ID))
	order, problems, err := p.mapDeal(ctx, deal)
	if err != nil {
		return err
	}
	if len(problems) > 0 {
		rep.Invalid++
		w.State, w.Error = store.WritebackInvalid, strings.Join(problems, "; ")
		w.NextAttemptAt = p.o.Now().Add(p.o.RetryAfter)
		log.Warn("won deal cannot become an ERP order", zap.String("error", w.Error))
		if err := p.put(ctx, w); err != nil {
			return err
		}
		return p.note(ctx, w, "erpbridge: this deal did not become an ERP order: "+w.Error)
	}
	// Recorded before the send: a crash after the ERP wrote the order but
	// before its answer is recorded sends again, and the sink finds it.
	// Due at once: after a crash the next run asks the ERP straight away.
	w.State, w.Attempts, w.NextAttemptAt = store.WritebackSubmitting, w.Attempts+1, time.Time{}
	if err := p.put(ctx, w); err != nil {
		return err
	}
	rep.Sent++
	res, err := p.sink.Submit(ctx, order)
	if err != nil {
		return p.lost(ctx, w, err, rep)
	}
	if p.o.AfterSubmit != nil {
		p.o.AfterSubmit()
	}
	log.Info("won deal sent to the ERP", zap.String("state", string(res.State)), zap.String("order", res.Number))
	return p.apply(ctx, w, res, rep)
}

// lost records a send or status check that failed: it is tried again
// after RetryLost. Credentials refused stop the run.
func (p *Poller) lost(ctx context.Context, w store.Writeback, cause error, rep *Report) error {
	if isFatal(cause) {
		return fmt.Errorf("sending deal %s to the ERP: %w", w.DealID, cause)
	}
	if errors.Is(cause, bridge.ErrOutcomeUnknown) {
		rep.Lost++
	} else {
		rep.Unsent++
	}
	if rep.FirstFailure == "" {
		rep.FirstFailure = cause.Error()
	}
	p.o.Logger.Warn("ERP order request failed; it will be sent again", zap.String("stream", Stream),
		zap.String("crm_id", w.DealID), zap.Error(cause))
	w.Error = cause.Error()
	w.NextAttemptAt = p.o.Now().Add(p.backoff(w.Attempts))
	return p.put(ctx, w)
}

// apply records what the ERP answered.
func (p *Poller) apply(ctx context.Context, w store.Writeback, res erp.OrderResult, rep *Report) error {
	switch res.State {
	case erp.OrderWaiting:
		rep.Waiting++
		w.State, w.Error, w.NextAttemptAt = store.WritebackWaiting, "", time.Time{}
		return p.put(ctx, w)
	case erp.OrderDone:
		w.State, w.OrderNumber, w.Error = store.WritebackDone, res.Number, ""
		if err := p.put(ctx, w); err != nil {
			return err
		}
		return p.writeBack(ctx, w, rep)
	case erp.OrderRejected:
		rep.Rejected++
		w.State, w.Error = store.WritebackRejected, res.Error
		w.NextAttemptAt = p.o.Now().Add(p.o.RetryAfter)
		p.o.Logger.Warn("the ERP rejected a won deal's order", zap.String("stream", Stream),
			zap.String("crm_id", w.DealID), zap.String("error", res.Error))
		if err := p.put(ctx, w); err != nil {
			return err
		}
		return p.note(ctx, w, "erpbridge: the ERP rejected this deal's order: "+res.Error)
	}
	return fmt.Errorf("deal %s: the ERP answered with an unknown state %q", w.DealID, res.State)
}

// writeBack puts the order number onto the deal.
func (p *Poller) writeBack(ctx context.Context, w store.Writeback, rep *Report) error {
	// The order was asked for while the deal was won; if it no longer is,
	// the order exists anyway: say so on the deal, for someone to decide.
	if deal, err := p.crm.Deal(ctx, w.DealID); err == nil && !deal.Won {
		p.o.Logger.Warn("won deals: the ERP made an order for a deal that is no longer won", zap.String("stream", Stream),
			zap.String("crm_id", w.DealID), zap.String("order", w.OrderNumber))
		w.Error = "the ERP made order " + w.OrderNumber + " for this deal, which is no longer won in the CRM: cancel the order in the ERP if it should not exist"
		if err := p.note(ctx, w, "erpbridge: "+w.Error); err != nil {
			return err
		}
		w.Noted = w.Error
	}
	if p.o.Numbers {
		err := p.crm.SetOrderNumber(ctx, w.DealID, w.OrderNumber)
		if errors.Is(err, bridge.ErrGone) {
			p.o.Logger.Warn("the deal of an ERP order is gone from the CRM", zap.String("crm_id", w.DealID), zap.String("order", w.OrderNumber))
		} else if err != nil {
			return fmt.Errorf("writing order %s onto deal %s: %w", w.OrderNumber, w.DealID, err)
		}
	}
	rep.Ordered++
	w.State, w.Error, w.NextAttemptAt = store.WritebackWritten, "", time.Time{}
	return p.put(ctx, w)
}

// note writes text onto the deal once per distinct problem.
func (p *Poller) note(ctx context.Context, w store.Writeback, text string) error {
	if !p.o.Notes || w.Noted == w.Error {
		return nil
	}
	// Recorded first: a note is written at most once per problem (the
	// problem itself is kept and listed by `erpbridge errors` either way).
	w.Noted = w.Error
	if err := p.put(ctx, w); err != nil {
		return err
	}
	if err := p.crm.Note(ctx, w.DealID, text); err != nil {
		p.o.Logger.Warn("writing a note on a deal", zap.String("crm_id", w.DealID), zap.Error(err))
	}
	return nil
}

// errStore marks failures of the checkpoint store: they stop the run.
var errStore = errors.New("checkpoint store")

func (p *Poller) put(ctx context.Context, w store.Writeback) error {
	if err := p.st.Update(ctx, func(tx *store.Tx) error { return tx.PutWriteback(w) }); err != nil {
		return fmt.Errorf("%w: %w", errStore, err)
	}
	return nil
}

// isFatal reports errors no retry fixes: refused credentials.
func isFatal(err error) bool { return errors.Is(err, bridge.ErrFatal) }
