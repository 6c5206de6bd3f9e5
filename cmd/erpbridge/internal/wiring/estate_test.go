package wiring

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/erpbridge/erpbridge/bridge/component"
	"github.com/erpbridge/erpbridge/cmd/erpbridge/internal/components"
	"github.com/erpbridge/erpbridge/cmd/erpbridge/internal/config"
	"github.com/erpbridge/erpbridge/erp/protheus/streams"
	"github.com/erpbridge/erpbridge/erp/protheus/streams/wondeals"
	"github.com/erpbridge/erpbridge/erp/sqlerp"
	"go.uber.org/zap"

	"github.com/erpbridge/erpbridge/erp"
	"github.com/erpbridge/erpbridge/erp/protheus"
	"github.com/erpbridge/erpbridge/erp/protheus/fixture"
	"github.com/erpbridge/erpbridge/rdstation/crm"
	"github.com/erpbridge/erpbridge/rdstation/rdsim"
	"github.com/shopspring/decimal"
)

// The pipeline whose won deals become orders of company 02's branch.
const (
	estatePipelineID = "0e57a7e00000000000000002"
	estateStageID    = "0e57a7e00000000000000003"
	estatePipeline   = "Vendas Empresa 02"
)

// estateConfig serves both companies of the fixture estate: customers and
// orders of every branch (their tables' sharing from SX2), deals named
// and labelled with their company and branch, won deals of the second
// pipeline routed to company 02's branch.
var estateConfig = `companies = ["01", "02"]
` + strings.Replace(ordersConfig, `filial = "01"`, `filials = "*"
name = "Pedido {company}/{filial}-{num} · {customer}"
filial_field = "Filial"`, 1) + `
[streams.customers]
filials = "*"
cnpj_field = "CNPJ"

[won_deals]
enabled = true
sink = "staging"
filial = "01"
payment_terms = "001"
pipelines = ["` + rdsim.DefaultPipelineName + `", "` + estatePipeline + `"]
filial_field = "Filial"
[won_deals.routes]
"` + estatePipeline + `" = "02/1"
`

func newEstateHarness(t *testing.T, be erpBackend) *harness {
	return newHarness(t, be, harnessOptions{
		extraConfig: estateConfig,
		fields: []crm.CustomFieldInput{
			{Label: "CNPJ", Type: "text", For: "organization"},
			{Label: "Pedido ERP", Type: "text", For: "deal"},
			{Label: "Filial", Type: "text", For: "deal"},
		},
		seed: &rdsim.SeedData{
			Pipelines: []rdsim.Pipeline{{ID: estatePipelineID, Name: estatePipeline, Order: 2}},
			Stages:    []rdsim.Stage{{ID: estateStageID, PipelineID: estatePipelineID, Name: "Negociação", Order: 1}},
		},
		prepare: func(h *harness) {
			if err := h.erp.AddEstate(h.ctx, true); err != nil {
				t.Fatal(err)
			}
		},
	})
}

func TestEstateSyncsEveryCompanyAndBranch(t *testing.T) {
	checkEstate(t, newEstateHarness(t, sqliteBackend))
}

func TestEstatePostgresIntegration(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test: needs the PostgreSQL server of ERPBRIDGE_TEST_PG_DSN (skipped with -short)")
	}
	checkEstate(t, newEstateHarness(t, postgresBackend))
}

