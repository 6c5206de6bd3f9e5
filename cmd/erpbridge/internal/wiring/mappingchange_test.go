package wiring

import (
	"maps"
	"testing"

	"github.com/erpbridge/erpbridge/cmd/erpbridge/internal/components"

	"github.com/erpbridge/erpbridge/bridge"
	"github.com/erpbridge/erpbridge/bridge/store"
)

// TestAMappingChangeReachesEveryOrganizationOnTheNextRun: after the
// customers mapping changes (a field added), the next run — an ordinary
// poll, with no ERP change — brings the new field to every organization,
// not only to the few rows the poll happens to read; the run after that
// writes nothing.
func TestAMappingChangeReachesEveryOrganizationOnTheNextRun(t *testing.T) {
	h := newHarness(t, sqliteBackend, harnessOptions{})
	first := h.mustSync("first sync")
	if got := h.mustSync("second sync")["customers"]; got.Updated != 0 || got.Created != 0 {
		t.Fatalf("second sync wrote %+v, want nothing", got)
	}
	// The same configuration with the customers' short name mapped too.
	cfg := h.cfg.Clone()
	components.Customers(cfg).Mapping.Fields = maps.Clone(components.Customers(cfg).Mapping.Fields)
	components.Customers(cfg).Mapping.Fields["resume"] = "'Nome fantasia: ' + A1_NREDUZ"
	h.bridge.Close()
	var err error
	if h.bridge, err = Open(h.ctx, cfg, Options{Clock: h.clk}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.bridge.Close() })
	reps, err := h.bridge.Engine.SyncAll(h.ctx, bridge.SyncOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range reps {
		switch r.Stream {
		case "customers":
			if r.Kind != store.RunFull || r.Stats.Updated != first["customers"].Created {
				t.Errorf("customers after the mapping changed: %s run updating %d, want a full pass updating all %d organizations",
					r.Kind, r.Stats.Updated, first["customers"].Created)
			}
		default: // their settings did not change: an ordinary poll
			if r.Kind != store.RunIncremental || r.Stats.Updated+r.Stats.Created != 0 {
				t.Errorf("%s: %s run writing %+v, want an incremental poll writing nothing", r.Stream, r.Kind, r.Stats)
			}
		}
	}
	for _, o := range h.sim.State().Organizations {
		if o.Resume == "" {
			t.Errorf("organization %q has no resume after the mapping added it", o.Name)
			break
		}
	}
	if got := h.mustSync("the sync after")["customers"]; got.Updated != 0 {
		t.Errorf("the sync after the full pass updated %d organizations, want 0", got.Updated)
	}
}
