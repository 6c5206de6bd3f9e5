package protheus

import (
	"fmt"
	"strings"

	"github.com/erpbridge/erpbridge/erp"
	"github.com/erpbridge/erpbridge/erp/sqlerp"
)

// Control columns DBAccess adds to every table.
const (
	DeletedColumn = "D_E_L_E_T_"   // ' ' live, '*' soft-deleted
	RecnoColumn   = "R_E_C_N_O_"   // unique record number, the table's PK
	RecDelColumn  = "R_E_C_D_E_L_" // 0 live; the own recno once deleted
	StampColumn   = "S_T_A_M_P_"   // UTC time of the last insert/update (optional)
	InsDtColumn   = "I_N_S_D_T_"   // UTC insert time (optional)
)

// Deleted is the D_E_L_E_T_ value of a soft-deleted row.
const Deleted = "*"

// TableName returns the physical table of an alias for a company (grupo de
// empresas): TableName("SA1", "01") == "SA1010".
func TableName(alias, company string) string {
	return strings.ToUpper(alias) + company + "0"
}

// FieldPrefix returns the field prefix of an alias: a leading S is dropped
// ("SA1" → "A1", "SU5" → "U5"); other aliases keep all letters ("DA1", "AC8").
func FieldPrefix(alias string) string {
	alias = strings.ToUpper(alias)
	if len(alias) == 3 && alias[0] == 'S' {
		return alias[1:]
	}
	return alias
}

// FieldName returns prefix_name: FieldName("SA1", "COD") == "A1_COD".
func FieldName(alias, name string) string {
	return FieldPrefix(alias) + "_" + strings.ToUpper(name)
}

// FilialField is the alias's filial column ("SA1" → "A1_FILIAL").
func FilialField(alias string) string { return FieldName(alias, "FILIAL") }

// BlockedField is the alias's block flag ("SA1" → "A1_MSBLQL").
func BlockedField(alias string) string { return FieldName(alias, "MSBLQL") }

// IsBlocked reports whether an *_MSBLQL value marks the row blocked: only
// '1' does; '2' is active and legacy blank rows count as active.
func IsBlocked(msblql string) bool { return strings.TrimSpace(msblql) == "1" }

// PadFilial pads a code (a filial, possibly blank) with spaces to width.
func PadFilial(filial string, width int) string {
	if n := len(filial); n < width {
		return filial + strings.Repeat(" ", width-n)
	}
	return filial
}

// Type is a Protheus (SX3) field type.
type Type byte

// Protheus field types.
const (
	Char    Type = 'C'
	Numeric Type = 'N'
	Date    Type = 'D'
	Logical Type = 'L'
	Memo    Type = 'M'
)

// Field is one standard field as the SX3 dictionary describes it.
type Field struct {
	Name     string
	Type     Type
	Size     int
	Decimals int
}

// Column converts the field into the sqlerp column read for it.
func (f Field) Column() sqlerp.ColumnSpec {
	c := sqlerp.ColumnSpec{Name: f.Name, Decimals: f.Decimals}
	switch f.Type {
	case Numeric:
		c.Kind = sqlerp.KindNumber
	case Date:
		c.Kind, c.Width = sqlerp.KindDate, 8
	case Logical:
		c.Kind, c.Width = sqlerp.KindBool, 1
	case Memo:
		c.Kind = sqlerp.KindMemo
	default:
		c.Kind, c.Width = sqlerp.KindChar, f.Size
	}
	return c
}

// Fields returns the known standard fields of an alias (SA1, SU5, AC8, SB1,
// DA0, DA1, SC5, SC6, SA3, SF2, SF4), filial first, or nil for an unknown
// alias.
func Fields(alias string) []Field {
	return append([]Field(nil), standardFields[strings.ToUpper(alias)]...)
}

// Lookup returns one known standard field.
func Lookup(alias, name string) (Field, bool) {
	for _, f := range standardFields[strings.ToUpper(alias)] {
		if f.Name == strings.ToUpper(name) {
			return f, true
		}
	}
	return Field{}, false
}

