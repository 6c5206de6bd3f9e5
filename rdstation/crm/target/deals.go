package target

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/shopspring/decimal"
	"go.uber.org/zap"

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
//	deal_products        [{product_id, amount, price, discount, discount_type,
//	                     total, label}]
//	                     amount is the quantity. amount, price, discount and
//	                     total are exact decimals: give them as strings
//	                     ("2.5", "15.44") or decimal values, never as floats.
//	                     total, optional, is the line's value in the ERP,
//	                     which the CRM's line total must equal (see below);
//	                     label names the line in the note. Absent leaves the
//	                     deal's products alone; an empty list removes them.
//	note_title           string  the deal's order note (title and lines):
//	note_lines           []string what the deal cannot show as the ERP has it
//	                             (items left out, an invoice adjustment);
//	                             written when its text changes
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
// products through the batch endpoint (≤ 100 a call), then the note, then
// win or lose. When a step after the deal's creation fails, the error
// names the deal and the deal is remembered in the index; the next attempt
// finds it by name (the engine looks up before every create) and completes
// it with Update.
//
// Update: PUT /deals/{id} (name, owner, organization, custom fields, stage
// at the top level), then the products only when they differ from the
// CRM's (compared by product, quantity, price, discount and discount type,
// exactly and in any order): the old lines are destroyed and the new created
// in batches. Then the note when its text changed, then win, lose or reopen
// when the CRM's state differs.
//
// Totals: the CRM computes a line's total as price × amount − discount,
// unrounded. A line whose quantity and price do not multiply to its total
// (the ERP rounded a sub-cent product to the cent), or whose fractional
// quantity the CRM does not keep, is sent as 1 × its total instead, and
// the note says so (see represent). Written lines are checked against what
// the CRM answers it stored; a CRM that cut or refused a fractional amount
// is remembered and such lines are sent folded from then on. The deal's
// total is so the ERP's to the cent whatever the CRM does with decimals. No
// discount is ever invented.
type Deals struct {
	c  *crm.Client
	ix index
	// Log, when set, gets one warning per line of an order note written
	// (an item left out, a line sent folded), once per change.
	Log *zap.Logger

	mu sync.Mutex
	// wholeAmounts: the CRM was seen not to keep a fractional amount as
	// sent (it cut or refused it); lines with one are then sent folded.
	wholeAmounts bool
}

var _ bridge.Target = (*Deals)(nil)

// NewDeals returns the deal target.
func NewDeals(c *crm.Client) *Deals { return &Deals{c: c} }

// Entity implements bridge.Target.
func (*Deals) Entity() string { return "deal" }

var _ bridge.NaturalKeyNamer = (*Deals)(nil)

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
	Products       []dealLine             `json:"deal_products,omitempty"`
	DealID         string                 `json:"deal_id,omitempty"`
	LinkOnly       bool                   `json:"link_only,omitempty"`
	// NoteTitle and NoteLines are the deal's order note: what the deal
	// cannot show as the ERP has it (items left out, an invoice
	// adjustment). The note is written when its text differs from the last
	// note with the same title.
	NoteTitle string   `json:"note_title,omitempty"`
	NoteLines []string `json:"note_lines,omitempty"`
	// hasProducts: the payload carries deal_products (possibly empty).
	hasProducts bool
}

// dealLine is one product line as the ERP has it.
type dealLine struct {
	ID           string       `json:"id,omitempty"`
	ProductID    string       `json:"product_id"`
	Amount       *crm.Decimal `json:"amount"`
	Price        *crm.Decimal `json:"price"`
	Discount     *crm.Decimal `json:"discount,omitempty"`
	DiscountType string       `json:"discount_type,omitempty"`
	Recurrence   string       `json:"recurrence,omitempty"`
	// Total is the line's value in the ERP, which the CRM's line total
	// must equal; nil: whatever price × amount − discount gives.
	Total *crm.Decimal `json:"total,omitempty"`
	// Label names the line in the deal's note ("item 01, PA0001").
	Label string `json:"label,omitempty"`
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
	if len(d.NoteLines) > 0 && strings.TrimSpace(d.NoteTitle) == "" {
		return d, fmt.Errorf("%w: a deal note needs a title", bridge.ErrRejected)
	}
	return d, nil
}

// KeysOf implements bridge.Target: the name, and the deal an order was
// made from.
func (*Deals) KeysOf(p bridge.Payload) bridge.Payload { return pick(p, "name", "deal_id") }

