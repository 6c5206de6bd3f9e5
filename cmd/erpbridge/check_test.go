package main

import (
	"strings"
	"testing"

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
			[]string{"streams.orders.order_number_field", `no deal custom field "Pedido ERP"`}},
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