// KeyFields returns the unique key (SIX order 1) of an alias, filial first.
func KeyFields(alias string) []string {
	return append([]string(nil), uniqueKeys[strings.ToUpper(alias)]...)
}

func c(name string, size int) Field { return Field{Name: name, Type: Char, Size: size} }
func d(name string) Field           { return Field{Name: name, Type: Date, Size: 8} }
func n(name string, size, dec int) Field {
	return Field{Name: name, Type: Numeric, Size: size, Decimals: dec}
}

var uniqueKeys = map[string][]string{
	"SA1": {"A1_FILIAL", "A1_COD", "A1_LOJA"},
	"SU5": {"U5_FILIAL", "U5_CODCONT"},
	"AC8": {"AC8_FILIAL", "AC8_ENTIDA", "AC8_FILENT", "AC8_CODENT", "AC8_CODCON"},
	"SB1": {"B1_FILIAL", "B1_COD"},
	"DA0": {"DA0_FILIAL", "DA0_CODTAB"},
	"DA1": {"DA1_FILIAL", "DA1_CODTAB", "DA1_CODPRO", "DA1_INDLOT", "DA1_ITEM"},
	"SC5": {"C5_FILIAL", "C5_NUM"},
	"SC6": {"C6_FILIAL", "C6_NUM", "C6_ITEM", "C6_PRODUTO"},
	"SA3": {"A3_FILIAL", "A3_COD"},
	"SF2": {"F2_FILIAL", "F2_DOC", "F2_SERIE", "F2_CLIENTE", "F2_LOJA", "F2_FORMUL", "F2_TIPO"},
	"SF4": {"F4_FILIAL", "F4_CODIGO"},
}

