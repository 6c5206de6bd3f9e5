package restsim

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/erpbridge/erpbridge/erp"
	"github.com/erpbridge/erpbridge/erp/protheus/fixture"
	"github.com/erpbridge/erpbridge/erp/sqlerp"
)

// FixtureOrders is an OrderStore writing SC5/SC6 rows into a fixture
// database (as MATA410 would, numbering with the next C5_NUM) and finding
// a deal's order by C5_XCRMID, so created orders show up on GET /orders.
type FixtureOrders struct {
	fx     fixture.ERP
	orders *sqlerp.Source // SC5 with C5_XCRMID
}

var _ OrderStore = (*FixtureOrders)(nil)

// NewFixtureOrders returns a FixtureOrders over fx; orders must read SC5
// including the C5_XCRMID column.
func NewFixtureOrders(fx fixture.ERP, orders *sqlerp.Source) *FixtureOrders {
	return &FixtureOrders{fx: fx, orders: orders}
}

// defaultOrders picks FixtureOrders when the orders route has C5_XCRMID.
func (s *Sim) defaultOrders(db *sql.DB, d sqlerp.Dialect) OrderStore {
	rt := s.routes["orders"]
	if rt == nil {
		return NewMemoryOrders()
	}
	for _, c := range rt.src.Spec().Columns {
		if c.Name == "C5_XCRMID" {
			return NewFixtureOrders(fixture.ERP{DB: db, Kind: fixture.Kind(d.Name())}, rt.src)
		}
	}
	return NewMemoryOrders()
}

// OrderOfDeal implements OrderStore.
func (f *FixtureOrders) OrderOfDeal(ctx context.Context, dealID string) (string, bool, error) {
	recs, err := f.orders.Find(ctx, []erp.Match{{Column: "C5_XCRMID", Value: dealID}}, 10)
	if err != nil {
		return "", false, fmt.Errorf("finding the order of deal %s: %w", dealID, err)
	}
	for _, r := range recs {
		if !r.Deleted {
			num, _ := r.Fields["C5_NUM"].(string)
			return num, true, nil
		}
	}
	return "", false, nil
}

// CreateOrder implements OrderStore.
func (f *FixtureOrders) CreateOrder(ctx context.Context, o Order) (string, error) {
	n := fixture.NewOrder{
		Customer: o.Customer, Loja: o.Store, Seller: o.Seller, PaymentTerms: o.PaymentTerms,
		PriceTable: o.PriceTable, CRMID: o.DealID,
	}
	for _, it := range o.Items {
		n.Items = append(n.Items, fixture.NewOrderItem{Product: it.Product, Description: it.Description, TES: it.TES, Qty: it.Quantity, Price: it.UnitPrice})
	}
	num, err := f.fx.AddOrder(ctx, n)
	if err != nil {
		return "", fmt.Errorf("creating the order of deal %s: %w", o.DealID, err)
	}
	return num, nil
}
