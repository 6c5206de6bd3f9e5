package inbound

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/erpbridge/erpbridge/bridge"
	"github.com/erpbridge/erpbridge/bridge/priority"
	"github.com/erpbridge/erpbridge/bridge/store"
	"github.com/erpbridge/erpbridge/erp"
)

// fakeCRM holds won deals; it answers the poller's calls and counts them.
type fakeCRM struct {
	mu       sync.Mutex
	deals    map[string]Deal
	order    []string
	capAfter int               // the listing ends with ErrListingCapped after this many (0: never)
	listErr  error             // the listing fails with it after the first deal
	updates  map[string]string // deal → order number written
	notes    map[string][]string
	calls    int
	levels   []priority.Level // the priority of each listing and write
	// lastFrom and lastTo are the last listing's window; updateErr fails
	// the next SetOrderNumber calls with a server error.
	lastFrom, lastTo time.Time
	updateErr        int
}

var _ CRM = (*fakeCRM)(nil)

func newFakeCRM() *fakeCRM {
	return &fakeCRM{deals: map[string]Deal{}, updates: map[string]string{}, notes: map[string][]string{}}
}

func (f *fakeCRM) win(id string, closed time.Time) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.deals[id] = Deal{ID: id, Name: "deal " + id, Won: true, ClosedAt: closed.UTC(),
		OrganizationID: "org-" + id, OrganizationName: "Org " + id}
	f.order = append(f.order, id)
}

func (f *fakeCRM) WonDeals(ctx context.Context, from, to time.Time) iter.Seq2[Deal, error] {
	return func(yield func(Deal, error) bool) {
		f.mu.Lock()
		f.calls++
		f.levels = append(f.levels, priority.From(ctx))
		f.lastFrom, f.lastTo = from, to
		var out []Deal
		for _, id := range f.order {
			d := f.deals[id]
			if d.Won && !d.ClosedAt.Before(from) && !d.ClosedAt.After(to) {
				out = append(out, d)
			}
		}
		f.mu.Unlock()
		for i, d := range out {
			if f.listErr != nil && i == 1 {
				yield(Deal{}, f.listErr)
				return
			}
			if f.capAfter > 0 && i == f.capAfter {
				yield(Deal{}, fmt.Errorf("listing deals: %w after %d of %d", bridge.ErrListingCapped, i, len(out)))
				return
			}
			if !yield(d, nil) {
				return
			}
		}
	}
}

func (f *fakeCRM) Deal(_ context.Context, id string) (Deal, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls++
	d, ok := f.deals[id]
	if !ok {
		return d, fmt.Errorf("deal %s: %w", id, bridge.ErrGone)
	}
	return d, nil
}

func (f *fakeCRM) Lines(_ context.Context, id string) ([]Line, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls++
	return []Line{{ProductID: "prod", Name: "Product", Quantity: decimal.NewFromInt(1), Price: decimal.RequireFromString("9.90")}}, nil
}

func (f *fakeCRM) SetOrderNumber(ctx context.Context, id, number string) error {
	f.mu.Lock()
	f.levels = append(f.levels, priority.From(ctx))
	f.mu.Unlock()
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls++
	if f.updateErr > 0 {
		f.updateErr--
		return errors.New("HTTP 500 updating the deal")
	}
	f.updates[id] = number
	return nil
}

func (f *fakeCRM) Note(_ context.Context, id, text string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls++
	f.notes[id] = append(f.notes[id], text)
	return nil
}

// fakeDir maps every organization but those in bad, and the users in
// sellers to ERP sellers.
type fakeDir struct {
	bad     map[string]error
	sellers map[string]string
}

func (d fakeDir) Customer(_ context.Context, org, _ string) (string, string, error) {
	if err := d.bad[org]; err != nil {
		return "", "", err
	}
	return "000001", "01", nil
}
func (fakeDir) Product(context.Context, string, string) (string, error) { return "PA0001", nil }
func (d fakeDir) Seller(_ context.Context, user, _ string) (string, error) {
	return d.sellers[user], nil
}
func (fakeDir) FromERP(context.Context, string) (bool, error) { return false, nil }

// fakeSink is a staging table: submit → waiting; process → done or rejected.
// Its errors are in the engine's classes, as the component's sink gives them.
type fakeSink struct {
	mu       sync.Mutex
	rows     map[string]erp.OrderResult
	submits  map[string]int
	orders   map[string]erp.Order // the last order submitted per deal
	statuses int
	next     int
	// refuse fails the next sends before they reach the ERP; lose makes
	// the next sends stage the order and then lose the answer.
	refuse, lose int
}

