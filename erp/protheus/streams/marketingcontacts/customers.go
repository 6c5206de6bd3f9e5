package marketingcontacts

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/shopspring/decimal"

	"github.com/erpbridge/erpbridge/bridge/cache"
	"github.com/erpbridge/erpbridge/erp"
	"github.com/erpbridge/erpbridge/erp/protheus"
	"github.com/erpbridge/erpbridge/erp/protheus/streams"
)

// maxCustomerOrders bounds the orders one customer's figures read.
const maxCustomerOrders = 5000

// linksPerRecord bounds the AC8 rows read for one contact or customer.
const linksPerRecord = 1000

// Customers reads what Marketing gets to know of a customer: its SA1 row,
// and its sales figures from its invoiced orders (SC5/SC6): the last
// purchase, the total bought in the last 12 months, whether it is a client
// (an invoiced sale at all). The invoices themselves (SF2/SD2, net of
// returns in SD1) are not read: an invoiced order's total is its items'
// values (C6_VALOR), what the orders stream calls total = "order".
type Customers struct {
	SA1, SC5, SC6, AC8 erp.Source
	// CustomerFilial is SA1's filial (blank: shared), as AC8_FILENT names it.
	CustomerFilial string
	// ContactFilial is SU5's, for the contact keys AC8 gives.
	ContactFilial string
	Now           func() time.Time

	figures cache.TTL[string, Figures]
}

// Figures are a customer's sales as Marketing gets them.
type Figures struct {
	// LastPurchase is the issue date of its newest invoiced order (zero:
	// none).
	LastPurchase time.Time
	// Bought12M is the total of its orders invoiced and issued in the last
	// 12 months.
	Bought12M decimal.Decimal
	// Client: it has an invoiced sale.
	Client bool
	// Sales counts its invoiced orders.
	Sales int
}

// Columns are the figures as mapping columns.
func (f Figures) Columns() map[string]any {
	var last any
	if !f.LastPurchase.IsZero() {
		last = f.LastPurchase
	}
	return map[string]any{"LAST_PURCHASE": last, "BOUGHT_12M": f.Bought12M, "CLIENT": f.Client, "SALES": int64(f.Sales)}
}

// CustomerKey is the SA1 key of a customer code and store.
func (c *Customers) CustomerKey(cod, loja string) string {
	return erp.JoinKey(c.CustomerFilial, strings.TrimSpace(cod), strings.TrimSpace(loja))
}

// Invoiced reports whether an order counts as a sale: invoiced, or
// partially invoiced (what was delivered was sold).
func Invoiced(s protheus.Status) bool {
	return s == protheus.StatusInvoiced || s == protheus.StatusPartiallyInvoiced
}

// OrderTotal is an order's value: its live items' C6_VALOR (quantity ×
// price to the cent where the column is empty).
func OrderTotal(items []erp.Record) decimal.Decimal {
	var total decimal.Decimal
	for _, it := range items {
		if it.Deleted {
			continue
		}
		v, ok := it.Fields["C6_VALOR"].(decimal.Decimal)
		if !ok {
			q, _ := it.Fields["C6_QTDVEN"].(decimal.Decimal)
			p, _ := it.Fields["C6_PRCVEN"].(decimal.Decimal)
			v = q.Mul(p).Round(2)
		}
		total = total.Add(v)
	}
	return total
}

// Items reads an order's SC6 items.
func (c *Customers) Items(ctx context.Context, num string) ([]erp.Record, error) {
	return c.SC6.Find(ctx, protheus.ItemsOf(num), protheus.MaxOrderItems+1)
}

// Figures computes a customer's figures (cached for a minute: a page of
// contacts shares its customers).
func (c *Customers) Figures(ctx context.Context, cod, loja string) (Figures, error) {
	key := c.CustomerKey(cod, loja)
	return c.figures.Get(key, func() (Figures, error) {
		orders, err := c.SC5.Find(ctx, protheus.OrdersOf(strings.TrimSpace(cod), strings.TrimSpace(loja)), maxCustomerOrders)
		if err != nil {
			return Figures{}, fmt.Errorf("reading the orders of customer %s: %w", key, err)
		}
		var f Figures
		since := c.Now().AddDate(-1, 0, 0)
		for _, o := range orders {
			if o.Deleted || strings.TrimSpace(streams.Str(o, "C5_TIPO")) != protheus.TypeNormal {
				continue
			}
			items, err := c.Items(ctx, strings.TrimSpace(streams.Str(o, "C5_NUM")))
			if err != nil {
				return Figures{}, fmt.Errorf("reading the items of order %s: %w", o.Key, err)
			}
			if !Invoiced(protheus.OrderStatus(o, items)) {
				continue
			}
			f.Client = true
			f.Sales++
			issued, _ := o.Fields["C5_EMISSAO"].(time.Time)
			if issued.After(f.LastPurchase) {
				f.LastPurchase = issued
			}
			if !issued.Before(since) {
				f.Bought12M = f.Bought12M.Add(OrderTotal(items))
			}
		}
		return f, nil
	})
}

// Customer reads a live customer by key; ok is false when SA1 has no live
// row for it.
func (c *Customers) Customer(ctx context.Context, key string) (erp.Record, bool, error) {
	r, ok, err := c.SA1.Lookup(ctx, key)
	if err != nil || !ok || r.Deleted {
		return erp.Record{}, false, err
	}
	return r, true, nil
}

// CustomersOfContact lists the SA1 keys a contact (U5_CODCONT) is linked
// to through AC8, in the links' record order.
func (c *Customers) CustomersOfContact(ctx context.Context, codcont string, page *streams.PageRows) ([]string, error) {
	read := func() ([]erp.Record, error) {
		return c.AC8.Find(ctx, protheus.LinksOfContact(codcont), linksPerRecord)
	}
	links, err := read()
	if page != nil {
		links, err = page.Find(codcont, read)
	}
	if err != nil {
		return nil, fmt.Errorf("reading the AC8 links of contact %s: %w", codcont, err)
	}
	width := 6
	if f, ok := protheus.Lookup("SA1", "A1_COD"); ok {
		width = f.Size
	}
	var out []string
	for _, l := range links {
		if l.Deleted || strings.TrimSpace(streams.Str(l, "AC8_ENTIDA")) != "SA1" {
			continue
		}
		ent := streams.Str(l, "AC8_CODENT")
		if len(ent) < width {
			continue
		}
		key := erp.JoinKey(streams.Str(l, "AC8_FILENT"), strings.TrimSpace(ent[:width]), strings.TrimSpace(ent[width:]))
		if !slices.Contains(out, key) {
			out = append(out, key)
		}
	}
	return out, nil
}

// ContactsOfCustomer lists the SU5 keys linked to a customer through AC8,
// in the links' record order (the first is its primary contact).
func (c *Customers) ContactsOfCustomer(ctx context.Context, cod, loja string) ([]string, error) {
	links, err := c.AC8.Find(ctx, protheus.LinksOfCustomer(c.CustomerFilial, cod, loja), linksPerRecord)
	if err != nil {
		return nil, fmt.Errorf("reading the AC8 links of customer %s: %w", c.CustomerKey(cod, loja), err)
	}
	var out []string
	for _, l := range links {
		if l.Deleted {
			continue
		}
		key := erp.JoinKey(c.ContactFilial, strings.TrimSpace(streams.Str(l, "AC8_CODCON")))
		if !slices.Contains(out, key) {
			out = append(out, key)
		}
	}
	return out, nil
}
