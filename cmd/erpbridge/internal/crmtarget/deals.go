package crmtarget

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/erpbridge/erpbridge/bridge"
	"github.com/erpbridge/erpbridge/rdstation/crm"
)

// Deals writes deals: the target for ERP sales orders (one deal per order).
//
// Payload contract (keys are the CRM's own field names):
//
//	name                 string  the deal name; the natural key. The name
//	                             template must carry the ERP order number
//	                             (e.g. "Pedido 000123 · ACME") so it is unique.
//	deal_stage_id        string  stage (and so pipeline); optional
//	user_id              string  owner; optional (the token's user)
//	organization_id      string  the order's customer; optional
//	deal_custom_fields   [{custom_field_id, value}] e.g. the ERP order number
//	win                  bool    true = won, false = lost; absent or null = open
//	deal_lost_reason_id  string  reason id when win is false
//	deal_lost_note       string  note when win is false
//	deal_products        [{product_id, amount, price, discount, discount_type}]
//	                     amount is the quantity. amount, price and discount
//	                     are exact decimals: give them as strings ("2.5",
//	                     "15.44") or decimal values, never as floats.
//	                     Absent leaves the deal's products alone; an empty
//	                     list removes them.
//	deal_id              string  the deal this order was made from (C5_XCRMID):
//	                             Find answers with it instead of searching.
//	link_only            bool    the deal came from the CRM (won, then made an
//	                             order): Update writes the custom fields only
//	                             and leaves name, stage, owner, products and
//	                             outcome to the salespeople.
//
// Find: exact name. Live, through GET /deals?name=…&exact_name=true; else
// from an index built by listing every deal once (a listing capped at
// 10,000 deals falls back to live lookups). The index folds case; live
// lookups are exact.
//
// Create: POST /deals with the deal fields and organization, then the
// products through the batch endpoint (≤ 100 a call), then win or lose.
// When a step after the deal's creation fails, the error names the deal and
// the deal is remembered in the index; the next attempt finds it by name
// (the engine looks up before every create) and completes it with Update.
//
// Update: PUT /deals/{id} (name, owner, organization, custom fields, stage
// at the top level), then the products only when they differ from the
// CRM's (compared by product, quantity, price, discount and discount type,
// exactly and in any order): the old lines are destroyed and the new created
// in batches. Then win, lose or reopen when the CRM's state differs.
type Deals struct {
	c  *crm.Client
	ix index
}

var _ bridge.Target = (*Deals)(nil)

// NewDeals returns the deal target.
func NewDeals(c *crm.Client) *Deals { return &Deals{c: c} }

// Entity implements bridge.Target.
func (*Deals) Entity() string { return "deal" }

// NaturalKey names what deals are adopted by, for messages.
func (*Deals) NaturalKey() string { return "name" }

// dealPayload is the decoded payload.
type dealPayload struct {
	Name           string                 `json:"name"`
	DealStageID    string                 `json:"deal_stage_id,omitempty"`
	UserID         string                 `json:"user_id,omitempty"`
	OrganizationID string                 `json:"organization_id,omitempty"`
	CustomFields   []crm.CustomFieldValue `json:"deal_custom_fields,omitempty"`
	Win            *bool                  `json:"win"`
	LostReasonID   string                 `json:"deal_lost_reason_id,omitempty"`
	LostNote       string                 `json:"deal_lost_note,omitempty"`
	Products       []crm.DealProductInput `json:"deal_products,omitempty"`
	DealID         string                 `json:"deal_id,omitempty"`
	LinkOnly       bool                   `json:"link_only,omitempty"`
	// hasProducts: the payload carries deal_products (possibly empty).
	hasProducts bool
}

func decodeDeal(p bridge.Payload) (dealPayload, error) {
	var d dealPayload
	if err := decode(p, &d); err != nil {
		return d, err
	}
	_, d.hasProducts = p["deal_products"]
	d.Name = strings.TrimSpace(d.Name)
	if d.Name == "" {
		return d, fmt.Errorf("%w: a deal needs a name", bridge.ErrRejected)
	}
	for i, it := range d.Products {
		if it.ProductID == "" {
			return d, fmt.Errorf("%w: deal product %d has no product_id", bridge.ErrRejected, i)
		}
		if it.Amount == nil || it.Price == nil {
			return d, fmt.Errorf("%w: deal product %d (product %s) needs amount and price", bridge.ErrRejected, i, it.ProductID)
		}
		d.Products[i].ID = ""
	}
	return d, nil
}

// KeysOf implements bridge.Target: the name, and the deal an order was
// made from.
func (*Deals) KeysOf(p bridge.Payload) bridge.Payload { return pick(p, "name", "deal_id") }

// Find adopts an existing deal by exact name.
func (t *Deals) Find(ctx context.Context, p bridge.Payload, live bool) (string, bool, error) {
	if id := text(p, "deal_id"); id != "" {
		return id, true, nil
	}
	name := text(p, "name")
	if name == "" {
		return "", false, nil
	}
	if !live {
		err := build(ctx, &t.ix, t.c.Deals(ctx, crm.DealQuery{}),
			func(d crm.Deal) [][3]string { return [][3]string{{"name", d.Name, d.ID}} })
		if err != nil {
			return "", false, err
		}
		if id, found, ok := t.ix.lookup("name", name); ok {
			return id, found, nil
		}
	}
	return t.findLive(ctx, name)
}

