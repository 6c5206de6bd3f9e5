package wiring

import (
	"testing"

	"github.com/erpbridge/erpbridge/bridge"
	"github.com/erpbridge/erpbridge/bridge/store"
	"github.com/erpbridge/erpbridge/erp/protheus/fixture"
	"github.com/erpbridge/erpbridge/rdstation/crm"
	"github.com/erpbridge/erpbridge/rdstation/rdsim"
)

// TestAParkedWriteIsNotResentUntilItsRecordChanges: the fixture's order
// made from CRM deal fixture.CRMDealID meets a CRM that has no such deal
// (another account, or deleted): the write is refused and parked. Reading
// the order again (full passes, the poll's overlap) must not PUT the
// vanished deal again on every sync; `errors retry` does, once.
func TestAParkedWriteIsNotResentUntilItsRecordChanges(t *testing.T) {
	h := newHarness(t, sqliteBackend, harnessOptions{
		extraConfig: ordersConfig,
		fields:      []crm.CustomFieldInput{{Label: "Pedido ERP", Type: "text", For: "deal"}},
		seed:        &rdsim.SeedData{Users: []rdsim.User{{Name: "Vendedor Um", Email: sellerEmail, Active: true}}},
	})
	h.mustSync("first sync")
	var parked *store.OutboxItem
	for _, it := range h.openItems() {
		if it.Stream == "orders" && it.State == store.StateParked {
			parked = &it
		}
	}
	if parked == nil {
		t.Fatalf("the order made from missing deal %s was not parked; open: %+v", fixture.CRMDealID, h.openItems())
	}
	putDeal := "PUT /api/v1/deals/{id}"
	before := h.sim.Counts().ByRoute[putDeal]
	for range 3 {
		if _, err := h.bridge.Engine.SyncAll(h.ctx, bridge.SyncOptions{Full: true}); err != nil {
			t.Fatal(err)
		}
	}
	if got := h.sim.Counts().ByRoute[putDeal] - before; got != 0 {
		t.Errorf("three full passes sent %d PUTs to deals (the vanished deal again), want 0", got)
	}
	if it := itemByKey(h, parked.ERPKey); it == nil || it.State != store.StateParked || it.LastError != parked.LastError {
		t.Errorf("the parked order is now %+v, want it still parked as before", it)
	}
	if _, err := h.bridge.Store.RetryParked(h.ctx, store.OutboxFilter{Stream: "orders"}); err != nil {
		t.Fatal(err)
	}
	h.clk.Advance(60 * 1e9)
	h.mustSync("sync after errors retry")
	if got := h.sim.Counts().ByRoute[putDeal] - before; got != 1 {
		t.Errorf("errors retry sent %d PUTs to the vanished deal, want exactly 1", got)
	}
}

func itemByKey(h *harness, key string) *store.OutboxItem {
	for _, it := range h.openItems() {
		if it.ERPKey == key {
			return &it
		}
	}
	return nil
}
