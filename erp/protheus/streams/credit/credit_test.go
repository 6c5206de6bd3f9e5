package credit_test

import (
	"context"
	"database/sql"
	"fmt"
	"net/http/httptest"
	"path/filepath"
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
	"github.com/erpbridge/erpbridge/erp/protheus"
	"github.com/erpbridge/erpbridge/erp/protheus/access"
	"github.com/erpbridge/erpbridge/erp/protheus/fixture"
	"github.com/erpbridge/erpbridge/erp/protheus/streams/credit"
	"github.com/erpbridge/erpbridge/erp/protheus/streams/customers"
	"github.com/erpbridge/erpbridge/rdstation/crm"
	"github.com/erpbridge/erpbridge/rdstation/crm/target"
	"github.com/erpbridge/erpbridge/rdstation/rdsim"
)

// today is the day the tests run on (the engine's clock): titles due
// before it are overdue.
var today = time.Date(2026, 12, 7, 15, 30, 0, 0, time.Local)

// title is one SE1 row as the ERP holds it.
type title struct {
	filial, prefixo, num, parcela, tipo string
	cliente, loja                       string
	vencto, vencrea                     string  // YYYYMMDD; blank = 8 spaces
	valor, saldo                        float64 // FLOAT columns: float noise as stored
	moeda                               float64
	deleted                             bool
}

// messyTitles are receivables as a real SE1 has them: float noise, half
// cents, partial payments, paid titles, advances and credit notes,
// abatements, a title in dollars, a deleted title re-created, a blank
// E1_VENCREA, another branch, another loja.
func messyTitles() []title {
	return []title{
		{"01", "NF ", "000000101", "A", "NF ", "000001", "01", "20261001", "20261002", 1000.1, 1000.1000000000001, 1, false},
		{"01", "NF ", "000000101", "B", "NF ", "000001", "01", "20261101", "20261101", 1000.1, 400.05, 1, false},
		{"01", "NF ", "000000102", "A", "NF ", "000001", "01", "20270115", "20270115", 250, 250.00499999999999, 1, false},
		{"01", "NF ", "000000103", "A", "NF ", "000001", "01", "20260901", "20260901", 99.99, 0, 1, false},                // paid
		{"01", "RA ", "000000104", " ", "RA ", "000001", "01", "20261001", "20261001", 300, 300, 1, false},                // advance
		{"01", "NCC", "000000105", " ", "NCC", "000001", "01", "20261001", "20261001", 50, 50, 1, false},                  // credit note
		{"01", "NF ", "000000101", "A", "AB-", "000001", "01", "20261002", "20261002", 15.3, 15.3, 1, false},              // abatement
		{"01", "NF ", "000000106", "A", "NF ", "000001", "01", "20261120", "20261120", 500, 500, 2, false},                // dollars
		{"01", "NF ", "000000107", "A", "NF ", "000001", "01", "20261130", "20261130", 80, 80, 1, true},                   // deleted …
		{"01", "NF ", "000000107", "A", "NF ", "000001", "01", "20261231", "20261231", 80, 80, 1, false},                  // … re-created
		{"01", "NF ", "000000108", "A", "NF ", "000001", "02", "20261101", "20261101", 70, 70, 1, false},                  // another loja
		{"02", "NF ", "000000201", "A", "NF ", "000001", "01", "20261101", "20261101", 999, 999, 1, false},                // branch 02
		{"01", "DP ", "000000301", "1", "DP ", "000003", "01", "20261206", "        ", 10.005, 10.005, 1, false},          // blank VENCREA
		{"01", "DP ", "000000302", "1", "DP ", "000003", "01", "20261207", "20261207", 1.1, 1.1000000000000001, 1, false}, // due today
	}
}

