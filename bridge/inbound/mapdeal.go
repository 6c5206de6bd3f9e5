package inbound

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/shopspring/decimal"

	"github.com/erpbridge/erpbridge/bridge"
	"github.com/erpbridge/erpbridge/erp"
)

// messageWidth is C5_MENNOTA's width: the deal name is cut to it.
const messageWidth = 60

// mapDeal builds the ERP order of a won deal. Problems are what the deal
// lacks to become an order (each names the CRM record); an error means the
// CRM or the ERP could not be read.
func (p *Poller) mapDeal(ctx context.Context, deal Deal) (erp.Order, []string, error) {
	o := p.o.Defaults
	o.DealID = deal.ID
	o.Message = cut(deal.Name, messageWidth)
	o.Items = nil
	var problems []string
	missing := func(err error, format string, args ...any) error {
		if errors.Is(err, bridge.ErrNoCounterpart) {
			problems = append(problems, fmt.Sprintf(format, args...)+": "+err.Error())
			return nil
		}
		return err
	}
	if deal.OrganizationID == "" {
		problems = append(problems, "the deal has no organization (the ERP customer)")
	} else {
		code, store, err := p.dir.Customer(ctx, deal.OrganizationID)
		if err := missing(err, "organization %q (%s)", deal.OrganizationName, deal.OrganizationID); err != nil {
			return o, nil, err
		}
		o.Customer, o.Store = code, store
	}
	if deal.OwnerID != "" {
		seller, err := p.dir.Seller(ctx, deal.OwnerID)
		if err != nil && !errors.Is(err, bridge.ErrNoCounterpart) {
			return o, nil, err
		}
		if seller != "" {
			o.Seller = seller
		}
	}
	lines, err := p.crm.Lines(ctx, deal.ID)
	if err != nil {
		return o, nil, fmt.Errorf("reading the products of deal %s: %w", deal.ID, err)
	}
	if len(lines) == 0 {
		problems = append(problems, "the deal has no products (the order's items)")
	}
	for i, l := range lines {
		code, err := p.dir.Product(ctx, l.ProductID)
		if err := missing(err, "product %q (%s)", l.Name, l.ProductID); err != nil {
			return o, nil, err
		}
		qty := l.Quantity
		if !qty.IsPositive() {
			problems = append(problems, fmt.Sprintf("product line %d (%s): quantity %s is not positive", i+1, l.Name, qty))
			continue
		}
		it := erp.OrderItem{Product: code, Quantity: qty, TES: p.o.TES, Operation: p.o.Operation}
		if p.o.UseDealPrices {
			price := netPrice(l.Price, qty, l.Discount, l.DiscountPercent)
			if price.IsNegative() {
				problems = append(problems, fmt.Sprintf("product line %d (%s): the discount exceeds the price", i+1, l.Name))
				continue
			}
			it.UnitPrice = &price
		}
		o.Items = append(o.Items, it)
	}
	return o, problems, nil
}

// netPrice is the unit price after the line's discount, to the cent: a
// percentage applies to the unit price, a value to the line as a whole.
func netPrice(price, qty, discount decimal.Decimal, percent bool) decimal.Decimal {
	switch {
	case discount.IsZero():
	case percent:
		price = price.Mul(decimal.NewFromInt(100).Sub(discount)).Div(decimal.NewFromInt(100))
	default:
		price = price.Sub(discount.Div(qty))
	}
	return price.Round(2)
}

// cut shortens s to at most n runes.
func cut(s string, n int) string {
	s = strings.TrimSpace(s)
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n])
}
