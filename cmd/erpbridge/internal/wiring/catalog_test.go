package wiring

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/erpbridge/erpbridge/rdstation/crm"
	"github.com/erpbridge/erpbridge/rdstation/crm/target"
)

// calls lists the simulator's requests since the last reset by route.
func (h *harness) calls() string {
	by := h.sim.Counts().ByRoute
	var out []string
	for _, r := range slices.Sorted(maps.Keys(by)) {
		out = append(out, fmt.Sprintf("%s×%d", r, by[r]))
	}
	return strings.Join(out, ", ")
}

// TestIdleSyncCostsNoRequest: a process that opens the bridge and finds
// nothing to sync asks the CRM nothing — its catalogue (custom fields,
// pipelines, lost reasons, users) and the account check are kept in the
// checkpoint store — until crm.catalog_ttl has passed; a mapping naming a
// custom field the kept copy lacks reads it again.
func TestIdleSyncCostsNoRequest(t *testing.T) {
	h := newOrdersHarness(t, sqliteBackend)
	h.mustSync("first sync")
	h.bridge.Close()

	// A later `sync --once` with no ERP change: opening and syncing.
	h.sim.ResetCounts()
	h.reopen(ordersConfig)
	for s, st := range h.mustSync("idle sync") {
		if st.Created+st.Updated+st.Failed != 0 {
			t.Errorf("%s: %+v on a sync with no ERP change", s, st)
		}
	}
	if got := h.calls(); got != "" {
		t.Errorf("an idle process made CRM requests: %s", got)
	}

	// After catalog_ttl the catalogue and the account are read again,
	// once, and kept again.
	h.bridge.Close()
	h.clk.Advance(target.DefaultCatalogTTL + time.Minute)
	h.sim.ResetCounts()
	h.reopen(ordersConfig)
	by := h.sim.Counts().ByRoute
	for _, r := range []string{"GET /api/v1/custom_fields", "GET /api/v1/deal_pipelines", "GET /api/v1/token/check", "GET /api/v1/users"} {
		if by[r] == 0 {
			t.Errorf("after catalog_ttl, opening did not read %s again: %s", r, h.calls())
		}
	}
	h.bridge.Close()
	h.sim.ResetCounts()
	h.reopen(ordersConfig)
	if got := h.calls(); got != "" {
		t.Errorf("reopening right after the catalogue was read again: %s", got)
	}

	// An admin adds a custom field and the mapping names it: the kept copy
	// lacks it, so the catalogue is read again and the bridge opens.
	h.bridge.Close()
	if _, err := h.crm.CreateCustomField(h.ctx, crm.CustomFieldInput{Label: "Bairro", Type: "text", For: "organization"}); err != nil {
		t.Fatal(err)
	}
	h.sim.ResetCounts()
	h.reopen(ordersConfig + "\n[streams.customers.mapping.custom_fields]\nBairro = \"A1_BAIRRO\"\n")
	if h.sim.Counts().ByRoute["GET /api/v1/custom_fields"] == 0 {
		t.Errorf("a mapping naming a new custom field opened without reading the fields again: %s", h.calls())
	}
	if st := h.mustSync("sync with the new field")["customers"]; st.Updated == 0 {
		t.Errorf("customers: %+v, want the new field sent to every organization", st)
	}
}
