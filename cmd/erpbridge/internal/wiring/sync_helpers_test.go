package wiring

import (
	"context"
	"database/sql"
	"fmt"
	"net/http/httptest"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/erpbridge/erpbridge/cmd/erpbridge/internal/components"
	"github.com/erpbridge/erpbridge/rdstation/crm/target"

	"github.com/erpbridge/erpbridge/bridge"
	"github.com/erpbridge/erpbridge/bridge/clock"
	"github.com/erpbridge/erpbridge/bridge/store"
	"github.com/erpbridge/erpbridge/cmd/erpbridge/internal/config"
	"github.com/erpbridge/erpbridge/erp"
	"github.com/erpbridge/erpbridge/erp/protheus/fixture"
	"github.com/erpbridge/erpbridge/rdstation/crm"
	"github.com/erpbridge/erpbridge/rdstation/rdsim"
	"github.com/shopspring/decimal"
)

// simToken is the API token of the in-process simulators of these tests.
const simToken = "sim-token"

// erpBackend creates a fresh Protheus fixture in one kind of database.
type erpBackend struct {
	name   string
	create func(t testing.TB, ctx context.Context, opts fixture.Options) (fx fixture.ERP, exp fixture.Expect, driver, dsn string)
}

// sqliteBackend writes the fixture to a SQLite file in a temporary folder.
var sqliteBackend = erpBackend{name: "sqlite", create: func(t testing.TB, ctx context.Context, opts fixture.Options) (fixture.ERP, fixture.Expect, string, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "erp.db")
	fx, exp, err := fixture.CreateSQLite(ctx, path, opts)
	if err != nil {
		t.Fatalf("creating SQLite fixture: %v", err)
	}
	t.Cleanup(func() { fx.DB.Close() })
	return fx, exp, "sqlite", path
}}

// postgresBackend writes the fixture to a new database on the server of
// ERPBRIDGE_TEST_PG_DSN, dropped when the test ends.
var postgresBackend = erpBackend{name: "postgres", create: func(t testing.TB, ctx context.Context, opts fixture.Options) (fixture.ERP, fixture.Expect, string, string) {
	t.Helper()
	fx, dsn := fixture.NewPostgres(t)
	exp, err := fx.Load(ctx, opts)
	if err != nil {
		t.Fatalf("loading PostgreSQL fixture: %v", err)
	}
	return fx, exp, "postgres", dsn
}}

// harness is one ERP fixture, one in-process simulator on a fake clock and
// the bridge between them, opened from a configuration file's text.
type harness struct {
	t      *testing.T
	ctx    context.Context
	erp    fixture.ERP
	exp    fixture.Expect
	clk    *clock.Fake
	sim    *rdsim.Sim
	cfg    *config.Config
	crm    *crm.Client
	bridge *Bridge
}

// harnessOptions shape a harness.
type harnessOptions struct {
	// extraConfig is TOML appended to the base configuration (its own
	// [streams.…] tables; the base sets none).
	extraConfig string
	// fields are CRM custom fields created before the bridge opens, as an
	// admin would.
	fields []crm.CustomFieldInput
	// configFor, when set, returns more configuration once the ERP exists
	// (e.g. the URL of a REST simulator serving it).
	configFor func(h *harness) string
	// seed adds records to the simulator before the bridge opens.
	seed *rdsim.SeedData
	// prepare changes the ERP (or the simulator) before the bridge opens.
	prepare func(h *harness)
}

// baseConfig is the configuration every harness starts from: the fixture's
// contact filial and price table, no client-side budget (the simulator is
// unthrottled).
func baseConfig(dataDir, driver, dsn, baseURL, extra string) string {
	streams := extra
	if !strings.Contains(extra, "[streams.contacts]") {
		streams += "\n[streams.contacts]\nfilial = \"" + fixture.ContactFilial + "\"\n"
	}
	if !strings.Contains(extra, "[streams.products]") {
		streams += "\n[streams.products]\nprice_table = \"" + fixture.PriceTable + "\"\n"
	}
	return fmt.Sprintf(`data_dir = %q
[log]
level = "error"
[crm]
base_url = %q
token = %q
requests_per_minute = -1
timeout = "5s"
[erp]
driver = %q
dsn = %q
%s`, filepath.ToSlash(dataDir), baseURL, simToken, driver, dsn, streams)
}

