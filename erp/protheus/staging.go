package protheus

import (
	"errors"
	"fmt"
	"regexp"
	"slices"

	"github.com/erpbridge/erpbridge/erp/sqlerp"
)

// StagingAliases name the order staging tables of docs/protheus.md, custom
// tables an ERP team creates for the bridge's staging sink. Like any
// Protheus table, their physical names are TableName(alias, company) and
// their fields carry the alias's FieldPrefix: header "ZB1" is ZB1010 with
// ZB1_FILIAL, ZB1_DEALID …; header "SZ7" is SZ7010 with Z7_FILIAL ….
type StagingAliases struct {
	Header string // one row per deal
	Items  string // the deal's items
}

// DefaultStagingAliases are ZB1 (header) and ZB2 (items).
var DefaultStagingAliases = StagingAliases{Header: "ZB1", Items: "ZB2"}

// aliasPattern is a Protheus table alias (SX2 X2_CHAVE): three characters,
// a letter first.
var aliasPattern = regexp.MustCompile(`^[A-Z][A-Z0-9]{2}$`)

// Validate checks both aliases without I/O: three upper-case letters or
// digits (a letter first), different from each other and from the standard
// tables the bridge reads.
func (a StagingAliases) Validate() error {
	var errs []error
	for _, x := range []struct{ role, alias string }{{"header", a.Header}, {"items", a.Items}} {
		switch {
		case !aliasPattern.MatchString(x.alias):
			errs = append(errs, fmt.Errorf("%s alias %q: want a Protheus alias, three upper-case letters or digits starting with a letter (e.g. ZB1, SZ7)", x.role, x.alias))
		case standardFields[x.alias] != nil:
			errs = append(errs, fmt.Errorf("%s alias %q is a standard Protheus table the bridge reads", x.role, x.alias))
		}
	}
	if a.Header == a.Items && a.Header != "" {
		errs = append(errs, fmt.Errorf("header and items aliases are both %q", a.Header))
	}
	return errors.Join(errs...)
}

// Tables returns the physical header and items tables of a company.
func (a StagingAliases) Tables(company string) (header, items string) {
	return TableName(a.Header, company), TableName(a.Items, company)
}

// stagingField is one field of the staging layout, named without its prefix.
type stagingField struct {
	name     string // after the prefix: FILIAL, DEALID …
	typ      Type
	size     int
	decimals int
}

// The staging layout (docs/protheus.md, "The staging tables"): the sink
// writes the header's fields but TENTAT, DTPROC and HRPROC (the ERP job's)
// and every item field.
var (
	stagingHeaderLayout = []stagingField{
		{"FILIAL", Char, 2, 0}, {"DEALID", Char, 24, 0}, {"TIPO", Char, 1, 0}, {"CLIENT", Char, 6, 0}, {"LOJA", Char, 2, 0},
		{"VEND", Char, 6, 0}, {"CONDPG", Char, 3, 0}, {"TABELA", Char, 3, 0}, {"MENNOT", Char, 60, 0},
		{"STATUS", Char, 1, 0}, {"NUMPED", Char, 6, 0}, {"ERRO", Memo, 0, 0}, {"TENTAT", Numeric, 3, 0},
		{"DTINC", Date, 8, 0}, {"HRINC", Char, 8, 0}, {"DTPROC", Date, 8, 0}, {"HRPROC", Char, 8, 0},
	}
	stagingItemsLayout = []stagingField{
		{"FILIAL", Char, 2, 0}, {"DEALID", Char, 24, 0}, {"ITEM", Char, 2, 0}, {"PRODUT", Char, 15, 0},
		{"QTDVEN", Numeric, 9, 2}, {"PRCVEN", Numeric, 11, 2}, {"PRUNIT", Numeric, 11, 2}, {"VALOR", Numeric, 12, 2},
		{"TES", Char, 3, 0}, {"OPER", Char, 2, 0},
	}
	// The unique keys (filial first) and the ERP job's queue order.
	stagingHeaderKey   = []string{"FILIAL", "DEALID"}
	stagingItemsKey    = []string{"FILIAL", "DEALID", "ITEM"}
	stagingHeaderQueue = []string{"FILIAL", "STATUS"}
	// stagingJobOnly are the header fields only the ERP job writes.
	stagingJobOnly = []string{"TENTAT", "DTPROC", "HRPROC"}
)

