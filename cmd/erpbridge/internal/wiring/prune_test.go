package wiring

import "testing"

// TestPruneKeepsTheStoreFromGrowing: after syncs, pruning with no age
// left deletes the confirmed writes and all but each stream's last run;
// identities, cursors and the writes still open stay.
func TestPruneKeepsTheStoreFromGrowing(t *testing.T) {
	h := newHarness(t, sqliteBackend, harnessOptions{})
	h.mustSync("first sync")
	h.mustSync("second sync")
	runs, err := h.bridge.Store.LastRuns(h.ctx, 100)
	if err != nil {
		t.Fatal(err)
	}
	open := len(h.openItems())
	writes, pruned, err := h.bridge.Prune(h.ctx, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	if writes < 200 {
		t.Errorf("pruned %d confirmed writes after a first sync of ~300 records", writes)
	}
	left, err := h.bridge.Store.LastRuns(h.ctx, 100)
	if err != nil {
		t.Fatal(err)
	}
	if int(pruned) != len(runs)-len(left) || len(left) != len(h.bridge.Engine.Streams()) {
		t.Errorf("runs: %d before, %d pruned, %d left; want one left per stream (%d)", len(runs), pruned, len(left), len(h.bridge.Engine.Streams()))
	}
	if n := len(h.openItems()); n != open {
		t.Errorf("open writes: %d before, %d after pruning", open, n)
	}
	// Nothing forgotten that matters: a third sync writes nothing.
	before := h.sim.Counts().Writes
	h.mustSync("sync after pruning")
	if w := h.sim.Counts().Writes - before; w != 0 {
		t.Errorf("a sync after pruning wrote %d times", w)
	}
}
