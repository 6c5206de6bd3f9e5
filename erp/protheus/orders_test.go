package protheus

import (
	"testing"

	"github.com/shopspring/decimal"

	"github.com/erpbridge/erpbridge/erp"
	"github.com/erpbridge/erpbridge/erp/sqlerp"
)

func header(liberok, nota, blq string) erp.Record {
	return erp.Record{Key: "01|000001", Fields: map[string]erp.Value{
		"C5_NUM": "000001", "C5_LIBEROK": liberok, "C5_NOTA": nota, "C5_BLQ": blq,
	}}
}

func item(sold, delivered string) erp.Record {
	return erp.Record{Fields: map[string]erp.Value{
		"C6_QTDVEN": decimal.RequireFromString(sold), "C6_QTDENT": decimal.RequireFromString(delivered),
	}}
}

func TestOrderStatus(t *testing.T) {
	deleted := item("5", "0")
	deleted.Deleted = true
	none := []erp.Record{item("10", "0"), item("2.5", "0")}
	partial := []erp.Record{item("10", "10"), item("2.5", "0")}
	full := []erp.Record{item("10", "10"), item("2.5", "2.5")}
	tests := []struct {
		name   string
		header erp.Record
		items  []erp.Record
		want   Status
	}{
		{"open: all blank", header("", "", ""), none, StatusOpen},
		{"open: no items read", header("", "", ""), nil, StatusOpen},
		{"released", header("S", "", ""), none, StatusReleased},
		{"released with padding", header("S", "         ", " "), none, StatusReleased},
		{"partially invoiced by quantities", header("S", "", ""), partial, StatusPartiallyInvoiced},
		{"partially invoiced, C5_NOTA holds the first invoice", header("S", "000012345", ""), partial, StatusPartiallyInvoiced},
		{"partially invoiced with fractions", header("S", "", ""), []erp.Record{item("0.3", "0.1")}, StatusPartiallyInvoiced},
		{"invoiced: C5_NOTA filled", header("S", "000012345", ""), full, StatusInvoiced},
		{"invoiced: C5_NOTA filled, items not read", header("S", "000012345", ""), nil, StatusInvoiced},
		{"invoiced: C5_LIBEROK E", header("E", "", ""), none, StatusInvoiced},
		{"invoiced: C5_LIBEROK E after a partial delivery", header("E", "", ""), partial, StatusInvoiced},
		{"invoiced: everything delivered, header not yet updated", header("S", "", ""), full, StatusInvoiced},
		{"invoiced: an over-delivery still counts", header("S", "", ""), []erp.Record{item("1", "1.5")}, StatusInvoiced},
		{"invoiced wins over a stale block", header("S", "000012345", "1"), full, StatusInvoiced},
		{"invoiced: deleted items are ignored", header("S", "", ""), append([]erp.Record{deleted}, full...), StatusInvoiced},
		{"residue eliminated", header("S", "XXXXXXXXX", ""), partial, StatusResidueEliminated},
		{"residue eliminated before any delivery", header("S", "XXXXXXXXX", ""), none, StatusResidueEliminated},
		{"residue eliminated, short X mark", header("", "XXXXXX", ""), nil, StatusResidueEliminated},
		{"residue wins over a block", header("S", "XXXXXXXXX", "1"), none, StatusResidueEliminated},
		{"blocked by rule", header("", "", BlockedByRule), none, StatusBlocked},
		{"blocked by verba", header("", "", BlockedByVerba), none, StatusBlocked},
		{"blocked by a custom code", header("", "", "9"), none, StatusBlocked},
		{"blocked wins over released", header("S", "", "1"), none, StatusBlocked},
		{"blocked wins over a partial delivery", header("S", "", "2"), partial, StatusBlocked},
		{"zero quantities stay open", header("", "", ""), []erp.Record{item("0", "0")}, StatusOpen},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := OrderStatus(tt.header, tt.items); got != tt.want {
				t.Errorf("OrderStatus = %s, want %s", got, tt.want)
			}
		})
	}
}

func TestOrderBuilders(t *testing.T) {
	builders := map[string]struct {
		build func(string, string) (sqlerp.TableSpec, error)
		key   []string
	}{
		"SC5010": {Orders, []string{"C5_FILIAL", "C5_NUM"}},
		"SC6010": {OrderItems, []string{"C6_FILIAL", "C6_NUM", "C6_ITEM", "C6_PRODUTO"}},
		"SA3010": {Sellers, []string{"A3_FILIAL", "A3_COD"}},
	}
	for table, b := range builders {
		spec, err := b.build("01", "01")
		if err != nil {
			t.Fatalf("%s: %v", table, err)
		}
		if spec.Physical != table || spec.Filial != "01" || spec.FilialColumn != b.key[0] || len(spec.KeyColumns) != len(b.key) {
			t.Errorf("%s: unexpected spec %+v", table, spec)
		}
		for i, k := range b.key {
			if spec.KeyColumns[i] != k {
				t.Errorf("%s key = %v, want %v", table, spec.KeyColumns, b.key)
			}
		}
	}
	for name, want := range map[string]sqlerp.ColumnSpec{
		"C6_QTDVEN": {Name: "C6_QTDVEN", Kind: sqlerp.KindNumber, Decimals: 2},
		"C6_PRCVEN": {Name: "C6_PRCVEN", Kind: sqlerp.KindNumber, Decimals: 2},
		"C6_ENTREG": {Name: "C6_ENTREG", Kind: sqlerp.KindDate, Width: 8},
		"C6_ITEM":   {Name: "C6_ITEM", Kind: sqlerp.KindChar, Width: 2},
	} {
		f, ok := Lookup("SC6", name)
		if !ok || f.Column() != want {
			t.Errorf("%s column = %+v, want %+v", name, f.Column(), want)
		}
	}
	if f, ok := Lookup("SA3", "A3_EMAIL"); !ok || f.Size != 80 {
		t.Errorf("A3_EMAIL = %+v", f)
	}
	if got := CRMIDField().Column(); got.Name != "C5_XCRMID" || got.Width != 24 {
		t.Errorf("CRMIDField column = %+v", got)
	}
	if m := ItemsOf("000123"); len(m) != 1 || m[0].Column != "C6_NUM" || m[0].Value != "000123" || m[0].Values != nil {
		t.Errorf("ItemsOf = %+v", m)
	}
}

func TestItemCode(t *testing.T) {
	for n, want := range map[int]string{1: "01", 9: "09", 99: "99", 100: "9A", 125: "9Z", 126: "A0", 135: "A9", 136: "AA", MaxOrderItems: "ZZ"} {
		if got, err := ItemCode(n); err != nil || got != want {
			t.Errorf("ItemCode(%d) = %q, %v; want %q", n, got, err, want)
		}
	}
	for _, n := range []int{0, -1, MaxOrderItems + 1} {
		if _, err := ItemCode(n); err == nil {
			t.Errorf("ItemCode(%d) succeeded", n)
		}
	}
	seen := map[string]bool{}
	for n := 1; n <= MaxOrderItems; n++ {
		code, _ := ItemCode(n)
		if seen[code] || len(code) != 2 {
			t.Fatalf("ItemCode(%d) = %q repeats or has the wrong width", n, code)
		}
		seen[code] = true
	}
}
