package protheus

import "github.com/erpbridge/erpbridge/erp/sqlerp"

// Staging aliases: the order staging tables of docs/protheus.md, custom
// tables an ERP team creates for the bridge's staging sink.
const (
	StagingHeaderAlias = "ZB1" // one row per deal
	StagingItemsAlias  = "ZB2" // the deal's items
)

// Staging returns the sqlerp spec of the ZB1/ZB2 staging tables of a
// company (ZB1010/ZB2010 for "01"), written for one filial (SC5's):
// character fields at their dictionary widths, ZB1_STATUS '0' waiting, '1'
// processing, '2' done, '3' error, items numbered like C6_ITEM (ItemCode)
// and the DBAccess control columns.
func Staging(company, filial string) sqlerp.StagingSpec {
	ch := func(name string, width int) sqlerp.StagingColumn {
		return sqlerp.StagingColumn{Name: name, Width: width}
	}
	num := func(name string, size, dec int) sqlerp.StagingColumn {
		return sqlerp.StagingColumn{Name: name, Width: size, Decimals: dec}
	}
	return sqlerp.StagingSpec{
		Header: sqlerp.StagingHeader{
			Table:  TableName(StagingHeaderAlias, company),
			Filial: ch("ZB1_FILIAL", 2), DealID: ch("ZB1_DEALID", 24), OrderType: ch("ZB1_TIPO", 1),
			Customer: ch("ZB1_CLIENT", 6), Store: ch("ZB1_LOJA", 2), Seller: ch("ZB1_VEND", 6),
			PaymentTerms: ch("ZB1_CONDPG", 3), PriceTable: ch("ZB1_TABELA", 3), Message: ch("ZB1_MENNOT", 60),
			Status: ch("ZB1_STATUS", 1), OrderNumber: ch("ZB1_NUMPED", 6), Error: ch("ZB1_ERRO", 0),
			CreatedDate: ch("ZB1_DTINC", 8), CreatedTime: ch("ZB1_HRINC", 8),
		},
		Items: sqlerp.StagingItems{
			Table:  TableName(StagingItemsAlias, company),
			Filial: ch("ZB2_FILIAL", 2), DealID: ch("ZB2_DEALID", 24), Item: ch("ZB2_ITEM", 2),
			Product: ch("ZB2_PRODUT", 15), Quantity: num("ZB2_QTDVEN", 9, 2), UnitPrice: num("ZB2_PRCVEN", 11, 2),
			ListPrice: num("ZB2_PRUNIT", 11, 2), Value: num("ZB2_VALOR", 12, 2), TES: ch("ZB2_TES", 3),
			Operation: ch("ZB2_OPER", 2),
		},
		Filial:        filial,
		Statuses:      sqlerp.StagingStatuses{Waiting: "0", Processing: "1", Done: "2", Error: "3"},
		ItemCode:      ItemCode,
		RecnoColumn:   RecnoColumn,
		DeletedColumn: DeletedColumn,
		RecDelColumn:  RecDelColumn,
	}
}
