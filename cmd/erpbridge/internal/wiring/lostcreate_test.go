package wiring

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/erpbridge/erpbridge/bridge"
	"github.com/erpbridge/erpbridge/bridge/store"
	"github.com/erpbridge/erpbridge/mapping"
	"github.com/erpbridge/erpbridge/rdstation/crm"
	"github.com/erpbridge/erpbridge/rdstation/rdsim"
)

// lostCreate syncs stream with the simulator losing the response of its
// first create on path (the CRM applied it; the bridge saw the connection
// drop) and returns the ERP key of the record whose create was lost.
func lostCreate(h *harness, stream, path string) string {
	h.t.Helper()
	h.sim.SetFaults(rdsim.Faults{Script: []rdsim.FaultKind{rdsim.FaultLostResponse}, Methods: []string{"POST"}, PathPrefix: path})
	if _, err := h.bridge.Engine.Sync(h.ctx, stream, bridge.SyncOptions{}); err != nil {
		h.t.Fatalf("syncing %s: %v", stream, err)
	}
	h.sim.SetFaults(rdsim.Faults{})
	if got := h.sim.Counts().Faults["lost_response"]; got != 1 {
		h.t.Fatalf("the simulator lost %d responses, want 1", got)
	}
	for _, it := range h.openItems() {
		if it.Stream == stream && it.Op == store.OpCreate && strings.Contains(it.LastError, "outcome unknown") {
			return it.ERPKey
		}
	}
	h.t.Fatalf("no %s create waits with an unknown outcome; open: %+v", stream, h.openItems())
	return ""
}

// TestLostCreateThenChangeMakesOneRecord: a create whose response was lost,
// then the ERP record changes what the CRM finds it by (a customer or
// product renamed, a contact's e-mail, a deal's name through its customer)
// before the failed create is due again. The next syncs must find the
// record the lost create made by what was sent, and update it: one CRM
// record per ERP record, with the ERP's current values.
func TestLostCreateThenChangeMakesOneRecord(t *testing.T) {
	t.Run("organization renamed", func(t *testing.T) {
		h := newHarness(t, sqliteBackend, harnessOptions{})
		key := lostCreate(h, "customers", "/organizations")
		parts := tableParts(key)
		if err := h.erp.RenameCustomer(h.ctx, parts[1], parts[2], "RENOMEADA APOS CRIACAO PERDIDA LTDA"); err != nil {
			t.Fatal(err)
		}
		want := expectCRM(h.ctx, t, h.erp.DB, defaultRules(h.exp, false))
		h.syncUntilSettled(want)
		checkCRM(t, h.sim.State(), want)
	})
	t.Run("product renamed", func(t *testing.T) {
		h := newHarness(t, sqliteBackend, harnessOptions{})
		key := lostCreate(h, "products", "/products")
		if err := h.erp.Change(h.ctx, "SB1", map[string]string{"B1_COD": tableParts(key)[1]},
			map[string]any{"B1_DESC": "PRODUTO RENOMEADO APOS CRIACAO PERDIDA"}); err != nil {
			t.Fatal(err)
		}
		want := expectCRM(h.ctx, t, h.erp.DB, defaultRules(h.exp, false))
		h.syncUntilSettled(want)
		checkCRM(t, h.sim.State(), want)
	})
	t.Run("contact e-mail changed", func(t *testing.T) {
		h := newHarness(t, sqliteBackend, harnessOptions{})
		if _, err := h.bridge.Engine.Sync(h.ctx, "customers", bridge.SyncOptions{}); err != nil {
			t.Fatal(err)
		}
		key := lostCreate(h, "contacts", "/contacts")
		parts := tableParts(key)
		if err := h.erp.Change(h.ctx, "SU5", map[string]string{"U5_FILIAL": parts[0], "U5_CODCONT": parts[1]},
			map[string]any{"U5_EMAIL": "novo.email.apos.perda@exemplo.com.br"}); err != nil {
			t.Fatal(err)
		}
		want := expectCRM(h.ctx, t, h.erp.DB, defaultRules(h.exp, false))
		h.syncUntilSettled(want)
		checkCRM(t, h.sim.State(), want)
	})
	t.Run("deal renamed through its customer", func(t *testing.T) {
		h := newOrdersHarness(t, sqliteBackend)
		for _, s := range []string{"customers", "products"} {
			if _, err := h.bridge.Engine.Sync(h.ctx, s, bridge.SyncOptions{}); err != nil {
				t.Fatal(err)
			}
		}
		key := lostCreate(h, "orders", "/deals")
		num := tableParts(key)[1]
		var cod, loja string
		for _, r := range queryRows(h.ctx, t, h.erp.DB, "SELECT C5_CLIENTE, C5_LOJACLI FROM SC5010 WHERE C5_FILIAL = '01' AND C5_NUM = '"+num+"'") {
			cod, loja = r[0], r[1]
		}
		if err := h.erp.RenameCustomer(h.ctx, cod, loja, "CLIENTE RENOMEADO APOS PEDIDO PERDIDO"); err != nil {
			t.Fatal(err)
		}
		// The deal's name follows its customer's: a full pass re-reads every order.
		for range 3 {
			for _, s := range h.bridge.Engine.Streams() {
				if _, err := h.bridge.Engine.Sync(h.ctx, s, bridge.SyncOptions{Full: true}); err != nil {
					t.Logf("full sync of %s: %v", s, err)
				}
			}
			h.clk.Advance(6*time.Hour + time.Minute)
		}
		orders := readOrders(h)
		perNumber := map[string]int{}
		for _, d := range h.sim.State().Deals {
			for _, cf := range d.CustomFields {
				if v := fmt.Sprint(cf.Value); v != "" && orders[v].num == v {
					perNumber[v]++
				}
			}
		}
		for num, o := range orders {
			if o.deleted || o.crmID != "" {
				continue
			}
			if perNumber[num] != 1 {
				t.Errorf("order %s: %d deals carry its number, want exactly 1", num, perNumber[num])
			}
		}
		if !strings.Contains(dealNameOf(h, num), "CLIENTE RENOMEADO APOS PEDIDO PERDIDO") {
			t.Errorf("the deal of order %s is named %q, want its customer's new name in it", num, dealNameOf(h, num))
		}
	})
}

