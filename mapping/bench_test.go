package mapping

import (
	"testing"
	"time"

	"github.com/shopspring/decimal"
)

func BenchmarkApplyCustomer(b *testing.B) {
	m, err := compile(customerSpec("CNPJ"), testCatalog)
	if err != nil {
		b.Fatal(err)
	}
	rec := map[string]any{"A1_COD": "000001", "A1_LOJA": "01", "A1_NOME": "ACME INDUSTRIA E COMERCIO LTDA", "A1_END": "AV PAULISTA, 1000",
		"A1_COMPLEM": "CONJ 101", "A1_BAIRRO": "BELA VISTA", "A1_MUN": "SAO PAULO", "A1_EST": "SP", "A1_CEP": "01310100",
		"A1_CGC": "11222333000181", "A1_LC": decimal.RequireFromString("50000"), "A1_DTCAD": time.Date(2024, 1, 15, 0, 0, 0, 0, time.UTC)}
	b.ReportAllocs()
	for b.Loop() {
		if res, _ := m.Apply("000001|01", rec); len(res.Errors) > 0 {
			b.Fatal(res.Errors)
		}
	}
}
