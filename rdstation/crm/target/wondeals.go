package target

import (
	"context"
	"iter"
	"strings"
	"time"

	"github.com/erpbridge/erpbridge/bridge/inbound"
	"github.com/erpbridge/erpbridge/rdstation/crm"
)

// ZoneMargin widens every won-deal listing window on both sides: RD Station
// reads start_date and end_date in the account's time zone, which the
// bridge does not know, and no zone is more than 14 hours from UTC.
const ZoneMargin = 14 * time.Hour

// WonDeals is RD Station CRM as the won-deal poller sees it.
type WonDeals struct {
	C *crm.Client
	// NumberFieldID is the deal custom field holding the ERP order number
	// ("" when none: SetOrderNumber is then not called).
	NumberFieldID string
}

var _ inbound.CRM = WonDeals{}

// WonDeals implements inbound.CRM: GET /deals?win=true&closed_at_period=…
// by closed_at, ascending; a listing capped at 10,000 deals ends with an
// error wrapping bridge.ErrListingCapped.
func (w WonDeals) WonDeals(ctx context.Context, from, to time.Time) iter.Seq2[inbound.Deal, error] {
	q := crm.DealQuery{Win: crm.Won, Period: crm.PeriodClosedAt, Start: from, End: to, Order: "closed_at", Direction: "asc"}
	return func(yield func(inbound.Deal, error) bool) {
		for d, err := range w.C.Deals(ctx, q) {
			if err != nil {
				yield(inbound.Deal{}, classify(err))
				return
			}
			if !yield(w.deal(d), nil) {
				return
			}
		}
	}
}

// Deal implements inbound.CRM.
func (w WonDeals) Deal(ctx context.Context, id string) (inbound.Deal, error) {
	d, err := w.C.GetDeal(ctx, id)
	if err != nil {
		return inbound.Deal{}, classify(err)
	}
	return w.deal(d), nil
}

func (w WonDeals) deal(d crm.Deal) inbound.Deal {
	out := inbound.Deal{ID: d.ID, Name: d.Name, Won: d.Win != nil && *d.Win}
	if t, err := time.Parse(time.RFC3339Nano, d.ClosedAt); err == nil {
		out.ClosedAt = t
	}
	if d.Organization != nil {
		out.OrganizationID, out.OrganizationName = d.Organization.ID, d.Organization.Name
	}
	if d.User != nil {
		out.OwnerID = d.User.ID
	}
	switch {
	case d.Stage != nil && d.Stage.DealPipelineID != "":
		out.PipelineID = d.Stage.DealPipelineID
	case d.Pipeline != nil:
		out.PipelineID = d.Pipeline.ID
	}
	if d.Pipeline != nil {
		out.PipelineName = d.Pipeline.Name
	}
	if d.Stage != nil {
		out.StageID = d.Stage.ID
	}
	if w.NumberFieldID != "" {
		if v, ok := crm.FieldValue(d.CustomFields, w.NumberFieldID); ok {
			out.OrderNumber = strings.TrimSpace(v.Text())
		}
	}
	return out
}

// Lines implements inbound.CRM: the deal's products, the quantity from
// amount_decimal when the CRM gives it, a discount percent in either of
// the API's spellings.
func (w WonDeals) Lines(ctx context.Context, dealID string) ([]inbound.Line, error) {
	dps, err := w.C.ListDealProducts(ctx, dealID)
	if err != nil {
		return nil, classify(err)
	}
	out := make([]inbound.Line, len(dps))
	for i, l := range dps {
		qty := l.AmountDecimal.Decimal
		if qty.IsZero() {
			qty = l.Amount.Decimal
		}
		out[i] = inbound.Line{ProductID: l.ProductID, Name: l.Name, Quantity: qty, Price: l.Price.Decimal,
			Discount: l.Discount.Decimal, DiscountPercent: isPercent(l.DiscountType)}
	}
	return out, nil
}

// isPercent reports a percentage discount type: both spellings are in use.
func isPercent(discountType string) bool {
	return discountType == crm.DiscountPercent || discountType == "percentage"
}

// SetOrderNumber implements inbound.CRM.
func (w WonDeals) SetOrderNumber(ctx context.Context, dealID, number string) error {
	_, err := w.C.UpdateDeal(ctx, dealID, crm.DealUpdate{
		CustomFields: []crm.CustomFieldValue{{CustomFieldID: w.NumberFieldID, Value: number}},
	})
	return classify(err)
}

// Note implements inbound.CRM.
func (w WonDeals) Note(ctx context.Context, dealID, text string) error {
	_, err := w.C.CreateDealNote(ctx, dealID, text)
	return classify(err)
}