// standardFields: sizes from the P12.1.27 dictionary (erp-schemas.md §2).
// Widths are read again from the catalog at runtime, since they grow
// between releases.
var standardFields = map[string][]Field{
	"SA1": {
		c("A1_FILIAL", 2), c("A1_COD", 6), c("A1_LOJA", 2), c("A1_NOME", 40), c("A1_NREDUZ", 20),
		c("A1_PESSOA", 1), c("A1_TIPO", 1), c("A1_CGC", 14), c("A1_INSCR", 18), c("A1_END", 80),
		c("A1_COMPLEM", 50), c("A1_BAIRRO", 40), c("A1_COD_MUN", 5), c("A1_MUN", 60), c("A1_EST", 2),
		c("A1_CEP", 8), c("A1_DDD", 3), c("A1_TEL", 15), c("A1_EMAIL", 30), c("A1_CONTATO", 15),
		c("A1_VEND", 6), c("A1_COND", 3), c("A1_TABELA", 3), n("A1_LC", 14, 2), d("A1_ULTCOM"),
		d("A1_DTCAD"), c("A1_HRCAD", 5), c("A1_MSBLQL", 1),
	},
	"SU5": {
		c("U5_FILIAL", 2), c("U5_CODCONT", 6), c("U5_CONTAT", 30), c("U5_DDD", 3), c("U5_FONE", 15),
		c("U5_CELULAR", 15), c("U5_EMAIL", 60), c("U5_FUNCAO", 6), c("U5_ATIVO", 1),
	},
	"AC8": {
		c("AC8_FILIAL", 2), c("AC8_ENTIDA", 3), c("AC8_FILENT", 2), c("AC8_CODENT", 25), c("AC8_CODCON", 6),
	},
	"SB1": {
		c("B1_FILIAL", 2), c("B1_COD", 15), c("B1_DESC", 30), c("B1_TIPO", 2), c("B1_UM", 2),
		c("B1_LOCPAD", 2), c("B1_GRUPO", 4), c("B1_POSIPI", 10), n("B1_PRV1", 12, 2), c("B1_CODBAR", 15),
		c("B1_TS", 3), c("B1_MSBLQL", 1),
	},
	"DA0": {
		c("DA0_FILIAL", 2), c("DA0_CODTAB", 3), c("DA0_DESCRI", 30), c("DA0_ATIVO", 1),
	},
	"DA1": {
		c("DA1_FILIAL", 2), c("DA1_ITEM", 4), c("DA1_CODTAB", 3), c("DA1_CODPRO", 15), n("DA1_PRCVEN", 14, 2),
		c("DA1_ATIVO", 1), c("DA1_INDLOT", 6), d("DA1_DATVIG"),
	},
	"SC5": {
		c("C5_FILIAL", 2), c("C5_NUM", 6), c("C5_TIPO", 1), c("C5_CLIENTE", 6), c("C5_LOJACLI", 2),
		c("C5_CLIENT", 6), c("C5_LOJAENT", 2), c("C5_TIPOCLI", 1), c("C5_CONDPAG", 3), c("C5_TABELA", 3),
		c("C5_VEND1", 6), d("C5_EMISSAO"), n("C5_MOEDA", 2, 0), n("C5_FRETE", 12, 2), c("C5_TPFRETE", 1),
		c("C5_MENNOTA", 60), c("C5_LIBEROK", 1), c("C5_NOTA", 9), c("C5_SERIE", 3), c("C5_BLQ", 1),
	},
	"SC6": {
		c("C6_FILIAL", 2), c("C6_NUM", 6), c("C6_ITEM", 2), c("C6_PRODUTO", 15), c("C6_DESCRI", 30),
		c("C6_UM", 2), n("C6_QTDVEN", 9, 2), n("C6_PRCVEN", 11, 2), n("C6_PRUNIT", 11, 2), n("C6_VALOR", 12, 2),
		n("C6_DESCONT", 5, 2), n("C6_VALDESC", 14, 2), c("C6_TES", 3), c("C6_OPER", 2), c("C6_CF", 5),
		c("C6_LOCAL", 2), c("C6_CLI", 6), c("C6_LOJA", 2), d("C6_ENTREG"), n("C6_QTDLIB", 9, 2),
		n("C6_QTDENT", 9, 2), c("C6_NOTA", 9), c("C6_SERIE", 3), d("C6_DATFAT"), c("C6_BLQ", 2),
		c("C6_PEDCLI", 9),
	},
	"SA3": {
		c("A3_FILIAL", 2), c("A3_COD", 6), c("A3_NOME", 40), c("A3_NREDUZ", 25), c("A3_EMAIL", 80),
		c("A3_DDDTEL", 3), c("A3_TEL", 15), c("A3_CGC", 14), c("A3_TIPO", 1), c("A3_CODUSR", 6),
		c("A3_SUPER", 6), c("A3_GEREN", 6), c("A3_MSBLQL", 1),
	},
	"SF2": {
		c("F2_FILIAL", 2), c("F2_DOC", 9), c("F2_SERIE", 3), c("F2_CLIENTE", 6), c("F2_LOJA", 2), c("F2_FORMUL", 1),
		c("F2_TIPO", 1), d("F2_EMISSAO"), n("F2_VALBRUT", 14, 2), n("F2_VALMERC", 14, 2),
	},
	"SF4": {
		c("F4_FILIAL", 2), c("F4_CODIGO", 3), c("F4_TIPO", 1), c("F4_DUPLIC", 1), c("F4_ESTOQUE", 1), c("F4_TEXTO", 20),
	},
}

// CustomerStatistics are the SA1 fields among Fields("SA1") that invoicing
// and collection rewrite all day (erp-schemas.md §2): a change of them
// alone says nothing about the customer itself.
func CustomerStatistics() []string { return []string{"A1_ULTCOM"} }