func layoutFields(alias string, layout []stagingField) []Field {
	out := make([]Field, len(layout))
	for i, f := range layout {
		out[i] = Field{Name: FieldName(alias, f.name), Type: f.typ, Size: f.size, Decimals: f.decimals}
	}
	return out
}

func fieldNames(alias string, names []string) []string {
	out := make([]string, len(names))
	for i, n := range names {
		out[i] = FieldName(alias, n)
	}
	return out
}

// StagingHeaderFields returns the fields of a staging header table named
// alias, filial first. Besides them each staging table has the DBAccess
// control columns and the change stamp.
func StagingHeaderFields(alias string) []Field { return layoutFields(alias, stagingHeaderLayout) }

// StagingItemsFields returns the fields of a staging items table named alias.
func StagingItemsFields(alias string) []Field { return layoutFields(alias, stagingItemsLayout) }

// StagingHeaderKey is the header's unique key (with R_E_C_D_E_L_): filial, deal id.
func StagingHeaderKey(alias string) []string { return fieldNames(alias, stagingHeaderKey) }

// StagingItemsKey is the items' unique key (with R_E_C_D_E_L_): filial, deal id, item.
func StagingItemsKey(alias string) []string { return fieldNames(alias, stagingItemsKey) }

// StagingHeaderQueue is the header index the ERP job reads its queue by.
func StagingHeaderQueue(alias string) []string { return fieldNames(alias, stagingHeaderQueue) }

// Staging status codes (the header's STATUS field).
const (
	StagingWaiting    = "0" // written by the bridge, not yet picked up
	StagingProcessing = "1" // claimed by the ERP job
	StagingDone       = "2" // order created: NUMPED holds C5_NUM
	StagingError      = "3" // rejected: ERRO holds the reason
)

// Staging returns the sqlerp spec of the staging tables a (TableName of
// each for company, e.g. ZB1010/ZB2010 for "01"), written for one filial
// (SC5's): character fields at their layout widths, STATUS '0' waiting,
// '1' processing, '2' done, '3' error, items numbered like C6_ITEM
// (ItemCode) and the DBAccess control columns. Validate a first.
func Staging(company, filial string, a StagingAliases) sqlerp.StagingSpec {
	col := func(alias, name string, layout []stagingField) sqlerp.StagingColumn {
		for _, f := range layout {
			if f.name == name {
				c := sqlerp.StagingColumn{Name: FieldName(alias, name), Width: f.size, Decimals: f.decimals}
				if f.typ == Memo {
					c.Width = 0
				}
				return c
			}
		}
		panic("staging layout has no field " + name)
	}
	h := func(name string) sqlerp.StagingColumn { return col(a.Header, name, stagingHeaderLayout) }
	it := func(name string) sqlerp.StagingColumn { return col(a.Items, name, stagingItemsLayout) }
	header, items := a.Tables(company)
	var job []sqlerp.ColumnSpec
	for _, f := range StagingHeaderFields(a.Header) {
		if slices.Contains(fieldNames(a.Header, stagingJobOnly), f.Name) {
			job = append(job, f.Column())
		}
	}
	return sqlerp.StagingSpec{
		Header: sqlerp.StagingHeader{
			Table:  header,
			Filial: h("FILIAL"), DealID: h("DEALID"), OrderType: h("TIPO"), Customer: h("CLIENT"), Store: h("LOJA"),
			Seller: h("VEND"), PaymentTerms: h("CONDPG"), PriceTable: h("TABELA"), Message: h("MENNOT"),
			Status: h("STATUS"), OrderNumber: h("NUMPED"), Error: h("ERRO"), CreatedDate: h("DTINC"), CreatedTime: h("HRINC"),
		},
		Items: sqlerp.StagingItems{
			Table:  items,
			Filial: it("FILIAL"), DealID: it("DEALID"), Item: it("ITEM"), Product: it("PRODUT"), Quantity: it("QTDVEN"),
			UnitPrice: it("PRCVEN"), ListPrice: it("PRUNIT"), Value: it("VALOR"), TES: it("TES"), Operation: it("OPER"),
		},
		Filial:          filial,
		Statuses:        sqlerp.StagingStatuses{Waiting: StagingWaiting, Processing: StagingProcessing, Done: StagingDone, Error: StagingError},
		ItemCode:        ItemCode,
		RecnoColumn:     RecnoColumn,
		DeletedColumn:   DeletedColumn,
		RecDelColumn:    RecDelColumn,
		JobColumns:      job,
		OptionalColumns: []string{StampColumn, InsDtColumn},
	}
}