func (t *Deals) findLive(ctx context.Context, name string) (string, bool, error) {
	page, err := t.c.ListDeals(ctx, crm.DealQuery{Name: name, ExactName: true})
	if err != nil {
		return "", false, classify(err)
	}
	for _, d := range page.Items {
		if d.Name == name {
			return d.ID, true, nil
		}
	}
	return "", false, nil
}

// Create implements bridge.Target.
func (t *Deals) Create(ctx context.Context, p bridge.Payload) (string, error) {
	d, err := decodeDeal(p)
	if err != nil {
		return "", err
	}
	if d.LinkOnly {
		return "", fmt.Errorf("%w: this order was made from CRM deal %s (C5_XCRMID), which this CRM does not have (deleted, or another CRM account); it gets no deal of its own", bridge.ErrRejected, d.DealID)
	}
	deal, err := t.c.CreateDeal(ctx, crm.DealCreate{
		Deal: crm.DealInput{Name: d.Name, DealStageID: d.DealStageID, UserID: d.UserID,
			CustomFields: d.CustomFields},
		OrganizationID: d.OrganizationID,
	})
	if err != nil {
		return "", classify(err)
	}
	// From here on the deal exists: a later failure must not lead to a
	// second deal. The index (when built) and the live lookup find it.
	t.ix.remember("name", d.Name, deal.ID)
	if len(d.Products) > 0 {
		if _, err := t.c.CreateDealProducts(ctx, deal.ID, d.Products); err != nil {
			return "", fmt.Errorf("deal %s created, its products not: %w", deal.ID, classify(err))
		}
	}
	if err := t.close(ctx, deal.ID, d, nil); err != nil {
		return "", fmt.Errorf("deal %s created, its outcome not set: %w", deal.ID, err)
	}
	return deal.ID, nil
}

// Update implements bridge.Target.
func (t *Deals) Update(ctx context.Context, id string, p bridge.Payload) error {
	d, err := decodeDeal(p)
	if err != nil {
		return err
	}
	if d.LinkOnly {
		_, err := t.c.UpdateDeal(ctx, id, crm.DealUpdate{CustomFields: d.CustomFields})
		return classify(err)
	}
	deal, err := t.c.UpdateDeal(ctx, id, crm.DealUpdate{
		Name: d.Name, UserID: d.UserID, OrganizationID: d.OrganizationID,
		CustomFields: d.CustomFields, DealStageID: d.DealStageID,
	})
	if err != nil {
		return classify(err)
	}
	if d.hasProducts {
		if err := t.syncProducts(ctx, id, d.Products); err != nil {
			return err
		}
	}
	return t.close(ctx, id, d, deal.Win)
}

// close brings the deal's outcome to the payload's: have is the CRM's
// (nil: open).
func (t *Deals) close(ctx context.Context, id string, d dealPayload, have *bool) error {
	var err error
	switch {
	case d.Win == nil && have != nil:
		_, err = t.c.ReopenDeal(ctx, id)
	case d.Win != nil && *d.Win && (have == nil || !*have):
		_, err = t.c.WinDeal(ctx, id)
	case d.Win != nil && !*d.Win && (have == nil || *have):
		_, err = t.c.LoseDeal(ctx, id, d.LostReasonID, d.LostNote)
	}
	return classify(err)
}

// syncProducts replaces the deal's products when they differ from want.
func (t *Deals) syncProducts(ctx context.Context, id string, want []crm.DealProductInput) error {
	have, err := t.c.ListDealProducts(ctx, id)
	if err != nil {
		return classify(err)
	}
	if sameProducts(have, want) {
		return nil
	}
	if len(have) > 0 {
		ids := make([]string, len(have))
		for i, dp := range have {
			ids[i] = dp.ID
		}
		if err := t.c.DeleteDealProducts(ctx, id, ids); err != nil {
			return fmt.Errorf("removing deal %s's old products: %w", id, classify(err))
		}
	}
	if len(want) > 0 {
		if _, err := t.c.CreateDealProducts(ctx, id, want); err != nil {
			return fmt.Errorf("writing deal %s's products: %w", id, classify(err))
		}
	}
	return nil
}

// lineKey is a deal product line in a comparable form: decimals by value
// (2.50 = 2.5), a missing discount as 0 and discount type as "value", as
// the CRM stores them.
func lineKey(product string, amount, price, discount crm.Decimal, discountType string) string {
	if discountType == "" {
		discountType = crm.DiscountValue
	}
	return strings.Join([]string{product, amount.String(), price.String(), discount.String(), discountType}, "|")
}

func sameProducts(have []crm.DealProduct, want []crm.DealProductInput) bool {
	if len(have) != len(want) {
		return false
	}
	a := make([]string, len(have))
	for i, dp := range have {
		amount := dp.AmountDecimal
		if amount.IsZero() {
			amount = dp.Amount
		}
		a[i] = lineKey(dp.ProductID, amount, dp.Price, dp.Discount, dp.DiscountType)
	}
	b := make([]string, len(want))
	for i, it := range want {
		var disc crm.Decimal
		if it.Discount != nil {
			disc = *it.Discount
		}
		b[i] = lineKey(it.ProductID, deref(it.Amount), deref(it.Price), disc, it.DiscountType)
	}
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(a, b)
}

func deref(d *crm.Decimal) crm.Decimal {
	if d == nil {
		return crm.Decimal{}
	}
	return *d
}
