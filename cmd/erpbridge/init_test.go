package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/erpbridge/erpbridge/erp/protheus/fixture"
	"github.com/erpbridge/erpbridge/rdstation/rdsim"
)

// TestInitThenSyncOnce is the set-up a new user makes from an empty folder
// on a customised Protheus: `erpbridge init --yes` reads the dictionary,
// writes a configuration that validates, creates the CRM's custom fields
// (the CNPJ, the customer's segment combo as a single-choice field, its
// sales channel, the products' line), and the first `sync --once` fills
// them — combos as their descriptions, computed here from the ERP rows and
// the combo text, not through the bridge — and `check` finds no problem.
func TestInitThenSyncOnce(t *testing.T) {
	testInitThenSyncOnce(t, fixture.SQLite)
}

func TestInitThenSyncOncePostgresIntegration(t *testing.T) {
	testInitThenSyncOnce(t, fixture.Postgres)
}

func testInitThenSyncOnce(t *testing.T, kind fixture.Kind) {
	bin := erpbridgeBinary(t)
	sim := startSim(t, bin)
	dir := t.TempDir()
	ctx := context.Background()
	var fx fixture.ERP
	var dsn string
	if kind == fixture.SQLite {
		dsn = filepath.Join(dir, "erp.db")
		var err error
		if fx, _, err = fixture.CreateSQLite(ctx, dsn, fixture.Options{Customers: 40}); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { fx.DB.Close() })
	} else {
		fx, dsn = fixture.NewPostgres(t)
		if _, err := fx.Load(ctx, fixture.Options{Customers: 40}); err != nil {
			t.Fatal(err)
		}
	}
	if err := fx.AddDictionary(ctx); err != nil {
		t.Fatal(err)
	}
	cfg := filepath.Join(dir, "erpbridge.toml")
	t.Setenv(tokenSecret, e2eToken)

	// Without --filial, init names the exclusive tables.
	r := runBinary(t, bin, "init", "--yes", "--driver", string(kind), "--dsn", dsn, "--crm-url", sim.baseURL, "-c", cfg)
	if r.code != 2 || !strings.Contains(r.stderr, "SU5, AC8 are exclusive to a branch") {
		t.Fatalf("init without --filial: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	r = runBinary(t, bin, "init", "--yes", "--driver", string(kind), "--dsn", dsn, "--filial", fixture.ContactFilial,
		"--crm-url", sim.baseURL, "-c", cfg)
	if r.code != 0 {
		t.Fatalf("init: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	for _, want := range []string{"it validates", `created the organization field "Segmento de mercado"`,
		`created the organization field "CNPJ"`, `created the product field "Linha de produto"`,
		"A1_XVMOBS (Observacao para o CRM) is virtual", "A1_XCANAL: SX3 says 30 characters, the column holds 20"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("init's report lacks %q:\n%s", want, r.stdout)
		}
	}
	text, err := os.ReadFile(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(text), e2eToken) || !strings.Contains(string(text), "${secret:"+tokenSecret+"}") {
		t.Fatalf("the token must be stored as a secret, not written:\n%s", text)
	}
	if r := runBinary(t, bin, "init", "--yes", "--driver", string(kind), "--dsn", dsn, "--filial", "01", "--crm-url", sim.baseURL, "-c", cfg); r.code != 2 || !strings.Contains(r.stderr, "exists") {
		t.Errorf("init over an existing file: exit %d %s", r.code, r.stderr)
	}
	// The simulator takes any rate; the client's default budget (100 a
	// minute) would make this test wait minutes.
	fast := strings.Replace(string(text), "[crm]\n", "[crm]\nrequests_per_minute = -1\n", 1)
	fast = "data_dir = \"erpbridge-data\"\n" + fast
	if err := os.WriteFile(cfg, []byte(fast), 0o600); err != nil {
		t.Fatal(err)
	}
	if r := runBinary(t, bin, "sync", "--once", "-c", cfg); r.code != 0 {
		t.Fatalf("sync --once: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}

	segments := map[string]string{"1": "Revenda", "2": "Consumidor final", "3": "Distribuidor"}
	lines := map[string]string{"01": "Linha Industrial", "02": "Linha Varejo"}
	st := sim.state(t)
	fieldIDs := map[string]string{}
	for _, f := range st.CustomFields {
		fieldIDs[f.Label] = f.ID
	}
	value := func(vals []rdsim.CustomFieldValue, label string) string {
		for _, v := range vals {
			if v.CustomFieldID == fieldIDs[label] && v.Value != nil {
				return fmt.Sprint(v.Value)
			}
		}
		return ""
	}
	orgs := map[string]rdsim.Organization{}
	for _, o := range st.Organizations {
		orgs[o.Name] = o
	}
	checked := 0
	for _, row := range rows(t, fx.DB, "SELECT A1_COD, A1_LOJA, A1_NOME, A1_XSEGMEN, A1_XCANAL, A1_MSBLQL FROM SA1010 WHERE D_E_L_E_T_ = ' ' ORDER BY R_E_C_N_O_") {
		o, ok := orgs[latin1(row[2])+" ("+row[0]+"/"+row[1]+")"]
		if !ok {
			continue // a blocked or bad customer of the fixture: not the point here
		}
		checked++
		if got, want := value(o.CustomFields, "Segmento de mercado"), segments[strings.TrimSpace(row[3])]; got != want {
			t.Errorf("%s: Segmento de mercado = %q, want %q (A1_XSEGMEN %q)", o.Name, got, want, row[3])
		}
		if got, want := value(o.CustomFields, "Canal de venda preferido"), strings.TrimSpace(row[4]); got != want {
			t.Errorf("%s: Canal de venda preferido = %q, want %q", o.Name, got, want)
		}
	}
	if checked < 30 {
		t.Fatalf("only %d organizations matched ERP customers", checked)
	}
	prods := 0
	for _, row := range rows(t, fx.DB, "SELECT B1_COD, B1_DESC, B1_XLINHA FROM SB1010 WHERE D_E_L_E_T_ = ' '") {
		for _, p := range st.Products {
			if p.Name == row[1]+" ("+row[0]+")" {
				prods++
				if got, want := value(p.CustomFields, "Linha de produto"), lines[strings.TrimSpace(row[2])]; got != want {
					t.Errorf("product %s: Linha de produto = %q, want %q", p.Name, got, want)
				}
			}
		}
	}
	if prods == 0 {
		t.Fatal("no product matched")
	}
	if r := runBinary(t, bin, "check", "-c", cfg); r.code != 0 {
		t.Errorf("check after init: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
}
