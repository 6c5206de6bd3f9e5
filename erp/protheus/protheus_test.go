package protheus

import (
	"slices"
	"testing"

	"github.com/erpbridge/erpbridge/erp/sqlerp"
)

func TestNames(t *testing.T) {
	tests := []struct{ got, want string }{
		{TableName("SA1", "01"), "SA1010"},
		{TableName("sa1", "99"), "SA1990"},
		{TableName("DA1", "01"), "DA1010"},
		{FieldPrefix("SA1"), "A1"},
		{FieldPrefix("SU5"), "U5"},
		{FieldPrefix("SZ1"), "Z1"},
		{FieldPrefix("DA1"), "DA1"},
		{FieldPrefix("AC8"), "AC8"},
		{FieldName("SA1", "cod"), "A1_COD"},
		{FilialField("AC8"), "AC8_FILIAL"},
		{BlockedField("SB1"), "B1_MSBLQL"},
		{PadFilial("", 2), "  "},
		{PadFilial("01", 8), "01      "},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("got %q, want %q", tt.got, tt.want)
		}
	}
}

func TestIsBlocked(t *testing.T) {
	for v, want := range map[string]bool{"1": true, "2": false, " ": false, "": false} {
		if IsBlocked(v) != want {
			t.Errorf("IsBlocked(%q) = %v", v, !want)
		}
	}
}

func TestBuilders(t *testing.T) {
	builders := map[string]func(string, string) (sqlerp.TableSpec, error){
		"SA1010": Customers, "SU5010": Contacts, "AC8010": ContactLinks,
		"SB1010": Products, "DA0010": PriceTables, "DA1010": Prices,
	}
	for table, build := range builders {
		spec, err := build("01", "  ")
		if err != nil {
			t.Fatalf("%s: %v", table, err)
		}
		if spec.Physical != table || spec.StampColumn != StampColumn || spec.RecnoColumn != RecnoColumn ||
			spec.DeletedColumn != DeletedColumn || spec.KeyColumns[0] != spec.FilialColumn {
			t.Errorf("%s: unexpected spec %+v", table, spec)
		}
	}
	spec, _ := Customers("01", "")
	var nome, lc sqlerp.ColumnSpec
	for _, c := range spec.Columns {
		switch c.Name {
		case "A1_NOME":
			nome = c
		case "A1_LC":
			lc = c
		}
	}
	if nome.Width != 40 || nome.Kind != sqlerp.KindChar || lc.Kind != sqlerp.KindNumber || lc.Decimals != 2 {
		t.Errorf("A1_NOME %+v, A1_LC %+v", nome, lc)
	}
	if _, err := Customers("0'; DROP TABLE SA1010; --", ""); err == nil {
		t.Error("an injected company code built a table spec")
	}
	if _, err := Table("SZ9", "01", ""); err == nil {
		t.Error("unknown alias built a table spec")
	}
}

func TestSection62ColumnsKnown(t *testing.T) {
	want := map[string][]string{
		"SA1": {"A1_FILIAL", "A1_COD", "A1_LOJA", "A1_NOME", "A1_NREDUZ", "A1_PESSOA", "A1_TIPO", "A1_CGC", "A1_INSCR", "A1_END", "A1_COMPLEM", "A1_BAIRRO", "A1_COD_MUN", "A1_MUN", "A1_EST", "A1_CEP", "A1_DDD", "A1_TEL", "A1_EMAIL", "A1_CONTATO", "A1_VEND", "A1_COND", "A1_TABELA", "A1_LC", "A1_ULTCOM", "A1_DTCAD", "A1_HRCAD", "A1_MSBLQL"},
		"SU5": {"U5_FILIAL", "U5_CODCONT", "U5_CONTAT", "U5_DDD", "U5_FONE", "U5_CELULAR", "U5_EMAIL", "U5_FUNCAO", "U5_ATIVO"},
		"AC8": {"AC8_FILIAL", "AC8_ENTIDA", "AC8_FILENT", "AC8_CODENT", "AC8_CODCON"},
		"SB1": {"B1_FILIAL", "B1_COD", "B1_DESC", "B1_TIPO", "B1_UM", "B1_LOCPAD", "B1_GRUPO", "B1_POSIPI", "B1_PRV1", "B1_CODBAR", "B1_TS", "B1_MSBLQL"},
		"DA1": {"DA1_FILIAL", "DA1_ITEM", "DA1_CODTAB", "DA1_CODPRO", "DA1_PRCVEN", "DA1_ATIVO", "DA1_INDLOT", "DA1_DATVIG"},
	}
	for alias, names := range want {
		var got []string
		for _, f := range Fields(alias) {
			got = append(got, f.Name)
		}
		for _, n := range names {
			if !slices.Contains(got, n) {
				t.Errorf("%s lacks %s", alias, n)
			}
		}
	}
	if f, ok := Lookup("DA1", "DA1_PRCVEN"); !ok || f.Type != Numeric || f.Decimals != 2 {
		t.Errorf("DA1_PRCVEN = %+v", f)
	}
}
