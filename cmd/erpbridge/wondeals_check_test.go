package main

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/erpbridge/erpbridge/erp/protheus/fixture"
	"github.com/erpbridge/erpbridge/rdstation/crm"
)

// TestCheckRefusesAStagingTableOfAnotherLayout runs `erpbridge check` with
// the staging sink: a ZB1010 that is another team's table is refused with
// what differs (and `run` would write nothing into it); with
// won_deals.staging naming SZ7/SZ8, check asks for SZ7010 until the
// script `erpbridge staging-ddl` prints for them has been run, then passes.
func TestCheckRefusesAStagingTableOfAnotherLayout(t *testing.T) {
	bin := erpbridgeBinary(t)
	sim := startSim(t, bin)
	c, err := crm.New(crm.Config{BaseURL: sim.baseURL, Token: e2eToken, Budget: crm.NewBudget(crm.BudgetConfig{RequestsPerMinute: -1})})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.CreateCustomField(context.Background(), crm.CustomFieldInput{Label: "Pedido ERP", Type: "text", For: "deal"}); err != nil {
		t.Fatal(err)
	}
	check := func(t *testing.T, cfg string, ok bool, want ...string) {
		t.Helper()
		r := runBinary(t, bin, "check", "-c", cfg)
		out := r.stdout + r.stderr
		if (r.code == 0) != ok {
			t.Errorf("check exited %d, want success %v\n%s", r.code, ok, out)
		}
		for _, w := range want {
			if !strings.Contains(out, w) {
				t.Errorf("check output lacks %q:\n%s", w, out)
			}
		}
	}

	t.Run("another team's ZB1010", func(t *testing.T) {
		dir := t.TempDir()
		fx, _, dsn := createFixture(t, fixture.SQLite, dir)
		for _, st := range []string{"DROP TABLE ZB1010", "CREATE TABLE ZB1010 (ZB1_FILIAL VARCHAR(2) NOT NULL, ZB1_COD VARCHAR(6) NOT NULL, " +
			"ZB1_DESC VARCHAR(40) NOT NULL, D_E_L_E_T_ VARCHAR(1) NOT NULL, R_E_C_N_O_ INTEGER NOT NULL PRIMARY KEY, R_E_C_D_E_L_ INTEGER NOT NULL)"} {
			if _, err := fx.DB.Exec(st); err != nil {
				t.Fatal(err)
			}
		}
		cfg := writeConfig(t, dir, "sqlite", dsn, sim, wonDealsE2EConfig)
		check(t, cfg, false, `won_deals.staging (header "ZB1", items "ZB2"`, "staging table ZB1010 does not match the staging layout",
			"lacks ZB1_DEALID", "has columns the layout does not: ZB1_COD, ZB1_DESC", "writes nothing into it")
	})

	t.Run("aliases SZ7 and SZ8", func(t *testing.T) {
		dir := t.TempDir()
		fx, _, dsn := createFixture(t, fixture.SQLite, dir)
		cfg := writeConfig(t, dir, "sqlite", dsn, sim, wonDealsE2EConfig+"[won_deals.staging]\nheader = \"SZ7\"\nitems = \"SZ8\"\n")
		check(t, cfg, false, "staging table SZ7010 does not exist", "staging table SZ8010 does not exist")
		r := runBinary(t, bin, "staging-ddl", "-c", cfg)
		if r.code != 0 || !strings.Contains(r.stdout, "CREATE TABLE SZ7010") || !strings.Contains(r.stdout, "Z8_PRODUT") ||
			strings.Contains(r.stdout, "ZB1") || strings.Contains(r.stdout, "OR REPLACE") {
			t.Fatalf("staging-ddl exited %d:\n%s%s", r.code, r.stdout, r.stderr)
		}
		if _, err := fx.DB.Exec(r.stdout); err != nil {
			t.Fatalf("running the printed DDL: %v", err)
		}
		check(t, cfg, true, "ok   won deals      staging tables SZ7010, SZ8010")
		if _, err := fx.DB.Exec(r.stdout); err == nil {
			t.Error("running the printed DDL a second time succeeded, want it to fail: nothing is replaced")
		}
	})
}

// TestCheckShowsWhichWonDealsBecomeOrders runs `erpbridge check` with won
// deals on, the first pipeline copying its won deals into the second: it
// says which pipelines' won deals become orders (the orders pipeline by
// default) and which are skipped, what the copy means, and refuses a list
// holding both pipelines, or a pipeline the CRM lacks.
func TestCheckShowsWhichWonDealsBecomeOrders(t *testing.T) {
	bin := erpbridgeBinary(t)
	sim := startSim(t, bin)
	ctx := context.Background()
	c, err := crm.New(crm.Config{BaseURL: sim.baseURL, Token: e2eToken, Budget: crm.NewBudget(crm.BudgetConfig{RequestsPerMinute: -1})})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.CreateCustomField(ctx, crm.CustomFieldInput{Label: "Pedido ERP", Type: "text", For: "deal"}); err != nil {
		t.Fatal(err)
	}
	pipes, err := c.ListPipelines(ctx)
	if err != nil || len(pipes) < 2 {
		t.Fatalf("pipelines %+v, %v", pipes, err)
	}
	body := `{"deal_pipeline":{"config":{"deal_won":{"copy_to_pipeline":"` + pipes[1].ID + `"}}}}`
	req, _ := http.NewRequest(http.MethodPut, sim.baseURL+"/deal_pipelines/"+pipes[0].ID+"?token="+e2eToken, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil || res.StatusCode != http.StatusOK {
		t.Fatalf("setting copy_to_pipeline: %v %v", res, err)
	}
	res.Body.Close()
	for _, tc := range []struct {
		name, extra string
		ok          bool
		want        []string
	}{
		{"default", "", true, []string{`ok   won deals: orders from the deals won in "Funil de Vendas" (won_deals.pipelines is empty: the pipeline of streams.orders.pipeline)`,
			`deals won in "Funil de Pós-venda" are skipped: never ERP orders`,
			`pipeline "Funil de Vendas" copies its won deals into "Funil de Pós-venda": the copies are no orders`}},
		{"a pipeline and its copies", "pipelines = [\"Funil de Vendas\", \"Funil de Pós-venda\"]\n", false,
			[]string{`FAIL won_deals.pipelines: pipeline "Funil de Vendas" copies its won deals into "Funil de Pós-venda"`}},
		{"unknown", "pipelines = [\"Parceiros\"]\n", false, []string{`won_deals.pipelines: the CRM has no pipeline "Parceiros"`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			_, _, dsn := createFixture(t, fixture.SQLite, dir)
			cfg := writeConfig(t, dir, "sqlite", dsn, sim, wonDealsE2EConfig+tc.extra)
			r := runBinary(t, bin, "check", "-c", cfg)
			out := r.stdout + r.stderr
			if (r.code == 0) != tc.ok {
				t.Errorf("check exited %d\n%s", r.code, out)
			}
			for _, w := range tc.want {
				if !strings.Contains(out, w) {
					t.Errorf("check output lacks %q:\n%s", w, out)
				}
			}
		})
	}
}
