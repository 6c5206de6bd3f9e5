package protheus

import (
	"slices"
	"testing"
	"time"

	"github.com/erpbridge/erpbridge/mapping"

	"github.com/shopspring/decimal"
)

// protheusColumns are the columns of the fixture tables (erp-schemas.md §6.2) the default specs
// may read.
var protheusColumns = map[string][]string{
	"customers": {"A1_FILIAL", "A1_COD", "A1_LOJA", "A1_NOME", "A1_NREDUZ", "A1_PESSOA", "A1_TIPO", "A1_CGC", "A1_INSCR", "A1_END",
		"A1_COMPLEM", "A1_BAIRRO", "A1_COD_MUN", "A1_MUN", "A1_EST", "A1_CEP", "A1_DDD", "A1_TEL", "A1_EMAIL", "A1_CONTATO", "A1_VEND",
		"A1_COND", "A1_TABELA", "A1_LC", "A1_ULTCOM", "A1_DTCAD", "A1_HRCAD", "A1_MSBLQL"},
	"contacts": {"U5_FILIAL", "U5_CODCONT", "U5_CONTAT", "U5_DDD", "U5_FONE", "U5_CELULAR", "U5_EMAIL", "U5_FUNCAO", "U5_ATIVO"},
	"products": {"B1_FILIAL", "B1_COD", "B1_DESC", "B1_TIPO", "B1_UM", "B1_LOCPAD", "B1_GRUPO", "B1_POSIPI", "B1_PRV1", "B1_CODBAR",
		"B1_TS", "B1_MSBLQL"},
}

func TestDefaultSpecs(t *testing.T) {
	records := map[string]map[string]any{
		"customers": {"A1_FILIAL": "", "A1_COD": "000001", "A1_LOJA": "01", "A1_NOME": "ACME INDUSTRIA E COMERCIO LTDA", "A1_PESSOA": "J",
			"A1_CGC": "11222333000181", "A1_END": "AV PAULISTA, 1000", "A1_COMPLEM": "", "A1_BAIRRO": "BELA VISTA", "A1_MUN": "SAO PAULO",
			"A1_EST": "SP", "A1_CEP": "01310100", "A1_LC": decimal.RequireFromString("50000"), "A1_DTCAD": time.Date(2024, 1, 15, 0, 0, 0, 0, time.UTC)},
		"contacts": {"U5_CODCONT": "000001", "U5_CONTAT": "JOAO DA SILVA", "U5_DDD": "11", "U5_FONE": "33334444", "U5_CELULAR": "",
			"U5_EMAIL": "joao@acme.com.br", "U5_FUNCAO": "", "U5_ATIVO": "1"},
		"products": {"B1_COD": "PA0001", "B1_DESC": "PARAFUSO", "B1_PRV1": decimal.RequireFromString("15.4"), "B1_MSBLQL": "2"},
	}
	specs := DefaultSpecs()
	specs["customers"] = CustomerSpec("CNPJ")
	for stream, spec := range specs {
		t.Run(stream, func(t *testing.T) {
			m, err := mapping.Compile(spec, mapping.Schema{Entity: spec.Entity,
				Custom: mapping.CustomFieldCatalog{"CNPJ": {ID: "cf-cnpj", Type: mapping.TypeText}}})
			if err != nil {
				t.Fatal(err)
			}
			for _, c := range m.Columns() {
				if !slices.Contains(protheusColumns[stream], c) {
					t.Errorf("default %s spec reads %s, not a column of the Protheus table", stream, c)
				}
			}
			res, err := m.Apply("k", records[stream])
			if err != nil || len(res.Errors) > 0 || res.Payload["name"] == nil {
				t.Fatalf("payload %v, errors %v %v", res.Payload, err, res.Errors)
			}
		})
	}
}
