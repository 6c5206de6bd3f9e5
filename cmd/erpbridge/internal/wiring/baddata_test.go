package wiring

import (
	"strings"
	"testing"

	"github.com/erpbridge/erpbridge/bridge"
	"github.com/erpbridge/erpbridge/bridge/store"
	"github.com/erpbridge/erpbridge/erp"
	"github.com/erpbridge/erpbridge/erp/protheus/fixture"
	"github.com/erpbridge/erpbridge/rdstation/crm"
)

// TestBadDataWaitsForItsRowToChange: records refused for bad ERP data are
// listed once and wait for their ERP row (or the dependency they wait on)
// to change. Synced again with no ERP change — a poll, then a full pass
// that reads every row — nothing fails (so `sync --once` would not exit
// 3 again), the dependents point at their dependency's entry instead of
// copying its error, and fixing the customer in the ERP brings it and its
// contact to the CRM in the next sync.
func TestBadDataWaitsForItsRowToChange(t *testing.T) {
	// A customer without a valid CNPJ is kept out (skip_record): refused
	// for bad data, with a contact that needs it.
	h := newHarness(t, sqliteBackend, harnessOptions{
		extraConfig: "[streams.customers]\ncnpj_field = \"CNPJ\"\n[streams.customers.mapping.on_invalid]\nCNPJ = \"skip_record\"\n",
		fields:      []crm.CustomFieldInput{{Label: "CNPJ", Type: "text", For: "organization"}},
	})
	first := h.mustSync("first sync")
	if first["customers"].Failed == 0 || first["contacts"].Failed == 0 {
		t.Fatalf("the fixture's bad rows failed nothing on the first sync: %+v", first)
	}
	for _, full := range []bool{false, true} {
		reps, err := h.bridge.Engine.SyncAll(h.ctx, bridge.SyncOptions{Full: full})
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range reps {
			if r.Stats.Failed != 0 || r.Stats.APICalls != 0 {
				t.Errorf("sync (full %v) with no ERP change: %s failed %d records with %d API calls, want 0 and 0",
					full, r.Stream, r.Stats.Failed, r.Stats.APICalls)
			}
		}
	}
	bad := h.exp.BadCNPJKey // A1_CGC with a wrong check digit: refused
	parts := erp.SplitKey(bad)
	var dependent store.OutboxItem
	custErr := ""
	for _, it := range h.openItems() {
		switch {
		case it.ERPKey == bad:
			custErr = it.LastError
		case it.Stream == "contacts" && it.WaitsOnKey == bad:
			dependent = it
		}
	}
	if custErr == "" || dependent.ID == 0 {
		t.Fatalf("want the refused customer %s listed and a contact waiting on it; open: %+v", bad, h.openItems())
	}
	if dependent.State != store.StateParked || dependent.Level != store.LevelSkip {
		t.Errorf("the contact waiting on %s is %s/%s, want parked at level skip", bad, dependent.State, dependent.Level)
	}
	if !strings.Contains(dependent.LastError, bad) || strings.Contains(dependent.LastError, custErr) {
		t.Errorf("the contact's entry reads %q: want it to name customer %s and not copy its error %q",
			dependent.LastError, bad, custErr)
	}
	if err := h.erp.Change(h.ctx, "SA1", map[string]string{"A1_COD": parts[1], "A1_LOJA": parts[2]},
		map[string]any{"A1_CGC": fixture.CNPJ("987654320001")}); err != nil {
		t.Fatal(err)
	}
	got := h.mustSync("sync after the fix")
	if got["customers"].Created != 1 || got["contacts"].Created != 1 {
		t.Errorf("after the customer was fixed: customers created %d, contacts created %d; want 1 and 1 in the same sync",
			got["customers"].Created, got["contacts"].Created)
	}
	for _, it := range h.openItems() {
		if it.ERPKey == bad || it.ID == dependent.ID {
			t.Errorf("still open after the fix: %s %s %s: %s", it.Stream, it.ERPKey, it.State, it.LastError)
		}
	}
}
