package marketingsales_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"
	"go.uber.org/zap"

	"github.com/erpbridge/erpbridge/bridge"
	"github.com/erpbridge/erpbridge/bridge/clock"
	"github.com/erpbridge/erpbridge/bridge/component"
	"github.com/erpbridge/erpbridge/bridge/store"
	"github.com/erpbridge/erpbridge/erp/protheus/access"
	"github.com/erpbridge/erpbridge/erp/protheus/fixture"
	"github.com/erpbridge/erpbridge/erp/protheus/streams/marketingcontacts"
	"github.com/erpbridge/erpbridge/erp/protheus/streams/marketingsales"
	"github.com/erpbridge/erpbridge/rdstation/marketing/mktest"
	"github.com/erpbridge/erpbridge/rdstation/marketing/target"
	"github.com/erpbridge/erpbridge/rdstation/rdsim"
)

// today is the engine's clock; the fixture's orders were issued in
// January 2024.
var today = time.Date(2024, 6, 3, 10, 0, 0, 0, time.UTC)

type env struct {
	ctx    context.Context
	clk    *clock.Fake
	sim    *rdsim.Sim
	st     *store.Store
	engine *bridge.Engine
	url    string
}

// newEnv opens both Marketing streams over the fixture ERP and
// a fresh simulator; tune changes the settings before they are validated.
func newEnv(t testing.TB, erpCfg *access.Config, tune func(*marketingsales.Config, *target.Config)) *env {
	t.Helper()
	return newEnvSim(t, rdsim.MarketingOptions{}, erpCfg, tune)
}

// newEnvSim is newEnv with the simulator's Marketing options.
func newEnvSim(t testing.TB, mo rdsim.MarketingOptions, erpCfg *access.Config, tune func(*marketingsales.Config, *target.Config)) *env {
	t.Helper()
	ctx := context.Background()
	clk := clock.NewFake(today)
	sim := rdsim.New(rdsim.Options{Clock: clk, Marketing: mo})
	srv := httptest.NewServer(sim)
	t.Cleanup(srv.Close)
	e := &env{ctx: ctx, clk: clk, sim: sim, url: srv.URL}
	var err error
	if e.st, err = store.Open(ctx, filepath.Join(t.TempDir(), "erpbridge.db"), store.WithNow(clk.Now)); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.st.Close() })
	e.open(t, erpCfg, tune)
	return e
}

// open (re)opens the streams over e's store and simulator, as a restart
// with new settings does.
func (e *env) open(t testing.TB, erpCfg *access.Config, tune func(*marketingsales.Config, *target.Config)) {
	t.Helper()
	ctx, clk, sim := e.ctx, e.clk, e.sim
	acc, err := access.Open(ctx, erpCfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { acc.Close() })
	mkt := mktest.Config(e.url)
	mc := marketingcontacts.Default()
	mc.On = true
	if err := mc.ApplyDefaults(func(...string) bool { return false }); err != nil {
		t.Fatal(err)
	}
	sales := marketingsales.Default()
	sales.On, sales.Since = true, "20240101"
	if tune != nil {
		tune(sales, mkt)
	}
	configs := map[string]component.Config{marketingcontacts.Name: mc, marketingsales.Name: sales, target.Name: mkt}
	sys := mktest.Open(t, sim, mkt, e.st, clk, nil)
	envc := &component.Env{ERP: acc, Targets: map[string]component.TargetSystem{target.Name: sys}, Store: e.st,
		Log: zap.NewNop(), Clock: clk, Configs: func(name string) (component.Config, bool) { c, ok := configs[name]; return c, ok }}
	var streams []*bridge.Stream
	for _, name := range []string{marketingcontacts.Name, marketingsales.Name} {
		cfg := configs[name]
		v := component.NewValidation("streams."+name, nil, envc.Configs)
		cfg.(component.Validator).Validate(v)
		if err := v.Err(); err != nil {
			t.Fatal(err)
		}
		got, err := cfg.(component.Provisioner).Provision(ctx, envc)
		if got.Close != nil {
			t.Cleanup(func() { got.Close() })
		}
		if err != nil {
			t.Fatal(err)
		}
		streams = append(streams, got.Streams...)
	}
	if e.engine, err = bridge.New(e.st, streams, bridge.Options{Now: clk.Now, Logger: zap.NewNop()}); err != nil {
		t.Fatal(err)
	}
}

