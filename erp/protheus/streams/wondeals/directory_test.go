package wondeals

import (
	"context"
	"errors"
	"net/http/httptest"
	"path/filepath"
	"testing"

	"github.com/erpbridge/erpbridge/bridge"
	"github.com/erpbridge/erpbridge/bridge/store"
	"github.com/erpbridge/erpbridge/erp/protheus/access"
	"github.com/erpbridge/erpbridge/erp/protheus/fixture"
	"github.com/erpbridge/erpbridge/erp/protheus/streams/customers"
	"github.com/erpbridge/erpbridge/rdstation/crm"
	"github.com/erpbridge/erpbridge/rdstation/crm/target"
	"github.com/erpbridge/erpbridge/rdstation/rdsim"
)

// TestWonDealCustomerFoundByItsCNPJ: a won deal's organization that the
// bridge did not make is matched to its SA1 customer by the CNPJ in its
// custom field, the alphanumeric CNPJ as the numeric one, whatever its
// mask; another CNPJ with the same digits is no match.
func TestWonDealCustomerFoundByItsCNPJ(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "erp.db")
	fx, _, err := fixture.CreateSQLite(ctx, path, fixture.Options{Customers: 40})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { fx.DB.Close() })
	for _, u := range []string{
		"UPDATE SA1010 SET A1_CGC = '12ABC34501DE35' WHERE A1_COD = '000007' AND A1_LOJA = '01'",
		"UPDATE SA1010 SET A1_CGC = '11222333000181' WHERE A1_COD = '000008' AND A1_LOJA = '01'",
	} {
		if _, err := fx.DB.ExecContext(ctx, u); err != nil {
			t.Fatal(err)
		}
	}
	cfg := access.Default()
	cfg.Driver, cfg.DSN = "sqlite", path
	acc, err := access.Open(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { acc.Close() })
	ct, err := customers.Table(acc.Company(), "", "won deal customers")
	if err != nil {
		t.Fatal(err)
	}
	sa1, err := acc.Open(ctx, ct, nil)
	if err != nil {
		t.Fatal(err)
	}
	sim := rdsim.New(rdsim.Options{Tokens: []string{"t"}, RequestsPerMinute: -1})
	srv := httptest.NewServer(sim)
	t.Cleanup(srv.Close)
	c, err := crm.New(crm.Config{BaseURL: srv.URL + "/api/v1", Token: "t", MaxRetries: -1,
		Budget: crm.NewBudget(crm.BudgetConfig{RequestsPerMinute: -1})})
	if err != nil {
		t.Fatal(err)
	}
	field, err := c.CreateCustomField(ctx, crm.CustomFieldInput{Label: "CNPJ", Type: "text", For: "organization"})
	if err != nil {
		t.Fatal(err)
	}
	st, err := store.Open(ctx, filepath.Join(t.TempDir(), "s.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	d := &directory{st: st, crm: target.NewSystem(c), customers: sa1, cnpjField: field.ID}
	for _, tt := range []struct {
		name, cnpj, cod string // cod "": no counterpart
	}{
		{"alphanumeric, masked", "12.ABC.345/01DE-35", "000007"},
		{"alphanumeric, lower case", "12abc34501de35", "000007"},
		{"numeric, masked", "11.222.333/0001-81", "000008"},
		{"same digits, other letters", "12.XYZ.345/01WV-35", ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			org, err := c.CreateOrganization(ctx, crm.OrganizationInput{Name: "Cliente do CRM " + tt.name,
				CustomFields: []crm.CustomFieldValue{{CustomFieldID: field.ID, Value: tt.cnpj}}})
			if err != nil {
				t.Fatal(err)
			}
			cod, loja, err := d.Customer(ctx, org.ID)
			if tt.cod == "" {
				if !errors.Is(err, bridge.ErrNoCounterpart) {
					t.Fatalf("CNPJ %q -> %s/%s, %v; want no counterpart", tt.cnpj, cod, loja, err)
				}
				return
			}
			if err != nil || cod != tt.cod || loja != "01" {
				t.Fatalf("CNPJ %q -> %s/%s, %v; want %s/01", tt.cnpj, cod, loja, err, tt.cod)
			}
		})
	}
}