// checkEstate syncs the estate and checks, against the ERP's rows, that
// the companies' records stay apart, that every order of the new branches
// is a deal named and labelled with its branch and totalled to the cent,
// and that a won deal of the routed pipeline is staged in company 02's
// branch.
func checkEstate(t *testing.T, h *harness) {
	h.mustSync("first sync")
	st := h.sim.State()
	orgs := map[string]rdsim.Organization{}
	for _, o := range st.Organizations {
		orgs[o.ID] = o
	}
	deals := map[string]rdsim.Deal{}
	for _, d := range st.Deals {
		deals[d.ID] = d
	}
	fieldID := map[string]string{}
	for _, f := range st.CustomFields {
		fieldID[f.Label] = f.ID
	}

	// The same A1_COD in both companies: two organizations, each with its
	// company's name; company 01's SA1 is shared (no filial in the key),
	// company 02's exclusive (its branch in the key).
	for _, c := range []struct{ key, table, filial string }{
		{protheus.EstateKey("01", erp.JoinKey("", "000001", "01")), "SA1010", fixture.SharedFilial},
		{protheus.EstateKey("02", erp.JoinKey("1", "000001", "01")), "SA1020", fixture.EstateFilial},
		{protheus.EstateKey("02", erp.JoinKey("1", "000900", "01")), "SA1020", fixture.EstateFilial},
	} {
		cod, _ := protheus.KeyParts(c.key)
		want := queryRows(h.ctx, t, h.erp.DB, fmt.Sprintf("SELECT A1_NOME FROM %s WHERE A1_FILIAL = '%s' AND A1_COD = '%s' AND A1_LOJA = '01' AND D_E_L_E_T_ = ' '", c.table, c.filial, cod[0]))
		id, ok, err := h.bridge.Store.Identity(h.ctx, "organization", c.key)
		if err != nil || !ok || id.CRMID == "" {
			t.Fatalf("customer %s: no organization (%v)", c.key, err)
		}
		if len(want) != 1 || orgs[id.CRMID].Name != strings.TrimSpace(want[0][0])+" ("+cod[0]+"/01)" {
			t.Errorf("customer %s: organization %q, want %v (A1_NOME of %s)", c.key, orgs[id.CRMID].Name, want, c.table)
		}
	}
	a, _, _ := h.bridge.Store.Identity(h.ctx, "organization", protheus.EstateKey("01", erp.JoinKey("", "000001", "01")))
	b, _, _ := h.bridge.Store.Identity(h.ctx, "organization", protheus.EstateKey("02", erp.JoinKey("1", "000001", "01")))
	if a.CRMID == b.CRMID {
		t.Errorf("000001/01 of companies 01 and 02 share organization %s", a.CRMID)
	}

	// Orders: every live order of company 01's branch 02 and company 02's
	// branch is a deal; its name carries company and branch, its Filial
	// field says them, its total is the sum of its SC6 values.
	perBranch := map[string]int{}
	for _, br := range []struct{ company, filial string }{{"01", fixture.OtherFilial}, {"02", fixture.EstateFilial}} {
		sc5, sc6 := protheus.TableName("SC5", br.company), protheus.TableName("SC6", br.company)
		for _, r := range queryRows(h.ctx, t, h.erp.DB, fmt.Sprintf(
			"SELECT C5_NUM, C5_CLIENTE, C5_LOJACLI FROM %s WHERE C5_FILIAL = '%s' AND D_E_L_E_T_ = ' ' ORDER BY C5_NUM", sc5, br.filial)) {
			num := strings.TrimSpace(r[0])
			label := br.company + "/" + strings.TrimSpace(br.filial)
			key := protheus.EstateKey(br.company, erp.JoinKey(br.filial, num))
			id, ok, err := h.bridge.Store.Identity(h.ctx, "deal", key)
			if err != nil || !ok || id.CRMID == "" {
				t.Errorf("order %s-%s: no deal (%v)", label, num, err)
				continue
			}
			perBranch[label]++
			d := deals[id.CRMID]
			cust := queryRows(h.ctx, t, h.erp.DB, fmt.Sprintf("SELECT A1_NOME FROM %s WHERE A1_COD = '%s' AND A1_LOJA = '%s' AND D_E_L_E_T_ = ' ' AND A1_FILIAL = '%s'",
				protheus.TableName("SA1", br.company), r[1], r[2], map[string]string{"01": fixture.SharedFilial, "02": fixture.EstateFilial}[br.company]))
			if len(cust) != 1 {
				t.Fatalf("order %s-%s: customer %s/%s rows %v", label, num, r[1], r[2], cust)
			}
			if want := "Pedido " + label + "-" + num + " · " + strings.TrimSpace(cust[0][0]); d.Name != want {
				t.Errorf("order %s-%s: deal named %q, want %q", label, num, d.Name, want)
			}
			var values []decimal.Decimal
			for _, v := range queryRows(h.ctx, t, h.erp.DB, fmt.Sprintf("SELECT C6_VALOR FROM %s WHERE C6_FILIAL = '%s' AND C6_NUM = '%s' AND D_E_L_E_T_ = ' '", sc6, br.filial, r[0])) {
				values = append(values, decimal.RequireFromString(v[0]).Round(2))
			}
			want, got := decimal.Sum(decimal.Zero, values...), decimal.Zero
			for _, p := range d.Products {
				got = got.Add(p.Amount.Mul(p.Price).Round(2))
			}
			if !got.Equal(want) {
				t.Errorf("order %s-%s: deal totals %s, want %s (SC6 C6_VALOR)", label, num, got, want)
			}
			if v := fieldValue(d.CustomFields, fieldID["Filial"]); v != label {
				t.Errorf("order %s-%s: deal field Filial = %q, want %q", label, num, v, label)
			}
		}
	}
	if perBranch["01/02"] != 3 || perBranch["02/1"] != 3 {
		t.Errorf("deals per branch %v, want 3 of 01/02 and 3 of 02/1", perBranch)
	}
	// Order 000002 exists in three branches: three deals.
	seen := map[string]bool{}
	for _, k := range []string{
		protheus.EstateKey("01", erp.JoinKey("01", "000002")),
		protheus.EstateKey("01", erp.JoinKey("02", "000002")),
		protheus.EstateKey("02", erp.JoinKey("1", "000002")),
	} {
		id, ok, _ := h.bridge.Store.Identity(h.ctx, "deal", k)
		if ok && id.CRMID != "" {
			if seen[id.CRMID] {
				t.Errorf("order %s shares deal %s with another branch's 000002", k, id.CRMID)
			}
			seen[id.CRMID] = true
		}
	}

	// A deal won in the routed pipeline is staged in company 02's tables,
	// branch "1 ", for company 02's customer.
	deal := newDeal(h, estateStageID, "Venda da empresa 02", protheus.EstateKey("02", erp.JoinKey("1", "000002", "01")),
		map[string][2]string{protheus.EstateKey("02", erp.JoinKey("", "PB0002")): {"2", "1234.56"}})
	if _, err := h.crm.WinDeal(h.ctx, deal); err != nil {
		t.Fatal(err)
	}
	if rep := runWon(h, "poll"); rep.Waiting != 1 {
		t.Fatalf("poll: %+v, want the deal staged", rep)
	}
	staged := queryRows(h.ctx, t, h.erp.DB, "SELECT ZB1_CLIENT, ZB1_LOJA FROM ZB1020 WHERE ZB1_DEALID = '"+deal+"' AND ZB1_FILIAL = '"+fixture.EstateFilial+"' AND D_E_L_E_T_ = ' '")
	if len(staged) != 1 || staged[0][0] != "000002" {
		t.Fatalf("ZB1020 rows of the deal in branch %q: %q, want one for customer 000002", fixture.EstateFilial, staged)
	}
	items := queryRows(h.ctx, t, h.erp.DB, "SELECT ZB2_FILIAL, ZB2_PRODUT, ZB2_VALOR FROM ZB2020 WHERE ZB2_DEALID = '"+deal+"' AND ZB2_FILIAL = '"+fixture.EstateFilial+"'")
	if len(items) != 1 || strings.TrimSpace(items[0][1]) != "PB0002" || !decimal.RequireFromString(items[0][2]).Equal(decimal.RequireFromString("2469.12")) {
		t.Errorf("ZB2020 items of the deal: %q, want PB0002 for 2469.12", items)
	}
	if n := queryRows(h.ctx, t, h.erp.DB, "SELECT COUNT(*) FROM ZB1010 WHERE ZB1_DEALID = '"+deal+"'")[0][0]; n != "0" {
		t.Errorf("the deal is staged in company 01 too (%s rows)", n)
	}

	// A deal of the default pipeline whose Filial field names company 01's
	// branch 02 is staged there (ZB1010, branch 02), not in branch 01.
	byField := newDeal(h, "", "Venda da filial 02", protheus.EstateKey("01", erp.JoinKey("", "000003", "01")),
		map[string][2]string{protheus.EstateKey("01", erp.JoinKey("", "PA0004")): {"1", "40.30"}})
	if _, err := h.crm.UpdateDeal(h.ctx, byField, crm.DealUpdate{CustomFields: []crm.CustomFieldValue{{CustomFieldID: fieldID["Filial"], Value: "01/02"}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := h.crm.WinDeal(h.ctx, byField); err != nil {
		t.Fatal(err)
	}
	if rep := runWon(h, "poll of the deal with a Filial"); rep.Sent != 1 {
		t.Fatalf("poll: %+v, want the deal staged", rep)
	}
	if got := queryRows(h.ctx, t, h.erp.DB, "SELECT ZB1_FILIAL, ZB1_CLIENT FROM ZB1010 WHERE ZB1_DEALID = '"+byField+"' AND D_E_L_E_T_ = ' '"); len(got) != 1 || got[0][0] != fixture.OtherFilial || got[0][1] != "000003" {
		t.Errorf("ZB1010 rows of the deal whose field names 01/02: %q, want one of branch %s for customer 000003", got, fixture.OtherFilial)
	}

	// Nothing changed: the next sync writes nothing.
	h.sim.ResetCounts()
	h.mustSync("second sync")
	if c := h.sim.Counts(); c.Writes != 0 {
		t.Errorf("second sync: %d writes (%v), want 0", c.Writes, c.ByRoute)
	}
}

// TestEstatePartsFollowTheDictionaryElseTheSettings: the parts a stream
// reads its main table in come from each company's SX2 when it is there
// (SA1 shared in 01 and exclusive in 02), else from the stream's settings
// (shared, filial, filials), the same for every company.
func TestEstatePartsFollowTheDictionaryElseTheSettings(t *testing.T) {
	yes, no := true, false
	for _, tc := range []struct {
		name       string
		dictionary bool
		alias      string
		base       streams.Base
		want       string // the parts, "company/filial" joined by ", "
		notes      int
	}{
		{"SX2: SA1 shared in 01, exclusive in 02", true, "SA1", streams.Base{Filials: streams.Filials{"*"}}, "01/, 02/1", 0},
		{"SX2 wins over shared", true, "SA1", streams.Base{Filials: streams.Filials{"*"}, Shared: &yes}, "01/, 02/1", 0},
		{"SX2: SC5 exclusive, every branch", true, "SC5", streams.Base{Filials: streams.Filials{"*"}}, "01/01, 01/02, 02/1", 0},
		{"SX2: SC5 named branches", true, "SC5", streams.Base{Filials: streams.Filials{"02", "02/1"}}, "01/02, 02/02, 02/1", 0},
		{"SX2: SB1 shared in both", true, "SB1", streams.Base{Filial: "01"}, "01/, 02/", 0},
		{"no SX2: shared = true", false, "SA1", streams.Base{Filials: streams.Filials{"*"}, Shared: &yes}, "01/, 02/", 0},
		{"no SX2: blank filial means shared", false, "SB1", streams.Base{}, "01/, 02/", 0},
		{"no SX2: filials make it exclusive", false, "SA1", streams.Base{Filials: streams.Filials{"*"}}, "01/, 02/1", 1},
		{"no SX2: shared = false, one branch", false, "SC5", streams.Base{Filial: "01", Shared: &no}, "01/01, 02/01", 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			path := filepath.Join(t.TempDir(), "erp.db")
			fx, _, err := fixture.CreateSQLite(ctx, path, fixture.Options{Customers: 40})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { fx.DB.Close() })
			if err := fx.AddEstate(ctx, tc.dictionary); err != nil {
				t.Fatal(err)
			}
			text := baseConfig(t.TempDir(), "sqlite", path, "http://127.0.0.1:1/api/v1", "companies = [\"01\", \"02\"]\n")
			cfg, err := config.Parse([]byte(text), func(string) (string, bool) { return "", false })
			if err != nil {
				t.Fatal(err)
			}
			e, err := OpenERP(ctx, cfg)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { e.Close() })
			parts, notes, err := tc.base.Parts(ctx, e, "test", tc.alias, func(company string) (sqlerp.TableSpec, error) {
				return protheus.Table(tc.alias, company, "")
			})
			if err != nil {
				t.Fatal(err)
			}
			if got := strings.Join(streams.PartNames(parts), ", "); got != tc.want || len(notes) != tc.notes {
				t.Errorf("parts %q (notes %q), want %q with %d notes", got, notes, tc.want, tc.notes)
			}
		})
	}
}

