package target

import (
	"context"
	"fmt"
	"iter"
	"strings"
	"time"

	"github.com/erpbridge/erpbridge/bridge/component"
	"github.com/erpbridge/erpbridge/bridge/inbound"
	crmv2 "github.com/erpbridge/erpbridge/rdstation/crm/v2"
)

// WonDealsV2 is RD Station CRM API v2 as the won-deal poller sees it: won
// deals by `status:won closed_at:…` in UTC, read past the 10,000-record
// cap (crmv2.Client.WonDealsBetween), so no window is cut short.
type WonDealsV2 struct {
	C *crmv2.Client
	// NumberSlug is the slug of the deal custom field holding the ERP
	// order number ("" when none).
	NumberSlug string
}

var _ inbound.CRM = WonDealsV2{}

// WonDeals implements inbound.CRM.
func (w WonDealsV2) WonDeals(ctx context.Context, from, to time.Time) iter.Seq2[inbound.Deal, error] {
	return func(yield func(inbound.Deal, error) bool) {
		for d, err := range w.C.WonDealsBetween(ctx, from, to) {
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
func (w WonDealsV2) Deal(ctx context.Context, id string) (inbound.Deal, error) {
	d, err := w.C.Deal(ctx, id)
	if err != nil {
		return inbound.Deal{}, classify(err)
	}
	return w.deal(d), nil
}

// deal maps a v2 deal; v2 names no organization or pipeline, only ids.
func (w WonDealsV2) deal(d crmv2.Deal) inbound.Deal {
	out := inbound.Deal{ID: d.ID, Name: d.Name, Won: d.Status == crmv2.StatusWon, OrganizationID: d.OrganizationID,
		OwnerID: d.OwnerID, PipelineID: d.PipelineID, StageID: d.StageID}
	if d.ClosedAt != nil {
		out.ClosedAt = *d.ClosedAt
	}
	if w.NumberSlug != "" {
		if v, ok := d.CustomFields[w.NumberSlug].(string); ok {
			out.OrderNumber = strings.TrimSpace(v)
		}
	}
	return out
}

// Lines implements inbound.CRM.
func (w WonDealsV2) Lines(ctx context.Context, dealID string) ([]inbound.Line, error) {
	dps, err := w.C.DealProducts(ctx, dealID)
	if err != nil {
		return nil, classify(err)
	}
	out := make([]inbound.Line, len(dps))
	for i, l := range dps {
		line := inbound.Line{ProductID: l.ProductID, DiscountPercent: l.DiscountType == crmv2.DiscountPercentage}
		if l.Quantity != nil {
			line.Quantity = l.Quantity.Decimal
		}
		if l.Price != nil {
			line.Price = l.Price.Decimal
		}
		if l.Discount != nil {
			line.Discount = l.Discount.Decimal
		}
		out[i] = line
	}
	return out, nil
}

// SetOrderNumber implements inbound.CRM.
func (w WonDealsV2) SetOrderNumber(ctx context.Context, dealID, number string) error {
	_, err := w.C.UpdateDeal(ctx, dealID, crmv2.Deal{CustomFields: map[string]any{w.NumberSlug: number}})
	return classify(err)
}

// Note implements inbound.CRM.
func (w WonDealsV2) Note(ctx context.Context, dealID, text string) error {
	return classify(w.C.CreateNote(ctx, dealID, text))
}

// The won-deal side of SystemV2 (component.DealCRM). The orders stream
// (deals written from ERP orders) is not on v2 yet: Target("deal") says so.

var _ component.DealCRM = (*SystemV2)(nil)

// Pipelines implements component.DealCRM. Whether a won deal is copied to
// another pipeline is not in v2's pipeline: CopyUnknown.
func (s *SystemV2) Pipelines(ctx context.Context) ([]component.Pipeline, error) {
	var out []component.Pipeline
	for p, err := range s.C.Pipelines(ctx) {
		if err != nil {
			return nil, fmt.Errorf("reading CRM pipelines: %w", classify(err))
		}
		cp := component.Pipeline{ID: p.ID, Name: p.Name, CopyUnknown: true}
		for st, err := range s.C.Stages(ctx, p.ID) {
			if err != nil {
				return nil, fmt.Errorf("reading the stages of CRM pipeline %q: %w", p.Name, classify(err))
			}
			cp.Stages = append(cp.Stages, component.Named{ID: st.ID, Name: st.Name})
		}
		out = append(out, cp)
	}
	return out, nil
}

// LostReasons implements component.DealCRM.
func (s *SystemV2) LostReasons(ctx context.Context) ([]component.Named, error) {
	var out []component.Named
	for lr, err := range s.C.LostReasons(ctx) {
		if err != nil {
			return nil, fmt.Errorf("reading CRM lost reasons: %w", classify(err))
		}
		out = append(out, component.Named{ID: lr.ID, Name: lr.Name})
	}
	return out, nil
}

func (s *SystemV2) user(ctx context.Context, f crmv2.Filter) (crmv2.User, error) {
	for u, err := range s.C.Users(ctx, crmv2.Query{Filter: f, PageSize: 1}) {
		if err != nil {
			return crmv2.User{}, fmt.Errorf("reading CRM users: %w", classify(err))
		}
		return u, nil
	}
	return crmv2.User{}, nil
}

// UserByEmail implements component.DealCRM.
func (s *SystemV2) UserByEmail(ctx context.Context, email string) (string, error) {
	u, err := s.user(ctx, crmv2.Eq(crmv2.FieldEmail, email))
	return u.ID, err
}

// UserEmail implements component.DealCRM.
func (s *SystemV2) UserEmail(ctx context.Context, id string) (string, error) {
	u, err := s.user(ctx, crmv2.Eq(crmv2.FieldID, id))
	return u.Email, err
}

// ProductNamed implements component.DealCRM: one filtered request.
func (s *SystemV2) ProductNamed(ctx context.Context, name string) (string, error) {
	for p, err := range s.C.Products(ctx, crmv2.Query{Filter: crmv2.Eq(crmv2.FieldName, strings.TrimSpace(name)), PageSize: 1}) {
		if err != nil {
			return "", fmt.Errorf("reading CRM products: %w", classify(err))
		}
		return p.ID, nil
	}
	return "", nil
}

// OrganizationField implements component.DealCRM (fieldID is the slug).
func (s *SystemV2) OrganizationField(ctx context.Context, orgID, fieldID string) (string, error) {
	o, err := s.C.Organization(ctx, orgID)
	if err != nil {
		return "", fmt.Errorf("reading organization %s: %w", orgID, classify(err))
	}
	v, _ := o.CustomFields[fieldID].(string)
	return v, nil
}

// WonDeals implements component.DealCRM.
func (s *SystemV2) WonDeals(numberFieldID string) inbound.CRM {
	return WonDealsV2{C: s.C, NumberSlug: numberFieldID}
}

// ZoneMargin implements component.DealCRM: v2 filters in UTC.
func (*SystemV2) ZoneMargin() time.Duration { return 0 }
