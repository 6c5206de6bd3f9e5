package target

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/shopspring/decimal"

	"github.com/erpbridge/erpbridge/bridge"
	"github.com/erpbridge/erpbridge/bridge/clock"
	"github.com/erpbridge/erpbridge/rdstation/marketing"
)

const (
	marketing24h = 24 * time.Hour
	// perContactPatches is the documented PATCH limit of one contact a day.
	perContactPatches = 24
)

// Email is a payload's e-mail as Marketing keys contacts: trimmed, lower case.
func Email(p bridge.Payload) string {
	s, _ := p["email"].(string)
	return strings.ToLower(strings.TrimSpace(s))
}

// quota counts the writes of each contact in the last window, so that the
// bridge defers a contact at its daily limit instead of spending a request
// on the contact's 429. It lives in memory: after a restart the server's
// 429 (lead_limiter) defers the contact the same way.
type quota struct {
	clk    clock.Clock
	window time.Duration
	limit  int

	mu   sync.Mutex
	hits map[string][]time.Time
}

func newQuota(clk clock.Clock, window time.Duration, limit int) *quota {
	return &quota{clk: clk, window: window, limit: limit, hits: map[string][]time.Time{}}
}

// take counts one write of key now, or returns when key may be written
// again (zero: it may go now, and is counted).
func (q *quota) take(key string) time.Time {
	q.mu.Lock()
	defer q.mu.Unlock()
	now := q.clk.Now()
	h := q.hits[key]
	i := 0
	for i < len(h) && !h[i].Add(q.window).After(now) {
		i++
	}
	h = h[i:]
	if len(h) >= q.limit {
		q.hits[key] = h
		return h[0].Add(q.window)
	}
	q.hits[key] = append(h, now)
	return time.Time{}
}

// Contacts writes Marketing contacts: a PATCH by e-mail upserts the
// contact with its fields, custom fields (cf_*) and the configured legal
// bases. The contact's CRM id is its e-mail (lower case): two ERP records
// with one e-mail are one person, so the second is refused (a shared
// mailbox), and a record whose e-mail changes becomes a new Marketing
// contact (the old one stays in Marketing with its history).
type Contacts struct {
	c     *marketing.Client
	legal []marketing.LegalBase
	quota *quota
}

var (
	_ bridge.Target          = (*Contacts)(nil)
	_ bridge.ExclusiveKey    = (*Contacts)(nil)
	_ bridge.Upserter        = (*Contacts)(nil)
	_ bridge.NaturalKeyNamer = (*Contacts)(nil)
)

// Entity implements bridge.Target.
func (*Contacts) Entity() string { return EntityContact }

// ExclusiveKey implements bridge.ExclusiveKey: one e-mail is one person.
func (*Contacts) ExclusiveKey() bool { return true }

// Upserts implements bridge.Upserter.
func (*Contacts) Upserts() bool { return true }

// NaturalKey implements bridge.NaturalKeyNamer.
func (*Contacts) NaturalKey() string { return "e-mail" }

// KeysOf implements bridge.Target.
func (*Contacts) KeysOf(p bridge.Payload) bridge.Payload { return bridge.Payload{"email": Email(p)} }

// Find implements bridge.Target without a request: the contact is
// addressed by its e-mail, and the PATCH that writes it creates it.
func (*Contacts) Find(_ context.Context, p bridge.Payload, _ bool) (string, bool, error) {
	e := Email(p)
	return e, e != "", nil
}

// Create implements bridge.Target (an upsert).
func (t *Contacts) Create(ctx context.Context, p bridge.Payload) (string, error) {
	e := Email(p)
	if e == "" {
		return "", fmt.Errorf("%w: a Marketing contact needs an e-mail", bridge.ErrRejected)
	}
	return e, t.Update(ctx, e, p)
}