// createSE1 creates SE1010 as the fixture creates its tables (padded
// CHARs, FLOAT numbers, YYYYMMDD dates, the stamp and its trigger), adds
// A1_RISCO to SA1010, and fills them.
func createSE1(t *testing.T, fx fixture.ERP, titles []title) {
	t.Helper()
	ctx := context.Background()
	stamp := "(strftime('%Y-%m-%d %H:%M:%f','now'))"
	if fx.Kind == fixture.Postgres {
		stamp = "(now() AT TIME ZONE 'UTC')"
	}
	cols := []string{}
	for _, c := range []struct {
		name string
		size int
		num  bool
	}{{"E1_FILIAL", 2, false}, {"E1_PREFIXO", 3, false}, {"E1_NUM", 9, false}, {"E1_PARCELA", 3, false}, {"E1_TIPO", 3, false},
		{"E1_CLIENTE", 6, false}, {"E1_LOJA", 2, false}, {"E1_EMISSAO", 8, false}, {"E1_VENCTO", 8, false}, {"E1_VENCREA", 8, false},
		{"E1_VALOR", 0, true}, {"E1_SALDO", 0, true}, {"E1_BAIXA", 8, false}, {"E1_MOEDA", 0, true}} {
		if c.num {
			cols = append(cols, c.name+" DOUBLE PRECISION NOT NULL DEFAULT 0")
		} else {
			cols = append(cols, fmt.Sprintf("%s VARCHAR(%d) NOT NULL DEFAULT '%s'", c.name, c.size, strings.Repeat(" ", c.size)))
		}
	}
	cols = append(cols, "D_E_L_E_T_ VARCHAR(1) NOT NULL DEFAULT ' '", "R_E_C_N_O_ INTEGER NOT NULL PRIMARY KEY",
		"R_E_C_D_E_L_ INTEGER NOT NULL DEFAULT 0", "S_T_A_M_P_ TIMESTAMP NULL DEFAULT "+stamp)
	stmts := []string{
		"CREATE TABLE SE1010 (" + strings.Join(cols, ", ") + ")",
		"CREATE INDEX SE1010_2 ON SE1010 (E1_FILIAL, E1_CLIENTE, E1_LOJA, R_E_C_N_O_)",
		"ALTER TABLE SA1010 ADD COLUMN A1_RISCO VARCHAR(1) NOT NULL DEFAULT ' '",
	}
	if fx.Kind == fixture.Postgres {
		stmts = append(stmts, "CREATE TRIGGER SE1010_TR_STAMP BEFORE UPDATE ON SE1010 FOR EACH ROW EXECUTE FUNCTION "+protheus.StampFunction+"()")
	} else {
		stmts = append(stmts, "CREATE TRIGGER SE1010_TR_STAMP AFTER UPDATE ON SE1010 FOR EACH ROW WHEN NEW.S_T_A_M_P_ IS OLD.S_T_A_M_P_ "+
			"BEGIN UPDATE SE1010 SET S_T_A_M_P_ = strftime('%Y-%m-%d %H:%M:%f','now') WHERE R_E_C_N_O_ = NEW.R_E_C_N_O_; END")
	}
	for _, s := range stmts {
		if _, err := fx.DB.ExecContext(ctx, s); err != nil {
			t.Fatalf("%s: %v", s, err)
		}
	}
	ph := func(n int) string { return fx.Placeholder(n) }
	ins := "INSERT INTO SE1010 (E1_FILIAL, E1_PREFIXO, E1_NUM, E1_PARCELA, E1_TIPO, E1_CLIENTE, E1_LOJA, E1_EMISSAO, E1_VENCTO, E1_VENCREA, " +
		"E1_VALOR, E1_SALDO, E1_MOEDA, D_E_L_E_T_, R_E_C_N_O_, R_E_C_D_E_L_) VALUES ("
	for i := 1; i <= 16; i++ {
		if i > 1 {
			ins += ", "
		}
		ins += ph(i)
	}
	ins += ")"
	pad := func(s string, n int) string { return s + strings.Repeat(" ", max(0, n-len(s))) }
	for i, x := range titles {
		recno := int64(i + 1)
		del, recdel := " ", int64(0)
		if x.deleted {
			del, recdel = "*", recno
		}
		if _, err := fx.DB.ExecContext(ctx, ins, pad(x.filial, 2), pad(x.prefixo, 3), pad(x.num, 9), pad(x.parcela, 3), pad(x.tipo, 3),
			pad(x.cliente, 6), pad(x.loja, 2), "20260101", x.vencto, x.vencrea, x.valor, x.saldo, x.moeda, del, recno, recdel); err != nil {
			t.Fatalf("inserting title %d: %v", recno, err)
		}
	}
	for _, u := range []string{
		"UPDATE SA1010 SET A1_LC = 5000.004999999, A1_RISCO = 'C' WHERE A1_COD = '000001' AND A1_LOJA = '01'",
		"UPDATE SA1010 SET A1_LC = 0, A1_RISCO = 'A' WHERE A1_COD = '000003' AND A1_LOJA = '01'",
	} {
		if _, err := fx.DB.ExecContext(ctx, u); err != nil {
			t.Fatal(err)
		}
	}
}

