package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/erpbridge/erpbridge/erp/protheus/fixture"
)

// TestCheckNamesOrderSettingsTheCRMLacks runs `erpbridge check` against
// the standalone simulator: a stage the pipeline does not have, and an
// order number field the CRM does not have, are named with their keys.
func TestCheckNamesOrderSettingsTheCRMLacks(t *testing.T) {
	bin := erpbridgeBinary(t)
	sim := startSim(t, bin)
	for _, tc := range []struct {
		name, extra string
		want        []string
	}{
		{"unknown stage", "[streams.orders]\nenabled = true\nfilial = \"01\"\n[streams.orders.stages]\nopen = \"Não existe\"\n",
			[]string{"streams.orders.stages.open", `has no stage "Não existe"`}},
		{"two problems at once", "[streams.orders]\nenabled = true\nfilial = \"01\"\nlost_reason = \"Cancelado\"\n[streams.orders.stages]\ninvoiced = \"Faturado\"\n",
			[]string{`has no stage "Faturado"`, `no lost reason "Cancelado" (it has: `, `lost reasons: "Preço"`}},
		{"unknown field", "[streams.orders]\nenabled = true\nfilial = \"01\"\norder_number_field = \"Pedido ERP\"\n",
			[]string{"streams.orders.order_number_field", `custom field "Pedido ERP"`}},
		{"good", "[streams.orders]\nenabled = true\nfilial = \"01\"\n[streams.orders.stages]\nopen = \"Sem contato\"\n",
			[]string{"ok   orders"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			_, _, dsn := createFixture(t, fixture.SQLite, dir)
			cfg := writeConfig(t, dir, "sqlite", dsn, sim, tc.extra)
			r := runBinary(t, bin, "check", "-c", cfg)
			out := r.stdout + r.stderr
			if (tc.name == "good") != (r.code == 0) {
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

// TestCheckSaysWhatOrdersBecome: `erpbridge check` counts what a first run
// of the orders stream makes of SC5 (deals in the history window, orders
// left out by type or date) and warns, without failing, about the optional
// columns and tables the ERP lacks.
func TestCheckSaysWhatOrdersBecome(t *testing.T) {
	bin := erpbridgeBinary(t)
	sim := startSim(t, bin)
	dir := t.TempDir()
	fx, _, dsn := createFixture(t, fixture.SQLite, dir)
	if _, err := fx.DB.Exec("ALTER TABLE SC6010 DROP COLUMN C6_DESCONT"); err != nil {
		t.Fatal(err)
	}
	cfg := writeConfig(t, dir, "sqlite", dsn, sim, "[streams.orders]\nenabled = true\nfilial = \"01\"\nreceivable_only = true\n")
	r := runBinary(t, bin, "check", "-c", cfg)
	out := r.stdout + r.stderr
	if r.code != 0 {
		t.Errorf("check exited %d: missing optional columns and tables are warnings\n%s", r.code, out)
	}
	for _, w := range []string{
		"WARN order items table SC6010 lacks C6_DESCONT: read with their defaults",
		"WARN TES table SF4010 does not exist",
		"a first run makes 0 deals of orders issued since",
		"issued before the window are left out",
		"1 were made from CRM deals",
	} {
		if !strings.Contains(out, w) {
			t.Errorf("check output lacks %q:\n%s", w, out)
		}
	}

	if _, err := fx.AddMessyOrders(context.Background(), time.Now()); err != nil {
		t.Fatal(err)
	}
	r = runBinary(t, bin, "check", "-c", cfg)
	out = r.stdout + r.stderr
	for _, w := range []string{"with C5_TIPO B are left out", "with C5_TIPO D are left out", "a first run makes 29 deals"} {
		if !strings.Contains(out, w) {
			t.Errorf("check output with the messy orders lacks %q:\n%s", w, out)
		}
	}
	if strings.Contains(out, "WARN TES") {
		t.Errorf("check warns about SF4 once it exists:\n%s", out)
	}

	// The dry run says what the run makes: the check's 29 but the two it
	// says it cannot count (a bonus order under receivable_only, an order
	// of a deleted customer), and from when.
	r = runBinary(t, bin, "sync", "--once", "--dry-run", "--stream", "orders", "-c", cfg)
	if r.code != 0 {
		t.Fatalf("dry run exit %d: %s", r.code, r.stderr)
	}
	created := ""
	for _, line := range strings.Split(r.stdout, "\n") {
		if f := strings.Fields(line); len(f) > 3 && f[0] == "orders" && f[1] == "dry-run" {
			created = f[3]
		}
	}
	if created != "27" || !strings.Contains(r.stdout, "orders: deals are made of orders issued since") {
		t.Errorf("dry run: orders created %q, want 27, and the window named:\n%s", created, r.stdout)
	}
}