// dealNameOf returns the name of the deal carrying order number num.
func dealNameOf(h *harness, num string) string {
	for _, d := range h.sim.State().Deals {
		for _, cf := range d.CustomFields {
			if fmt.Sprint(cf.Value) == num {
				return d.Name
			}
		}
	}
	return ""
}

// TestStaleCRMIDThenRenameAdoptsByCNPJ: the store holds a CRM id that no
// longer exists (hand-edited, or a restored backup of another account's
// store) and the customer is renamed. The update finds nothing (404); the
// create that follows must adopt the organization holding the customer's
// CNPJ instead of making a second one with the same CNPJ.
func TestStaleCRMIDThenRenameAdoptsByCNPJ(t *testing.T) {
	h := newHarness(t, sqliteBackend, harnessOptions{
		extraConfig: "[streams.customers]\ncnpj_field = \"CNPJ\"\n",
		fields:      []crm.CustomFieldInput{{Label: "CNPJ", Type: "text", For: "organization"}},
	})
	h.mustSync("first sync")
	key := customerKey("000003", "01")
	h.bridge.Close()
	st, err := store.Open(h.ctx, h.bridge.Store.Path())
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Update(h.ctx, func(tx *store.Tx) error {
		return tx.PutIdentity(store.Identity{Entity: "organization", ERPKey: key, CRMID: "ffffffffffffffffffffffff", Fingerprint: "stale"})
	}); err != nil {
		t.Fatal(err)
	}
	st.Close()
	if err := h.erp.RenameCustomer(h.ctx, "000003", "01", "NOVO NOME DEPOIS DE ID PERDIDO LTDA"); err != nil {
		t.Fatal(err)
	}
	if h.bridge, err = Open(h.ctx, h.cfg, Options{Clock: h.clk}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.bridge.Close() })
	want := expectCRM(h.ctx, t, h.erp.DB, defaultRules(h.exp, true))
	h.syncUntilSettled(want)
	checkCRM(t, h.sim.State(), want)
	perDoc := map[string]int{}
	for _, o := range h.sim.State().Organizations {
		for _, cf := range o.CustomFields {
			perDoc[mapping.Digits(fmt.Sprint(cf.Value))]++
		}
	}
	for _, r := range queryRows(h.ctx, t, h.erp.DB, "SELECT A1_CGC FROM SA1010 WHERE A1_COD = '000003' AND D_E_L_E_T_ = ' '") {
		doc := mapping.Digits(r[0])
		if n := perDoc[doc]; n != 1 {
			t.Errorf("%d organizations hold customer 000003's CNPJ %s, want 1", n, doc)
		}
	}
}
