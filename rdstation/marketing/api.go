package marketing

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/erpbridge/erpbridge/bridge/oauth"
)

// AuthorizeURL is the page an admin of the account opens to let the app
// in (§3.1): it redirects to redirectURI with ?code=… (valid 1 hour, once).
func (c *Client) AuthorizeURL(redirectURI, state string) string {
	u := *c.base
	u.Path = c.base.Path + "/auth/dialog"
	q := url.Values{"client_id": {c.clientID}, "redirect_uri": {redirectURI}}
	if state != "" {
		q.Set("state", state)
	}
	u.RawQuery = q.Encode()
	return u.String()
}

// tokenAnswer is POST /auth/token's body.
type tokenAnswer struct {
	AccessToken  string      `json:"access_token"`
	ExpiresIn    json.Number `json:"expires_in"`
	RefreshToken string      `json:"refresh_token"`
}

func (c *Client) grant(a tokenAnswer) oauth.Token {
	now := c.clock.Now()
	t := oauth.Token{AccessToken: a.AccessToken, RefreshToken: a.RefreshToken, ObtainedAt: now}
	if n, err := a.ExpiresIn.Int64(); err == nil && n > 0 {
		t.Expiry = now.Add(time.Duration(n) * time.Second)
	}
	return t
}

// ExchangeCode trades an authorization code for the account's grant.
func (c *Client) ExchangeCode(ctx context.Context, code string) (oauth.Token, error) {
	var a tokenAnswer
	err := c.do(ctx, request{method: http.MethodPost, path: "/auth/token", query: url.Values{"token_by": {"code"}}, auth: true,
		body: map[string]string{"client_id": c.clientID, "client_secret": c.secret.v, "code": strings.TrimSpace(code)}}, &a)
	if err != nil {
		return oauth.Token{}, err
	}
	if a.AccessToken == "" || a.RefreshToken == "" {
		return oauth.Token{}, &Error{Kind: ErrServer, Method: http.MethodPost, Path: "/auth/token", Message: "the answer has no access or refresh token"}
	}
	return c.grant(a), nil
}

// Refresh gets a new access token with refreshToken (an oauth.Refresher).
// The call is sent again after a lost answer: with a server that does not
// rotate refresh tokens the retry works; with one that does, it fails as
// the lost answer already would have made it.
func (c *Client) Refresh(ctx context.Context, refreshToken string) (oauth.Token, error) {
	var a tokenAnswer
	err := c.do(ctx, request{method: http.MethodPost, path: "/auth/token", auth: true, idempotent: true,
		body: map[string]string{"client_id": c.clientID, "client_secret": c.secret.v, "refresh_token": refreshToken}}, &a)
	if err != nil {
		if errors.Is(err, ErrRefreshRefused) {
			return oauth.Token{}, fmt.Errorf("%w: %w", oauth.ErrRefused, err)
		}
		return oauth.Token{}, err
	}
	if a.AccessToken == "" {
		return oauth.Token{}, &Error{Kind: ErrServer, Method: http.MethodPost, Path: "/auth/token", Message: "the answer has no access token"}
	}
	return c.grant(a), nil
}

// Field is a contact field of the account (GET /platform/contacts/fields).
type Field struct {
	UUID          string
	APIIdentifier string // "name", "cf_cnpj"
	Custom        bool
	// DataType is STRING, STRING[], INTEGER or BOOLEAN.
	DataType         string
	PresentationType string
	Label            string
	// Options are the values an option field takes (combo, radio,
	// multiple choice); nil for a free field.
	Options []string
}

