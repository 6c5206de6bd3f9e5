package target

import (
	"context"
	"errors"
	"fmt"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/erpbridge/erpbridge/bridge"
	"github.com/erpbridge/erpbridge/bridge/clock"
	"github.com/erpbridge/erpbridge/rdstation/crm"
	"github.com/erpbridge/erpbridge/rdstation/rdsim"
	"github.com/shopspring/decimal"
)

// The deal target against the in-process simulator, one fake clock shared
// by the client, its budget and the simulator.

const (
	routeBatchCreate  = "POST /api/v1/deals/{id}/deal_products/batch"
	routeBatchUpdate  = "PATCH /api/v1/deals/{id}/deal_products/batch/update"
	routeBatchDestroy = "DELETE /api/v1/deals/{id}/deal_products/batch/destroy"
	routeListProducts = "GET /api/v1/deals/{id}/deal_products"
	routeCreateDeal   = "POST /api/v1/deals"
)

type dealEnv struct {
	sim      *rdsim.Sim
	c        *crm.Client
	t        *Deals
	products []string // product ids seeded in the simulator
	stages   []string // stage ids of the default pipeline
	field    string   // deal custom field for the ERP order number
}

func newDealEnv(t *testing.T, nProducts int) *dealEnv {
	t.Helper()
	ctx := context.Background()
	clk := clock.NewFake(time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC))
	sim := rdsim.New(rdsim.Options{Tokens: []string{"tok"}, Clock: clk, Seed: 1})
	srv := httptest.NewServer(sim)
	t.Cleanup(srv.Close)
	c, err := crm.New(crm.Config{BaseURL: srv.URL + "/api/v1", Token: "tok", Clock: clk,
		Budget: crm.NewBudget(crm.BudgetConfig{Clock: clk}), Timeout: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	var seed rdsim.SeedData
	for i := range nProducts {
		seed.Products = append(seed.Products, rdsim.Product{Name: fmt.Sprintf("Produto %03d", i), Visible: true})
	}
	if err := sim.Seed(seed); err != nil {
		t.Fatal(err)
	}
	e := &dealEnv{sim: sim, c: c, t: NewDeals(c)}
	for _, p := range sim.State().Products {
		e.products = append(e.products, p.ID)
	}
	if len(e.products) != nProducts {
		t.Fatalf("seeded %d products, want %d", len(e.products), nProducts)
	}
	st, err := c.ListDealStages(ctx, crm.StageQuery{})
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range st.Items {
		e.stages = append(e.stages, s.ID)
	}
	if len(e.stages) < 2 {
		t.Fatalf("the default pipeline has %d stages", len(e.stages))
	}
	f, err := c.CreateCustomField(ctx, crm.CustomFieldInput{Label: "Pedido ERP", Type: "text", For: crm.ForDeal})
	if err != nil {
		t.Fatal(err)
	}
	e.field = f.ID
	return e
}

// item is one order item: product index, quantity and unit price as text.
type item struct {
	product       int
	amount, price string
}

func (e *dealEnv) payload(order string, stage int, items []item) bridge.Payload {
	dps := make([]any, 0, len(items))
	for _, it := range items {
		dps = append(dps, map[string]any{"product_id": e.products[it.product], "amount": it.amount, "price": it.price})
	}
	return bridge.Payload{
		"name":               "Pedido " + order + " · ACME",
		"deal_stage_id":      e.stages[stage],
		"deal_custom_fields": []any{map[string]any{"custom_field_id": e.field, "value": order}},
		"deal_products":      dps,
	}
}

func dec(t *testing.T, s string) decimal.Decimal {
	t.Helper()
	d, err := decimal.NewFromString(s)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func (e *dealEnv) create(t *testing.T, p bridge.Payload) string {
	t.Helper()
	id, err := e.t.Create(context.Background(), p)
	if err != nil {
		t.Fatalf("Create: %v", err)
	}
	return id
}

func (e *dealEnv) deal(t *testing.T, id string) crm.Deal {
	t.Helper()
	d, err := e.c.GetDeal(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func (e *dealEnv) lines(t *testing.T, id string) map[string][2]string {
	t.Helper()
	dps, err := e.c.ListDealProducts(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][2]string{}
	for _, dp := range dps {
		out[dp.ProductID] = [2]string{dp.AmountDecimal.String(), dp.Price.String()}
	}
	return out
}

func TestDealCreateWith150ProductsInTwoBatches(t *testing.T) {
	e := newDealEnv(t, 150)
	var items []item
	for i := range 150 {
		items = append(items, item{i, "1.5", "10.01"}) // 15.015 each
	}
	e.sim.ResetCounts()
	id := e.create(t, e.payload("000123", 0, items))

	if got := e.sim.Counts().ByRoute[routeBatchCreate]; got != 2 {
		t.Errorf("batch create calls = %d, want 2 (100 + 50)", got)
	}
	d := e.deal(t, id)
	if want := dec(t, "2252.25"); !d.AmountTotal.Equal(want) {
		t.Errorf("amount_total = %s, want exactly %s", d.AmountTotal, want)
	}
	if d.Name != "Pedido 000123 · ACME" || d.Win != nil {
		t.Errorf("deal = %q win=%v", d.Name, d.Win)
	}
	if v, _ := crm.FieldValue(d.CustomFields, e.field); v.Text() != "000123" {
		t.Errorf("order number field = %q", v.Text())
	}
	lines := e.lines(t, id)
	if len(lines) != 150 {
		t.Fatalf("deal has %d products, want 150", len(lines))
	}
	for _, l := range lines {
		if l != [2]string{"1.5", "10.01"} {
			t.Fatalf("line (amount, price) = %v, want exactly (1.5, 10.01)", l)
		}
	}
}

func TestDealUpdate(t *testing.T) {
	base := []item{{0, "2", "100.10"}, {1, "0.333", "7.77"}, {2, "10", "1.05"}}
	tests := []struct {
		name        string
		stage       int
		items       []item
		wantReplace bool
	}{
		{"header only: no deal product writes", 1, []item{{2, "10.000", "1.050"}, {0, "2", "100.1"}, {1, "0.333", "7.77"}}, false},
		{"quantity change replaces the products", 0, []item{{0, "2", "100.10"}, {1, "0.334", "7.77"}, {2, "10", "1.05"}}, true},
		{"price change replaces the products", 0, []item{{0, "2", "100.11"}, {1, "0.333", "7.77"}, {2, "10", "1.05"}}, true},
		{"item removed", 0, []item{{0, "2", "100.10"}, {1, "0.333", "7.77"}}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newDealEnv(t, 3)
			id := e.create(t, e.payload("000200", 0, base))
			e.sim.ResetCounts()
			if err := e.t.Update(context.Background(), id, e.payload("000200", tt.stage, tt.items)); err != nil {
				t.Fatalf("Update: %v", err)
			}
			by := e.sim.Counts().ByRoute
			writes := by[routeBatchCreate] + by[routeBatchUpdate] + by[routeBatchDestroy]
			for r, n := range by {
				if strings.Contains(r, "deal_products") && !strings.HasPrefix(r, "GET ") && !strings.Contains(r, "batch") {
					writes += n // single-line writes count too
				}
			}
			if !tt.wantReplace && writes != 0 {
				t.Errorf("deal product writes = %d (%v), want none", writes, by)
			}
			if tt.wantReplace && (by[routeBatchDestroy] != 1 || by[routeBatchCreate] != 1) {
				t.Errorf("routes = %v, want one batch destroy and one batch create", by)
			}
			if by[routeListProducts] != 1 {
				t.Errorf("deal product listings = %d, want 1", by[routeListProducts])
			}
			d := e.deal(t, id)
			if d.Stage == nil || d.Stage.ID != e.stages[tt.stage] {
				t.Errorf("stage = %+v, want %s", d.Stage, e.stages[tt.stage])
			}
			want := map[string][2]string{}
			for _, it := range tt.items {
				want[e.products[it.product]] = [2]string{dec(t, it.amount).String(), dec(t, it.price).String()}
			}
			got := e.lines(t, id)
			if fmt.Sprint(got) != fmt.Sprint(want) {
				t.Errorf("lines = %v, want %v", got, want)
			}
		})
	}
}

func TestDealOutcome(t *testing.T) {
	won, lost := true, false
	tests := []struct {
		name           string
		create, update *bool // nil: open
		updateOnly     bool  // skip the update step
	}{
		{"created won", &won, nil, true},
		{"created lost", &lost, nil, true},
		{"open then won", nil, &won, false},
		{"open then lost", nil, &lost, false},
		{"won then reopened", &won, nil, false},
		{"won then lost", &won, &lost, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newDealEnv(t, 1)
			ctx := context.Background()
			reason, err := e.c.CreateLostReason(ctx, "Resíduo eliminado")
			if err != nil {
				t.Fatal(err)
			}
			with := func(w *bool) bridge.Payload {
				p := e.payload("000300", 0, []item{{0, "1", "5"}})
				if w != nil {
					p["win"] = *w
					if !*w {
						p["deal_lost_reason_id"], p["deal_lost_note"] = reason.ID, "eliminado no ERP"
					}
				}
				return p
			}
			id := e.create(t, with(tt.create))
			want := tt.create
			if !tt.updateOnly {
				if err := e.t.Update(ctx, id, with(tt.update)); err != nil {
					t.Fatalf("Update: %v", err)
				}
				want = tt.update
			}
			d := e.deal(t, id)
			switch {
			case want == nil && d.Win != nil:
				t.Errorf("win = %v, want open", *d.Win)
			case want != nil && (d.Win == nil || *d.Win != *want):
				t.Errorf("win = %v, want %v", d.Win, *want)
			case want != nil && !*want && d.LostReasonID != reason.ID:
				t.Errorf("lost reason = %q, want %q", d.LostReasonID, reason.ID)
			}
		})
	}
}

// A create whose response is lost (applied by the CRM) is found by name by
// the live lookup the engine makes before trying again: one deal.
func TestDealLostCreateIsFoundByName(t *testing.T) {
	e := newDealEnv(t, 2)
	ctx := context.Background()
	p := e.payload("000400", 0, []item{{0, "3", "9.99"}, {1, "1", "0.01"}})
	e.sim.SetFaults(rdsim.Faults{Methods: []string{"POST"}, PathPrefix: "/deals", Script: []rdsim.FaultKind{rdsim.FaultLostResponse}})
	_, err := e.t.Create(ctx, p)
	if !errors.Is(err, bridge.ErrOutcomeUnknown) {
		t.Fatalf("Create with a lost response: %v, want ErrOutcomeUnknown", err)
	}
	e.sim.SetFaults(rdsim.Faults{})

	id, found, err := e.t.Find(ctx, p, true)
	if err != nil || !found {
		t.Fatalf("Find(live) = %q, %v, %v; want the deal the lost create made", id, found, err)
	}
	// The engine adopts it with an update, which completes the products.
	if err := e.t.Update(ctx, id, p); err != nil {
		t.Fatal(err)
	}
	if n := e.sim.Counts().ByRoute[routeCreateDeal]; n != 1 {
		t.Errorf("POST /deals = %d, want 1", n)
	}
	if deals := e.sim.State().Deals; len(deals) != 1 {
		t.Errorf("the CRM has %d deals, want 1", len(deals))
	}
	if got := e.lines(t, id); len(got) != 2 || got[e.products[0]] != [2]string{"3", "9.99"} {
		t.Errorf("lines = %v", got)
	}
	// The index (non-live) finds it too; another order's name is not found.
	if got, found, err := e.t.Find(ctx, p, false); err != nil || !found || got != id {
		t.Errorf("Find(index) = %q, %v, %v; want %s", got, found, err, id)
	}
	if _, found, err := e.t.Find(ctx, e.payload("000401", 0, nil), true); err != nil || found {
		t.Errorf("Find(another order) = %v, %v", found, err)
	}
}

// TestDealLinesKeepTheERPTotal: lines whose quantity and price do not
// multiply to the ERP's rounded total, and fractional quantities, reach a
// CRM that keeps, cuts or refuses fractional amounts; on every setting each
// CRM line totals what the ERP says and the deal's total is their sum,
// exactly. A line is folded (1 × total) only when it must be, and the deal
// note says which, written once.
func TestDealLinesKeepTheERPTotal(t *testing.T) {
	type line struct{ amount, price, total string }
	lines := []line{
		{"2.375", "10.005", "23.76"}, // 23.761875 rounded by the ERP
		{"3", "10.005", "30.02"},     // 30.015, rounded half up
		{"2", "19.99", "39.98"},      // exact
		{"0.5", "7", "3.5"},          // exact, fractional
		{"1.25", "0.3333333", "0.42"},
	}
	folded := map[string][]string{ // per mode: the amounts sent folded
		"":                    {"2.375", "3", "1.25"},
		rdsim.AmountsTruncate: {"2.375", "3", "0.5", "1.25"},
		rdsim.AmountsReject:   {"2.375", "3", "0.5", "1.25"},
	}
	for mode, wantFolded := range folded {
		t.Run("amounts "+mode, func(t *testing.T) {
			e := newDealEnv(t, len(lines))
			e.sim.SetSwitches(rdsim.Switches{DealProductAmounts: mode})
			ctx := context.Background()
			p := e.payload("000500", 0, nil)
			var dps []any
			want := decimal.Zero
			for i, l := range lines {
				dps = append(dps, map[string]any{"product_id": e.products[i], "amount": l.amount, "price": l.price,
					"total": l.total, "label": fmt.Sprintf("item %02d", i+1)})
				want = want.Add(dec(t, l.total))
			}
			p["deal_products"] = dps
			p["note_title"] = "erpbridge: order 000500"
			p["note_lines"] = []any{"item 09, product PA0099: left out (deleted in the ERP)"}
			id := e.create(t, p)

			d := e.deal(t, id)
			if !d.AmountTotal.Equal(want) {
				t.Errorf("deal total %s, want %s (the sum of the ERP's line values)", d.AmountTotal, want)
			}
			byProduct := map[string]crm.DealProduct{}
			for _, dp := range d.Products {
				byProduct[dp.ProductID] = dp
			}
			for i, l := range lines {
				dp := byProduct[e.products[i]]
				if !dp.Total.Equal(dec(t, l.total)) {
					t.Errorf("line %s × %s: CRM total %s, want %s", l.amount, l.price, dp.Total, l.total)
				}
				isFolded := dp.Amount.Equal(decimal.NewFromInt(1)) && dp.Price.Equal(dec(t, l.total)) && l.amount != "1"
				if isFolded != slices.Contains(wantFolded, l.amount) {
					t.Errorf("line %s × %s: sent as %s × %s, folded=%v, want folded=%v", l.amount, l.price, dp.Amount, dp.Price, isFolded, !isFolded)
				}
				if !dp.Discount.IsZero() {
					t.Errorf("line %s × %s: discount %s, want none", l.amount, l.price, dp.Discount)
				}
			}
			notes := e.sim.Notes(id)
			if len(notes) != 1 {
				t.Fatalf("%d notes after create, want 1", len(notes))
			}
			for _, w := range append([]string{"item 09, product PA0099"}, "item 01") {
				if !strings.Contains(notes[0].Text, w) {
					t.Errorf("note %q does not mention %q", notes[0].Text, w)
				}
			}

			// The same payload again: no product writes, no second note.
			e.sim.ResetCounts()
			if err := e.t.Update(ctx, id, p); err != nil {
				t.Fatal(err)
			}
			by := e.sim.Counts().ByRoute
			if by[routeBatchCreate]+by[routeBatchDestroy] != 0 || len(e.sim.Notes(id)) != 1 {
				t.Errorf("an unchanged update wrote products (%v) or notes (%d)", by, len(e.sim.Notes(id)))
			}
			// Another left-out item: one more note.
			p["note_lines"] = []any{"item 08, product PA0098: left out (not in the CRM)"}
			if err := e.t.Update(ctx, id, p); err != nil {
				t.Fatal(err)
			}
			if n := e.sim.Notes(id); len(n) != 2 || !strings.Contains(n[1].Text, "item 08") {
				t.Errorf("notes after the left-out items changed: %+v, want a second one naming item 08", n)
			}
		})
	}
}

// TestDealLinesOnACRMThatCutsAmounts: a CRM that silently stores 2.5 as 2
// is caught from its answer: the line goes again as 1 × its total, and
// the next deal's fractional lines go that way at once.
func TestDealLinesOnACRMThatCutsAmounts(t *testing.T) {
	e := newDealEnv(t, 1)
	e.sim.SetSwitches(rdsim.Switches{DealProductAmounts: rdsim.AmountsTruncate})
	p := func(order string) bridge.Payload {
		p := e.payload(order, 0, nil)
		p["deal_products"] = []any{map[string]any{"product_id": e.products[0], "amount": "2.5", "price": "4", "total": "10"}}
		return p
	}
	e.sim.ResetCounts()
	first := e.create(t, p("000601"))
	if got := e.sim.Counts().ByRoute[routeBatchCreate]; got != 2 {
		t.Errorf("first deal: %d batch creates, want 2 (as sent, then folded)", got)
	}
	e.sim.ResetCounts()
	second := e.create(t, p("000602"))
	if got := e.sim.Counts().ByRoute[routeBatchCreate]; got != 1 {
		t.Errorf("second deal: %d batch creates, want 1 (folded at once)", got)
	}
	for _, id := range []string{first, second} {
		if d := e.deal(t, id); !d.AmountTotal.Equal(dec(t, "10")) || len(d.Products) != 1 {
			t.Errorf("deal %s: total %s with %d lines, want 10 on one line", id, d.AmountTotal, len(d.Products))
		}
	}
}