// want is a customer's credit position as the test computes it from the
// ERP's rows, on its own: open titles of branch 01 in reais, not RA, NCC
// or an abatement, each E1_SALDO rounded to the cent.
type want struct {
	open, overdue, limit decimal.Decimal
	daysLate             int
	risk                 string
}

func expected(t *testing.T, db *sql.DB, cod, loja string) want {
	t.Helper()
	var w want
	rows, err := db.Query("SELECT E1_TIPO, E1_SALDO, E1_VENCTO, E1_VENCREA, E1_MOEDA, D_E_L_E_T_ FROM SE1010 " +
		"WHERE E1_FILIAL = '01' AND E1_CLIENTE = '" + cod + "' AND E1_LOJA = '" + loja + "'")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	day := time.Date(today.Year(), today.Month(), today.Day(), 0, 0, 0, 0, time.UTC)
	for rows.Next() {
		var tipo, vencto, vencrea, del string
		var saldo, moeda float64
		if err := rows.Scan(&tipo, &saldo, &vencto, &vencrea, &moeda, &del); err != nil {
			t.Fatal(err)
		}
		tipo = strings.TrimSpace(tipo)
		s := decimal.NewFromFloat(saldo).Round(2)
		if del == "*" || moeda != 1 || tipo == "RA" || tipo == "NCC" || strings.HasSuffix(tipo, "-") || !s.IsPositive() {
			continue
		}
		w.open = w.open.Add(s)
		due := strings.TrimSpace(vencrea)
		if due == "" {
			due = vencto
		}
		d, err := time.Parse("20060102", due)
		if err != nil {
			t.Fatal(err)
		}
		if d.Before(day) {
			w.overdue = w.overdue.Add(s)
			w.daysLate = max(w.daysLate, int(day.Sub(d).Hours()/24))
		}
	}
	var lc float64
	if err := db.QueryRow("SELECT A1_LC, A1_RISCO FROM SA1010 WHERE A1_COD = '"+cod+"' AND A1_LOJA = '"+loja+"' AND D_E_L_E_T_ = ' '").Scan(&lc, &w.risk); err != nil {
		t.Fatal(err)
	}
	w.limit = decimal.NewFromFloat(lc).Round(2)
	w.risk = strings.TrimSpace(w.risk)
	return w
}

// bridgeEnv is the customers and credit streams over a fixture ERP and
// the CRM simulator, assembled as the product assembles them.
type bridgeEnv struct {
	ctx    context.Context
	fx     fixture.ERP
	sim    *rdsim.Sim
	st     *store.Store
	engine *bridge.Engine
	fields map[string]string // label → custom field id
}

var labels = map[string]string{
	"Títulos em aberto":   "money(CREDIT_OPEN)",
	"Títulos vencidos":    "money(CREDIT_OVERDUE)",
	"Maior atraso (dias)": "join(' ', CREDIT_DAYS_LATE, 'dias')",
	"Limite de crédito":   "money(A1_LC)",
	"Risco":               "A1_RISCO != '' ? 'Risco ' + A1_RISCO : nil",
}

