package credit_test

import (
	"strings"
	"testing"

	"github.com/erpbridge/erpbridge/bridge/component"
	"github.com/erpbridge/erpbridge/erp/protheus/streams/credit"
	"github.com/erpbridge/erpbridge/erp/protheus/streams/customers"
)

func TestCreditSettingsAreValidatedWithTheirKey(t *testing.T) {
	for _, tt := range []struct {
		name string
		edit func(c *credit.Config, cust *customers.Config)
		want string // "" valid
	}{
		{"defaults, off", func(c *credit.Config, _ *customers.Config) { c.On = false }, ""},
		{"defaults, on", func(*credit.Config, *customers.Config) {}, ""},
		{"no filial", func(c *credit.Config, _ *customers.Config) { c.Filials = nil }, "streams.credit.filials: is empty"},
		{"bad filial", func(c *credit.Config, _ *customers.Config) { c.Filials = []string{"01;"} }, "streams.credit.filials: \"01;\""},
		{"bad type", func(c *credit.Config, _ *customers.Config) { c.ExcludeTypes = []string{"ABCD"} }, "streams.credit.exclude_types"},
		{"no currency", func(c *credit.Config, _ *customers.Config) { c.Currencies = nil }, "streams.credit.currencies"},
		{"bad currency", func(c *credit.Config, _ *customers.Config) { c.Currencies = []int{0} }, "streams.credit.currencies"},
		{"no field", func(c *credit.Config, _ *customers.Config) { c.CustomFields = map[string]string{} }, "streams.credit.custom_fields: is empty"},
		{"bad expression", func(c *credit.Config, _ *customers.Config) { c.CustomFields = map[string]string{"X": "CREDIT_OPEN +"} }, "streams.credit.custom_fields"},
		{"bad schedule", func(c *credit.Config, _ *customers.Config) { c.Schedule = "soon" }, "streams.credit.schedule"},
		{"customers off", func(_ *credit.Config, cust *customers.Config) { cust.On = false }, "streams.customers.enabled"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c, cust := credit.Default(), customers.Default()
			if err := c.ApplyDefaults(func(...string) bool { return false }); err != nil {
				t.Fatal(err)
			}
			c.On = true
			tt.edit(c, cust)
			configs := map[string]component.Config{credit.Name: c, customers.Name: cust}
			v := component.NewValidation("streams.credit", nil, func(n string) (component.Config, bool) { s, ok := configs[n]; return s, ok })
			c.Validate(v)
			err := v.Err()
			if tt.want == "" {
				if err != nil {
					t.Fatalf("Validate() = %v, want none", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Validate() = %v, want %q", err, tt.want)
			}
		})
	}
}

// TestCreditIsOffByDefaultAndReadsSE1PerFilial: off by default; one SE1 per
// configured filial, after the customers' SA1 read with their filial (so
// its keys are the organizations').
func TestCreditIsOffByDefaultAndReadsSE1PerFilial(t *testing.T) {
	c := credit.Default()
	if c.Enabled() {
		t.Fatal("the credit stream is on by default")
	}
	c.Filials = []string{"01", "02"}
	cust := customers.Default()
	cust.Filial = "01"
	tables, err := c.Tables("02", func(n string) (component.Config, bool) { return cust, n == customers.Name })
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, tb := range tables {
		got = append(got, tb.Spec.Physical+"/"+tb.Spec.Filial)
	}
	if strings.Join(got, " ") != "SA1020/01 SE1020/01 SE1020/02" {
		t.Errorf("tables %v", got)
	}
}
