package marketingcontacts_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"
	"go.uber.org/zap"

	"github.com/erpbridge/erpbridge/bridge"
	"github.com/erpbridge/erpbridge/bridge/clock"
	"github.com/erpbridge/erpbridge/bridge/component"
	"github.com/erpbridge/erpbridge/bridge/store"
	"github.com/erpbridge/erpbridge/erp"
	"github.com/erpbridge/erpbridge/erp/protheus/access"
	"github.com/erpbridge/erpbridge/erp/protheus/fixture"
	"github.com/erpbridge/erpbridge/erp/protheus/streams/marketingcontacts"
	"github.com/erpbridge/erpbridge/mapping"
	"github.com/erpbridge/erpbridge/rdstation/marketing/mktest"
	"github.com/erpbridge/erpbridge/rdstation/marketing/target"
	"github.com/erpbridge/erpbridge/rdstation/rdsim"
)

// today is the engine's clock: the fixture's invoiced orders (issued
// 2024-01-09) are within 12 months.
var today = time.Date(2024, 6, 3, 10, 0, 0, 0, time.UTC)

// fields are the Marketing custom fields the test account has, and the
// mapping's custom fields by label.
var (
	fields = []rdsim.MarketingField{
		{APIIdentifier: "cf_cnpj", Custom: true, Label: "CNPJ"},
		{APIIdentifier: "cf_codigo_erp", Custom: true, Label: "Código ERP"},
		{APIIdentifier: "cf_ultima_compra", Custom: true, Label: "Última compra"},
		{APIIdentifier: "cf_total_12m", Custom: true, Label: "Comprado em 12 meses"},
		{APIIdentifier: "cf_uf", Custom: true, Label: "UF", PresentationType: "COMBO_BOX", Options: []string{"SP", "RJ", "MG"}},
	}
	customFields = map[string]string{
		"CNPJ": "doc(A1_CGC)", "Código ERP": "join('/', A1_COD, A1_LOJA)",
		"Última compra":        "date(LAST_PURCHASE, 'DD/MM/YYYY')",
		"Comprado em 12 meses": "money(BOUGHT_12M)", "UF": "A1_EST",
	}
)

type env struct {
	ctx    context.Context
	clk    *clock.Fake
	fx     fixture.ERP
	sim    *rdsim.Sim
	st     *store.Store
	cfg    *marketingcontacts.Config
	mkt    *target.Config
	engine *bridge.Engine
	mess   fixture.MarketingMess
}

func newEnv(t *testing.T, fx fixture.ERP, erpCfg *access.Config, tune func(*marketingcontacts.Config, *target.Config)) *env {
	t.Helper()
	ctx := context.Background()
	clk := clock.NewFake(today)
	sim := rdsim.New(rdsim.Options{Clock: clk})
	srv := httptest.NewServer(sim)
	t.Cleanup(srv.Close)
	if err := sim.SeedMarketing(rdsim.MarketingSeed{Fields: fields}); err != nil {
		t.Fatal(err)
	}
	e := &env{ctx: ctx, clk: clk, fx: fx, sim: sim}
	var err error
	if e.st, err = store.Open(ctx, filepath.Join(t.TempDir(), "erpbridge.db")); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.st.Close() })
	acc, err := access.Open(ctx, erpCfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { acc.Close() })
	e.mkt = mktest.Config(srv.URL)
	e.cfg = marketingcontacts.Default()
	e.cfg.On = true
	if err := e.cfg.ApplyDefaults(func(key ...string) bool { return len(key) == 2 && key[1] == "custom_fields" }); err != nil {
		t.Fatal(err)
	}
	e.cfg.Mapping.CustomFields = customFields
	if tune != nil {
		tune(e.cfg, e.mkt)
	}
	configs := map[string]component.Config{marketingcontacts.Name: e.cfg, target.Name: e.mkt}
	sys := mktest.Open(t, sim, e.mkt, e.st, clk, nil)
	envc := &component.Env{ERP: acc, Targets: map[string]component.TargetSystem{target.Name: sys}, Store: e.st,
		Log: zap.NewNop(), Clock: clk, Configs: func(name string) (component.Config, bool) { c, ok := configs[name]; return c, ok }}
	v := component.NewValidation("streams."+marketingcontacts.Name, nil, envc.Configs)
	e.cfg.Validate(v)
	if err := v.Err(); err != nil {
		t.Fatal(err)
	}
	got, err := e.cfg.Provision(ctx, envc)
	if got.Close != nil {
		t.Cleanup(func() { got.Close() })
	}
	if err != nil {
		t.Fatal(err)
	}
	if e.engine, err = bridge.New(e.st, got.Streams, bridge.Options{Now: clk.Now, Logger: zap.NewNop()}); err != nil {
		t.Fatal(err)
	}
	return e
}