func newHarness(t *testing.T, be erpBackend, o harnessOptions) *harness {
	t.Helper()
	ctx := context.Background()
	fx, exp, driver, dsn := be.create(t, ctx, fixture.Options{})
	h := &harness{t: t, ctx: ctx, erp: fx, exp: exp}
	h.clk = clock.NewFake(time.Now())
	h.sim = rdsim.New(rdsim.Options{Tokens: []string{simToken}, Clock: h.clk, RequestsPerMinute: -1, Seed: 7})
	if o.seed != nil {
		if err := h.sim.Seed(*o.seed); err != nil {
			t.Fatalf("seeding the simulator: %v", err)
		}
	}
	srv := httptest.NewServer(h.sim)
	t.Cleanup(srv.Close)

	if o.prepare != nil {
		o.prepare(h)
	}
	extra := o.extraConfig
	if o.configFor != nil {
		extra += o.configFor(h)
	}
	text := baseConfig(t.TempDir(), driver, dsn, srv.URL+"/api/v1", extra)
	cfg, err := config.Parse([]byte(text), func(string) (string, bool) { return "", false })
	if err != nil {
		t.Fatalf("parsing config: %v\n%s", err, text)
	}
	if err := cfg.Validate(); err != nil {
		t.Fatalf("validating config: %v\n%s", err, text)
	}
	h.cfg = cfg
	if h.crm, err = components.CRM(cfg).NewClient(target.Options{Clock: h.clk}); err != nil {
		t.Fatal(err)
	}
	for _, f := range o.fields {
		if _, err := h.crm.CreateCustomField(ctx, f); err != nil {
			t.Fatalf("creating custom field %q: %v", f.Label, err)
		}
	}
	if h.bridge, err = Open(ctx, cfg, Options{Clock: h.clk}); err != nil {
		t.Fatalf("opening bridge: %v", err)
	}
	t.Cleanup(func() { h.bridge.Close() })
	return h
}

// sync runs every stream once and returns the reports.
func (h *harness) sync() ([]bridge.Report, error) {
	h.t.Helper()
	return h.bridge.Engine.SyncAll(h.ctx, bridge.SyncOptions{})
}

// mustSync runs every stream once and fails the test on a run error.
func (h *harness) mustSync(what string) map[string]store.RunStats {
	h.t.Helper()
	reps, err := h.sync()
	out := map[string]store.RunStats{}
	for _, r := range reps {
		h.t.Logf("%s %s: %+v", what, r.Stream, r.Stats)
		out[r.Stream] = r.Stats
	}
	if err != nil {
		h.t.Fatalf("%s: %v", what, err)
	}
	return out
}

// openItems returns every open outbox item.
func (h *harness) openItems() []store.OutboxItem {
	h.t.Helper()
	items, err := h.bridge.Store.OpenItems(h.ctx, store.OutboxFilter{Limit: 10000})
	if err != nil {
		h.t.Fatal(err)
	}
	return items
}

// rules say which ERP rows the CRM must not get, or gets without a field.
type rules struct {
	// badCustomers are customer keys whose data the mapping rejects.
	badCustomers map[string]bool
	// badContacts are contact keys whose data the mapping rejects.
	badContacts map[string]bool
	// warned are the records sent without an invalid field: key → the
	// column the warning names.
	warned map[string]string
	// deletePrefix is streams.customers.delete_mark.name_prefix when
	// deletes = "mark"; empty when deletes are ignored.
	deletePrefix string
	// keptOrgs are deleted customers whose organization the CRM keeps
	// (deletes = "ignore"), by key, with the name it has.
	keptOrgs map[string]string
}

// defaultRules are the invalid values of the default mappings, all left
// out with a warning (an invalid field is not an invalid record): the
// contact e-mail without '@' and, with cnpjField, the CNPJ with a wrong
// check digit. The 1-character name goes, with its unique suffix.
func defaultRules(exp fixture.Expect, cnpjField bool) rules {
	r := rules{
		badCustomers: map[string]bool{},
		badContacts:  map[string]bool{},
		warned:       map[string]string{contactKey("000003"): "U5_EMAIL"},
	}
	if cnpjField {
		r.warned[exp.BadCNPJKey] = "A1_CGC"
	}
	return r
}

func contactKey(cod string) string { return erp.JoinKey(fixture.ContactFilial, cod) }

func customerKey(cod, loja string) string { return erp.JoinKey(fixture.SharedFilial, cod, loja) }

// wantCRM is what the CRM must hold for the ERP as it is now.
type wantCRM struct {
	orgs        map[string]string // customer key → organization name
	deletedOrgs map[string]string // customer key → marked name, for deleted customers (0 or 1 allowed)
	contacts    map[string]wantContact
	products    map[string]decimal.Decimal // product name → base price
	// rejected are the keys the mapping rejects for bad data (parked, level skip).
	rejected map[string]bool
	// deferred are contact keys whose organization is rejected: they wait
	// (failed, level error) for it to be fixed.
	deferred map[string]bool
	// warned are the records sent without an invalid field, with the
	// column their warning names.
	warned map[string]string
}

