package target

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/erpbridge/erpbridge/bridge"
	"github.com/erpbridge/erpbridge/rdstation/rdsim"
)

const (
	routePutDeal    = "PUT /api/v1/deals/{id}"
	routeCreateNote = "POST /api/v1/activities"
	routeListNotes  = "GET /api/v1/activities"
)

// calls is the simulator's request count by route since the last reset,
// as "ROUTE×N" sorted, for messages and comparisons.
func (e *dealEnv) calls() string {
	by := e.sim.Counts().ByRoute
	var out []string
	for _, r := range slices.Sorted(maps.Keys(by)) {
		out = append(out, fmt.Sprintf("%s×%d", r, by[r]))
	}
	return strings.Join(out, ", ")
}

func want(routes ...string) string {
	n := map[string]int{}
	for _, r := range routes {
		n[r]++
	}
	var out []string
	for _, r := range slices.Sorted(maps.Keys(n)) {
		out = append(out, fmt.Sprintf("%s×%d", r, n[r]))
	}
	return strings.Join(out, ", ")
}

// TestDealCallsWhenWhatWasSentIsKnown: with what was sent to each deal
// kept, a deal costs one call to create and one per change, whatever the
// change, and nothing is read from the CRM to compare.
func TestDealCallsWhenWhatWasSentIsKnown(t *testing.T) {
	e := newDealEnvRemembering(t, 4)
	ctx := context.Background()
	base := []item{{0, "2", "100.10"}, {1, "3", "7.77"}, {2, "10", "1.05"}}
	p := e.payload("000700", 0, base)
	var id string
	steps := []struct {
		name  string
		edit  func()
		calls string
	}{
		{"a new deal with 3 items: one POST", func() { id = e.create(t, p) }, want(routeCreateDeal)},
		{"the same payload again: nothing", nil, ""},
		{"another stage: one PUT", func() { p["deal_stage_id"] = e.stages[1] }, want(routePutDeal)},
		{"won, in another stage: one PUT with the outcome", func() { p["deal_stage_id"], p["win"] = e.stages[2], true }, want(routePutDeal)},
		{"a quantity changed: one batch update", func() { p = withItems(e, p, []item{{0, "2", "100.10"}, {1, "4", "7.77"}, {2, "10", "1.05"}}) },
			want(routeBatchUpdate)},
		{"a note line: one note", func() { p["note_title"], p["note_lines"] = "erpbridge: order 000700", []any{"item 04 left out"} },
			want(routeCreateNote)},
		{"an item removed: the lines destroyed and written again", func() { p = withItems(e, p, base[:2]) },
			want(routeBatchDestroy, routeBatchCreate)},
		{"a line removed by hand, then a price change: the deal's lines are read and written again", func() {
			lines, err := e.c.ListDealProducts(ctx, id)
			if err != nil {
				t.Fatal(err)
			}
			if err := e.c.DeleteDealProduct(ctx, id, lines[0].ID); err != nil {
				t.Fatal(err)
			}
			e.sim.ResetCounts()
			p = withItems(e, p, []item{{0, "2", "100.20"}, {1, "3", "7.77"}})
		}, want(routeBatchUpdate, routeListProducts, routeBatchDestroy, routeBatchCreate)},
	}
	for i, s := range steps {
		e.sim.ResetCounts()
		if s.edit != nil {
			s.edit()
		}
		if i > 0 {
			if err := e.t.Update(ctx, id, p); err != nil {
				t.Fatalf("%s: %v", s.name, err)
			}
		}
		if got := e.calls(); got != s.calls {
			t.Errorf("%s: calls %q, want %q", s.name, got, s.calls)
		}
	}
	d := e.deal(t, id)
	if d.Win == nil || !*d.Win || d.Stage == nil || d.Stage.ID != e.stages[2] || !d.AmountTotal.Equal(dec(t, "223.71")) {
		t.Errorf("deal: won %v, stage %+v, total %s; want won in stage 3 with 2 × 100.20 + 3 × 7.77", d.Win, d.Stage, d.AmountTotal)
	}
	if n := e.sim.Notes(id); len(n) != 1 {
		t.Errorf("%d notes, want 1", len(n))
	}

	// After a resync nothing is known: the next update reads the CRM, and
	// writes nothing that is already there.
	if _, err := e.t.Sent.(interface {
		ForgetFingerprints(context.Context, string) (int64, error)
	}).ForgetFingerprints(ctx, "deal"); err != nil {
		t.Fatal(err)
	}
	e.sim.ResetCounts()
	if err := e.t.Update(ctx, id, p); err != nil {
		t.Fatal(err)
	}
	if got, w := e.calls(), want(routePutDeal, routeListProducts, routeListNotes); got != w {
		t.Errorf("after a resync: calls %q, want %q", got, w)
	}
}

// withItems returns p with other deal products.
func withItems(e *dealEnv, p bridge.Payload, items []item) bridge.Payload {
	q := e.payload("x", 0, items)
	p["deal_products"] = q["deal_products"]
	return p
}

// TestDealCreatedClosedInOneCallWhereTheCRMAllows: the outcome goes inside
// the create; a CRM that ignores it (the documented body has none:
// Switches.CreateAppliesOutcome off) gets it with a PUT.
func TestDealCreatedClosedInOneCallWhereTheCRMAllows(t *testing.T) {
	for _, applies := range []bool{false, true} {
		for _, won := range []bool{true, false} {
			t.Run(fmt.Sprintf("create applies outcome %v, won %v", applies, won), func(t *testing.T) {
				e := newDealEnvRemembering(t, 1)
				e.sim.SetSwitches(rdsim.Switches{CreateAppliesOutcome: applies})
				reason, err := e.c.CreateLostReason(context.Background(), "Cancelado no ERP")
				if err != nil {
					t.Fatal(err)
				}
				p := e.payload("000800", 0, []item{{0, "1", "5"}})
				p["win"] = won
				if !won {
					p["deal_lost_reason_id"] = reason.ID
				}
				e.sim.ResetCounts()
				id := e.create(t, p)
				w := want(routeCreateDeal)
				if !applies {
					w = want(routeCreateDeal, routePutDeal)
				}
				if got := e.calls(); got != w {
					t.Errorf("calls %q, want %q", got, w)
				}
				d := e.deal(t, id)
				if d.Win == nil || *d.Win != won || (!won && d.LostReasonID != reason.ID) {
					t.Errorf("deal win %v lost reason %q, want %v", d.Win, d.LostReasonID, won)
				}
				e.sim.ResetCounts()
				if err := e.t.Update(context.Background(), id, p); err != nil {
					t.Fatal(err)
				}
				if got := e.calls(); got != "" {
					t.Errorf("the same payload again: %q, want no call", got)
				}
			})
		}
	}
}
