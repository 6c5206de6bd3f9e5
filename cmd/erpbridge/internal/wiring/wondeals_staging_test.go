package wiring

import (
	"strings"
	"testing"

	"github.com/erpbridge/erpbridge/erp/protheus"
	"github.com/erpbridge/erpbridge/erp/protheus/erpjob"
	"github.com/erpbridge/erpbridge/erp/protheus/fixture"
	"github.com/erpbridge/erpbridge/rdstation/crm"
	"github.com/erpbridge/erpbridge/rdstation/rdsim"
)

// TestWonDealsStageIntoTheConfiguredAliases: with won_deals.staging naming
// SZ7/SZ8, a won deal is staged into SZ7010/SZ8010 (fields Z7_…, Z8_…),
// the ERP job makes its order from there and the number reaches the deal;
// ZB1010/ZB2010 stay empty.
func TestWonDealsStageIntoTheConfiguredAliases(t *testing.T) {
	aliases := protheus.StagingAliases{Header: "SZ7", Items: "SZ8"}
	h := newHarness(t, sqliteBackend, harnessOptions{
		extraConfig: wonDealsConfig,
		fields:      []crm.CustomFieldInput{{Label: "Pedido ERP", Type: "text", For: "deal"}},
		seed:        &rdsim.SeedData{Users: []rdsim.User{{Name: "Vendedor Um", Email: sellerEmail, Active: true}}},
		configFor: func(h *harness) string {
			if err := h.erp.CreateStaging(h.ctx, aliases); err != nil { // as the ERP team would, before the bridge starts
				t.Fatal(err)
			}
			return "[won_deals.staging]\nheader = \"SZ7\"\nitems = \"SZ8\"\n"
		},
	})
	h.mustSync("first sync")
	deal := wonDeal(h, "Venda para tabelas SZ7", customerKey("000001", "01"), map[string][2]string{productKey("PA0001"): {"2", "10.30"}})
	if rep := runWon(h, "poll"); rep.Waiting != 1 {
		t.Fatalf("poll: %+v, want the deal staged", rep)
	}
	staged := queryRows(h.ctx, t, h.erp.DB, "SELECT Z7_DEALID, Z7_STATUS FROM SZ7010 WHERE D_E_L_E_T_ = ' '")
	items := queryRows(h.ctx, t, h.erp.DB, "SELECT Z8_PRODUT FROM SZ8010 WHERE Z8_DEALID = '"+deal+"'")
	if len(staged) != 1 || staged[0][0] != deal || staged[0][1] != fixture.StagingWaiting || len(items) != 1 {
		t.Fatalf("SZ7010 %v, SZ8010 %v; want the deal waiting with its item", staged, items)
	}
	if n := queryRows(h.ctx, t, h.erp.DB, "SELECT COUNT(*) FROM ZB1010")[0][0]; n != "0" {
		t.Errorf("%s rows in ZB1010, want none", n)
	}
	out, err := erpjob.Run(h.ctx, h.erp, erpjob.Options{Staging: aliases})
	if err != nil || len(out) != 1 || out[0].Num == "" {
		t.Fatalf("ERP job: %+v, %v", out, err)
	}
	if rep := runWon(h, "poll after the job"); rep.Ordered != 1 {
		t.Errorf("poll: %+v, want the order number written back", rep)
	}
	if n := ordersOfDeal(h)[deal]; n != 1 {
		t.Errorf("deal %s has %d ERP orders, want 1", deal, n)
	}
}

// TestWonDealsRefuseToStartOnAForeignStagingTable: when ZB1010 is not the
// staging layout (another team's table with that name), opening the bridge
// fails naming won_deals.staging and what differs, and nothing is written
// into the table.
func TestWonDealsRefuseToStartOnAForeignStagingTable(t *testing.T) {
	h := newWonDealsHarness(t, sqliteBackend)
	if err := h.bridge.Close(); err != nil {
		t.Fatal(err)
	}
	for _, st := range []string{"DROP TABLE ZB1010", "CREATE TABLE ZB1010 (ZB1_FILIAL VARCHAR(2) NOT NULL, ZB1_DEALID VARCHAR(24) NOT NULL, " +
		"ZB1_OBS VARCHAR(80) NOT NULL, D_E_L_E_T_ VARCHAR(1) NOT NULL, R_E_C_N_O_ INTEGER NOT NULL PRIMARY KEY, R_E_C_D_E_L_ INTEGER NOT NULL)"} {
		if _, err := h.erp.DB.ExecContext(h.ctx, st); err != nil {
			t.Fatal(err)
		}
	}
	b, err := Open(h.ctx, h.cfg, Options{Clock: h.clk})
	if err == nil {
		b.Close()
		t.Fatal("the bridge opened with a ZB1010 that is not the staging table")
	}
	for _, w := range []string{"won_deals.staging", "staging table ZB1010 does not match the staging layout", "ZB1_OBS"} {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("Open: %v\nwant it to say %q", err, w)
		}
	}
	if n := queryRows(h.ctx, t, h.erp.DB, "SELECT COUNT(*) FROM ZB1010")[0][0]; n != "0" {
		t.Errorf("%s rows written into the foreign ZB1010", n)
	}
}
