package target

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"slices"

	"go.uber.org/zap"

	"github.com/erpbridge/erpbridge/bridge/store"
	"github.com/erpbridge/erpbridge/mapping"
)

// SentStore keeps, per CRM record, what a target last sent to it
// (bridge/store: Store.Sent, Store.SetSent).
type SentStore interface {
	Sent(ctx context.Context, entity, crmID string) (string, bool, error)
	SetSent(ctx context.Context, entity, crmID, state string) error
}

var _ SentStore = (*store.Store)(nil)

// dealSent is what was last sent to a deal, in parts: what lets an update
// write only the parts that changed, without reading the CRM to compare.
type dealSent struct {
	// Header hashes the fields one PUT writes: name, stage, owner,
	// organization, custom fields.
	Header string `json:"h"`
	// Outcome is "open", "won", or "lost" with a hash of its reason and note.
	Outcome string `json:"o"`
	// Lines hashes the payload's lines as the ERP has them ("" when no
	// lines were sent); Items are the CRM lines they became; Whole: they
	// went folded where the CRM keeps whole amounts only.
	Lines string     `json:"l,omitempty"`
	Items []sentItem `json:"i,omitempty"`
	Whole bool       `json:"w,omitempty"`
	// Note hashes the text of the last order note written ("" none).
	Note string `json:"n,omitempty"`
}

// sentItem is one CRM deal line written: its id and its product.
type sentItem struct {
	ID      string `json:"i"`
	Product string `json:"p"`
}

// sent returns what was last sent to deal id; false when nothing is
// recorded (or there is no store to ask).
func (t *Deals) sent(ctx context.Context, id string) (dealSent, bool) {
	if t.Sent == nil {
		return dealSent{}, false
	}
	text, ok, err := t.Sent.Sent(ctx, mapping.EntityDeal, id)
	var d dealSent
	if err == nil && ok {
		err = json.Unmarshal([]byte(text), &d)
	}
	if err != nil {
		t.warn("reading what was sent to a deal; it is read from the CRM instead", id, err)
		return dealSent{}, false
	}
	return d, ok && d.Header != ""
}

// remember records what was sent to deal id; the zero dealSent forgets it.
// A record that cannot be written is only a cost (the next update reads
// the CRM), so it is logged, not returned.
func (t *Deals) remember(ctx context.Context, id string, d dealSent) {
	if t.Sent == nil {
		return
	}
	text := ""
	if d.Header != "" {
		b, err := json.Marshal(d)
		if err != nil {
			t.warn("recording what was sent to a deal", id, err)
			return
		}
		text = string(b)
	}
	if err := t.Sent.SetSent(context.WithoutCancel(ctx), mapping.EntityDeal, id, text); err != nil {
		t.warn("recording what was sent to a deal", id, err)
	}
}

func (t *Deals) warn(msg, id string, err error) {
	if t.Log != nil {
		t.Log.Warn(msg, zap.String("crm_id", id), zap.Error(err))
	}
}

// hashOf is a short hash of v's JSON.
func hashOf(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return ""
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:12])
}

// headerHash hashes what one PUT writes of a deal.
func headerHash(d dealPayload) string {
	return hashOf([]any{d.Name, d.DealStageID, d.UserID, d.OrganizationID, d.CustomFields})
}

// outcomeKey says the payload's outcome.
func outcomeKey(d dealPayload) string {
	switch {
	case d.Win == nil:
		return "open"
	case *d.Win:
		return "won"
	}
	return "lost " + hashOf([]string{d.LostReasonID, d.LostNote})
}

// linesHash hashes a payload's lines as the ERP has them, in any order
// (decimals by value: 2.50 is 2.5).
func linesHash(lines []dealLine) string {
	each := make([]string, len(lines))
	for i, l := range lines {
		b, err := json.Marshal(l)
		if err != nil {
			return ""
		}
		each[i] = string(b)
	}
	slices.Sort(each)
	return hashOf(each)
}

// noteHash hashes a note's text ("" for none).
func noteHash(text string) string {
	if text == "" {
		return ""
	}
	return hashOf(text)
}