// lineTotal is what the CRM makes of a line: price × amount − discount
// (a value, or a percentage of price × amount), unrounded.
func lineTotal(amount, price, discount crm.Decimal, discountType string) decimal.Decimal {
	gross := price.Mul(amount.Decimal)
	if discountType == crm.DiscountPercent || discountType == "percentage" {
		return gross.Sub(gross.Mul(discount.Decimal).Shift(-2))
	}
	return gross.Sub(discount.Decimal)
}

// represent turns the payload's lines into what is sent, with a note line
// for each line sent otherwise than the ERP has it. A line is sent as it is
// when its price × amount − discount is its total and its amount is whole
// or the CRM keeps fractional amounts (whole = false); otherwise it is
// folded into one unit at its total: 1 × total, no discount. That keeps
// the line's total, and so the deal's, the ERP's to the cent without
// inventing a discount; the quantity and unit price are then in the note.
func represent(lines []dealLine, whole bool) ([]crm.DealProductInput, []string) {
	out := make([]crm.DealProductInput, len(lines))
	var notes []string
	for i, l := range lines {
		in := crm.DealProductInput{ProductID: l.ProductID, Amount: l.Amount, Price: l.Price, Discount: l.Discount,
			DiscountType: l.DiscountType, Recurrence: l.Recurrence}
		total := lineTotal(*l.Amount, *l.Price, deref(l.Discount), l.DiscountType)
		want := total
		if l.Total != nil {
			want = l.Total.Decimal
		}
		exact := total.Equal(want)
		if !exact || (whole && !l.Amount.IsInteger()) {
			one := crm.NewDecimal(decimal.NewFromInt(1))
			price := crm.NewDecimal(want)
			in.Amount, in.Price, in.Discount, in.DiscountType = &one, &price, nil, ""
			why := "the CRM does not keep the fractional quantity"
			if !exact {
				why = "the ERP rounds the line to the cent"
			}
			label := l.Label
			if label == "" {
				label = "product " + l.ProductID
			}
			notes = append(notes, fmt.Sprintf("%s: %s × %s = %s in the ERP, shown as 1 × %s (%s; the deal's total is the ERP's)",
				label, l.Amount.String(), l.Price.String(), want.String(), want.String(), why))
		}
		out[i] = in
	}
	return out, notes
}

// wholeOnly reports whether fractional amounts are to be sent folded.
func (t *Deals) wholeOnly() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.wholeAmounts
}

// learnWholeOnly remembers that the CRM keeps whole amounts only (it cut
// or refused a fractional one, and took the same lines folded).
func (t *Deals) learnWholeOnly() {
	t.mu.Lock()
	t.wholeAmounts = true
	t.mu.Unlock()
}

func hasFraction(in []crm.DealProductInput) bool {
	return slices.ContainsFunc(in, func(x crm.DealProductInput) bool { return x.Amount != nil && !x.Amount.IsInteger() })
}

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
	var folded []string
	if len(d.Products) > 0 {
		if folded, err = t.putProducts(ctx, deal.ID, nil, d.Products); err != nil {
			return "", fmt.Errorf("deal %s created, its products not: %w", deal.ID, err)
		}
	}
	if err := t.note(ctx, deal.ID, d, folded, false); err != nil {
		return "", fmt.Errorf("deal %s created, its note not: %w", deal.ID, err)
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
	var folded []string
	if d.hasProducts {
		if folded, err = t.syncProducts(ctx, id, d.Products); err != nil {
			return err
		}
	}
	if err := t.note(ctx, id, d, folded, true); err != nil {
		return err
	}
	return t.close(ctx, id, d, deal.Win)
}

// note writes the deal's order note: the payload's note lines and the
// lines sent folded. After a create it is written at once; on an update
// (look = true) only when its text differs from the deal's last note with
// the same title, so a sync that changes nothing in it writes nothing,
// and a note whose create was lost is not written twice.
func (t *Deals) note(ctx context.Context, id string, d dealPayload, folded []string, look bool) error {
	lines := append(slices.Clone(d.NoteLines), folded...)
	if len(lines) == 0 {
		return nil
	}
	title := strings.TrimSpace(d.NoteTitle)
	if title == "" {
		title = "erpbridge: " + d.Name
	}
	text := title + "\n- " + strings.Join(lines, "\n- ")
	if look {
		notes, err := t.c.DealNotes(ctx, id)
		if err != nil {
			return fmt.Errorf("reading deal %s's notes: %w", id, classify(err))
		}
		if last, ok := lastNote(notes, title); ok && last.Text == text {
			return nil
		}
	}
	if _, err := t.c.CreateDealNote(ctx, id, text); err != nil {
		return fmt.Errorf("writing deal %s's note: %w", id, classify(err))
	}
	if t.Log != nil {
		for _, l := range lines {
			t.Log.Warn("order shown in its deal otherwise than in the ERP", zap.String("crm_id", id),
				zap.String("deal", d.Name), zap.String("note", l))
		}
	}
	return nil
}

