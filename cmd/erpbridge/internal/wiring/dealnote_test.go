package wiring

import (
	"strings"
	"testing"

	"github.com/erpbridge/erpbridge/rdstation/rdsim"
)

// TestRenamedCustomersDealsKeepTheirNote: a deal whose line is shown as
// 1 × its value has a note titled with its order number (docs/mapping.md
// "The deal's note"); renaming the customer renames the deal and writes no
// second note, since what the note says did not change. (Found by
// TestMessyEstateEndToEndPostgresIntegration: the note was titled with
// the deal's name, so every deal of a renamed customer got its note again.)
func TestRenamedCustomersDealsKeepTheirNote(t *testing.T) {
	h, m := newMessyHarness(t, sqliteBackend, messyOrdersConfig, rdsim.Switches{})
	h.mustSync("first sync")
	key := m.Messy[0] // its item 01 is 2.375 × 10.005 = 23.76: shown as 1 × 23.76
	d, ok := dealsByName(h.sim.State())[messyDealName(key)]
	if !ok {
		t.Fatalf("no deal for order %s", key)
	}
	title := "erpbridge: ERP order " + orderNum(key) + "\n"
	if notes := h.sim.Notes(d.ID); len(notes) != 1 || !strings.HasPrefix(notes[0].Text, title) {
		t.Errorf("notes %+v, want one titled %q", notes, title)
	}
	if err := h.erp.RenameCustomer(h.ctx, "MSY001", "01", "METAIS E CABOS RENOMEADA LTDA"); err != nil {
		t.Fatal(err)
	}
	h.mustSync("sync after the customer's rename")
	if got := findDeal(h.sim.State(), d.ID).Name; !strings.Contains(got, "RENOMEADA") {
		t.Fatalf("deal %s is named %q after its customer's rename", d.ID, got)
	}
	if notes := h.sim.Notes(d.ID); len(notes) != 1 {
		t.Errorf("%d notes after the customer's rename, want still 1: %+v", len(notes), notes)
	}
}
