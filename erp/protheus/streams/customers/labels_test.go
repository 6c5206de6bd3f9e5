package customers_test

import (
	"context"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"go.uber.org/zap"

	"github.com/erpbridge/erpbridge/bridge/clock"
	"github.com/erpbridge/erpbridge/bridge/component"
	"github.com/erpbridge/erpbridge/bridge/store"
	"github.com/erpbridge/erpbridge/erp/protheus/access"
	"github.com/erpbridge/erpbridge/erp/protheus/fixture"
	"github.com/erpbridge/erpbridge/erp/protheus/streams/customers"
	"github.com/erpbridge/erpbridge/rdstation/crm"
	"github.com/erpbridge/erpbridge/rdstation/crm/target"
	"github.com/erpbridge/erpbridge/rdstation/rdsim"
)

// TestCheckAndRunResolveLabelsTheSameWay: `erpbridge check` (Check) and a
// run (Provision) resolve cnpj_field and the mapping's custom field labels
// with the one resolver: an exact label, else the one label equal but for
// case and blanks; an ambiguous or missing label fails both, naming the
// candidates.
func TestCheckAndRunResolveLabelsTheSameWay(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "erp.db")
	fx, _, err := fixture.CreateSQLite(ctx, path, fixture.Options{Customers: 40})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { fx.DB.Close() })
	erpCfg := access.Default()
	erpCfg.Driver, erpCfg.DSN = "sqlite", path
	acc, err := access.Open(ctx, erpCfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { acc.Close() })

	for _, tt := range []struct {
		name   string
		fields []string // organization custom fields in the CRM
		label  string   // cnpj_field
		want   string   // "" resolves; else both errors contain it
	}{
		{"exact", []string{"CNPJ / CPF"}, "CNPJ / CPF", ""},
		{"case and blanks", []string{"CNPJ / CPF"}, " cnpj / cpf ", ""},
		{"exact wins over a case variant", []string{"CNPJ", "cnpj"}, "cnpj", ""},
		{"ambiguous", []string{"CNPJ", "cnpj"}, "Cnpj", `"CNPJ", "cnpj"`},
		{"missing", []string{"Documento"}, "CNPJ", "CNPJ"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			sim := rdsim.New(rdsim.Options{Tokens: []string{"t"}, RequestsPerMinute: -1})
			srv := httptest.NewServer(sim)
			t.Cleanup(srv.Close)
			c, err := crm.New(crm.Config{BaseURL: srv.URL + "/api/v1", Token: "t", MaxRetries: -1,
				Budget: crm.NewBudget(crm.BudgetConfig{RequestsPerMinute: -1})})
			if err != nil {
				t.Fatal(err)
			}
			for _, f := range tt.fields {
				if _, err := c.CreateCustomField(ctx, crm.CustomFieldInput{Label: f, Type: "text", For: "organization"}); err != nil {
					t.Fatal(err)
				}
			}
			st, err := store.Open(ctx, filepath.Join(t.TempDir(), "s.db"))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { st.Close() })
			cfg := customers.Default()
			cfg.CNPJField = tt.label
			if err := cfg.ApplyDefaults(func(...string) bool { return false }); err != nil {
				t.Fatal(err)
			}
			env := &component.Env{ERP: acc, CRM: target.NewSystem(c), Store: st, Log: zap.NewNop(), Clock: clock.Real{},
				Configs: func(n string) (component.Config, bool) { return cfg, n == customers.Name }}
			var checked []string
			for _, f := range cfg.Check(ctx, env) {
				if f.Problem {
					checked = append(checked, f.Text)
				}
			}
			_, runErr := cfg.Provision(ctx, env)
			if tt.want == "" {
				if len(checked) > 0 || runErr != nil {
					t.Fatalf("label %q: check says %q, run says %v; want both to resolve it", tt.label, checked, runErr)
				}
				return
			}
			if runErr == nil || !strings.Contains(runErr.Error(), tt.want) {
				t.Errorf("label %q: run says %v, want an error naming %s", tt.label, runErr, tt.want)
			}
			if len(checked) == 0 || !strings.Contains(strings.Join(checked, "\n"), tt.want) {
				t.Errorf("label %q: check says %q, want a problem naming %s", tt.label, checked, tt.want)
			}
		})
	}
}