func (e *env) sync(t testing.TB) map[string]bridge.Report {
	t.Helper()
	reps, err := e.engine.SyncAll(e.ctx, bridge.SyncOptions{})
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]bridge.Report{}
	for _, r := range reps {
		out[r.Stream] = r
	}
	return out
}

// events are the simulator's events of one type, in the order received.
func (e *env) events(typ string) []rdsim.MarketingEvent {
	var out []rdsim.MarketingEvent
	for _, ev := range e.sim.MarketingState().Events {
		if ev.Type == typ {
			out = append(out, ev)
		}
	}
	return out
}

func sqliteERP(t *testing.T) *access.Config {
	t.Helper()
	cfg, _ := sqliteFixture(t)
	return cfg
}

func sqliteFixture(t testing.TB) (*access.Config, fixture.ERP) {
	t.Helper()
	return sqliteFixtureOpts(t, fixture.Options{})
}

// sqliteFixtureOpts is the SQLite fixture ERP generated with opts, the
// Marketing contacts added.
func sqliteFixtureOpts(t testing.TB, opts fixture.Options) (*access.Config, fixture.ERP) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "erp.db")
	fx, _, err := fixture.CreateSQLite(context.Background(), path, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { fx.DB.Close() })
	if _, err := fx.AddMarketingContacts(context.Background()); err != nil {
		t.Fatal(err)
	}
	cfg := access.Default()
	cfg.Driver, cfg.DSN = "sqlite", path
	return cfg, fx
}

func TestSalesAndLostSQLite(t *testing.T) {
	exerciseSales(t, sqliteERP(t))
}

func TestSalesAndLostPostgresIntegration(t *testing.T) {
	fx, dsn := fixture.NewPostgres(t)
	if _, err := fx.Load(context.Background(), fixture.Options{}); err != nil {
		t.Fatal(err)
	}
	if _, err := fx.AddMarketingContacts(context.Background()); err != nil {
		t.Fatal(err)
	}
	cfg := access.Default()
	cfg.Driver, cfg.DSN = "postgres", dsn
	exerciseSales(t, cfg)
}

// exerciseSales: the invoiced orders of the history window each send one
// SALE with their value to the customer's primary contact, the order
// closed unsold one OPPORTUNITY_LOST with its reason, and a second run
// sends nothing.
func exerciseSales(t *testing.T, erpCfg *access.Config) {
	e := newEnv(t, erpCfg, nil)
	e.sync(t)
	sales := e.events("SALE")
	// Order 000004 (customer 000008, whose primary contact in Marketing is
	// the fixture's AC8 first link) and 000008 (customer 000014) are
	// invoiced; 000003 is partially invoiced (not a SALE by default).
	if len(sales) != 2 {
		t.Fatalf("SALE events: %+v, want 2 (orders 000004 and 000008)", sales)
	}
	contacts := map[string]bool{}
	for _, c := range e.sim.MarketingState().Contacts {
		contacts[c.Email] = true
	}
	for _, ev := range sales {
		if !contacts[ev.Email] || ev.NoContact {
			t.Errorf("SALE for %s, which is not a Marketing contact", ev.Email)
		}
		v, err := decimal.NewFromString(strings.TrimSpace(toString(ev.Payload["value"])))
		if err != nil || !v.IsPositive() {
			t.Errorf("SALE for %s: value %v", ev.Email, ev.Payload["value"])
		}
	}
	lost := e.events("OPPORTUNITY_LOST")
	if len(lost) != 1 || !strings.Contains(toString(lost[0].Payload["reason"]), "000005") {
		t.Fatalf("OPPORTUNITY_LOST events: %+v, want 1 for order 000005 with its reason", lost)
	}
	e.sim.ResetMarketingCounts()
	reps := e.sync(t)
	if n := e.sim.MarketingCounts().Total; n != 0 {
		t.Fatalf("the second run made %d Marketing requests (%+v), want 0", n, reps[marketingsales.Name].Stats)
	}
	if got := len(e.events("SALE")); got != 2 {
		t.Fatalf("after a second run: %d SALE events, want 2", got)
	}
}