func (e *env) sync(t *testing.T, so bridge.SyncOptions) map[string]bridge.Report {
	t.Helper()
	reps, err := e.engine.SyncAll(e.ctx, so)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]bridge.Report{}
	for _, r := range reps {
		out[r.Stream] = r
	}
	return out
}

// want is what the test works out from the ERP's rows on its own: every
// live SU5 contact of filial 01 with a valid e-mail whose first AC8 link
// goes to a live, unblocked customer, one per e-mail (the first by code).
type want struct {
	email, customer, cnpj string
	client                bool
}

func expected(t *testing.T, db *sql.DB) map[string]want {
	t.Helper()
	rows, err := db.Query(`SELECT U5_CODCONT, U5_EMAIL FROM SU5010 WHERE U5_FILIAL = '01' AND D_E_L_E_T_ = ' ' ORDER BY U5_CODCONT`)
	if err != nil {
		t.Fatal(err)
	}
	type contact struct{ cod, email string }
	var contacts []contact
	for rows.Next() {
		var c contact
		if err := rows.Scan(&c.cod, &c.email); err != nil {
			t.Fatal(err)
		}
		contacts = append(contacts, c)
	}
	rows.Close()
	clients := map[string]bool{"000006": true, "000008": true, "000014": true} // invoiced orders (fixture/orders.go)
	out := map[string]want{}
	for _, c := range contacts {
		email := mapping.Email(c.email)
		if email == "" {
			continue
		}
		var codent string
		err := db.QueryRow(`SELECT AC8_CODENT FROM AC8010 WHERE AC8_CODCON = '` + strings.TrimSpace(c.cod) + `' AND AC8_FILIAL = '01' AND D_E_L_E_T_ = ' ' ORDER BY R_E_C_N_O_`).Scan(&codent)
		if errors.Is(err, sql.ErrNoRows) {
			continue
		} else if err != nil {
			t.Fatal(err)
		}
		cod, loja := codent[:6], strings.TrimSpace(codent[6:])
		var blq, cgc string
		err = db.QueryRow(`SELECT A1_MSBLQL, A1_CGC FROM SA1010 WHERE A1_COD = '`+cod+`' AND A1_LOJA = '`+loja+`' AND D_E_L_E_T_ = ' '`).Scan(&blq, &cgc)
		if errors.Is(err, sql.ErrNoRows) || strings.TrimSpace(blq) == "1" {
			continue
		} else if err != nil {
			t.Fatal(err)
		}
		if _, dup := out[email]; dup {
			continue
		}
		doc, _ := mapping.Document(cgc) // a wrong check digit: sent without it (a warning)
		out[email] = want{email: email, customer: cod + "/" + loja, cnpj: doc, client: clients[cod]}
	}
	return out
}

func TestRetroactiveLoadSQLite(t *testing.T) {
	path := filepath.Join(t.TempDir(), "erp.db")
	fx, _, err := fixture.CreateSQLite(context.Background(), path, fixture.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { fx.DB.Close() })
	cfg := access.Default()
	cfg.Driver, cfg.DSN = "sqlite", path
	exerciseLoad(t, fx, cfg)
}

func TestRetroactiveLoadPostgresIntegration(t *testing.T) {
	fx, dsn := fixture.NewPostgres(t)
	if _, err := fx.Load(context.Background(), fixture.Options{}); err != nil {
		t.Fatal(err)
	}
	cfg := access.Default()
	cfg.Driver, cfg.DSN = "postgres", dsn
	exerciseLoad(t, fx, cfg)
}