// TestEstateCheckSaysWhereWonDealsGo: `check` says which company and
// branch each pipeline's won deals become orders of, and refuses a deal
// field whose options name a company the bridge does not serve.
func TestEstateCheckSaysWhereWonDealsGo(t *testing.T) {
	h := newEstateHarness(t, sqliteBackend)
	check := func() (texts, problems []string) {
		target, err := OpenTarget(h.ctx, h.cfg, Options{Clock: h.clk}) // as check does: the CRM as it is now
		if err != nil {
			t.Fatal(err)
		}
		env := &component.Env{Configs: h.cfg.Components(), Log: zap.NewNop(), Clock: h.clk, CRM: target, ERP: h.bridge.ERP}
		s, _ := h.cfg.Component(wondeals.Name)
		for _, f := range s.(component.Checker).Check(h.ctx, env) {
			texts = append(texts, f.Text)
			if f.Problem {
				problems = append(problems, f.Text)
			}
		}
		return texts, problems
	}
	texts, problems := check()
	want := `deals won in "` + estatePipeline + `" become orders of company 02, branch "1"`
	if len(problems) != 0 || !strings.Contains(strings.Join(texts, "\n"), want) {
		t.Errorf("check: problems %q; findings:\n%s\nwant no problem and %q", problems, strings.Join(texts, "\n"), want)
	}

	if _, err := h.crm.CreateCustomField(h.ctx, crm.CustomFieldInput{Label: "Destino", Type: "option", For: "deal", Options: []string{"01/01", "03/01"}}); err != nil {
		t.Fatal(err)
	}
	components.WonDeals(h.cfg).FilialField = "Destino"
	_, problems = check()
	if want := `won_deals.filial_field "Destino": options that name no branch the bridge serves: "03/01" (company 03 is not one the bridge serves`; len(problems) != 1 || !strings.Contains(problems[0], want) {
		t.Errorf("check with a field naming company 03: problems %q, want one containing %q", problems, want)
	}
}
