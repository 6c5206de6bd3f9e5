package wiring

import (
	"strings"
	"testing"
	"time"

	"github.com/erpbridge/erpbridge/bridge"
	"github.com/erpbridge/erpbridge/bridge/store"
	"github.com/erpbridge/erpbridge/erp"
	"github.com/erpbridge/erpbridge/rdstation/rdsim"
)

// TestCreateLeftUnconfirmedThenDeletedLeavesNoStaleOrganization (found by
// the kill loop, seed 1796688225965053963: an organization with a deleted
// customer's unmarked name was left in the CRM): a customer's create is
// left unconfirmed — its answer lost (the CRM made the organization) or a
// 500 (it did not) — and the customer is deleted in the ERP before the
// create is due again; then `erpbridge errors retry` and another sync. The
// CRM must never keep or get an organization under the deleted customer's
// live name: with deletes = "mark" the organization the lost create made
// is found by the name it was sent with and marked; with no organization
// made, none is made for the deleted customer, whatever retries follow.
func TestCreateLeftUnconfirmedThenDeletedLeavesNoStaleOrganization(t *testing.T) {
	const prefix = "[EXCLUIDO] "
	mark := "[streams.customers]\ndeletes = \"mark\"\ndelete_mark.name_prefix = \"" + prefix + "\"\n"
	for _, tt := range []struct {
		name   string
		config string
		fault  rdsim.FaultKind
		// want is the name the deleted customer's organization has at the
		// end ("" for none), given its name when the create left.
		want func(sent string) string
	}{
		{"lost answer, marked", mark, rdsim.FaultLostResponse, func(sent string) string { return prefix + sent }},
		{"500, marked", mark, rdsim.FaultServerError, func(string) string { return "" }},
		{"lost answer, ignored", "", rdsim.FaultLostResponse, func(sent string) string { return sent }},
		{"500, ignored", "", rdsim.FaultServerError, func(string) string { return "" }},
	} {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, sqliteBackend, harnessOptions{extraConfig: tt.config})
			syncCustomers := func(what string) {
				t.Helper()
				if _, err := h.bridge.Engine.Sync(h.ctx, "customers", bridge.SyncOptions{}); err != nil {
					t.Logf("%s: %v", what, err) // a failed write is listed, not fatal here
				}
			}
			h.sim.SetFaults(rdsim.Faults{Script: []rdsim.FaultKind{tt.fault}, Methods: []string{"POST"}, PathPrefix: "/organizations"})
			syncCustomers("first sync")
			h.sim.SetFaults(rdsim.Faults{})
			var key string
			for _, it := range h.openItems() {
				if it.Stream == "customers" && it.Op == store.OpCreate && it.Attempts > 0 {
					key = it.ERPKey
				}
			}
			if key == "" {
				t.Fatalf("no customer create waits for a retry after the %v; open: %+v", tt.fault, h.openItems())
			}
			parts := erp.SplitKey(key) // [company] filial, code, store: the last two name the customer
			cod, loja := parts[len(parts)-2], parts[len(parts)-1]
			suffix := " (" + cod + "/" + loja + ")"
			var sent string
			for _, r := range queryRows(h.ctx, t, h.erp.DB, "SELECT A1_NOME FROM SA1010 WHERE A1_COD = '"+cod+"' AND A1_LOJA = '"+loja+"'") {
				sent = latin1(strings.TrimSpace(r[0])) + suffix
			}
			if err := h.erp.DeleteCustomer(h.ctx, cod, loja); err != nil {
				t.Fatal(err)
			}
			want := tt.want(sent)
			check := func(when string) {
				t.Helper()
				var got []string
				for _, o := range h.sim.State().Organizations {
					if strings.HasSuffix(o.Name, suffix) {
						got = append(got, o.Name)
					}
				}
				switch {
				case want == "" && len(got) > 0:
					t.Errorf("%s: customer %s (deleted after its create failed): organizations %q in the CRM, want none", when, key, got)
				case want != "" && (len(got) != 1 || got[0] != want):
					t.Errorf("%s: customer %s (deleted after its create's answer was lost): organizations %q in the CRM, want exactly [%q]", when, key, got, want)
				}
			}
			syncCustomers("sync after the delete")
			check("after the sync that read the delete")
			if _, err := h.bridge.Store.RetryParked(h.ctx, store.OutboxFilter{}); err != nil {
				t.Fatal(err)
			}
			h.clk.Advance(6*time.Hour + time.Minute) // every retry due, as real time would make it
			syncCustomers("sync after errors retry")
			syncCustomers("one more sync")
			check("after errors retry")
			for _, it := range h.openItems() {
				if it.ERPKey == key && it.State != store.StateParked {
					t.Errorf("customer %s: its write is still %s: %s", key, it.State, it.LastError)
				}
			}
		})
	}
}