func toString(v any) string {
	if v == nil {
		return ""
	}
	return fmt.Sprint(v)
}

// TestEventsOff: marketing.events = "off" sends no event and says why;
// "sales" sends no OPPORTUNITY_LOST.
func TestEventsOff(t *testing.T) {
	erpCfg := sqliteERP(t)
	off := newEnv(t, erpCfg, func(_ *marketingsales.Config, m *target.Config) { m.Events = target.EventsOff })
	off.sync(t)
	if n := len(off.sim.MarketingState().Events); n != 0 {
		t.Fatalf("events off: %d events sent", n)
	}
	salesOnly := newEnv(t, erpCfg, func(_ *marketingsales.Config, m *target.Config) { m.Events = target.EventsSales })
	salesOnly.sync(t)
	if s, l := len(salesOnly.events("SALE")), len(salesOnly.events("OPPORTUNITY_LOST")); s != 2 || l != 0 {
		t.Fatalf("events = sales: %d SALE, %d OPPORTUNITY_LOST; want 2, 0", s, l)
	}
}

// TestHistoryWindow: without since the window starts the day the stream
// first ran: the January orders send nothing; since set later loads them
// (the retroactive load), once.
func TestHistoryWindow(t *testing.T) {
	erpCfg := sqliteERP(t)
	e := newEnv(t, erpCfg, func(s *marketingsales.Config, _ *target.Config) { s.Since = "" })
	reps := e.sync(t)
	if n := len(e.sim.MarketingState().Events); n != 0 {
		t.Fatalf("%d events from before the stream's first run (%+v)", n, reps[marketingsales.Name].Stats)
	}
	e.clk.Advance(24 * time.Hour)
	e.open(t, erpCfg, nil) // since = 20240101
	e.sync(t)
	e.sync(t)
	if s, l := len(e.events("SALE")), len(e.events("OPPORTUNITY_LOST")); s != 2 || l != 1 {
		t.Fatalf("the retroactive load: %d SALE, %d OPPORTUNITY_LOST; want 2, 1", s, l)
	}
}