// wantContact is one expected contact, keyed by its e-mail ("" for the
// one contact whose e-mail is invalid, so sent without it).
type wantContact struct {
	key     string
	name    string // ERP name; compared without regard to case (the mapping title-cases)
	orgName string // "" = no organization
}

// latin1 decodes bytes that are not UTF-8 as ISO-8859-1, which the
// fixture's Windows-1252 bytes are.
func latin1(s string) string {
	if utf8.ValidString(s) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		b.WriteRune(rune(s[i]))
	}
	return b.String()
}

// queryRows reads every row of query as trimmed strings.
func queryRows(ctx context.Context, t *testing.T, db *sql.DB, query string) [][]string {
	t.Helper()
	rows, err := db.QueryContext(ctx, query)
	if err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	defer rows.Close()
	cols, _ := rows.Columns()
	var out [][]string
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatalf("%s: %v", query, err)
		}
		row := make([]string, len(cols))
		for i, v := range vals {
			switch x := v.(type) {
			case []byte:
				row[i] = strings.TrimRight(string(x), " ")
			case nil:
			default:
				row[i] = strings.TrimRight(fmt.Sprint(x), " ")
			}
		}
		out = append(out, row)
	}
	if err := rows.Err(); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return out
}

// expectCRM derives the expected CRM state from the ERP tables as they are
// now, independently of the bridge's mapping code.
func expectCRM(ctx context.Context, t *testing.T, db *sql.DB, r rules) wantCRM {
	t.Helper()
	w := wantCRM{orgs: map[string]string{}, deletedOrgs: map[string]string{}, contacts: map[string]wantContact{},
		products: map[string]decimal.Decimal{}, rejected: map[string]bool{}, deferred: map[string]bool{}, warned: map[string]string{}}
	for key, col := range r.warned {
		w.warned[key] = col
	}
	live := map[string]bool{}
	for _, row := range queryRows(ctx, t, db, "SELECT A1_COD, A1_LOJA, A1_NOME, A1_MSBLQL, D_E_L_E_T_ FROM SA1010 ORDER BY R_E_C_N_O_") {
		cod, loja, name, blq, del := row[0], row[1], latin1(strings.TrimSpace(row[2])), row[3], row[4]
		key := customerKey(cod, loja)
		crmName := name + " (" + cod + "/" + loja + ")"
		if del == "*" {
			if r.deletePrefix != "" && !live[key] {
				w.deletedOrgs[key] = r.deletePrefix + crmName
			}
			continue
		}
		live[key] = true
		delete(w.deletedOrgs, key) // re-created with the same key: the live row wins
		if r.badCustomers[key] {
			w.rejected[key] = true
			continue
		}
		if strings.TrimSpace(blq) == "1" {
			continue
		}
		w.orgs[key] = crmName
	}
	for key, name := range r.keptOrgs {
		w.orgs[key] = name
	}
	links := map[string]string{} // contact code → first linked customer key
	for _, row := range queryRows(ctx, t, db, "SELECT AC8_CODCON, AC8_CODENT, AC8_ENTIDA FROM AC8010 WHERE AC8_FILIAL = '"+
		fixture.ContactFilial+"' AND D_E_L_E_T_ = ' ' ORDER BY R_E_C_N_O_") {
		if _, seen := links[row[0]]; !seen && row[2] == "SA1" {
			links[row[0]] = customerKey(row[1][:6], row[1][6:])
		}
	}
	for _, row := range queryRows(ctx, t, db, "SELECT U5_CODCONT, U5_CONTAT, U5_EMAIL FROM SU5010 WHERE U5_FILIAL = '"+
		fixture.ContactFilial+"' AND D_E_L_E_T_ = ' '") {
		key := contactKey(row[0])
		cust := links[row[0]]
		switch {
		case r.badContacts[key]:
			w.rejected[key] = true
			continue
		case r.badCustomers[cust]:
			w.deferred[key] = true // its organization is bad data
			continue
		case w.orgs[cust] == "":
			w.warned[key] = "AC8" // linked to no customer the CRM has: skipped, listed (streams.contacts.unlinked)
			continue
		}
		email := strings.ToLower(strings.TrimSpace(row[2]))
		if !strings.Contains(email, "@") {
			email = "" // the fixture's invalid e-mail: sent without it
		}
		w.contacts[email] = wantContact{key: key, name: strings.TrimSpace(row[1]), orgName: w.orgs[cust]}
	}
	prices := map[string]decimal.Decimal{}
	for _, row := range queryRows(ctx, t, db, "SELECT DA1_CODPRO, DA1_PRCVEN FROM DA1010 WHERE DA1_CODTAB = '"+
		fixture.PriceTable+"' AND D_E_L_E_T_ = ' ' AND DA1_ATIVO <> '2' ORDER BY R_E_C_N_O_") {
		if _, seen := prices[row[0]]; !seen {
			prices[row[0]] = decimal.RequireFromString(row[1]).Round(2)
		}
	}
	for _, row := range queryRows(ctx, t, db, "SELECT B1_COD, B1_DESC FROM SB1010 WHERE D_E_L_E_T_ = ' '") {
		w.products[row[1]+" ("+row[0]+")"] = prices[row[0]]
	}
	return w
}

