package wiring

import (
	"testing"

	"github.com/erpbridge/erpbridge/bridge"
	"github.com/erpbridge/erpbridge/bridge/store"
	"github.com/erpbridge/erpbridge/erp/protheus/fixture"
)

// counts are what the dry run must predict of a stream's real run.
type counts struct{ created, updated, unchanged, skipped, failed, deleted int64 }

func countsOf(s store.RunStats) counts {
	return counts{s.Created, s.Updated, s.Unchanged, s.Skipped, s.Failed, s.Deleted}
}

// dryThenReal runs a dry SyncAll and then a real one on the same state
// and fails the test where their per-stream counts differ.
func dryThenReal(t *testing.T, h *harness, what string) {
	t.Helper()
	dry := map[string]counts{}
	reps, err := h.bridge.Engine.SyncAll(h.ctx, bridge.SyncOptions{DryRun: true})
	if err != nil {
		t.Fatalf("%s: dry run: %v", what, err)
	}
	for _, r := range reps {
		dry[r.Stream] = countsOf(r.Stats)
	}
	reps, err = h.bridge.Engine.SyncAll(h.ctx, bridge.SyncOptions{})
	if err != nil {
		t.Fatalf("%s: real run: %v", what, err)
	}
	for _, r := range reps {
		if got := countsOf(r.Stats); got != dry[r.Stream] {
			t.Errorf("%s: %s: the dry run predicted %+v, the real run did %+v", what, r.Stream, dry[r.Stream], got)
		}
	}
}

// TestDryRunPredictsTheRealRun: on the same state, a dry run and the real
// run that follows count the same creates, updates, skips and failures per
// stream — on a first sync (blocked and deleted customers with contacts,
// an order made from a CRM deal that is only linked, bad rows) and after
// ERP changes (a customer with contacts blocked, one deleted, renames).
func TestDryRunPredictsTheRealRun(t *testing.T) {
	h := newOrdersHarness(t, sqliteBackend)
	dryThenReal(t, h, "first sync")
	for _, cod := range []string{"000004", "000005"} {
		if err := h.erp.Change(h.ctx, "SA1", map[string]string{"A1_COD": cod, "A1_LOJA": "01"}, map[string]any{"A1_MSBLQL": "1"}); err != nil {
			t.Fatal(err)
		}
	}
	if err := h.erp.DeleteCustomer(h.ctx, "000007", "01"); err != nil {
		t.Fatal(err)
	}
	for _, cod := range []string{"000011", "000012"} {
		if err := h.erp.RenameCustomer(h.ctx, cod, "01", "RENOMEADA "+cod+" LTDA"); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := h.erp.AddCustomer(h.ctx, fixture.NewCustomer{Cod: "900001", Loja: "01", Name: "CLIENTE NOVO LTDA"}); err != nil {
		t.Fatal(err)
	}
	dryThenReal(t, h, "after ERP changes")
	dryThenReal(t, h, "with nothing changed")
}