func newBridge(t *testing.T, fx fixture.ERP, erpCfg *access.Config) *bridgeEnv {
	t.Helper()
	ctx := context.Background()
	clk := clock.NewFake(today)
	sim := rdsim.New(rdsim.Options{Tokens: []string{"t"}, Clock: clk, RequestsPerMinute: -1})
	srv := httptest.NewServer(sim)
	t.Cleanup(srv.Close)
	c, err := crm.New(crm.Config{BaseURL: srv.URL + "/api/v1", Token: "t", MaxRetries: -1, Clock: clk,
		Budget: crm.NewBudget(crm.BudgetConfig{RequestsPerMinute: -1})})
	if err != nil {
		t.Fatal(err)
	}
	b := &bridgeEnv{ctx: ctx, fx: fx, sim: sim, fields: map[string]string{}}
	for label := range labels {
		f, err := c.CreateCustomField(ctx, crm.CustomFieldInput{Label: label, Type: "text", For: "organization"})
		if err != nil {
			t.Fatal(err)
		}
		b.fields[label] = f.ID
	}
	if b.st, err = store.Open(ctx, filepath.Join(t.TempDir(), "erpbridge.db")); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.st.Close() })
	acc, err := access.Open(ctx, erpCfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { acc.Close() })
	cust := customers.Default()
	cr := credit.Default()
	cr.On, cr.Filials = true, []string{"01"}
	for _, d := range []component.Defaulter{cust, cr} {
		if err := d.ApplyDefaults(func(key ...string) bool { return len(key) == 1 && key[0] == "custom_fields" }); err != nil {
			t.Fatal(err)
		}
	}
	cr.CustomFields = labels
	configs := map[string]component.Config{customers.Name: cust, credit.Name: cr}
	env := &component.Env{ERP: acc, CRM: target.NewSystem(c), Store: b.st, Log: zap.NewNop(), Clock: clk,
		Configs: func(name string) (component.Config, bool) { s, ok := configs[name]; return s, ok }}
	v := component.NewValidation("streams.credit", nil, env.Configs)
	cr.Validate(v)
	if err := v.Err(); err != nil {
		t.Fatal(err)
	}
	var all []*bridge.Stream
	for _, p := range []component.Provisioner{cust, cr} {
		got, err := p.Provision(ctx, env)
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, got.Streams...)
	}
	if b.engine, err = bridge.New(b.st, all, bridge.Options{Now: clk.Now, Logger: zap.NewNop()}); err != nil {
		t.Fatal(err)
	}
	return b
}

func (b *bridgeEnv) sync(t *testing.T) map[string]store.RunStats {
	t.Helper()
	reps, err := b.engine.SyncAll(b.ctx, bridge.SyncOptions{})
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]store.RunStats{}
	for _, r := range reps {
		out[r.Stream] = r.Stats
	}
	return out
}

// org returns the organization of a customer, its custom fields by label.
func (b *bridgeEnv) org(t *testing.T, cod, loja string) (rdsim.Organization, map[string]string) {
	t.Helper()
	id, ok, err := b.st.Identity(b.ctx, "organization", erp.JoinKey(fixture.SharedFilial, cod, loja))
	if err != nil || !ok {
		t.Fatalf("customer %s/%s has no organization (%v)", cod, loja, err)
	}
	for _, o := range b.sim.State().Organizations {
		if o.ID != id.CRMID {
			continue
		}
		vals := map[string]string{}
		for label, fid := range b.fields {
			for _, v := range o.CustomFields {
				if v.CustomFieldID == fid {
					vals[label] = fmt.Sprint(v.Value)
				}
			}
		}
		return o, vals
	}
	t.Fatalf("organization %s of %s/%s is not in the CRM", id.CRMID, cod, loja)
	return rdsim.Organization{}, nil
}

func (b *bridgeEnv) check(t *testing.T, when, cod, loja string) {
	t.Helper()
	w := expected(t, b.fx.DB, cod, loja)
	_, got := b.org(t, cod, loja)
	risk := ""
	if w.risk != "" {
		risk = "Risco " + w.risk
	}
	for label, v := range map[string]string{
		"Títulos em aberto": w.open.StringFixed(2), "Títulos vencidos": w.overdue.StringFixed(2),
		"Maior atraso (dias)": fmt.Sprintf("%d dias", w.daysLate), "Limite de crédito": w.limit.StringFixed(2), "Risco": risk,
	} {
		if got[label] != v {
			t.Errorf("%s: customer %s/%s: %q = %q, want %q (from SE1/SA1)", when, cod, loja, label, got[label], v)
		}
	}
}

