package wiring

import (
	"strconv"
	"strings"
	"testing"

	"github.com/erpbridge/erpbridge/bridge"
	"github.com/erpbridge/erpbridge/bridge/store"
	"github.com/erpbridge/erpbridge/erp/protheus/fixture"
	"github.com/erpbridge/erpbridge/mapping"
	"github.com/erpbridge/erpbridge/rdstation/crm"
	"github.com/erpbridge/erpbridge/rdstation/rdsim"
)

// messyConfig syncs every stream over the fixture's messy records: the
// customers with their CNPJ, their own e-mails as contacts, the orders.
const messyConfig = ordersConfig + `
[streams.customers]
cnpj_field = "CNPJ"
[streams.contacts]
filial = "` + fixture.ContactFilial + `"
customer_email = true
%s
`

func TestMessyRecordsSQLite(t *testing.T) { testMessyRecords(t, sqliteBackend) }

func TestMessyRecordsPostgresIntegration(t *testing.T) { testMessyRecords(t, postgresBackend) }

// messyHarness is a harness over the fixture plus its messy records
// (fixture.AddMessyRecords), with contactSettings under [streams.contacts].
func messyHarness(t *testing.T, be erpBackend, contactSettings string) (*harness, fixture.Messy) {
	t.Helper()
	h := newHarness(t, be, harnessOptions{
		extraConfig: strings.Replace(messyConfig, "%s", contactSettings, 1),
		fields: []crm.CustomFieldInput{{Label: "Pedido ERP", Type: "text", For: "deal"},
			{Label: "CNPJ", Type: "text", For: "organization"}},
		seed: &rdsim.SeedData{Deals: []rdsim.Deal{{ID: fixture.CRMDealID, Name: "Negócio ganho no CRM", Win: ptr(true)}}},
	})
	m, err := h.erp.AddMessyRecords(h.ctx)
	if err != nil {
		t.Fatal(err)
	}
	return h, m
}

// listed is what errors list would show: the outbox's errors and the
// warnings, by ERP key.
func (h *harness) listed() (errs map[string]store.OutboxItem, warns map[string][]store.Warning) {
	h.t.Helper()
	items, err := h.bridge.Store.Errors(h.ctx, store.OutboxFilter{})
	if err != nil {
		h.t.Fatal(err)
	}
	ws, err := h.bridge.Store.Warnings(h.ctx, store.OutboxFilter{})
	if err != nil {
		h.t.Fatal(err)
	}
	errs, warns = map[string]store.OutboxItem{}, map[string][]store.Warning{}
	for _, it := range items {
		errs[it.ERPKey] = it
	}
	for _, w := range ws {
		warns[w.ERPKey] = append(warns[w.ERPKey], w)
	}
	return errs, warns
}