// checkCRM compares the simulator's state with want: exactly one record
// per expected key, with the current name (and link, and price), and no
// other record. It returns the number of problems found.
func checkCRM(t *testing.T, st rdsim.State, w wantCRM) int {
	t.Helper()
	problems := 0
	fail := func(format string, args ...any) {
		t.Helper()
		problems++
		if problems <= 25 {
			t.Errorf(format, args...)
		}
	}
	orgByName := map[string][]rdsim.Organization{}
	orgName := map[string]string{}
	for _, o := range st.Organizations {
		orgByName[o.Name] = append(orgByName[o.Name], o)
		orgName[o.ID] = o.Name
	}
	wantNames := map[string]string{}
	for key, name := range w.orgs {
		wantNames[name] = key
		if n := len(orgByName[name]); n != 1 {
			fail("customer %s: %d organizations named %q, want exactly 1", key, n, name)
		}
	}
	for key, name := range w.deletedOrgs {
		wantNames[name] = key
		if n := len(orgByName[name]); n > 1 {
			fail("deleted customer %s: %d organizations named %q, want at most 1", key, n, name)
		}
	}
	for name, orgs := range orgByName {
		if _, ok := wantNames[name]; !ok {
			fail("%d unexpected organization(s) named %q (a duplicate, a stale name or a record that should not be there)", len(orgs), name)
		}
	}

	contactsByEmail := map[string][]rdsim.Contact{}
	for _, c := range st.Contacts {
		email := ""
		if len(c.Emails) > 0 {
			email = strings.ToLower(c.Emails[0].Email)
		}
		contactsByEmail[email] = append(contactsByEmail[email], c)
	}
	for email, wc := range w.contacts {
		cs := contactsByEmail[email]
		if len(cs) != 1 {
			fail("contact %s: %d contacts with e-mail %q, want exactly 1", wc.key, len(cs), email)
			continue
		}
		c := cs[0]
		if !strings.EqualFold(c.Name, wc.name) {
			fail("contact %s: name %q, want %q", wc.key, c.Name, wc.name)
		}
		if got := orgName[c.OrganizationID]; got != wc.orgName {
			fail("contact %s: organization %q, want %q", wc.key, got, wc.orgName)
		}
	}
	for email, cs := range contactsByEmail {
		if _, ok := w.contacts[email]; !ok {
			fail("%d unexpected contact(s) with e-mail %q", len(cs), email)
		}
	}

	prodByName := map[string][]rdsim.Product{}
	for _, p := range st.Products {
		prodByName[p.Name] = append(prodByName[p.Name], p)
	}
	for name, price := range w.products {
		ps := prodByName[name]
		if len(ps) != 1 {
			fail("product %q: %d in the CRM, want exactly 1", name, len(ps))
			continue
		}
		if !ps[0].BasePrice.Equal(price) {
			fail("product %q: base price %s, want %s (DA1_PRCVEN of table %s)", name, ps[0].BasePrice, price, fixture.PriceTable)
		}
	}
	for name, ps := range prodByName {
		if _, ok := w.products[name]; !ok {
			fail("%d unexpected product(s) named %q", len(ps), name)
		}
	}
	if problems > 25 {
		t.Errorf("… and %d more problems", problems-25)
	}
	return problems
}

// sortedKeys returns m's keys in order, for stable messages.
func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// checkWarnings compares the listed warnings with want.warned: one per
// record sent without an invalid field, naming its key and column, and no
// other.
func (h *harness) checkWarnings(want wantCRM) {
	h.t.Helper()
	ws, err := h.bridge.Store.Warnings(h.ctx, store.OutboxFilter{})
	if err != nil {
		h.t.Fatal(err)
	}
	got := map[string]store.Warning{}
	for _, w := range ws {
		if _, dup := got[w.ERPKey]; dup {
			h.t.Errorf("%s has two warnings: %+v", w.ERPKey, ws)
		}
		got[w.ERPKey] = w
	}
	for _, key := range sortedKeys(want.warned) {
		w, ok := got[key]
		if !ok || !strings.Contains(w.Text, key) || !strings.Contains(w.Text, want.warned[key]) {
			h.t.Errorf("%s: warning %+v, want one naming the key and %s", key, w, want.warned[key])
		}
	}
	for key, w := range got {
		if _, ok := want.warned[key]; !ok {
			h.t.Errorf("unexpected warning of %s %s: %s", w.Stream, key, w.Text)
		}
	}
}