// Update implements bridge.Target: PATCH email:crmID.
func (t *Contacts) Update(ctx context.Context, crmID string, p bridge.Payload) error {
	if e := Email(p); e != crmID {
		return fmt.Errorf("%w: the e-mail changed from %s to %s: written as a new Marketing contact (the old one stays, with its history)",
			bridge.ErrGone, crmID, e)
	}
	body, err := ContactBody(p, t.legal)
	if err != nil {
		return err
	}
	if until := t.quota.take(crmID); !until.IsZero() {
		return &bridge.DeferError{Until: until, Err: fmt.Errorf("contact %s was written %d times in 24 hours (RD Station Marketing's limit)", crmID, t.quota.limit)}
	}
	_, err = t.c.UpsertContact(ctx, crmID, body)
	return classify(err, t.quota.clk)
}

// ContactBody is the PATCH body of a mapped contact: its fields but the
// e-mail (the path names the contact), each custom field as its cf_* key,
// and the legal bases.
func ContactBody(p bridge.Payload, legal []marketing.LegalBase) (map[string]any, error) {
	body := make(map[string]any, len(p)+2)
	for k, v := range p {
		switch k {
		case "email":
		case CustomKey:
			list, ok := v.([]any)
			if !ok {
				if typed, ok2 := v.([]map[string]any); ok2 {
					for _, m := range typed {
						list = append(list, m)
					}
				} else if v != nil {
					return nil, fmt.Errorf("%w: custom fields are not a list", bridge.ErrRejected)
				}
			}
			for _, it := range list {
				m, _ := it.(map[string]any)
				id, _ := m["custom_field_id"].(string)
				if !strings.HasPrefix(id, "cf_") {
					return nil, fmt.Errorf("%w: custom field %q is not a Marketing cf_* field", bridge.ErrRejected, id)
				}
				body[id] = m["value"]
			}
		default:
			body[k] = v
		}
	}
	if len(legal) > 0 {
		body["legal_bases"] = legal
	}
	return body, nil
}

// Stages writes a contact's lifecycle stage (PUT …/funnels/default): the
// facet of the contacts the stage stream owns.
type Stages struct {
	c     *marketing.Client
	quota *quota
}

var _ bridge.Target = (*Stages)(nil)

// Entity implements bridge.Target.
func (*Stages) Entity() string { return EntityContact }

// KeysOf implements bridge.Target.
func (*Stages) KeysOf(p bridge.Payload) bridge.Payload { return bridge.Payload{"email": Email(p)} }

// Find implements bridge.Target.
func (*Stages) Find(_ context.Context, p bridge.Payload, _ bool) (string, bool, error) {
	e := Email(p)
	return e, e != "", nil
}

// Create implements bridge.Target: a stage creates nothing.
func (*Stages) Create(context.Context, bridge.Payload) (string, error) {
	return "", fmt.Errorf("%w: a funnel stage belongs to a contact", bridge.ErrRejected)
}

// Update implements bridge.Target.
func (t *Stages) Update(ctx context.Context, crmID string, p bridge.Payload) error {
	stage, _ := p["lifecycle_stage"].(string)
	if stage == "" {
		return nil
	}
	err := t.c.SetFunnel(ctx, crmID, stage, nil)
	return classify(err, t.quota.clk)
}

// Events sends events: one SALE or OPPORTUNITY_LOST per ERP sale, never
// twice (bridge.Unrepeatable). A contact Marketing does not know gets the
// documented CONVERSION first (with its name and the legal bases), then
// the event.
type Events struct {
	c          *marketing.Client
	legal      []marketing.LegalBase
	conversion string
	clk        clock.Clock
}

var (
	_ bridge.Target          = (*Events)(nil)
	_ bridge.Unrepeatable    = (*Events)(nil)
	_ bridge.NaturalKeyNamer = (*Events)(nil)
)

// Entity implements bridge.Target.
func (*Events) Entity() string { return EntityEvent }

// Unrepeatable implements bridge.Unrepeatable.
func (*Events) Unrepeatable() bool { return true }

// NaturalKey implements bridge.NaturalKeyNamer.
func (*Events) NaturalKey() string { return "sale" }