// TestLostAnswerNeverResent: a SALE whose answer is lost (applied by
// Marketing, the connection closed) or dropped (never applied) is parked,
// never sent again by later runs; `errors resolve --sent` records the
// first as done, `--resend` sends the second exactly once.
func TestLostAnswerNeverResent(t *testing.T) {
	e := newEnv(t, sqliteERP(t), func(_ *marketingsales.Config, m *target.Config) { m.Events = target.EventsSales })
	e.sim.SetMarketingFaults(rdsim.Faults{PathPrefix: "/platform/events", Methods: []string{"POST"},
		Script: []rdsim.FaultKind{rdsim.FaultLostResponse, rdsim.FaultDrop}})
	e.sync(t)
	if got := len(e.events("SALE")); got != 1 {
		t.Fatalf("after a lost answer and a dropped request: %d SALE events in Marketing, want 1", got)
	}
	// Later runs (and `errors retry`) never send them again: the attempt
	// after the unknown outcome parks them.
	var parked []store.OutboxItem
	for range 3 {
		e.clk.Advance(time.Hour)
		if _, err := e.st.RetryParked(e.ctx, store.OutboxFilter{Stream: marketingsales.Name}); err != nil {
			t.Fatal(err)
		}
		e.sync(t)
		if got := len(e.events("SALE")); got != 1 {
			t.Fatalf("a later run resent a SALE whose outcome was unknown: %d SALE events", got)
		}
		var err error
		if parked, err = e.st.Errors(e.ctx, store.OutboxFilter{Stream: marketingsales.Name}); err != nil {
			t.Fatal(err)
		}
		if len(parked) != 2 {
			t.Fatalf("errors: %+v, want the 2 SALEs without an answer", parked)
		}
		for _, it := range parked {
			if it.State != store.StateParked || !strings.Contains(it.LastError, "errors resolve") {
				t.Fatalf("%s: %s %q, want parked telling how to resolve it", it.ERPKey, it.State, it.LastError)
			}
		}
	}
	// The operator looks at Marketing: the first SALE is there, the
	// second is not. Which order each was is in the event's value only:
	// resolve the one whose contact has the SALE.
	landed := e.events("SALE")[0].Email
	var sentKey, missingKey string
	for _, it := range parked {
		if strings.Contains(string(it.Payload), `"`+landed+`"`) {
			sentKey = it.ERPKey
		} else {
			missingKey = it.ERPKey
		}
	}
	if sentKey == "" || missingKey == "" {
		t.Fatalf("cannot tell the parked SALEs apart by e-mail: %+v", parked)
	}
	for key, wasSent := range map[string]bool{sentKey: true, missingKey: false} {
		n, err := e.st.ResolveUnknown(e.ctx, store.OutboxFilter{Stream: marketingsales.Name, ERPKey: key}, wasSent)
		if err != nil || n != 1 {
			t.Fatalf("resolving %s: %d, %v", key, n, err)
		}
	}
	e.sync(t)
	if got := len(e.events("SALE")); got != 2 {
		t.Fatalf("after resolving: %d SALE events, want 2 (the missing one sent once)", got)
	}
	for range 2 {
		e.sync(t)
	}
	if got := len(e.events("SALE")); got != 2 {
		t.Fatalf("later runs: %d SALE events, want 2", got)
	}
	if left, err := e.st.Errors(e.ctx, store.OutboxFilter{Stream: marketingsales.Name}); err != nil || len(left) != 0 {
		t.Fatalf("errors left: %+v, %v", left, err)
	}
}

// TestRefusedIsSentAgain: a SALE Marketing definitely did not take (the
// account's 429s, longer than the client waits) is no unknown outcome: it goes on a later attempt, once,
// and is not parked. (A 5xx to a POST is an unknown outcome: the client
// takes the safe side.)
func TestRefusedIsSentAgain(t *testing.T) {
	e := newEnv(t, sqliteERP(t), func(_ *marketingsales.Config, m *target.Config) { m.Events = target.EventsSales })
	e.sim.SetMarketingFaults(rdsim.Faults{PathPrefix: "/platform/events", Methods: []string{"POST"},
		Script: slices.Repeat([]rdsim.FaultKind{rdsim.FaultRateLimited}, 15)}) // past the client's 10 minutes of waiting
	e.sync(t)
	if got := len(e.events("SALE")); got != 1 {
		t.Fatalf("after one refused SALE: %d SALE events, want 1", got)
	}
	for range 3 {
		e.clk.Advance(time.Hour)
		e.sync(t)
	}
	if got := len(e.events("SALE")); got != 2 {
		t.Fatalf("the refused SALE: %d SALE events after later runs, want 2", got)
	}
	if left, err := e.st.Errors(e.ctx, store.OutboxFilter{Stream: marketingsales.Name}); err != nil || len(left) != 0 {
		t.Fatalf("errors left: %+v, %v", left, err)
	}
}

