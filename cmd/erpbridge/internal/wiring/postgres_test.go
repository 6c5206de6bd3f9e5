package wiring

import (
	"strings"
	"testing"

	"github.com/erpbridge/erpbridge/erp/protheus/fixture"
	"github.com/erpbridge/erpbridge/rdstation/crm"
)

// The same scenario runs on every ERP backend, so SQLite and PostgreSQL are
// held to one set of expectations. The PostgreSQL run is its own top-level
// test because CI requires a passing Test…Postgres…Integration.

func TestSyncPostgresIntegration(t *testing.T) { testFixtureSync(t, postgresBackend) }

func TestSyncSQLiteFixtureEndToEnd(t *testing.T) { testFixtureSync(t, sqliteBackend) }

// testFixtureSync: a full sync creates every record once, a second sync
// writes nothing, and after ERP changes exactly those changes are written.
func testFixtureSync(t *testing.T, be erpBackend) {
	h := newHarness(t, be, harnessOptions{
		extraConfig: "[streams.customers]\ncnpj_field = \"CNPJ\"\n",
		fields:      []crm.CustomFieldInput{{Label: "CNPJ", Type: "text", For: "organization"}},
	})
	r := defaultRules(h.exp, true)

	first := h.mustSync("first sync")
	want := expectCRM(h.ctx, t, h.erp.DB, r)
	if got := first["customers"].Created; got != int64(len(want.orgs)) {
		t.Errorf("first sync created %d organizations, want %d", got, len(want.orgs))
	}
	st := h.sim.State()
	checkCRM(t, st, want)

	// The fixture's quirks, one by one, as a user would look for them.
	names := map[string]int{}
	for _, o := range st.Organizations {
		names[o.Name]++
	}
	for _, key := range h.exp.SameNameKeys {
		parts := strings.Split(key, "|")
		if n := names[h.exp.SameName+" ("+parts[1]+"/"+parts[2]+")"]; n != 1 {
			t.Errorf("same-name loja %s: %d organizations, want 1 of its own", key, n)
		}
	}
	latin := strings.Split(h.exp.Latin1Key, "|")
	if n := names[h.exp.Latin1Name+" ("+latin[1]+"/"+latin[2]+")"]; n != 1 {
		t.Errorf("Latin-1 customer %s: %d organizations named %q (transcoded), want 1", h.exp.Latin1Key, n, h.exp.Latin1Name)
	}
	if len(want.orgs) != h.exp.LiveCustomers-h.exp.BlockedCustomers {
		t.Errorf("expected %d organizations from the ERP, the fixture says %d live − %d blocked (the bad CNPJ and the 1-character name go too)",
			len(want.orgs), h.exp.LiveCustomers, h.exp.BlockedCustomers)
	}
	h.checkWarnings(want)
	sharedKey := contactKey(h.exp.SharedContact)
	for email, wc := range want.contacts {
		if wc.key != sharedKey {
			continue
		}
		n := 0
		for _, c := range st.Contacts {
			if len(c.Emails) > 0 && strings.EqualFold(c.Emails[0].Email, email) {
				n++
			}
		}
		if n != 1 || wc.orgName == "" {
			t.Errorf("contact %s (linked to %v) is in the CRM %d times (organization %q), want once", sharedKey, h.exp.SharedContactOf, n, wc.orgName)
		}
	}
	if len(st.Products) != h.exp.LiveProducts {
		t.Errorf("%d products in the CRM, want %d (live products, blocked ones invisible)", len(st.Products), h.exp.LiveProducts)
	}

	writes := h.sim.Counts().Writes
	second := h.mustSync("second sync")
	for stream, s := range second {
		if s.Created+s.Updated != 0 {
			t.Errorf("second sync: %s wrote %d records, want 0", stream, s.Created+s.Updated)
		}
	}
	if got := h.sim.Counts().Writes - writes; got != 0 {
		t.Errorf("second sync: the CRM received %d writes, want 0", got)
	}

	// ERP changes: exactly these become writes.
	ctx := h.ctx
	for _, err := range []error{
		h.erp.RenameCustomer(ctx, "000011", "01", "INDUSTRIA NOVO NOME S/A"),
		h.erp.RenameCustomer(ctx, "000012", "01", "COMERCIAL RENOMEADA LTDA"),
		h.erp.TouchCustomer(ctx, "000013", "01"),
		h.erp.DeleteCustomer(ctx, "000014", "01"), // deletes = "ignore": the CRM keeps it
		func() error {
			_, err := h.erp.AddCustomer(ctx, fixture.NewCustomer{Cod: "000999", Loja: "01", Name: "CLIENTE NOVO LTDA", CGC: "11444777000161"})
			return err
		}(),
	} {
		if err != nil {
			t.Fatal(err)
		}
	}
	writes = h.sim.Counts().Writes
	third := h.mustSync("third sync")
	if c := third["customers"]; c.Created != 1 || c.Updated != 2 {
		t.Errorf("after 2 renames, 1 touch, 1 delete (ignored) and 1 new customer: created %d, updated %d; want 1 and 2", c.Created, c.Updated)
	}
	if got := h.sim.Counts().Writes - writes; got != 3 {
		t.Errorf("third sync: the CRM received %d writes, want 3", got)
	}
	// deletes = "ignore": the deleted customer's organization stays as it
	// was, and its contact stays linked to it.
	r.keptOrgs = map[string]string{customerKey("000014", "01"): strings.TrimSpace(deletedName(t, h, "000014")) + " (000014/01)"}
	want = expectCRM(h.ctx, t, h.erp.DB, r)
	checkCRM(t, h.sim.State(), want)
	h.checkWarnings(want)
}

// deletedName reads a soft-deleted customer's A1_NOME.
func deletedName(t *testing.T, h *harness, cod string) string {
	t.Helper()
	rows := queryRows(h.ctx, t, h.erp.DB, "SELECT A1_NOME FROM SA1010 WHERE A1_COD = '"+cod+"' AND D_E_L_E_T_ = '*'")
	if len(rows) != 1 {
		t.Fatalf("customer %s: %d deleted rows, want 1", cod, len(rows))
	}
	return rows[0][0]
}