// testMessyRecords: the bad data of issue 9, on a real ERP database. Nothing
// stops a stream, nothing live is hidden, nothing bad reaches the CRM as it
// is, and every problem is listed once, by key and column.
func testMessyRecords(t *testing.T, be erpBackend) {
	h, m := messyHarness(t, be, "")
	first := h.mustSync("first sync")
	st := h.sim.State()

	keyless := []int64{m.BlankKeyRecno}
	if m.NullKeyRecno != 0 {
		keyless = append(keyless, m.NullKeyRecno)
	}
	// Only the keyless rows fail, in both streams that read SA1.
	failures := map[string]int64{"customers": int64(len(keyless)), "customer_contacts": int64(len(keyless))}
	for stream, failed := range map[string]int64{"customers": failures["customers"], "contacts": 0,
		"customer_contacts": failures["customer_contacts"], "products": 0, "orders": 0} {
		if got := first[stream].Failed; got != failed {
			t.Errorf("first sync: %s failed %d records, want %d", stream, got, failed)
		}
	}

	orgs := map[string]rdsim.Organization{}
	for _, o := range st.Organizations {
		orgs[o.Name] = o
		for _, s := range []string{o.Name, o.Address} {
			if _, dirty := mapping.CleanText(s); dirty {
				t.Errorf("organization %q: %q holds a control or bidi character", o.Name, s)
			}
		}
	}
	cnpjField := ""
	for _, f := range st.CustomFields {
		if f.Label == "CNPJ" {
			cnpjField = f.ID
		}
	}
	name := func(key, erpName string) string {
		parts := strings.Split(key, "|")
		return erpName + " (" + parts[1] + "/" + parts[2] + ")"
	}

	// Item 4: an invalid field is not an invalid customer; its orders find it.
	badCNPJ, ok := orgs[name(m.BadCNPJKey, "DISTRIBUIDORA CNPJ ERRADO LTDA")]
	if !ok {
		t.Fatalf("customer %s with a bad CNPJ is not in the CRM", m.BadCNPJKey)
	}
	for _, v := range badCNPJ.CustomFields {
		if v.CustomFieldID == cnpjField && v.Value != nil {
			t.Errorf("customer %s: CNPJ %v sent, want it left out", m.BadCNPJKey, v.Value)
		}
	}
	short, ok := orgs[name(m.ShortNameKey, "Z")]
	if !ok {
		t.Errorf("customer %s named %q is not in the CRM as %q", m.ShortNameKey, "Z", name(m.ShortNameKey, "Z"))
	}
	deals := map[string]rdsim.Deal{}
	for _, d := range st.Deals {
		deals[d.Name] = d
	}
	for order, org := range map[string]rdsim.Organization{m.BadCNPJOrder: badCNPJ, m.ShortNameOrder: short} {
		num := strings.Split(order, "|")[1]
		found := false
		for dname, d := range deals {
			if strings.HasPrefix(dname, "Pedido "+num+" ") {
				found = true
				if d.OrganizationID == "" || d.OrganizationID != org.ID {
					t.Errorf("order %s: deal %q has organization %q, want %s (%s)", order, dname, d.OrganizationID, org.ID, org.Name)
				}
			}
		}
		if !found {
			t.Errorf("order %s of a customer with bad data is no deal", order)
		}
	}

	// Item 14: control and bidi characters are gone; a key that identifies
	// nothing is an error of its row, never an identity.
	for _, want := range []string{name(m.BidiKey, m.BidiName), name(m.ControlKey, m.ControlName)} {
		if _, ok := orgs[want]; !ok {
			t.Errorf("no organization named %q (the ERP name without its control characters)", want)
		}
	}
	errs, warns := h.listed()
	for _, recno := range keyless {
		found := false
		for key, it := range errs {
			if strings.Contains(key, "#"+strconv.FormatInt(recno, 10)) {
				found = true
				if it.Level != store.LevelSkip || it.State != store.StateParked || !strings.Contains(it.LastError, "A1_COD") {
					t.Errorf("keyless customer at record number %d: %+v, want parked at level skip naming A1_COD", recno, it)
				}
				if _, has, err := h.bridge.Store.Identity(h.ctx, "organization", key); err != nil || has {
					t.Errorf("keyless customer %q has an identity (%v)", key, err)
				}
			}
		}
		if !found {
			t.Errorf("keyless customer at record number %d is not listed: %v", recno, errs)
		}
	}
	for _, n := range []string{"CLIENTE SEM CODIGO", "CLIENTE COM CODIGO NULO"} {
		for oname := range orgs {
			if strings.HasPrefix(oname, n) {
				t.Errorf("keyless customer in the CRM as %q", oname)
			}
		}
	}

	// Item 8: contacts linked to no live customer stay out; of two sharing
	// one mailbox (SU5) or one A1_EMAIL (customer contacts), both reach the
	// CRM, the second without the e-mail, listed once.
	byEmail := map[string][]rdsim.Contact{}
	for _, c := range st.Contacts {
		for _, e := range c.Emails {
			byEmail[strings.ToLower(e.Email)] = append(byEmail[strings.ToLower(e.Email)], c)
		}
	}
	for _, e := range []string{"orfao@exemplo.com.br", "excluido@exemplo.com.br"} {
		if n := len(byEmail[e]); n != 0 {
			t.Errorf("contact %s linked to no live customer: %d in the CRM, want none", e, n)
		}
	}
	for key, why := range map[string]string{m.OrphanContact: "no AC8 link", m.DeletedCustomerContact: m.DeletedCustomerKey} {
		// Left out on purpose, but never unnoticed: listed once, with why.
		if ws := warns[key]; len(ws) != 1 || !strings.Contains(ws[0].Text, "not synced") || !strings.Contains(ws[0].Text, why) {
			t.Errorf("contact %s linked to no live customer: warnings %+v, want one saying it is not synced (%s)", key, ws, why)
		}
	}
	for _, shared := range []struct {
		email string
		keys  [2]string
		names [2]string
	}{
		{m.SharedMailboxEmail, m.SharedMailbox, [2]string{"Setor de Compras", "Compras Grupo Msy"}},
		{m.SharedCustomerEmail, m.SharedEmailCustomers, [2]string{"Padaria Irmaos Um Ltda", "Padaria Irmaos Dois Ltda"}},
	} {
		if n := len(byEmail[shared.email]); n != 1 {
			t.Errorf("%s: %d CRM contacts with it, want 1", shared.email, n)
		}
		for _, n := range shared.names {
			found := 0
			for _, c := range st.Contacts {
				if strings.EqualFold(c.Name, n) {
					found++
				}
			}
			if found != 1 {
				t.Errorf("contact %q: %d in the CRM, want 1", n, found)
			}
		}
		listed := 0
		for _, key := range shared.keys {
			for _, w := range warns[key] {
				if w.Kind == store.WarningKey && strings.Contains(w.Text, shared.email) {
					listed++
				}
			}
		}
		if listed != 1 {
			t.Errorf("%s shared by %v: listed %d times, want once: %v", shared.email, shared.keys, listed, warns)
		}
	}

	// Item 13: an unreadable price is a problem of its product, named.
	products := map[string]rdsim.Product{}
	for _, p := range st.Products {
		products[p.Name] = p
	}
	for key, col := range map[string]string{m.BadPriceProduct: "B1_PRV1", m.InfPriceProduct: "B1_PRV1", m.BadDA1Product: "DA1_PRCVEN"} {
		found := false
		for pname := range products {
			found = found || strings.HasSuffix(pname, "("+strings.TrimPrefix(key, "|")+")")
		}
		if !found {
			t.Errorf("product %s with an unreadable price is not in the CRM", key)
		}
		if ws := warns[key]; len(ws) != 1 || !strings.Contains(ws[0].Text, col) || !strings.Contains(ws[0].Text, key) {
			t.Errorf("product %s: warnings %+v, want one naming the key and %s", key, ws, col)
		}
	}
	if len(st.Products) != h.exp.LiveProducts+3 {
		t.Errorf("%d products in the CRM, want the fixture's %d and the 3 messy ones", len(st.Products), h.exp.LiveProducts)
	}
	if ws := warns[m.BadCNPJKey]; len(ws) != 1 || !strings.Contains(ws[0].Text, "A1_CGC") {
		t.Errorf("customer %s: warnings %+v, want one naming A1_CGC", m.BadCNPJKey, ws)
	}

	// Read all again: nothing is written, nothing fails, the lists stand.
	writes := h.sim.Counts().Writes
	reps, err := h.bridge.Engine.SyncAll(h.ctx, bridge.SyncOptions{Full: true})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range reps {
		// What failed is listed already and waits for its row to change:
		// read again unchanged, it is no failure of this run.
		if r.Stats.Failed != 0 {
			t.Errorf("full pass: %s failed %d, want 0 (its refused records are listed once)", r.Stream, r.Stats.Failed)
		}
	}
	if n := h.sim.Counts().Writes - writes; n != 0 {
		t.Errorf("full pass over the same ERP: %d writes, want 0", n)
	}
	errs2, warns2 := h.listed()
	if len(errs2) != len(errs) || len(warns2) != len(warns) {
		t.Errorf("after a full pass: %d errors and %d warned records, want %d and %d", len(errs2), len(warns2), len(errs), len(warns))
	}

	// The contact sent without the shared mailbox changes: its update
	// leaves the e-mail out again.
	second := ""
	for _, key := range m.SharedMailbox {
		if len(warns[key]) > 0 {
			second = key
		}
	}
	cod := strings.Split(second, "|")[1]
	if _, err := h.erp.DB.ExecContext(h.ctx, "UPDATE SU5010 SET U5_FONE = '33339999' WHERE U5_CODCONT = '"+cod+"'"); err != nil {
		t.Fatal(err)
	}
	if s := h.mustSync("sync after a change of " + second)["contacts"]; s.Updated != 1 || s.Failed != 0 {
		t.Errorf("contacts after the change: %+v, want 1 updated", s)
	}
	n := 0
	for _, c := range h.sim.State().Contacts {
		for _, e := range c.Emails {
			if strings.EqualFold(e.Email, m.SharedMailboxEmail) {
				n++
			}
		}
	}
	if _, warns3 := h.listed(); n != 1 || len(warns3[second]) != 1 {
		t.Errorf("after updating %s: %d CRM contacts with %s, warnings %v; want 1 and its warning still listed", second, n, m.SharedMailboxEmail, warns3[second])
	}
}

