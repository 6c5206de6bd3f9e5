package target

import (
	"context"
	"testing"
	"time"

	"github.com/erpbridge/erpbridge/rdstation/rdsim"
	"github.com/shopspring/decimal"
)

// The won-deal poller's view of v2: won deals of a window in close order,
// a deal's lines, the order number written into the deal's field (by
// slug), a note on the deal.
func TestWonDealsV2(t *testing.T) {
	ctx := context.Background()
	sim := rdsim.New(rdsim.Options{RequestsPerMinute: -1})
	t0 := time.Date(2026, 2, 1, 12, 0, 0, 0, time.UTC)
	won, lost := true, false
	at := func(m int) *time.Time { x := t0.Add(time.Duration(m) * time.Minute); return &x }
	sd := rdsim.SeedData{
		CustomFields: []rdsim.CustomField{{ID: "cf00000000000000000000a1", Label: "Pedido ERP", Type: "text", For: "deal", Visible: true}},
		Products:     []rdsim.Product{{ID: "ab00000000000000000000b1", Name: "Parafuso", BasePrice: decimal.RequireFromString("1.5"), Visible: true}},
		Deals: []rdsim.Deal{
			{ID: "de00000000000000000000a1", Name: "Antes", Win: &won, ClosedAt: at(-10)},
			{ID: "de00000000000000000000a2", Name: "Segundo", Win: &won, ClosedAt: at(5)},
			{ID: "de00000000000000000000a3", Name: "Primeiro", Win: &won, ClosedAt: at(1), Products: []rdsim.DealProduct{{
				ProductID: "ab00000000000000000000b1", Price: decimal.RequireFromString("1.5"), Amount: decimal.NewFromInt(3),
				Discount: decimal.NewFromInt(10), DiscountType: "percentage", Recurrence: "spare"}}},
			{ID: "de00000000000000000000a4", Name: "Perdido", Win: &lost, ClosedAt: at(2)},
			{ID: "de00000000000000000000a5", Name: "Depois", Win: &won, ClosedAt: at(90)},
		},
	}
	if err := sim.Seed(sd); err != nil {
		t.Fatal(err)
	}
	_, v2 := twoClients(t, sim)
	sys := NewSystemV2(v2)
	w := sys.WonDeals("pedido_erp")
	var names []string
	for d, err := range w.WonDeals(ctx, t0, t0.Add(time.Hour)) {
		if err != nil {
			t.Fatal(err)
		}
		names = append(names, d.Name)
		if !d.Won || d.ClosedAt.IsZero() {
			t.Fatalf("deal %+v", d)
		}
	}
	if len(names) != 2 || names[0] != "Primeiro" || names[1] != "Segundo" {
		t.Fatalf("won in the window: %v", names)
	}
	lines, err := w.Lines(ctx, "de00000000000000000000a3")
	if err != nil || len(lines) != 1 || !lines[0].Quantity.Equal(decimal.NewFromInt(3)) || !lines[0].DiscountPercent ||
		lines[0].ProductID != "ab00000000000000000000b1" {
		t.Fatalf("lines: %+v %v", lines, err)
	}
	if err := w.SetOrderNumber(ctx, "de00000000000000000000a3", "000123"); err != nil {
		t.Fatal(err)
	}
	d, err := w.Deal(ctx, "de00000000000000000000a3")
	if err != nil || d.OrderNumber != "000123" {
		t.Fatalf("order number read back: %+v %v", d, err)
	}
	if err := w.Note(ctx, "de00000000000000000000a3", "Pedido 000123 criado no ERP"); err != nil {
		t.Fatal(err)
	}
	if n := sim.State().Notes; len(n) != 1 || n[0].DealID != "de00000000000000000000a3" {
		t.Fatalf("notes: %+v", n)
	}
	if id, err := sys.ProductNamed(ctx, " parafuso "); err != nil || id != "ab00000000000000000000b1" {
		t.Fatalf("product named: %q %v", id, err)
	}
	if id, err := sys.UserByEmail(ctx, rdsim.DefaultAdminEmail); err != nil || id == "" {
		t.Fatalf("user by e-mail: %q %v", id, err)
	}
	ps, err := sys.Pipelines(ctx)
	if err != nil || len(ps) != 2 || len(ps[0].Stages) != 5 || !ps[0].CopyUnknown {
		t.Fatalf("pipelines: %+v %v", ps, err)
	}
}
