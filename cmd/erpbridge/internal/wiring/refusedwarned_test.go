package wiring

import (
	"strings"
	"testing"

	"github.com/erpbridge/erpbridge/erp"
	"github.com/erpbridge/erpbridge/erp/protheus/fixture"
)

// TestRefusedRecordIsNotListedAsSynced: customer 000031's own contact
// (customer_email = true) has an invalid A1_EMAIL ("contato@@acme"), so
// it goes by its name in its organization, and its A1_CONTATO is the name
// of SU5 contact 000031 of the same customer, whose CRM contact the contacts
// stream made: it is refused (its natural key belongs to another ERP
// record), listed once at level skip. errors list must not also call it
// "synced without the invalid field(s)": it was not synced. (Found by
// TestMessyEstateEndToEndPostgresIntegration.)
func TestRefusedRecordIsNotListedAsSynced(t *testing.T) {
	h, _ := messyHarness(t, sqliteBackend, "")
	h.mustSync("first sync")
	key := erp.JoinKey(fixture.SharedFilial, "000031", "01")
	errs, warns := h.listed()
	it, refused := errs[key]
	if !refused || it.Stream != "customer_contacts" || !strings.Contains(it.LastError, "belongs to another ERP record") {
		t.Fatalf("customer contact %s: %+v, want it refused: its name in its organization is SU5 contact 000031's", key, it)
	}
	for _, w := range warns[key] {
		if strings.Contains(w.Text, "synced without") {
			t.Errorf("customer contact %s is refused and also listed as %q", key, w.Text)
		}
	}
}