// KeysOf implements bridge.Target: what the event was sent as.
func (*Events) KeysOf(p bridge.Payload) bridge.Payload {
	return bridge.Payload{"event_type": p["event_type"], "email": Email(p), "sale": p["sale"]}
}

// Find implements bridge.Target. Events cannot be looked up: a first
// attempt finds nothing; an attempt after one whose outcome is unknown
// cannot tell whether it landed (ErrUnresolvable): it is parked for a
// person, never sent again blindly.
func (*Events) Find(_ context.Context, p bridge.Payload, live bool) (string, bool, error) {
	if !live {
		return "", false, nil
	}
	what := fmt.Sprintf("%v", p["event_type"])
	if v, ok := p["value"]; ok {
		what += fmt.Sprintf(" of %v", v)
	}
	return "", false, fmt.Errorf("%w: the %s for sale %v to %s was sent and no answer came (a lost answer, or the bridge stopped); "+
		"RD Station Marketing cannot be asked which events it has, so it is not sent again. Look at the contact's history in "+
		"RD Station Marketing, then run `erpbridge errors resolve --stream STREAM --key KEY --sent` if the event is there, "+
		"or `--resend` if it is not (docs/marketing.md)", bridge.ErrUnresolvable, what, p["sale"], Email(p))
}

// Create implements bridge.Target: the event, after a CONVERSION when
// Marketing does not know the contact. The event's uuid is its CRM id.
func (t *Events) Create(ctx context.Context, p bridge.Payload) (string, error) {
	ev, err := t.event(p)
	if err != nil {
		return "", err
	}
	id, err := t.c.SendEvent(ctx, ev)
	if errors.Is(err, marketing.ErrNotFound) {
		// The contact is not in Marketing: the documented CONVERSION
		// first. Its failure is not the event's: the event has not left.
		conv := marketing.Event{Type: marketing.EventConversion, Payload: map[string]any{
			"conversion_identifier": t.conversion, "email": Email(p)}}
		if name, _ := p["name"].(string); name != "" {
			conv.Payload["name"] = name
		}
		if len(t.legal) > 0 {
			conv.Payload["legal_bases"] = t.legal
		}
		if _, cerr := t.c.SendEvent(ctx, conv); cerr != nil {
			if errors.Is(cerr, marketing.ErrOutcomeUnknown) {
				// A CONVERSION sent twice only records a second conversion;
				// the event itself has not left: a plain retry.
				return "", fmt.Errorf("sending the CONVERSION first (Marketing does not know %s): no answer; the %s has not left and is sent on a later attempt: %s",
					Email(p), ev.Type, cerr.Error())
			}
			return "", fmt.Errorf("sending the CONVERSION first (Marketing does not know %s): %w", Email(p), classify(cerr, t.clk))
		}
		id, err = t.c.SendEvent(ctx, ev)
	}
	if err != nil {
		return "", classify(err, t.clk)
	}
	return "event:" + id, nil
}

// Update implements bridge.Target: an event is never updated.
func (*Events) Update(context.Context, string, bridge.Payload) error { return nil }

// event builds the event of a payload.
func (t *Events) event(p bridge.Payload) (marketing.Event, error) {
	typ, _ := p["event_type"].(string)
	e := Email(p)
	if e == "" {
		return marketing.Event{}, fmt.Errorf("%w: an event needs the contact's e-mail", bridge.ErrRejected)
	}
	ev := marketing.Event{Type: typ, Payload: map[string]any{"email": e}}
	switch typ {
	case marketing.EventSale:
		if v, ok := p["value"]; ok {
			d, err := decimal.NewFromString(fmt.Sprint(v))
			if err != nil {
				return marketing.Event{}, fmt.Errorf("%w: sale value %v is not a number", bridge.ErrRejected, v)
			}
			ev.Payload["value"] = json.Number(d.String())
		}
	case marketing.EventOpportunityLost:
		if r, _ := p["reason"].(string); r != "" {
			ev.Payload["reason"] = r
		}
	default:
		return marketing.Event{}, fmt.Errorf("%w: event type %q is not one the bridge sends", bridge.ErrRejected, typ)
	}
	return ev, nil
}
