package config

import (
	"strings"
	"testing"
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

// TestOrdersDefaultsAndValidation: the orders stream starts from a bounded
// history, normal orders only and the items' total; each bad option is
// refused with its key.
func TestOrdersDefaultsAndValidation(t *testing.T) {
	d := Default().Streams.Orders
	if d.HistoryDays != 90 || strings.Join(d.Types, ",") != "N" || d.Total != TotalOrder || len(d.Currencies) != 0 || d.ReceivableOnly {
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
