package wiring

import (
	"strings"
	"testing"
)

// TestRelinkedContactMovesOnThePoll: an AC8 link changed to another
// customer (SU5 untouched, its stamp outside the poll's overlap) moves the
// contact to that customer's organization on the next poll.
func TestRelinkedContactMovesOnThePoll(t *testing.T) {
	h := newHarness(t, sqliteBackend, harnessOptions{})
	for _, table := range []string{"SU5010", "AC8010"} { // stamped an hour ago, and kept so
		if _, err := h.erp.DB.ExecContext(h.ctx, "UPDATE "+table+" SET S_T_A_M_P_ = strftime('%Y-%m-%d %H:%M:%f','now','-1 hour')"); err != nil {
			t.Fatal(err)
		}
	}
	// One unrelated contact changes now: the cursor's high-water mark is
	// recent, so the poll's overlap does not reach the aged rows.
	if _, err := h.erp.DB.ExecContext(h.ctx, "UPDATE SU5010 SET U5_CODCONT = U5_CODCONT WHERE U5_CODCONT = '000001'"); err != nil {
		t.Fatal(err)
	}
	h.mustSync("first sync")
	orgOf := func(email string) string {
		for _, c := range h.sim.State().Contacts {
			for _, e := range c.Emails {
				if strings.EqualFold(e.Email, email) {
					return c.OrganizationID
				}
			}
		}
		t.Fatalf("no contact %s in the CRM", email)
		return ""
	}
	const email = "elisa.silva4@exemplo.com.br" // contact 000004, linked to customer 000004/01 only
	before := orgOf(email)
	target, ok, err := h.bridge.Store.Identity(h.ctx, "organization", customerKey("000001", "01"))
	if err != nil || !ok {
		t.Fatalf("customer 000001/01 is not synced: %v", err)
	}
	if before == "" || before == target.CRMID {
		t.Fatalf("contact 000004 starts in organization %q", before)
	}
	if _, err := h.erp.DB.ExecContext(h.ctx, "UPDATE AC8010 SET AC8_CODENT = '00000101' WHERE AC8_CODCON = '000004' AND AC8_ENTIDA = 'SA1'"); err != nil {
		t.Fatal(err)
	}
	stats := h.mustSync("sync after relinking contact 000004")
	if got := orgOf(email); got != target.CRMID {
		t.Errorf("contact 000004 after its AC8 link moved to 000001/01: organization %s, want %s", got, target.CRMID)
	}
	if r := stats["contacts"]; r.Updated != 1 {
		t.Errorf("contacts after one relink: %+v, want one update", r)
	}
}