// Fields lists the account's contact fields, standard and custom.
func (c *Client) Fields(ctx context.Context) ([]Field, error) {
	var body struct {
		Fields []struct {
			UUID             string            `json:"uuid"`
			APIIdentifier    string            `json:"api_identifier"`
			Custom           bool              `json:"custom_field"`
			DataType         string            `json:"data_type"`
			PresentationType string            `json:"presentation_type"`
			Label            map[string]string `json:"label"`
			Name             map[string]string `json:"name"`
			Options          json.RawMessage   `json:"options"`
		} `json:"fields"`
	}
	if err := c.do(ctx, request{method: http.MethodGet, path: "/platform/contacts/fields", idempotent: true}, &body); err != nil {
		return nil, err
	}
	out := make([]Field, 0, len(body.Fields))
	for _, f := range body.Fields {
		label := firstOf(f.Label["pt-BR"], f.Label["default"], f.Name["pt-BR"], f.Name["default"], f.APIIdentifier)
		out = append(out, Field{UUID: f.UUID, APIIdentifier: f.APIIdentifier, Custom: f.Custom, DataType: f.DataType,
			PresentationType: f.PresentationType, Label: label, Options: options(f.Options)})
	}
	return out, nil
}

// options reads a field's options in either shape seen: ["A","B"], or
// [{"label":{…},"value":"A"}] (the shape is [U]: not in the contract).
func options(raw json.RawMessage) []string {
	if len(raw) == 0 || string(raw) == "null" {
		return nil
	}
	var plain []string
	if json.Unmarshal(raw, &plain) == nil {
		return plain
	}
	var objs []struct {
		Value string            `json:"value"`
		Label map[string]string `json:"label"`
	}
	if json.Unmarshal(raw, &objs) != nil {
		return nil
	}
	out := make([]string, 0, len(objs))
	for _, o := range objs {
		out = append(out, firstOf(o.Value, o.Label["default"]))
	}
	return out
}

func firstOf(ss ...string) string {
	for _, s := range ss {
		if s != "" {
			return s
		}
	}
	return ""
}

// Contact is a contact as GET returns it; Fields holds every other key
// (cf_* custom fields among them).
type Contact struct {
	UUID       string
	Email      string
	Name       string
	Tags       []string
	LegalBases []LegalBase
	Fields     map[string]any
}

// LegalBase is one legal basis (LGPD) of a contact.
type LegalBase struct {
	Category string `json:"category" toml:"category"`
	Type     string `json:"type" toml:"type"`
	Status   string `json:"status" toml:"status"`
}

// GetContact reads a contact by e-mail (ErrNotFound: Marketing has none).
func (c *Client) GetContact(ctx context.Context, email string) (Contact, error) {
	var raw map[string]any
	if err := c.do(ctx, request{method: http.MethodGet, path: contactPath(email), idempotent: true}, &raw); err != nil {
		return Contact{}, err
	}
	out := Contact{Fields: map[string]any{}}
	out.UUID, _ = raw["uuid"].(string)
	out.Email, _ = raw["email"].(string)
	out.Name, _ = raw["name"].(string)
	if tags, ok := raw["tags"].([]any); ok {
		for _, t := range tags {
			if s, ok := t.(string); ok {
				out.Tags = append(out.Tags, s)
			}
		}
	}
	if lbs, err := json.Marshal(raw["legal_bases"]); err == nil {
		_ = json.Unmarshal(lbs, &out.LegalBases)
	}
	for k, v := range raw {
		switch k {
		case "uuid", "email", "name", "tags", "legal_bases", "links":
		default:
			out.Fields[k] = v
		}
	}
	return out, nil
}

// UpsertContact creates or updates the contact with this e-mail (PATCH
// by email: no conversion recorded). fields must not carry "email"; a
// "tags" entry replaces the contact's tags. It returns the contact's uuid.
func (c *Client) UpsertContact(ctx context.Context, email string, fields map[string]any) (string, error) {
	if _, ok := fields["email"]; ok {
		return "", &Error{Kind: ErrBadRequest, Method: http.MethodPatch, Path: "/platform/contacts/email:…", Type: "CONFLICTING_FIELD",
			Message: "the e-mail names the contact in the path and must not be in the body"}
	}
	var raw map[string]any
	if err := c.do(ctx, request{method: http.MethodPatch, path: contactPath(email), body: fields, idempotent: true}, &raw); err != nil {
		return "", err
	}
	id, _ := raw["uuid"].(string)
	return id, nil
}