// TestEventsUnderFaultsExactlyOnce: with a third of the event POSTs
// answered by nothing (applied or not), runs and a person resolving what
// is parked from the contact's history — a bounded loop — end with every
// order's event in Marketing exactly once, and never twice on the way.
func TestEventsUnderFaultsExactlyOnce(t *testing.T) {
	e := newEnv(t, sqliteERP(t), nil)
	e.sim.SetMarketingFaults(rdsim.Faults{PathPrefix: "/platform/events", Methods: []string{"POST"},
		LostResponse: 0.2, Drop: 0.15, ServerError: 0.1})
	count := func() map[string]int {
		n := map[string]int{}
		for _, ev := range e.sim.MarketingState().Events {
			n[ev.Type+" "+ev.Email]++
		}
		return n
	}
	done, resolved := false, 0
	for round := range 12 {
		e.clk.Advance(time.Hour)
		e.sync(t)
		for k, n := range count() {
			if n > 1 && !strings.HasPrefix(k, "CONVERSION") {
				t.Fatalf("round %d: %s sent %d times", round, k, n)
			}
		}
		parked, err := e.st.Errors(e.ctx, store.OutboxFilter{Stream: marketingsales.Name})
		if err != nil {
			t.Fatal(err)
		}
		open, err := e.st.OpenItems(e.ctx, store.OutboxFilter{Stream: marketingsales.Name})
		if err != nil {
			t.Fatal(err)
		}
		if len(open) == 0 {
			done = true
			break
		}
		have := count()
		for _, it := range parked {
			if it.State != store.StateParked {
				continue
			}
			var p struct{ EventType, Email string }
			if err := json.Unmarshal(it.Payload, &struct {
				EventType *string `json:"event_type"`
				Email     *string `json:"email"`
			}{&p.EventType, &p.Email}); err != nil {
				t.Fatal(err)
			}
			// The person looks at the contact's history.
			resolved++
			if _, err := e.st.ResolveUnknown(e.ctx, store.OutboxFilter{Stream: marketingsales.Name, ERPKey: it.ERPKey},
				have[p.EventType+" "+strings.ToLower(p.Email)] > 0); err != nil {
				t.Fatal(err)
			}
		}
	}
	if !done {
		t.Fatal("events still open after 12 rounds")
	}
	if resolved == 0 {
		t.Fatal("no event was left without an answer: the faults did not bite")
	}
	n := count()
	if n["SALE isabel.silva8@exemplo.com.br"] != 1 || len(e.events("SALE")) != 2 || len(e.events("OPPORTUNITY_LOST")) != 1 {
		t.Fatalf("events in Marketing: %v, want each order's once", n)
	}
}

// TestLaterChanges: an order invoiced after the first run sends its SALE
// on the next incremental run, to its customer's contact as it is now (an
// e-mail changed in the ERP is a new Marketing contact; the old one
// stays); a sent order whose items change sends nothing more.
func TestLaterChanges(t *testing.T) {
	erpCfg, fx := sqliteFixture(t)
	e := newEnv(t, erpCfg, nil)
	e.sync(t)
	if got := len(e.events("SALE")); got != 2 {
		t.Fatalf("first run: %d SALE events, want 2", got)
	}
	ctx := context.Background()
	if _, err := fx.InvoiceOrder(ctx, "000002"); err != nil {
		t.Fatal(err)
	}
	if err := fx.ChangeItemQty(ctx, "000004", "01", decimal.NewFromInt(99)); err != nil {
		t.Fatal(err)
	}
	before := map[string]bool{}
	for _, c := range e.sim.MarketingState().Contacts {
		before[c.Email] = true
	}
	if err := fx.Change(ctx, "SU5", map[string]string{"U5_FILIAL": fixture.ContactFilial, "U5_CODCONT": "000004"},
		map[string]any{"U5_EMAIL": "Elisa.Nova@Exemplo.com.br"}); err != nil {
		t.Fatal(err)
	}
	e.clk.Advance(time.Hour)
	e.sync(t)
	sales := e.events("SALE")
	if len(sales) != 3 {
		t.Fatalf("after invoicing 000002 and changing 000004: %+v, want 3 SALE events", sales)
	}
	if sales[2].Email != "elisa.nova@exemplo.com.br" {
		t.Fatalf("the SALE of 000002 went to %s, want the contact's new e-mail", sales[2].Email)
	}
	after := map[string]bool{}
	for _, c := range e.sim.MarketingState().Contacts {
		after[c.Email] = true
	}
	if !after["elisa.nova@exemplo.com.br"] || !before["elisa.silva4@exemplo.com.br"] || !after["elisa.silva4@exemplo.com.br"] {
		t.Fatalf("the changed e-mail: before %v, after %v", before, after)
	}
}
