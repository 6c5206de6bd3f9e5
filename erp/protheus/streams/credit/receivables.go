package credit

import (
	"fmt"

	"github.com/erpbridge/erpbridge/erp/protheus"
	"github.com/erpbridge/erpbridge/erp/sqlerp"
)

type sqlColumn = sqlerp.ColumnSpec

// The SE1 (Contas a Receber) fields the stream reads, sized as the P12
// dictionary has them (widths are read again from the catalog at run
// time). The unique key (SIX order 1) is E1_FILIAL + E1_PREFIXO + E1_NUM +
// E1_PARCELA + E1_TIPO.
var (
	receivablesKey = []string{"E1_FILIAL", "E1_PREFIXO", "E1_NUM", "E1_PARCELA", "E1_TIPO"}
	receivables    = []protheus.Field{
		char("E1_FILIAL", 2), char("E1_PREFIXO", 3), char("E1_NUM", 9), char("E1_PARCELA", 3), char("E1_TIPO", 3),
		char("E1_CLIENTE", 6), char("E1_LOJA", 2), date("E1_EMISSAO"), date("E1_VENCTO"), date("E1_VENCREA"),
		num("E1_VALOR", 17, 2), num("E1_SALDO", 17, 2), date("E1_BAIXA"),
	}
	// currencyField is optional: an install without it has one currency.
	currencyField = num("E1_MOEDA", 2, 0)
	// riskField (SA1's credit risk, A–E) is optional: blank when absent.
	riskField = char("A1_RISCO", 1)
)

func char(name string, size int) protheus.Field {
	return protheus.Field{Name: name, Type: protheus.Char, Size: size}
}
func date(name string) protheus.Field {
	return protheus.Field{Name: name, Type: protheus.Date, Size: 8}
}
func num(name string, size, dec int) protheus.Field {
	return protheus.Field{Name: name, Type: protheus.Numeric, Size: size, Decimals: dec}
}

// Receivables is SE1 (Contas a Receber) of a company, read for one filial.
func Receivables(company, filial string) (sqlerp.TableSpec, error) {
	spec := sqlerp.TableSpec{
		Physical:      protheus.TableName("SE1", company),
		KeyColumns:    receivablesKey,
		FilialColumn:  protheus.FilialField("SE1"),
		Filial:        filial,
		StampColumn:   protheus.StampColumn,
		RecnoColumn:   protheus.RecnoColumn,
		DeletedColumn: protheus.DeletedColumn,
	}
	for _, f := range append(receivables, currencyField) {
		spec.Columns = append(spec.Columns, f.Column())
	}
	if err := spec.Validate(); err != nil {
		return sqlerp.TableSpec{}, fmt.Errorf("receivables: %w", err)
	}
	return spec, nil
}