// TestSharedEmailSkipAndUnlinkedSync: the other policies. shared_email =
// "skip" keeps the second contact of a mailbox out, listed once and not as
// a failure, however often it is read; unlinked = "sync" sends contacts
// linked to no live customer, without organization.
func TestSharedEmailSkipAndUnlinkedSync(t *testing.T) {
	h, m := messyHarness(t, sqliteBackend, "shared_email = \"skip\"\nunlinked = \"sync\"")
	for i := range 2 {
		stats := h.mustSync("sync " + strconv.Itoa(i+1))
		// (customer_contacts reads SA1: its one keyless row fails there, on
		// the first sync only: it is listed once and waits for its row.)
		for s, want := range map[string]int64{"contacts": 0, "customer_contacts": int64(1 - i)} {
			if stats[s].Failed != want {
				t.Errorf("sync %d: %s failed %d records, want %d (a skipped contact is no failure)", i+1, s, stats[s].Failed, want)
			}
		}
		if _, err := h.bridge.Engine.SyncAll(h.ctx, bridge.SyncOptions{Full: true}); err != nil {
			t.Fatal(err)
		}
	}
	st := h.sim.State()
	errs, warns := h.listed()
	for _, shared := range []struct {
		email string
		keys  [2]string
	}{{m.SharedMailboxEmail, m.SharedMailbox}, {m.SharedCustomerEmail, m.SharedEmailCustomers}} {
		listed := 0
		for _, key := range shared.keys {
			if it, ok := errs[key]; ok {
				listed++
				if it.Level != store.LevelSkip || it.State != store.StateParked || !strings.Contains(it.LastError, shared.keys[0]) {
					t.Errorf("%s: %+v, want parked at level skip naming the contact that has the e-mail", key, it)
				}
			}
			if len(warns[key]) != 0 {
				t.Errorf("%s: warnings %v, want none (nothing was sent without the e-mail)", key, warns[key])
			}
		}
		if listed != 1 {
			t.Errorf("%s shared by %v: listed %d times, want once", shared.email, shared.keys, listed)
		}
		n := 0
		for _, c := range st.Contacts {
			for _, e := range c.Emails {
				if strings.EqualFold(e.Email, shared.email) {
					n++
				}
			}
		}
		if n != 1 {
			t.Errorf("%s: %d CRM contacts with it, want 1", shared.email, n)
		}
	}
	for _, key := range []string{m.OrphanContact, m.DeletedCustomerContact} {
		if len(warns[key]) != 0 {
			t.Errorf("contact %s: warnings %v, want none (it is synced)", key, warns[key])
		}
	}
	for _, e := range []string{"orfao@exemplo.com.br", "excluido@exemplo.com.br"} {
		n := 0
		for _, c := range st.Contacts {
			if len(c.Emails) > 0 && c.Emails[0].Email == e {
				n++
				if c.OrganizationID != "" {
					t.Errorf("contact %s: organization %s, want none", e, c.OrganizationID)
				}
			}
		}
		if n != 1 {
			t.Errorf("contact %s linked to no live customer: %d in the CRM, want 1 (unlinked = \"sync\")", e, n)
		}
	}
}
