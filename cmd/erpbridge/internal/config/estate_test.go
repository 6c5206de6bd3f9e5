package config

import (
	"strings"
	"testing"
)

// TestEstateSettings: erp.companies, per-stream filials and shared, the
// orders' deal name and the won deals' routes parse and validate without
// I/O; each bad value is named with its key.
func TestEstateSettings(t *testing.T) {
	const orders = `
[streams.orders]
enabled = true
order_number_field = "Pedido ERP"
`
	for _, tc := range []struct {
		name, text, want string // want: substring of Validate's error; "" = valid
	}{
		{"one company", "company = \"02\"\n", ""},
		{"two companies", "companies = [\"01\", \"02\"]\n", ""},
		{"empty companies", "companies = []\n", "erp.companies: is empty"},
		{"bad company", "companies = [\"01\", \"1\"]\n", `erp.companies: "1" is not a two-character`},
		{"company twice", "companies = [\"01\", \"01\"]\n", `erp.companies: "01" is listed twice`},
		{"rest serves one company", "source = \"rest\"\ncompanies = [\"01\", \"02\"]\n[erp.rest]\nbase_url = \"http://erp:8080/rest\"\n", "erp.companies: the REST routes serve"},
		{"filials", "[streams.customers]\nfilials = [\"01\", \"02/1 \"]\n", ""},
		{"every filial", "[streams.customers]\nfilials = \"*\"\n", ""},
		{"star with others", "[streams.customers]\nfilials = [\"*\", \"01\"]\n", `streams.customers.filials: "*" (every branch) goes alone`},
		{"filial and filials", "[streams.products]\nfilial = \"01\"\nfilials = [\"02\"]\n", "streams.products.filials: set filial (one branch) or filials (several), not both"},
		{"bad filial", "[streams.contacts]\nfilials = [\"01;x\"]\n", "streams.contacts.filials:"},
		{"filial listed twice", "[streams.contacts]\nfilials = [\"01\", \"01 \"]\n", "streams.contacts.filials:"},
		{"shared", "[streams.customers]\nshared = false\n", ""},
		{"several companies need {company}", "companies = [\"01\", \"02\"]\n" + orders, "streams.orders.name:"},
		{"several branches need {filial}", "companies = [\"01\", \"02\"]\n" + orders + "filials = [\"01\", \"02\"]\nname = \"Pedido {company}-{num}\"\n", "streams.orders.name:"},
		{"named deals", "companies = [\"01\", \"02\"]\n" + orders + "filials = \"*\"\nname = \"Pedido {company}/{filial}-{num}\"\nfilial_field = \"Filial\"\n", ""},
		{"route", "companies = [\"01\", \"02\"]\n" + orders + "name = \"{company}/{filial}-{num}\"\n[won_deals]\nenabled = true\n[won_deals.routes]\n\"Vendas 02\" = \"02/01\"\n", ""},
		{"route to a company not served", orders + "[won_deals]\nenabled = true\n[won_deals.routes]\n\"Vendas 03\" = \"03/01\"\n", "won_deals.routes.Vendas 03: company 03 is not one the bridge serves"},
		{"route not a branch", orders + "[won_deals]\nenabled = true\n[won_deals.routes]\n\"Vendas\" = \"01\"\n", "won_deals.routes.Vendas:"},
		{"route to a branch the orders do not read", orders + "filials = [\"01\"]\n[won_deals]\nenabled = true\n[won_deals.routes]\n\"Vendas\" = \"01/02\"\n", "won_deals.routes.Vendas: branch 01/02 is not one streams.orders reads"},
		{"route of a pipeline not listed", orders + "[won_deals]\nenabled = true\npipelines = [\"Vendas\"]\n[won_deals.routes]\n\"Outro\" = \"01/01\"\n", `won_deals.routes.Outro: pipeline "Outro" is not in won_deals.pipelines`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := Parse([]byte(minimal+tc.text), env(map[string]string{"TOKEN": "t"}))
			if err != nil {
				t.Fatal(err)
			}
			err = c.Validate()
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("Validate() = %v, want no error", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Fatalf("Validate() = %v, want an error containing %q", err, tc.want)
			}
		})
	}
}