func newFakeSink() *fakeSink {
	return &fakeSink{rows: map[string]erp.OrderResult{}, submits: map[string]int{}, orders: map[string]erp.Order{}}
}

func (s *fakeSink) Submit(_ context.Context, o erp.Order) (erp.OrderResult, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.submits[o.DealID]++
	s.orders[o.DealID] = o
	if s.refuse > 0 {
		s.refuse--
		return erp.OrderResult{}, errors.New("dial tcp 127.0.0.1:1433: connection refused")
	}
	if r, ok := s.rows[o.DealID]; ok {
		return r, nil
	}
	s.rows[o.DealID] = erp.OrderResult{State: erp.OrderWaiting}
	if s.lose > 0 {
		s.lose--
		return erp.OrderResult{}, fmt.Errorf("reading the answer: %w", bridge.ErrOutcomeUnknown)
	}
	return s.rows[o.DealID], nil
}

func (s *fakeSink) Status(_ context.Context, id, _ string) (erp.OrderResult, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.statuses++
	r, ok := s.rows[id]
	return r, ok, nil
}

// job processes waiting rows, rejecting those in reject.
func (s *fakeSink) job(reject map[string]bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for id, r := range s.rows {
		if r.State != erp.OrderWaiting {
			continue
		}
		if reject[id] {
			s.rows[id] = erp.OrderResult{State: erp.OrderRejected, Error: "MATA410: bloqueado"}
			continue
		}
		s.next++
		s.rows[id] = erp.OrderResult{State: erp.OrderDone, Number: fmt.Sprintf("%06d", s.next)}
	}
}

type env struct {
	crm  *fakeCRM
	sink *fakeSink
	st   *store.Store
	p    *Poller
	now  time.Time
}