// StoredDecimals is how many decimals the quantities and unit prices of
// order items are read with. Their dictionary says 2, but installs widen
// them (kilograms, metres and litres to 3 or 4, unit prices to 4 or 6 in
// SX3, which the database does not carry) and the FLOAT column holds what
// Protheus rounded them to: 8 decimals keep that value and drop the float
// noise (19.990000000000002 reads 19.99). Values (C6_VALOR) keep the
// dictionary's 2.
const StoredDecimals = 8

// storedPrecision are the fields read with StoredDecimals.
var storedPrecision = map[string]bool{
	"C6_QTDVEN": true, "C6_PRCVEN": true, "C6_PRUNIT": true, "C6_QTDLIB": true, "C6_QTDENT": true,
}

// Table builds the sqlerp spec of a standard alias for a company and the
// filial configured for that table (blank for shared tables). Extra columns
// (custom _X fields) can be appended to the result's Columns.
func Table(alias, company, filial string) (sqlerp.TableSpec, error) {
	alias = strings.ToUpper(alias)
	fields, ok := standardFields[alias]
	if !ok {
		return sqlerp.TableSpec{}, fmt.Errorf("building %s table spec: unknown alias", alias)
	}
	spec := sqlerp.TableSpec{
		Physical:      TableName(alias, company),
		KeyColumns:    KeyFields(alias),
		FilialColumn:  FilialField(alias),
		Filial:        filial,
		StampColumn:   StampColumn,
		RecnoColumn:   RecnoColumn,
		DeletedColumn: DeletedColumn,
	}
	for _, f := range fields {
		col := f.Column()
		if storedPrecision[f.Name] {
			col.Decimals = StoredDecimals
		}
		spec.Columns = append(spec.Columns, col)
	}
	if err := spec.Validate(); err != nil {
		return sqlerp.TableSpec{}, err
	}
	return spec, nil
}

// Customers is SA1 (Clientes) of a company, read for one filial.
func Customers(company, filial string) (sqlerp.TableSpec, error) {
	return Table("SA1", company, filial)
}

// Contacts is SU5 (Contatos).
func Contacts(company, filial string) (sqlerp.TableSpec, error) { return Table("SU5", company, filial) }

// ContactLinks is AC8 (Contato x Entidade); see LinksOfContact and LinksOfCustomer.
func ContactLinks(company, filial string) (sqlerp.TableSpec, error) {
	return Table("AC8", company, filial)
}

// Products is SB1 (Produtos).
func Products(company, filial string) (sqlerp.TableSpec, error) { return Table("SB1", company, filial) }

// PriceTables is DA0 (Tabela de preço, cabeçalho).
func PriceTables(company, filial string) (sqlerp.TableSpec, error) {
	return Table("DA0", company, filial)
}

// Prices is DA1 (Tabela de preço, itens); see PriceOf.
func Prices(company, filial string) (sqlerp.TableSpec, error) { return Table("DA1", company, filial) }

// LinksOfContact matches the AC8 rows of one SU5 contact (U5_CODCONT).
func LinksOfContact(codcont string) []erp.Match {
	return []erp.Match{{Column: "AC8_CODCON", Value: codcont}}
}

// LinksOfCustomer matches the AC8 rows linking contacts to one SA1 customer:
// entity 'SA1', the customer's filial (blank when SA1 is shared) and
// AC8_CODENT = A1_COD + A1_LOJA, the code padded to its standard width.
func LinksOfCustomer(customerFilial, cod, loja string) []erp.Match {
	return []erp.Match{
		{Column: "AC8_ENTIDA", Value: "SA1"},
		{Column: "AC8_FILENT", Value: customerFilial},
		{Column: "AC8_CODENT", Value: PadFilial(strings.TrimRight(cod, " "), 6) + strings.TrimRight(loja, " ")},
	}
}

// PriceOf matches the DA1 rows of one product in one price table.
func PriceOf(codtab, product string) []erp.Match {
	return []erp.Match{{Column: "DA1_CODTAB", Value: codtab}, {Column: "DA1_CODPRO", Value: product}}
}
