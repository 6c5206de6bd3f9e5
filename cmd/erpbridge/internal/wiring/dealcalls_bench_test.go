package wiring

import (
	"fmt"
	"testing"

	"github.com/erpbridge/erpbridge/bridge"
	"github.com/erpbridge/erpbridge/erp/protheus/fixture"
	"github.com/shopspring/decimal"
)

// BenchmarkDealCalls counts the CRM requests the orders stream spends per
// deal, through the assembled bridge (fixture ERP on SQLite, the simulator
// in process): each round adds dealCallsOrders open orders of 3 items and
// syncs them (calls per new deal), then changes one item's quantity of
// each (calls per changed deal: the quantity and the total), then invoices
// each (calls per changed deal: the stage and the outcome). Only the
// orders stream's incremental syncs are timed.
//
//	go test -run '^$' -bench DealCalls -benchtime 3x ./cmd/erpbridge/internal/wiring/
func BenchmarkDealCalls(b *testing.B) {
	const dealCallsOrders = 100
	e := newBenchEnv(b, fixture.SQLite, 0, fmt.Sprintf("[streams.contacts]\nenabled = false\n[streams.products]\nprice_table = %q\n[streams.orders]\nenabled = true\nfilial = %q\nhistory_days = 0\n",
		fixture.PriceTable, fixture.OrderFilial), nil)
	if _, err := e.b.Engine.SyncAll(e.ctx, bridge.SyncOptions{Full: true}); err != nil {
		b.Fatal(err)
	}
	sync := func(what string, wantChanged int) int64 {
		b.Helper()
		rep, err := e.b.Engine.Sync(e.ctx, "orders", bridge.SyncOptions{})
		if err != nil {
			b.Fatalf("%s: %v", what, err)
		}
		if n := rep.Stats.Created + rep.Stats.Updated; n != int64(wantChanged) || rep.Stats.Failed != 0 {
			b.Fatalf("%s: %+v, want %d deals written", what, rep.Stats, wantChanged)
		}
		return rep.Stats.APICalls
	}
	var created, changed, createCalls, changeCalls int64
	round := 0
	for b.Loop() {
		b.StopTimer()
		round++
		nums := make([]string, 0, dealCallsOrders)
		for i := range dealCallsOrders {
			var items []fixture.NewOrderItem
			for k := range 3 {
				items = append(items, fixture.NewOrderItem{Product: fmt.Sprintf("PA%04d", 1+(i+k*7)%4), TES: "501",
					Qty: decimal.NewFromInt(int64(1 + k)), Price: decimal.RequireFromString("12.34")})
			}
			num, err := e.erp.AddOrder(e.ctx, fixture.NewOrder{Customer: fmt.Sprintf("%06d", 1+i%20), Loja: "01",
				Seller: fmt.Sprintf("%06d", 1+i%5), Items: items})
			if err != nil {
				b.Fatal(err)
			}
			nums = append(nums, num)
		}
		b.StartTimer()
		createCalls += sync(fmt.Sprintf("round %d: new orders", round), dealCallsOrders)
		created += dealCallsOrders
		b.StopTimer()
		for _, num := range nums {
			if err := e.erp.ChangeItemQty(e.ctx, num, "02", decimal.NewFromInt(5)); err != nil {
				b.Fatal(err)
			}
		}
		b.StartTimer()
		changeCalls += sync(fmt.Sprintf("round %d: a quantity changed", round), dealCallsOrders)
		b.StopTimer()
		for _, num := range nums {
			if _, err := e.erp.InvoiceOrder(e.ctx, num); err != nil {
				b.Fatal(err)
			}
		}
		b.StartTimer()
		changeCalls += sync(fmt.Sprintf("round %d: invoiced", round), dealCallsOrders)
		changed += 2 * dealCallsOrders
	}
	b.ReportMetric(float64(createCalls)/float64(created), "calls/new-deal")
	b.ReportMetric(float64(changeCalls)/float64(changed), "calls/changed-deal")
}
