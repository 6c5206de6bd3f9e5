package protheus

import (
	"slices"
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

// TestOrderItemPrecision: quantities and unit prices keep what the ERP
// stored (2.375 kg, 10.005, 0.3333333) and lose the float noise; values
// keep the cent.
func TestOrderItemPrecision(t *testing.T) {
	spec, err := OrderItems("01", "01")
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]int{"C6_QTDVEN": StoredDecimals, "C6_PRCVEN": StoredDecimals, "C6_PRUNIT": StoredDecimals, "C6_QTDENT": StoredDecimals, "C6_VALOR": 2}
	for _, c := range spec.Columns {
		if d, ok := want[c.Name]; ok && c.Decimals != d {
			t.Errorf("%s is read with %d decimals, want %d", c.Name, c.Decimals, d)
		}
		delete(want, c.Name)
	}
	if len(want) > 0 {
		t.Errorf("SC6 spec lacks %v", want)
	}
	for raw, read := range map[float64]string{2.375: "2.375", 10.005: "10.005", 0.3333333: "0.3333333", 19.990000000000002: "19.99", 0.1 + 0.2: "0.3"} {
		got, err := sqlerp.Convert(sqlerp.ColumnSpec{Name: "C6_QTDVEN", Kind: sqlerp.KindNumber, Decimals: StoredDecimals}, raw)
		if err != nil || got.(decimal.Decimal).String() != read {
			t.Errorf("FLOAT %v reads %v (%v), want %s", raw, got, err, read)
		}
	}
}

// TestOptionalOrderFields: every optional field is a standard one of its
// table, and none is a field the orders stream needs.
func TestOptionalOrderFields(t *testing.T) {
	needed := []string{"C5_FILIAL", "C5_NUM", "C5_TIPO", "C5_CLIENTE", "C5_LOJACLI", "C5_VEND1", "C5_EMISSAO", "C5_LIBEROK",
		"C5_NOTA", "C5_BLQ", "C6_FILIAL", "C6_NUM", "C6_ITEM", "C6_PRODUTO", "C6_QTDVEN", "C6_PRCVEN", "C6_VALOR", "C6_QTDENT"}
	for _, alias := range []string{"SC5", "SC6"} {
		opt := OptionalOrderFields(alias)
		if len(opt) == 0 {
			t.Fatalf("%s has no optional fields", alias)
		}
		for _, o := range opt {
			if _, ok := Lookup(alias, o.Name); !ok {
				t.Errorf("%s: optional %s is not a standard field", alias, o.Name)
			}
			if slices.Contains(needed, o.Name) {
				t.Errorf("%s: %s is needed, not optional", alias, o.Name)
			}
		}
	}
	for _, name := range []string{"C6_DESCONT", "C6_VALDESC", "C6_OPER", "C6_PEDCLI"} {
		if !slices.ContainsFunc(OptionalOrderFields("SC6"), func(o Optional) bool { return o.Name == name }) {
			t.Errorf("%s is not optional", name)
		}
	}
}