// AddTags appends tags to an existing contact (POST …/tag).
func (c *Client) AddTags(ctx context.Context, email string, tags []string) error {
	return c.do(ctx, request{method: http.MethodPost, path: contactPath(email) + "/tag", body: map[string]any{"tags": tags}, idempotent: true}, nil)
}

// DeleteContact deletes a contact (LGPD deletion requests). A contact
// Marketing does not have is not an error.
func (c *Client) DeleteContact(ctx context.Context, email string) error {
	err := c.do(ctx, request{method: http.MethodDelete, path: contactPath(email), idempotent: true}, nil)
	if errors.Is(err, ErrNotFound) {
		return nil
	}
	return err
}

// Funnel is a contact's place in the default funnel.
type Funnel struct {
	// LifecycleStage is "Lead", "Qualified Lead" or "Client".
	LifecycleStage    string  `json:"lifecycle_stage"`
	Opportunity       bool    `json:"opportunity"`
	ContactOwnerEmail *string `json:"contact_owner_email"`
	Fit               string  `json:"fit,omitempty"`
	Interest          any     `json:"interest,omitempty"`
}

// Lifecycle stages.
const (
	StageLead          = "Lead"
	StageQualifiedLead = "Qualified Lead"
	StageClient        = "Client"
)

// GetFunnel reads the contact's default funnel.
func (c *Client) GetFunnel(ctx context.Context, email string) (Funnel, error) {
	var f Funnel
	err := c.do(ctx, request{method: http.MethodGet, path: contactPath(email) + "/funnels/default", idempotent: true}, &f)
	return f, err
}

// SetFunnel sets the contact's lifecycle stage, and its opportunity flag
// when opportunity is not nil.
func (c *Client) SetFunnel(ctx context.Context, email, stage string, opportunity *bool) error {
	body := map[string]any{"lifecycle_stage": stage}
	if opportunity != nil {
		body["opportunity"] = *opportunity
	}
	return c.do(ctx, request{method: http.MethodPut, path: contactPath(email) + "/funnels/default", body: body, idempotent: true}, nil)
}

// Event types the bridge sends.
const (
	EventConversion      = "CONVERSION"
	EventSale            = "SALE"
	EventOpportunityLost = "OPPORTUNITY_LOST"
)

// Event is one event: its type and payload (email always; SALE value;
// OPPORTUNITY_LOST reason; CONVERSION conversion_identifier and the
// contact's fields). funnel_name is set to "default" where needed.
type Event struct {
	Type    string
	Payload map[string]any
}

func (e Event) body() map[string]any {
	p := make(map[string]any, len(e.Payload)+1)
	for k, v := range e.Payload {
		p[k] = v
	}
	if e.Type != EventConversion {
		p["funnel_name"] = "default"
	}
	return map[string]any{"event_type": e.Type, "event_family": "CDP", "payload": p}
}

// SendEvent posts one event and returns its uuid. It is never sent twice:
// a lost answer is ErrOutcomeUnknown.
func (c *Client) SendEvent(ctx context.Context, e Event) (string, error) {
	var a struct {
		UUID string `json:"event_uuid"`
	}
	err := c.do(ctx, request{method: http.MethodPost, path: "/platform/events", query: url.Values{"event_type": {e.Type}}, body: e.body()}, &a)
	return a.UUID, err
}

// SendEvents posts events in one batch (at most 0.2 MB) and returns their
// uuids in order. One bad event refuses the batch (its JSONPath names it).
func (c *Client) SendEvents(ctx context.Context, es []Event) ([]string, error) {
	body := make([]map[string]any, len(es))
	for i, e := range es {
		body[i] = e.body()
	}
	var a struct {
		Events []struct {
			UUID string `json:"event_uuid"`
		} `json:"events"`
	}
	if err := c.do(ctx, request{method: http.MethodPost, path: "/platform/events/batch", body: body}, &a); err != nil {
		return nil, err
	}
	out := make([]string, len(a.Events))
	for i, e := range a.Events {
		out[i] = e.UUID
	}
	return out, nil
}