// literal checks figures worked out by hand from messyTitles, so the
// test's own sums cannot be wrong the same way as the stream's.
func (b *bridgeEnv) literal(t *testing.T, when, cod, loja, open, overdue, late string) {
	t.Helper()
	_, got := b.org(t, cod, loja)
	if got["Títulos em aberto"] != open || got["Títulos vencidos"] != overdue || got["Maior atraso (dias)"] != late {
		t.Errorf("%s: customer %s/%s: open %q, overdue %q, late %q; want %s, %s, %s", when, cod, loja,
			got["Títulos em aberto"], got["Títulos vencidos"], got["Maior atraso (dias)"], open, overdue, late)
	}
}

func testCreditPosition(t *testing.T, fx fixture.ERP, erpCfg *access.Config) {
	createSE1(t, fx, messyTitles())
	b := newBridge(t, fx, erpCfg)
	orgsBefore := 0
	first := b.sync(t)
	orgsBefore = len(b.sim.State().Organizations)
	if c := first["credit"]; c.Created != 0 || c.Updated == 0 || c.Failed != 0 {
		t.Fatalf("first sync, credit: %+v; want updates only", c)
	}
	b.check(t, "first sync", "000001", "01")
	b.check(t, "first sync", "000003", "01")
	b.check(t, "first sync", "000002", "01")                                    // no titles: zeros
	b.literal(t, "first sync", "000001", "01", "1730.16", "1400.15", "66 dias") // 250.00499999999999 is the float of 250.005: 250.01
	b.literal(t, "first sync", "000003", "01", "11.11", "10.01", "1 dias")
	org, _ := b.org(t, "000001", "01")
	if !strings.Contains(org.Name, "") || org.Name == "" {
		t.Errorf("the organization lost its name: %+v", org)
	}
	if c := b.sync(t)["credit"]; c.Updated+c.Created != 0 || c.APICalls != 0 {
		t.Errorf("second sync, nothing changed: credit %+v, want no call", c)
	}
	// A title is paid, another re-dated: the next poll moves the figures.
	for _, u := range []string{
		"UPDATE SE1010 SET E1_SALDO = 0, E1_BAIXA = '20261207' WHERE E1_NUM = '000000101' AND E1_PARCELA = 'A  ' AND E1_TIPO = 'NF '",
		"UPDATE SE1010 SET E1_VENCREA = '20261215' WHERE E1_NUM = '000000301'",
	} {
		if _, err := fx.DB.ExecContext(b.ctx, u); err != nil {
			t.Fatal(err)
		}
	}
	if c := b.sync(t)["credit"]; c.Updated != 2 || c.Created != 0 {
		t.Errorf("poll after a payment and a re-dating: credit %+v, want 2 updates", c)
	}
	b.check(t, "after the payment", "000001", "01")
	b.check(t, "after the payment", "000003", "01")
	b.literal(t, "after the payment", "000001", "01", "730.06", "400.05", "36 dias")
	b.literal(t, "after the payment", "000003", "01", "11.11", "0.00", "0 dias")
	if n := len(b.sim.State().Organizations); n != orgsBefore {
		t.Errorf("%d organizations, want %d: the credit stream creates none", n, orgsBefore)
	}
}

// TestCreditPositionReachesTheOrganization: each customer's open, overdue
// and days-late figures, its limit and risk, computed from messy SE1 rows,
// land on its organization to the cent; nothing is created; an unchanged
// position costs no call; a paid title moves the figures on the next poll.
func TestCreditPositionReachesTheOrganization(t *testing.T) {
	path := filepath.Join(t.TempDir(), "erp.db")
	fx, _, err := fixture.CreateSQLite(context.Background(), path, fixture.Options{Customers: 40})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { fx.DB.Close() })
	cfg := access.Default()
	cfg.Driver, cfg.DSN = "sqlite", path
	testCreditPosition(t, fx, cfg)
}

func TestCreditPositionReachesTheOrganizationPostgresIntegration(t *testing.T) {
	fx, dsn := fixture.NewPostgres(t)
	if _, err := fx.Load(context.Background(), fixture.Options{Customers: 40}); err != nil {
		t.Fatal(err)
	}
	cfg := access.Default()
	cfg.Driver, cfg.DSN = "postgres", dsn
	testCreditPosition(t, fx, cfg)
}