// lastNote is the newest note whose text starts with title (by created_at
// when the API gives it, else the later in the listing).
func lastNote(notes []crm.Note, title string) (crm.Note, bool) {
	var best crm.Note
	var bestAt time.Time
	found := false
	for _, n := range notes {
		if !strings.HasPrefix(n.Text, title+"\n") {
			continue
		}
		at, _ := time.Parse("2006-01-02T15:04:05.999Z07:00", n.CreatedAt)
		if !found || !at.Before(bestAt) {
			best, bestAt, found = n, at, true
		}
	}
	return best, found
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

// syncProducts replaces the deal's products when they differ from want's.
// It returns the note lines of the lines sent folded.
func (t *Deals) syncProducts(ctx context.Context, id string, want []dealLine) ([]string, error) {
	have, err := t.c.ListDealProducts(ctx, id)
	if err != nil {
		return nil, classify(err)
	}
	return t.putProducts(ctx, id, have, want)
}

// putProducts makes the deal's products (have) the representation of
// lines, and checks what the CRM answers it stored. When the CRM cut a
// fractional amount, or refused the lines that carry one, they are written
// once more, folded, and the CRM is remembered as keeping whole amounts
// only. It returns the note lines of the folded lines.
func (t *Deals) putProducts(ctx context.Context, id string, have []crm.DealProduct, lines []dealLine) ([]string, error) {
	whole := t.wholeOnly()
	for attempt := range 2 {
		want, folded := represent(lines, whole)
		if sameProducts(have, want) {
			return folded, nil
		}
		if len(have) > 0 {
			ids := make([]string, len(have))
			for i, dp := range have {
				ids[i] = dp.ID
			}
			if err := t.c.DeleteDealProducts(ctx, id, ids); err != nil {
				return nil, fmt.Errorf("removing deal %s's old products: %w", id, classify(err))
			}
			have = nil
		}
		if len(want) == 0 {
			return folded, nil
		}
		retry := attempt == 0 && !whole && hasFraction(want)
		got, err := t.c.CreateDealProducts(ctx, id, want)
		switch {
		case err != nil && retry && errors.Is(err, crm.ErrValidation):
			// Perhaps the fractional amounts: what the failed batches left
			// is read back, and the lines go again folded.
		case err != nil:
			return nil, fmt.Errorf("writing deal %s's products: %w", id, classify(err))
		default:
			if len(got) != len(want) { // an answer without the deal's lines: ask
				if got, err = t.c.ListDealProducts(ctx, id); err != nil {
					return nil, classify(err)
				}
			}
			if sameProducts(got, want) {
				if whole && !t.wholeOnly() {
					t.learnWholeOnly()
				}
				return folded, nil
			}
			if !retry {
				return nil, fmt.Errorf("%w: deal %s: the CRM stored other products than sent (%s)", bridge.ErrRejected, id, describe(got))
			}
		}
		if have, err = t.c.ListDealProducts(ctx, id); err != nil {
			return nil, classify(err)
		}
		whole = true
	}
	return nil, fmt.Errorf("writing deal %s's products: the CRM took them neither as they are nor folded", id)
}

// describe lists deal products briefly, for messages.
func describe(dps []crm.DealProduct) string {
	parts := make([]string, len(dps))
	for i, dp := range dps {
		parts[i] = fmt.Sprintf("%s %s×%s", dp.ProductID, storedAmount(dp), dp.Price.String())
	}
	return strings.Join(parts, ", ")
}

// storedAmount is a CRM line's amount: amount_decimal when the CRM gives
// it, else amount.
func storedAmount(dp crm.DealProduct) crm.Decimal {
	if dp.AmountDecimal.IsZero() {
		return dp.Amount
	}
	return dp.AmountDecimal
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
		a[i] = lineKey(dp.ProductID, storedAmount(dp), dp.Price, dp.Discount, dp.DiscountType)
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
