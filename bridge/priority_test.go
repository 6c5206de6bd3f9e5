package bridge

import (
	"context"
	"slices"
	"testing"

	"github.com/erpbridge/erpbridge/bridge/priority"
)

// TestRunsTellTheTargetTheirPriority: a full pass (the first run, or one
// asked for) writes at backfill priority and a poll of what changed at
// incremental priority, so the target's shared request budget serves polls
// first.
func TestRunsTellTheTargetTheirPriority(t *testing.T) {
	v := newEnv(t, DeletesIgnore)
	v.src.set("A", "a1", false)
	v.sync() // the first run reads everything
	v.src.set("A", "a2", false)
	v.sync() // a poll
	v.src.set("A", "a3", false)
	if _, err := v.e.Sync(context.Background(), "customers", SyncOptions{Full: true}); err != nil {
		t.Fatal(err)
	}
	want := []priority.Level{priority.Backfill, priority.Incremental, priority.Backfill}
	if !slices.Equal(v.crm.levels, want) {
		t.Errorf("writes came at %v, want %v", v.crm.levels, want)
	}
}