// exerciseLoad is the "Done when" for contacts: the fixture loads
// into Marketing (every selected contact once, with its tags, fields and
// legal basis; clients marked), a dry run says how many new contacts the
// run creates, the cap stops a run before it sends, and a second run
// makes no call.
func exerciseLoad(t *testing.T, fx fixture.ERP, erpCfg *access.Config) {
	mess, err := fx.AddMarketingContacts(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	e := newEnv(t, fx, erpCfg, nil)
	e.mess = mess
	want := expected(t, fx.DB)
	if len(want) < 20 {
		t.Fatalf("the fixture selects only %d contacts", len(want))
	}
	e.sim.ResetMarketingCounts()
	dry := e.sync(t, bridge.SyncOptions{DryRun: true})[marketingcontacts.Name]
	if dry.Stats.Created != int64(len(want)) {
		t.Fatalf("the dry run says %d new Marketing contacts, want %d", dry.Stats.Created, len(want))
	}
	if n := e.sim.MarketingCounts().Total; n != 0 {
		t.Fatalf("the dry run made %d Marketing requests, want 0 (the fields were read when the stream opened)", n)
	}
	e.mkt.MaxNewContacts = len(want) - 1
	capped := newEnv(t, fx, erpCfg, func(_ *marketingcontacts.Config, m *target.Config) { m.MaxNewContacts = len(want) - 1 })
	capped.sim.ResetMarketingCounts()
	_, err = capped.engine.Sync(capped.ctx, marketingcontacts.Name, bridge.SyncOptions{Full: true})
	if !errors.Is(err, bridge.ErrCapExceeded) || !strings.Contains(err.Error(), "marketing.max_new_contacts") {
		t.Fatalf("over the cap: %v, want ErrCapExceeded naming the setting", err)
	}
	if n := len(capped.sim.MarketingState().Contacts); n != 0 || capped.sim.MarketingCounts().Writes != 0 {
		t.Fatalf("a run over the cap wrote %d contacts (%d writes): it must stop before sending", n, capped.sim.MarketingCounts().Writes)
	}

	reps := e.sync(t, bridge.SyncOptions{Full: true})
	rep := reps[marketingcontacts.Name]
	if rep.Stats.Created != int64(len(want)) {
		t.Fatalf("created %d, want %d (%+v)", rep.Stats.Created, len(want), rep.Stats)
	}
	state := e.sim.MarketingState()
	if len(state.Contacts) != len(want) {
		t.Fatalf("Marketing has %d contacts, want %d", len(state.Contacts), len(want))
	}
	clients := 0
	for _, c := range state.Contacts {
		w, ok := want[c.Email]
		if !ok {
			t.Errorf("Marketing has %s, which is not a selected contact", c.Email)
			continue
		}
		if !slices.Contains(c.Tags, "cliente-erp") || !slices.ContainsFunc(c.Tags, func(s string) bool { return strings.HasPrefix(s, "vendedor-") }) {
			t.Errorf("%s: tags %v", c.Email, c.Tags)
		}
		if len(c.LegalBases) != 1 || c.LegalBases[0].Type != "legitimate_interest" || c.LegalBases[0].Status != "granted" {
			t.Errorf("%s: legal bases %+v", c.Email, c.LegalBases)
		}
		if c.Fields["cf_codigo_erp"] != w.customer {
			t.Errorf("%s: cf_codigo_erp %v, want %s", c.Email, c.Fields["cf_codigo_erp"], w.customer)
		}
		if cnpj, _ := c.Fields["cf_cnpj"].(string); cnpj != w.cnpj {
			t.Errorf("%s: cf_cnpj %v, want %s", c.Email, c.Fields["cf_cnpj"], w.cnpj)
		}
		if w.client {
			clients++
			if c.Funnel.LifecycleStage != "Client" || c.Fields["cf_ultima_compra"] != "09/01/2024" {
				t.Errorf("%s (a client): stage %q, last purchase %v", c.Email, c.Funnel.LifecycleStage, c.Fields["cf_ultima_compra"])
			}
		} else if c.Funnel.LifecycleStage != "Lead" || c.Fields["cf_total_12m"] != "0.00" {
			t.Errorf("%s: stage %q, total %v", c.Email, c.Funnel.LifecycleStage, c.Fields["cf_total_12m"])
		}
	}
	if clients == 0 {
		t.Fatal("no client among the contacts: the fixture's invoiced orders should make some")
	}
	// The total bought by customer 000008 in 12 months: its invoiced
	// order's items, worked out from SC6 on its own.
	var total float64
	if err := fx.DB.QueryRow(`SELECT SUM(C6_VALOR) FROM SC6010 WHERE C6_NUM = '000004' AND C6_FILIAL = '01' AND D_E_L_E_T_ = ' '`).Scan(&total); err != nil {
		t.Fatal(err)
	}
	comprador := state.Contacts[slices.IndexFunc(state.Contacts, func(c rdsim.MarketingContact) bool { return c.Email == "comprador@delta-mkt.com.br" })]
	if got, _ := decimal.NewFromString(comprador.Fields["cf_total_12m"].(string)); !got.Equal(decimal.NewFromFloat(total).Round(2)) {
		t.Fatalf("total bought by 000008: %v, want %.2f", comprador.Fields["cf_total_12m"], total)
	}
	// Messy data: the shared mailbox goes once (the second contact is
	// listed), the case twin is its twin's contact, the invalid e-mail is
	// listed, the blocked customer's contact is not sent.
	parked, err := e.st.Errors(e.ctx, store.OutboxFilter{Stream: marketingcontacts.Name})
	if err != nil {
		t.Fatal(err)
	}
	shared := erp.JoinKey(fixture.ContactFilial, e.mess.SharedBy[1])
	twin := erp.JoinKey(fixture.ContactFilial, e.mess.CaseTwin)
	var sawShared, sawTwin bool
	for _, it := range parked {
		sawShared = sawShared || (it.ERPKey == shared && strings.Contains(it.LastError, "belongs to another ERP record"))
		sawTwin = sawTwin || (it.ERPKey == twin && strings.Contains(it.LastError, "belongs to another ERP record"))
	}
	if !sawShared || !sawTwin {
		t.Fatalf("the shared mailbox (%v) and the case twin (%v) must be listed: %+v", sawShared, sawTwin, parked)
	}
	warned, err := e.st.Warnings(e.ctx, store.OutboxFilter{Stream: marketingcontacts.Name})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.ContainsFunc(warned, func(w store.Warning) bool {
		return w.ERPKey == erp.JoinKey(fixture.ContactFilial, e.mess.Invalid) && strings.Contains(w.Text, "no valid e-mail")
	}) {
		t.Fatalf("the invalid e-mail is not listed: %+v", warned)
	}

	// A second run: nothing changed, nothing sent.
	e.sim.ResetMarketingCounts()
	reps = e.sync(t, bridge.SyncOptions{})
	for name, r := range reps {
		if r.Stats.APICalls != 0 || r.Stats.Created+r.Stats.Updated != 0 {
			t.Errorf("second run of %s: %+v", name, r.Stats)
		}
	}
	if n := e.sim.MarketingCounts().Total; n != 0 {
		t.Fatalf("the second run made %d Marketing requests, want 0", n)
	}
}

// TestForgottenIsNotSent: an e-mail on the deletion list (`erpbridge
// marketing forget`, any case and blanks) is never sent, on the first run
// nor on a full one.
func TestForgottenIsNotSent(t *testing.T) {
	path := filepath.Join(t.TempDir(), "erp.db")
	fx, _, err := fixture.CreateSQLite(context.Background(), path, fixture.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { fx.DB.Close() })
	if _, err := fx.AddMarketingContacts(context.Background()); err != nil {
		t.Fatal(err)
	}
	cfg := access.Default()
	cfg.Driver, cfg.DSN = "sqlite", path
	e := newEnv(t, fx, cfg, nil)
	const forgotten = "comprador@delta-mkt.com.br"
	if err := e.cfg.Forget(e.ctx, e.st, "  Comprador@Delta-MKT.com.br "); err != nil {
		t.Fatal(err)
	}
	if err := e.cfg.Forget(e.ctx, e.st, "compras at acme"); err == nil {
		t.Fatal("forgetting no e-mail: no error")
	}
	for _, full := range []bool{false, true} {
		e.sync(t, bridge.SyncOptions{Full: full})
		for _, c := range e.sim.MarketingState().Contacts {
			if c.Email == forgotten {
				t.Fatalf("the forgotten %s was sent (full %v)", forgotten, full)
			}
		}
	}
	if n := len(e.sim.MarketingState().Contacts); n < 20 {
		t.Fatalf("only %d contacts sent: the others must go", n)
	}
}

// TestContactQuotaDefers: RD Station Marketing takes 24 writes of one
// contact a day. The 25th change of a contact within 24 hours waits (not a
// failure, no request spent on a 429) while other contacts go on, and goes
// once the day has passed.
func TestContactQuotaDefers(t *testing.T) {
	path := filepath.Join(t.TempDir(), "erp.db")
	fx, _, err := fixture.CreateSQLite(context.Background(), path, fixture.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { fx.DB.Close() })
	cfg := access.Default()
	cfg.Driver, cfg.DSN = "sqlite", path
	e := newEnv(t, fx, cfg, func(c *marketingcontacts.Config, _ *target.Config) { c.ClientStage = false })
	e.sync(t, bridge.SyncOptions{})
	rename := func(cod, name string) {
		t.Helper()
		if err := fx.Change(e.ctx, "SU5", map[string]string{"U5_FILIAL": fixture.ContactFilial, "U5_CODCONT": cod},
			map[string]any{"U5_CONTAT": name}); err != nil {
			t.Fatal(err)
		}
	}
	name := func(email string) string {
		for _, c := range e.sim.MarketingState().Contacts {
			if c.Email == email {
				return c.Name
			}
		}
		return ""
	}
	const bruno, elisa = "bruno.silva1@exemplo.com.br", "elisa.silva4@exemplo.com.br"
	for i := 2; i <= 24; i++ { // the first run wrote it once
		e.clk.Advance(time.Minute)
		rename("000001", fmt.Sprintf("BRUNO VEZ %d", i))
		e.sync(t, bridge.SyncOptions{})
	}
	if got := name(bruno); got != "Bruno Vez 24" {
		t.Fatalf("after 24 writes: %q", got)
	}
	e.clk.Advance(time.Minute)
	rename("000001", "BRUNO VEZ 25")
	rename("000004", "ELISA OUTRA")
	e.sim.ResetMarketingCounts()
	rep := e.sync(t, bridge.SyncOptions{})[marketingcontacts.Name]
	if got := name(bruno); got != "Bruno Vez 24" || rep.Stats.Failed != 0 {
		t.Fatalf("the 25th write in a day went or failed: %q, %+v", got, rep.Stats)
	}
	if got := name(elisa); got != "Elisa Outra" {
		t.Fatalf("another contact waited too: %q", got)
	}
	if n := e.sim.MarketingCounts().ByStatus[429]; n != 0 {
		t.Fatalf("%d requests spent on 429s", n)
	}
	if errs, err := e.st.Errors(e.ctx, store.OutboxFilter{Stream: marketingcontacts.Name, ERPKey: erp.JoinKey(fixture.ContactFilial, "000001")}); err != nil || len(errs) != 0 {
		t.Fatalf("the deferred contact is listed as an error: %+v, %v", errs, err)
	}
	e.clk.Advance(24 * time.Hour)
	e.sync(t, bridge.SyncOptions{})
	if got := name(bruno); got != "Bruno Vez 25" {
		t.Fatalf("a day later the deferred write has not gone: %q", got)
	}
}

// TestDeletedAndRecreated: a contact deleted in the ERP stays in Marketing
// (nothing is sent), and the same contact re-created (a new row, same code
// and e-mail) is the same Marketing contact: no second one, no write.
func TestDeletedAndRecreated(t *testing.T) {
	path := filepath.Join(t.TempDir(), "erp.db")
	fx, _, err := fixture.CreateSQLite(context.Background(), path, fixture.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { fx.DB.Close() })
	mess, err := fx.AddMarketingContacts(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	cfg := access.Default()
	cfg.Driver, cfg.DSN = "sqlite", path
	e := newEnv(t, fx, cfg, nil)
	e.sync(t, bridge.SyncOptions{Full: true})
	const email = "comprador@delta-mkt.com.br"
	n := func() int {
		k := 0
		for _, c := range e.sim.MarketingState().Contacts {
			if c.Email == email {
				k++
			}
		}
		return k
	}
	if n() != 1 {
		t.Fatalf("%s not sent", email)
	}
	for _, q := range []string{
		`UPDATE SU5010 SET D_E_L_E_T_ = '*', R_E_C_D_E_L_ = R_E_C_N_O_ WHERE U5_CODCONT = '` + mess.OfClient + `'`,
		`UPDATE AC8010 SET D_E_L_E_T_ = '*', R_E_C_D_E_L_ = R_E_C_N_O_ WHERE AC8_CODCON = '` + mess.OfClient + `'`,
	} {
		if _, err := fx.DB.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	e.sim.ResetMarketingCounts()
	e.sync(t, bridge.SyncOptions{Full: true})
	if w := e.sim.MarketingCounts().Writes; w != 0 || n() != 1 {
		t.Fatalf("deleting the contact in the ERP: %d writes, %d contacts %s", w, n(), email)
	}
	if err := fx.AddContact(e.ctx, fixture.NewContact{Cod: mess.OfClient, Name: "CLIENTE COMPRADOR", Email: email, Customer: "000008", Loja: "01"}); err != nil {
		t.Fatal(err)
	}
	e.sim.ResetMarketingCounts()
	e.sync(t, bridge.SyncOptions{Full: true})
	if w := e.sim.MarketingCounts().Writes; w != 0 || n() != 1 {
		t.Fatalf("re-creating the contact: %d writes, %d contacts %s", w, n(), email)
	}
}
