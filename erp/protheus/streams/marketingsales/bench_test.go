package marketingsales_test

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/shopspring/decimal"

	"github.com/erpbridge/erpbridge/bridge"
	"github.com/erpbridge/erpbridge/erp/protheus/access"
	"github.com/erpbridge/erpbridge/erp/protheus/fixture"
	"github.com/erpbridge/erpbridge/rdstation/rdsim"
)

// benchCustomers is the fixture's size in BenchmarkMarketingRetroactiveLoad
// (customer codes; the SU5/AC8 contacts and the orders follow it).
const benchCustomers = 1000

// BenchmarkMarketingRetroactiveLoad counts the Marketing requests of the
// retroactive load: both Marketing streams (marketing_contacts,
// marketing_sales with since = 20240101, events = sales_and_lost) over the
// fixture ERP (SQLite, benchCustomers customer codes, the Marketing
// contacts added) into an empty simulator, a full sync (`sync --full`).
// Every request the simulator receives under /platform counts (the
// custom-fields read, PATCHes, funnel PUTs, events, 429s and retries
// included; the code exchange before the run does not). The simulator is
// unlimited: the pacing is BenchmarkMarketingBudget's (rdstation/marketing/
// target). Each round starts from an empty simulator and store; the ERP
// is built once, outside the timed part.
//
// It reports calls/contact (every request over the contacts Marketing
// holds after the run; target ≤ 1.05), the contacts and events sent, and
// the requests of a second run: in the same process (incremental, then
// --full) they must be 0; in a new process (provisioning again, then an
// incremental sync) the streams' own must be 0 and restart-calls counts
// what provisioning reads (the account's contact fields, once).
//
//	go test -run '^$' -bench MarketingRetroactiveLoad -benchtime 3x ./erp/protheus/streams/marketingsales/
func BenchmarkMarketingRetroactiveLoad(b *testing.B) {
	cases := []struct {
		name   string
		orders int // invoiced orders added, one for each of customers 000001…
	}{
		{"fixture", 0},
		{fmt.Sprintf("fixture+%d invoiced orders", benchOrders), benchOrders},
	}
	for _, tc := range cases {
		b.Run(tc.name, func(b *testing.B) {
			erpCfg, fx := sqliteFixtureOpts(b, fixture.Options{Customers: benchCustomers})
			addInvoicedOrders(b, fx, tc.orders)
			benchRetroactiveLoad(b, erpCfg)
		})
	}
}

// benchOrders is how many invoiced orders the second case adds.
const benchOrders = 100

// addInvoicedOrders adds n invoiced orders of one item, one for each of
// the customers 000001…
func addInvoicedOrders(b *testing.B, fx fixture.ERP, n int) {
	b.Helper()
	ctx := context.Background()
	for i := range n {
		num, err := fx.AddOrder(ctx, fixture.NewOrder{Customer: fmt.Sprintf("%06d", 1+i), Loja: "01", Seller: "000001",
			Items: []fixture.NewOrderItem{{Product: "PA0001", TES: "501", Qty: decimal.NewFromInt(2), Price: decimal.RequireFromString("12.34")}}})
		if err != nil {
			b.Fatal(err)
		}
		if _, err := fx.InvoiceOrder(ctx, num); err != nil {
			b.Fatal(err)
		}
	}
}

// marketingCalls are the requests of a run: all but the code exchange,
// which the test harness does at every open in place of the admin's
// `erpbridge marketing authorize`.
func marketingCalls(c rdsim.RequestCounts) int {
	return c.Total - c.ByRoute["POST /auth/token"]
}

func benchRetroactiveLoad(b *testing.B, erpCfg *access.Config) {
	var calls, contacts, events, restart, failed int64
	var routes, restartRoutes map[string]int
	for b.Loop() {
		b.StopTimer()
		e := newEnvSim(b, rdsim.MarketingOptions{RequestsPerMinute: -1}, erpCfg, nil)
		b.StartTimer()
		reps, err := e.engine.SyncAll(e.ctx, bridge.SyncOptions{Full: true})
		if err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		for _, r := range reps {
			failed += r.Stats.Failed
		}
		n := e.sim.MarketingCounts()
		st := e.sim.MarketingState()
		if len(st.Contacts) == 0 {
			b.Fatal("the retroactive load created no Marketing contact")
		}
		calls += int64(marketingCalls(n))
		contacts += int64(len(st.Contacts))
		events += int64(len(st.Events))
		routes = n.ByRoute
		// A second run in the same process, incremental and --full: it
		// must cost nothing.
		for _, full := range []bool{false, true} {
			e.sim.ResetMarketingCounts()
			reps, err := e.engine.SyncAll(e.ctx, bridge.SyncOptions{Full: full})
			if err != nil {
				b.Fatal(err)
			}
			if c := e.sim.MarketingCounts(); marketingCalls(c) != 0 {
				b.Fatalf("a second run (full=%v) made %d Marketing requests: %v (%+v)", full, marketingCalls(c), c.ByRoute, reps)
			}
		}
		// A second run in a new process (`sync --once` again): the
		// streams provisioned again, then an incremental sync.
		e.sim.ResetMarketingCounts()
		e.open(b, erpCfg, nil)
		reps, err = e.engine.SyncAll(e.ctx, bridge.SyncOptions{})
		if err != nil {
			b.Fatal(err)
		}
		c := e.sim.MarketingCounts()
		for _, r := range reps {
			if r.Stats.APICalls != 0 {
				b.Fatalf("a second run in a new process: %s made %d requests (%v)", r.Stream, r.Stats.APICalls, c.ByRoute)
			}
		}
		restart += int64(marketingCalls(c))
		restartRoutes = c.ByRoute
		b.StartTimer()
	}
	var by []string
	for _, r := range slices.Sorted(maps.Keys(routes)) {
		by = append(by, fmt.Sprintf("%s=%d", r, routes[r]))
	}
	b.Logf("last round's requests by route: %s; a second run in a new process: %v", strings.Join(by, ", "), restartRoutes)
	n := float64(b.N)
	b.ReportMetric(float64(calls)/float64(contacts), "calls/contact")
	b.ReportMetric(float64(contacts)/n, "contacts")
	b.ReportMetric(float64(events)/n, "events")
	b.ReportMetric(float64(failed)/n, "failed")
	b.ReportMetric(float64(restart)/n, "restart-calls")
}
