package config

import (
	"strings"
	"testing"

	"github.com/erpbridge/erpbridge/cmd/erpbridge/internal/components"

	"github.com/erpbridge/erpbridge/erp/protheus"
	"github.com/erpbridge/erpbridge/erp/protheus/streams/orders"
	"github.com/erpbridge/erpbridge/erp/protheus/streams/wondeals"
)

// Orders have no mapping table and no delete mark: those keys are unknown,
// named with their line, like any other.
func TestOrdersRefuseMappingKeys(t *testing.T) {
	for _, text := range []string{
		"[streams.orders]\nenabled = true\n[streams.orders.mapping.fields]\nname = \"C5_NUM\"\n",
		"[streams.orders]\ndelete_mark.name_prefix = \"x\"\n",
	} {
		_, err := Parse([]byte(text), func(string) (string, bool) { return "", false })
		if err == nil || !strings.Contains(err.Error(), "streams.orders.") || !strings.Contains(err.Error(), "line ") {
			t.Errorf("%q: err = %v, want an unknown key under streams.orders with its line", text, err)
		}
	}
}

// TestWonDealsPipelinesAndStagingAliases: [won_deals] pipelines and
// [won_deals.staging] aliases parse, default to the orders pipeline and
// ZB1/ZB2, and bad values are named with their key.
func TestWonDealsPipelinesAndStagingAliases(t *testing.T) {
	const base = minimal + `
[streams.orders]
order_number_field = "Pedido ERP"
[won_deals]
enabled = true
`
	for _, tc := range []struct {
		name  string
		extra string
		want  string // substring of Validate's error; "" = valid
		check func(t *testing.T, c *Config)
	}{
		{"defaults", "", "", func(t *testing.T, c *Config) {
			if len(components.WonDeals(c).Pipelines) != 0 || components.WonDeals(c).Staging != (wondeals.OrderStaging{Header: "ZB1", Items: "ZB2"}) {
				t.Errorf("pipelines %q, staging %+v; want none (the orders pipeline) and ZB1/ZB2", components.WonDeals(c).Pipelines, components.WonDeals(c).Staging)
			}
		}},
		{"set", "pipelines = [\"Vendas\", \"Vendas B2B\"]\n[won_deals.staging]\nheader = \"SZ7\"\nitems = \"SZ8\"\n", "", func(t *testing.T, c *Config) {
			if len(components.WonDeals(c).Pipelines) != 2 || components.WonDeals(c).Staging.Aliases() != (protheus.StagingAliases{Header: "SZ7", Items: "SZ8"}) {
				t.Errorf("pipelines %q, staging %+v", components.WonDeals(c).Pipelines, components.WonDeals(c).Staging)
			}
		}},
		{"items alone keeps the default header", "[won_deals.staging]\nitems = \"SZ8\"\n", "", func(t *testing.T, c *Config) {
			if components.WonDeals(c).Staging != (wondeals.OrderStaging{Header: "ZB1", Items: "SZ8"}) {
				t.Errorf("staging %+v, want ZB1/SZ8", components.WonDeals(c).Staging)
			}
		}},
		{"blank pipeline", "pipelines = [\"Vendas\", \" \"]\n", "won_deals.pipelines: a pipeline name is blank", nil},
		{"pipeline twice", "pipelines = [\"Vendas\", \"vendas \"]\n", `won_deals.pipelines: "vendas " is listed twice`, nil},
		{"bad alias", "[won_deals.staging]\nheader = \"ZB1010\"\n", `won_deals.staging: header alias "ZB1010"`, nil},
		{"same aliases", "[won_deals.staging]\nheader = \"ZB2\"\n", `won_deals.staging: header and items aliases are both "ZB2"`, nil},
		{"a table the bridge reads", "[won_deals.staging]\nitems = \"SC6\"\n", `won_deals.staging: items alias "SC6" is a standard Protheus table`, nil},
		{"aliases unused by the rest sink", "sink = \"rest\"\n[won_deals.rest]\nurl = \"http://erp/rest/orders\"\n[won_deals.staging]\nheader = \"bad\"\n", "", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := Parse([]byte(base+tc.extra), env(map[string]string{"TOKEN": "t"}))
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
			if tc.check != nil {
				tc.check(t, c)
			}
		})
	}
	_, err := Parse([]byte(base+"[won_deals.staging]\nheader = \"ZB1\"\nprefix = \"ZB1_\"\n"), env(map[string]string{"TOKEN": "t"}))
	if err == nil || !strings.Contains(err.Error(), `"won_deals.staging.prefix"`) || !strings.Contains(err.Error(), "line 14") {
		t.Errorf("unknown staging key: %v, want it named with its line", err)
	}
}

// TestOrdersDefaultsAndValidation: the orders stream starts from a bounded
// history, normal orders only and the items' total; each bad option is
// refused with its key.
func TestOrdersDefaultsAndValidation(t *testing.T) {
	d := components.Orders(defaults())
	if d.HistoryDays != 90 || strings.Join(d.Types, ",") != "N" || d.Total != orders.TotalOrder || len(d.Currencies) != 0 || d.ReceivableOnly {
		t.Errorf("orders defaults: history_days %d, types %v, total %q, currencies %v, receivable_only %v",
			d.HistoryDays, d.Types, d.Total, d.Currencies, d.ReceivableOnly)
	}
	base := minimal + "[streams.orders]\nenabled = true\n"
	tests := []struct{ extra, key string }{
		{"history_days = -1\n", "streams.orders.history_days"},
		{"types = []\n", "streams.orders.types"},
		{"types = [\"N\", \"X\"]\n", "streams.orders.types"},
		{"currencies = [0]\n", "streams.orders.currencies"},
		{"tes_filial = \"0;1\"\n", "streams.orders.tes_filial"},
		{"total = \"gross\"\n", "streams.orders.total"},
		{"total = \"invoice\"\n", "streams.orders.invoice_product"},
	}
	for _, tt := range tests {
		cfg, err := Parse([]byte(base+tt.extra), env(map[string]string{"TOKEN": "t"}))
		if err != nil {
			t.Fatalf("%q: %v", tt.extra, err)
		}
		if err := cfg.Validate(); err == nil || !strings.Contains(err.Error(), tt.key) {
			t.Errorf("%q: Validate = %v, want an error naming %s", tt.extra, err, tt.key)
		}
	}
	cfg, err := Parse([]byte(base+"history_days = 0\ntypes = [\"N\", \"C\"]\ncurrencies = [1]\nreceivable_only = true\ntotal = \"invoice\"\ninvoice_product = \"Impostos e frete\"\n"), env(map[string]string{"TOKEN": "t"}))
	if err != nil {
		t.Fatal(err)
	}
	if err := cfg.Validate(); err != nil {
		t.Errorf("a good orders block: %v", err)
	}
}