func newEnv(t *testing.T, dir fakeDir) *env {
	t.Helper()
	st, err := store.Open(context.Background(), filepath.Join(t.TempDir(), "s.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	e := &env{crm: newFakeCRM(), sink: newFakeSink(), st: st, now: time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)}
	e.p = New(e.crm, st, e.sink, dir, Options{Overlap: 10 * time.Minute, Lookback: 24 * time.Hour, UseDealPrices: true,
		Notes: true, Numbers: true, ZoneMargin: 14 * time.Hour, Now: func() time.Time { return e.now }})
	return e
}

func (e *env) run(t *testing.T) Report {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	rep, err := e.p.Run(ctx)
	if err != nil {
		t.Fatalf("run: %v", err)
	}
	return rep
}

// Many deals waiting on an ERP job that is down: each run asks about each
// once and still sends the newly won deal.
func TestWaitingDealsAreAskedOncePerRun(t *testing.T) {
	e := newEnv(t, fakeDir{})
	for i := range 150 {
		e.crm.win(fmt.Sprintf("d%03d", i), e.now.Add(-time.Hour))
	}
	if rep := e.run(t); rep.Waiting != 150 {
		t.Fatalf("first run: %+v, want 150 waiting", rep)
	}
	e.crm.win("new", e.now)
	e.sink.statuses = 0
	e.now = e.now.Add(5 * time.Minute)
	rep := e.run(t)
	if e.sink.statuses != 150 {
		t.Errorf("the second run asked the ERP %d times about 150 waiting deals, want 150", e.sink.statuses)
	}
	if e.sink.submits["new"] != 1 {
		t.Errorf("the newly won deal was sent %d times, want 1 (report %+v)", e.sink.submits["new"], rep)
	}
}

// A deal that fails for its own reason does not hold up the others, is
// listed as a problem, and the cursor moves on.
func TestOneFailingDealDoesNotStopTheOthers(t *testing.T) {
	e := newEnv(t, fakeDir{bad: map[string]error{"org-bad": errors.New("reading organization: 404 not found")}})
	e.crm.win("bad", e.now.Add(-2*time.Hour))
	e.crm.win("good", e.now.Add(-time.Hour))
	e.run(t)
	if e.sink.submits["good"] != 1 {
		t.Errorf("the good deal was sent %d times, want 1", e.sink.submits["good"])
	}
	w, _, _ := e.st.Writeback(context.Background(), "bad")
	if w.State != store.WritebackInvalid || w.NextAttemptAt.IsZero() {
		t.Errorf("failing deal: %+v, want invalid with a later attempt", w)
	}
	if c, _, _ := e.st.Cursor(context.Background(), Stream); c.Position == "" {
		t.Error("the cursor did not move")
	}
}

// A capped listing moves the cursor to the last deal listed, and the next
// run goes on from there.
func TestCappedListingGoesOnFromTheLastDeal(t *testing.T) {
	e := newEnv(t, fakeDir{})
	for i := range 30 {
		e.crm.win(fmt.Sprintf("d%02d", i), e.now.Add(-time.Duration(60-i)*time.Hour))
	}
	e.p.o.Lookback = 72 * time.Hour
	e.crm.capAfter = 20
	e.run(t)
	if n := len(e.sink.submits); n != 20 {
		t.Fatalf("first run sent %d deals, want the 20 listed", n)
	}
	e.now = e.now.Add(time.Minute)
	e.run(t)
	if n := len(e.sink.submits); n != 30 {
		t.Errorf("after the second run %d of 30 deals were sent", n)
	}
	for id, n := range e.sink.submits {
		if n != 1 {
			t.Errorf("deal %s sent %d times", id, n)
		}
	}
}

// A staging rejection stays a rejection on `errors retry` (the ERP team
// resets the row); once reset and processed, the number reaches the deal.
func TestStagingRejectionRetry(t *testing.T) {
	e := newEnv(t, fakeDir{})
	e.crm.win("d1", e.now.Add(-time.Hour))
	e.run(t)
	e.sink.job(map[string]bool{"d1": true})
	if rep := e.run(t); rep.Rejected != 1 || len(e.crm.notes["d1"]) != 1 {
		t.Fatalf("after the job: %+v notes %v, want one rejection noted", rep, e.crm.notes["d1"])
	}
	if _, err := e.st.RetryWritebacks(context.Background(), time.Time{}); err != nil {
		t.Fatal(err)
	}
	e.run(t)
	if w, _, _ := e.st.Writeback(context.Background(), "d1"); w.State != store.WritebackRejected || e.sink.submits["d1"] != 1 {
		t.Errorf("after retry: %+v, %d submits; want still rejected, not sent again", w, e.sink.submits["d1"])
	}
	// The ERP team sets the row back to waiting; the job makes the order.
	e.sink.rows["d1"] = erp.OrderResult{State: erp.OrderWaiting}
	e.sink.job(nil)
	e.now = e.now.Add(2 * time.Hour)
	e.run(t)
	if e.crm.updates["d1"] != "000001" || len(e.crm.notes["d1"]) != 1 {
		t.Errorf("after the ERP's retry: number %q, notes %v", e.crm.updates["d1"], e.crm.notes["d1"])
	}
}

// A deal reopened after it was won, then won again, is sent when it is
// listed again; until then it costs nothing.
func TestReopenedThenWonAgain(t *testing.T) {
	e := newEnv(t, fakeDir{bad: map[string]error{"org-d1": fmt.Errorf("%w: no SA1 customer", bridge.ErrNoCounterpart)}})
	e.crm.win("d1", e.now.Add(-time.Hour))
	if rep := e.run(t); rep.Invalid != 1 {
		t.Fatalf("first run: %+v", rep)
	}
	// Reopened: the hourly retry finds it no longer won and stops asking.
	d := e.crm.deals["d1"]
	d.Won = false
	e.crm.deals["d1"] = d
	e.now = e.now.Add(2 * time.Hour)
	e.run(t)
	if w, _, _ := e.st.Writeback(context.Background(), "d1"); w.Error != errNoLongerWon {
		t.Fatalf("reopened deal: %+v", w)
	}
	calls := e.crm.calls
	e.now = e.now.Add(2 * time.Hour)
	e.run(t)
	if e.crm.calls-calls != 1 { // the listing only
		t.Errorf("a reopened deal cost %d calls in a run, want only the listing", e.crm.calls-calls)
	}
	// Won again (its organization now maps).
	e.p.dir = fakeDir{}
	e.crm.win("d1", e.now)
	e.run(t)
	if e.sink.submits["d1"] != 1 {
		t.Errorf("deal won again was sent %d times, want 1", e.sink.submits["d1"])
	}
}

func TestNetPrice(t *testing.T) {
	for _, tc := range []struct {
		price, qty, disc string
		percent          bool
		want             string
	}{
		{"10.00", "3", "0", false, "10"},
		{"150", "3", "50", false, "133.33"},
		{"19.90", "2", "10", true, "17.91"},
		{"20.00", "1", "10", true, "18"},
	} {
		got := netPrice(decimal.RequireFromString(tc.price), decimal.RequireFromString(tc.qty), decimal.RequireFromString(tc.disc), tc.percent)
		if !got.Equal(decimal.RequireFromString(tc.want)) {
			t.Errorf("netPrice(%s × %s, %s percent %v) = %s, want %s", tc.price, tc.qty, tc.disc, tc.percent, got, tc.want)
		}
	}
}

// A deal lost after its order was staged: the ERP still makes the order;
// its number goes onto the deal with a note saying so.
func TestOrderForADealLostMeanwhileIsNoted(t *testing.T) {
	e := newEnv(t, fakeDir{})
	e.crm.win("d1", e.now.Add(-time.Hour))
	e.run(t)
	d := e.crm.deals["d1"]
	d.Won = false
	e.crm.deals["d1"] = d
	e.sink.job(nil)
	e.now = e.now.Add(time.Minute)
	e.run(t)
	if e.crm.updates["d1"] != "000001" {
		t.Errorf("number on the lost deal: %q, want 000001", e.crm.updates["d1"])
	}
	if n := e.crm.notes["d1"]; len(n) != 1 || !strings.Contains(n[0], "no longer won") {
		t.Errorf("notes: %v, want one saying the deal is no longer won", n)
	}
}

// The ERP cannot be reached, then the answer of a send that staged the
// order is lost: each deal is sent again later and staged exactly once.
func TestSendsThatFailAreRetriedOnce(t *testing.T) {
	e := newEnv(t, fakeDir{})
	e.crm.win("refused", e.now.Add(-time.Hour))
	e.crm.win("lost", e.now.Add(-time.Hour))
	e.sink.refuse, e.sink.lose = 1, 1
	rep := e.run(t)
	if rep.Unsent != 1 || rep.Lost != 1 || rep.FirstFailure == "" {
		t.Fatalf("first run: %+v, want one unsent and one lost, with the failure", rep)
	}
	// Not yet due: nothing is sent again.
	e.run(t)
	if e.sink.submits["refused"] != 1 || e.sink.submits["lost"] != 1 {
		t.Fatalf("sends before the retry is due: %v", e.sink.submits)
	}
	e.now = e.now.Add(2 * time.Minute)
	if rep := e.run(t); rep.Waiting != 2 {
		t.Errorf("retry run: %+v, want both waiting", rep)
	}
	// The lost one was found by asking the ERP, not by sending again.
	if e.sink.submits["lost"] != 1 || e.sink.submits["refused"] != 2 {
		t.Errorf("sends: %v, want lost once (its status answered) and refused twice", e.sink.submits)
	}
	if len(e.sink.rows) != 2 {
		t.Errorf("staged rows: %d, want 2", len(e.sink.rows))
	}
}

// A listing that fails half-way (a 429 storm outlasting the retries, a
// dropped connection) keeps the cursor: the next run lists the same window
// and sends the deals the failed one did not reach, each once.
func TestAFailedListingKeepsTheCursor(t *testing.T) {
	e := newEnv(t, fakeDir{})
	e.crm.win("d1", e.now.Add(-2*time.Hour))
	e.crm.win("d2", e.now.Add(-time.Hour))
	e.crm.listErr = fmt.Errorf("listing deals: %w", bridge.ErrRateLimited)
	if _, err := e.p.Run(context.Background()); !errors.Is(err, bridge.ErrRateLimited) {
		t.Fatalf("run with a failing listing: %v", err)
	}
	if c, _, _ := e.st.Cursor(context.Background(), Stream); c.Position != "" {
		t.Fatalf("the cursor moved to %s after a failed listing", c.Position)
	}
	e.crm.listErr = nil
	e.now = e.now.Add(time.Minute)
	e.run(t)
	if e.sink.submits["d1"] != 1 || e.sink.submits["d2"] != 1 {
		t.Errorf("sends after the failed listing: %v, want each deal once", e.sink.submits)
	}
}

// TestDealsWonInOtherPipelinesAreNoOrders: only deals won in
// Options.Pipelines are sent. A deal of another pipeline, one whose stage
// alone names an allowed pipeline through Options.Stages, and one whose
// pipeline nothing tells, are told apart from the listing alone (no API
// call beyond it), counted, and never sent, however often they are listed.
func TestDealsWonInOtherPipelinesAreNoOrders(t *testing.T) {
	e := newEnv(t, fakeDir{})
	e.p.o.Pipelines = map[string]string{"pl-sales": "Vendas"}
	e.p.o.Stages = map[string]string{"st-sales-2": "pl-sales", "st-after-1": "pl-after"}
	in := func(id, stage, pipeline, pipelineName string) {
		e.crm.win(id, e.now.Add(-time.Hour))
		d := e.crm.deals[id]
		d.StageID, d.PipelineID, d.PipelineName = stage, pipeline, pipelineName
		e.crm.deals[id] = d
	}
	in("sale", "st-sales-1", "pl-sales", "")
	in("sale-by-stage", "st-sales-2", "", "") // the listing gives no pipeline id
	in("after-sales", "st-after-1", "pl-after", "")
	in("after-by-stage", "st-after-1", "", "")
	in("partner", "", "pl-partner", "Parceiros")
	in("nowhere", "", "", "")
	for i := range 2 {
		e.now = e.now.Add(5 * time.Minute)
		rep := e.run(t)
		wantSent := 2
		if i > 0 {
			wantSent = 0
		}
		if rep.Sent != wantSent || rep.OtherPipeline != 4 || rep.Listed != 6 || rep.Stats().Skipped != int64(4+rep.Skipped) {
			t.Errorf("run %d: %+v, want %d sent and 4 of other pipelines", i+1, rep, wantSent)
		}
	}
	for id, want := range map[string]int{"sale": 1, "sale-by-stage": 1, "after-sales": 0, "after-by-stage": 0, "partner": 0, "nowhere": 0} {
		if got := e.sink.submits[id]; got != want {
			t.Errorf("deal %s sent %d times, want %d", id, got, want)
		}
		if _, has, _ := e.st.Writeback(context.Background(), id); has != (want > 0) {
			t.Errorf("deal %s recorded %v, want %v", id, has, want > 0)
		}
	}

	// Only the listing is called for deals of other pipelines.
	e2 := newEnv(t, fakeDir{})
	e2.p.o.Pipelines = map[string]string{"pl-sales": "Vendas"}
	for i := range 5 {
		id := fmt.Sprintf("copy%d", i)
		e2.crm.win(id, e2.now.Add(-time.Hour))
		d := e2.crm.deals[id]
		d.StageID, d.PipelineID = "st-after-1", "pl-after"
		e2.crm.deals[id] = d
	}
	if rep := e2.run(t); rep.OtherPipeline != 5 || e2.crm.calls != 1 {
		t.Errorf("%+v with %d CRM calls, want 5 other-pipeline deals and the listing alone", rep, e2.crm.calls)
	}
}

// TestADealMovedOutOfThePipelinesIsNotSentAgain: a deal that failed while
// in an allowed pipeline and was then moved to another is not sent when
// its retry comes: it is recorded invalid, saying why and how to send it.
func TestADealMovedOutOfThePipelinesIsNotSentAgain(t *testing.T) {
	e := newEnv(t, fakeDir{bad: map[string]error{"org-moved": fmt.Errorf("%w: not in SA1", bridge.ErrNoCounterpart)}})
	e.p.o.Pipelines = map[string]string{"pl-sales": "Vendas"}
	e.crm.win("moved", e.now.Add(-time.Hour))
	d := e.crm.deals["moved"]
	d.StageID, d.PipelineID = "st-sales-1", "pl-sales"
	e.crm.deals["moved"] = d
	if rep := e.run(t); rep.Invalid != 1 {
		t.Fatalf("first run: %+v, want the deal invalid", rep)
	}
	d.StageID, d.PipelineID, d.PipelineName = "st-after-1", "pl-after", "Pós-venda"
	e.crm.deals["moved"] = d
	e.p.dir = fakeDir{}
	e.now = e.now.Add(2 * time.Hour) // its retry is due
	e.run(t)
	if n := e.sink.submits["moved"]; n != 0 {
		t.Errorf("the moved deal was sent %d times, want 0", n)
	}
	w, _, _ := e.st.Writeback(context.Background(), "moved")
	if w.State != store.WritebackInvalid || !strings.Contains(w.Error, `pipeline "Pós-venda", not one of won_deals.pipelines`) || !w.NextAttemptAt.After(e.now.AddDate(1, 0, 0)) {
		t.Errorf("writeback %+v, want invalid for good, naming the pipeline", w)
	}
}

// TestWonDealsGoFirstInTheBudget: the poll lists and writes back at urgent
// priority (a sale waits on it), the nightly sweep at incremental.
func TestWonDealsGoFirstInTheBudget(t *testing.T) {
	e := newEnv(t, fakeDir{})
	e.crm.win("d1", e.now.Add(-time.Minute))
	e.run(t)
	if len(e.crm.levels) == 0 || slices.ContainsFunc(e.crm.levels, func(l priority.Level) bool { return l != priority.Urgent }) {
		t.Errorf("the poll called the CRM at %v, want urgent every time", e.crm.levels)
	}
	e.crm.levels = nil
	if _, err := e.p.Sweep(context.Background()); err != nil {
		t.Fatal(err)
	}
	if len(e.crm.levels) == 0 || e.crm.levels[0] != priority.Incremental {
		t.Errorf("the sweep listed at %v, want incremental", e.crm.levels)
	}
}
