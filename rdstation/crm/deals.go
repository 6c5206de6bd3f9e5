package crm

import (
	"context"
	"encoding/json"
	"iter"
	"net/http"
	"net/url"
	"time"
)

// WinFilter selects deals by outcome.
type WinFilter int

// WinFilter values.
const (
	// AnyOutcome does not filter.
	AnyOutcome WinFilter = iota
	// Won selects won deals (win=true).
	Won
	// Lost selects lost deals (win=false).
	Lost
	// Open selects open deals (win=null).
	Open
)

// Deal listing date windows (the *_period parameters).
const (
	PeriodClosedAt       = "closed_at"
	PeriodCreatedAt      = "created_at"
	PeriodPredictionDate = "prediction_date"
)

// DealQuery filters GET /deals.
type DealQuery struct {
	// Name matches by name; ExactName asks for an exact match.
	Name      string
	ExactName bool
	Win       WinFilter
	// ClosedAt: true = won or lost, false = open or paused.
	ClosedAt *bool
	Hold     *bool
	// Period is PeriodClosedAt, PeriodCreatedAt or PeriodPredictionDate;
	// Start and End bound it (sent as 2006-01-02T15:04:05 in their own
	// location: give them in the account's offset).
	Period     string
	Start, End time.Time
	// Relations.
	UserID, ClosedByID, DealStageID, DealPipelineID, LostReasonID, CampaignID string
	// Organization is an organization id.
	Organization string
	// ProductPresence is "true", "false" or comma-separated product ids.
	ProductPresence string
	// Order (default created_at) and Direction (default desc).
	Order, Direction string
	// NextPage is a cursor from a previous page.
	NextPage    string
	Page, Limit int
}

const dealTimeLayout = "2006-01-02T15:04:05"

func (q DealQuery) listing() listing {
	v := url.Values{}
	setIf(v, "name", q.Name)
	if q.ExactName {
		v.Set("exact_name", "true")
	}
	switch q.Win {
	case Won:
		v.Set("win", "true")
	case Lost:
		v.Set("win", "false")
	case Open:
		v.Set("win", "null")
	}
	setBool(v, "closed_at", q.ClosedAt)
	setBool(v, "hold", q.Hold)
	if q.Period != "" {
		v.Set(q.Period+"_period", "true")
		if !q.Start.IsZero() {
			v.Set("start_date", q.Start.Format(dealTimeLayout))
		}
		if !q.End.IsZero() {
			v.Set("end_date", q.End.Format(dealTimeLayout))
		}
	}
	setIf(v, "user_id", q.UserID)
	setIf(v, "closed_by_id", q.ClosedByID)
	setIf(v, "deal_stage_id", q.DealStageID)
	setIf(v, "deal_pipeline_id", q.DealPipelineID)
	setIf(v, "deal_lost_reason_id", q.LostReasonID)
	setIf(v, "campaign_id", q.CampaignID)
	setIf(v, "organization", q.Organization)
	setIf(v, "product_presence", q.ProductPresence)
	setIf(v, "order", q.Order)
	setIf(v, "direction", q.Direction)
	return listing{path: "/deals", key: "deals", query: v, page: q.Page, limit: q.Limit, capped: true}
}

// ListDeals reads one page of deals (q.NextPage, when set, replaces the
// page number).
func (c *Client) ListDeals(ctx context.Context, q DealQuery) (Page[Deal], error) {
	l := q.listing()
	l.defaults()
	return fetchPage[Deal](ctx, c, l, l.page, q.NextPage)
}

// Deals iterates over the deals matching q, following next_page when the
// API sends it; it ends with a *ListingCappedError when the 10,000-record
// cap hides the rest.
func (c *Client) Deals(ctx context.Context, q DealQuery) iter.Seq2[Deal, error] {
	l := q.listing()
	l.cursor = q.NextPage
	return iterate[Deal](ctx, c, l, true)
}

// GetDeal reads one deal.
func (c *Client) GetDeal(ctx context.Context, id string) (Deal, error) {
	return get[Deal](ctx, c, "/deals", id, "deal")
}

// DealInput is the "deal" object of a create.
type DealInput struct {
	Name string `json:"name"`
	// DealStageID goes inside "deal" on create.
	DealStageID string `json:"deal_stage_id,omitempty"`
	// UserID is the owner; the token's user when empty.
	UserID         string             `json:"user_id,omitempty"`
	Rating         *int               `json:"rating,omitempty"`
	PredictionDate string             `json:"prediction_date,omitempty"`
	CustomFields   []CustomFieldValue `json:"deal_custom_fields,omitempty"`
	// Win, LostReasonID and LostNote ask for the deal to be created won or
	// lost. Not in the documented create body [U]: a CRM may ignore them,
	// so read the answer's win and set the outcome with PUT when it is not
	// the one asked for.
	Win          NullableBool `json:"win,omitempty"`
	LostReasonID string       `json:"deal_lost_reason_id,omitempty"`
	LostNote     string       `json:"deal_lost_note,omitempty"`
}

// DealCreate is the whole body of POST /deals.
type DealCreate struct {
	Deal DealInput
	// OrganizationID links an existing organization.
	OrganizationID string
	DealSourceID   string
	CampaignID     string
	// Contacts are created as new contacts of the deal.
	Contacts []ContactInput
	// Products become the deal's products (discount defaults as in
	// CreateDealProduct).
	Products []DealProductInput
}

type idRef struct {
	ID string `json:"_id"`
}

func ref(id string) *idRef {
	if id == "" {
		return nil
	}
	return &idRef{ID: id}
}

// MarshalJSON writes the documented create shape: relations beside "deal".
func (d DealCreate) MarshalJSON() ([]byte, error) {
	products := make([]DealProductInput, len(d.Products))
	for i, p := range d.Products {
		products[i] = p.withCreateDefaults()
	}
	return json.Marshal(struct {
		Deal         DealInput          `json:"deal"`
		Organization *idRef             `json:"organization,omitempty"`
		DealSource   *idRef             `json:"deal_source,omitempty"`
		Campaign     *idRef             `json:"campaign,omitempty"`
		Contacts     []ContactInput     `json:"contacts,omitempty"`
		Products     []DealProductInput `json:"deal_products,omitempty"`
	}{d.Deal, ref(d.OrganizationID), ref(d.DealSourceID), ref(d.CampaignID), d.Contacts, products})
}

// CreateDeal creates a deal with its organization link, new contacts,
// products, custom fields, stage and owner.
func (c *Client) CreateDeal(ctx context.Context, in DealCreate) (Deal, error) {
	return write[Deal](ctx, c, http.MethodPost, "/deals", in, "deal")
}

// DealUpdate is the body of PUT /deals/{id}; unset fields are not sent.
type DealUpdate struct {
	Name           string
	UserID         string
	Rating         *int
	PredictionDate string
	// Hold: True pauses, Null resumes.
	Hold NullableBool
	// Win: True wins, False loses, Null reopens.
	Win            NullableBool
	LostReasonID   string
	LostNote       string
	OrganizationID string
	CustomFields   []CustomFieldValue
	// DealStageID moves the deal; it is sent at the top level, beside
	// "deal" (inside "deal" the API ignores it on update).
	DealStageID  string
	DealSourceID string
	CampaignID   string
}

// MarshalJSON writes {"deal":{…},"deal_stage_id":…,"deal_source":{…},"campaign":{…}}.
func (u DealUpdate) MarshalJSON() ([]byte, error) {
	type inner struct {
		Name           string             `json:"name,omitempty"`
		UserID         string             `json:"user_id,omitempty"`
		Rating         *int               `json:"rating,omitempty"`
		PredictionDate string             `json:"prediction_date,omitempty"`
		Hold           NullableBool       `json:"hold,omitempty"`
		Win            NullableBool       `json:"win,omitempty"`
		LostReasonID   string             `json:"deal_lost_reason_id,omitempty"`
		LostNote       string             `json:"deal_lost_note,omitempty"`
		OrganizationID string             `json:"organization_id,omitempty"`
		CustomFields   []CustomFieldValue `json:"deal_custom_fields,omitempty"`
	}
	return json.Marshal(struct {
		Deal        inner  `json:"deal"`
		DealStageID string `json:"deal_stage_id,omitempty"`
		DealSource  *idRef `json:"deal_source,omitempty"`
		Campaign    *idRef `json:"campaign,omitempty"`
	}{
		Deal: inner{u.Name, u.UserID, u.Rating, u.PredictionDate, u.Hold, u.Win,
			u.LostReasonID, u.LostNote, u.OrganizationID, u.CustomFields},
		DealStageID: u.DealStageID,
		DealSource:  ref(u.DealSourceID),
		Campaign:    ref(u.CampaignID),
	})
}

// UpdateDeal changes the fields set in u.
func (c *Client) UpdateDeal(ctx context.Context, id string, u DealUpdate) (Deal, error) {
	return update[Deal](ctx, c, "/deals", id, u, "deal")
}

// WinDeal marks a deal won.
func (c *Client) WinDeal(ctx context.Context, id string) (Deal, error) {
	return c.UpdateDeal(ctx, id, DealUpdate{Win: True})
}

// LoseDeal marks a deal lost with a reason id and a note (both optional).
func (c *Client) LoseDeal(ctx context.Context, id, reasonID, note string) (Deal, error) {
	return c.UpdateDeal(ctx, id, DealUpdate{Win: False, LostReasonID: reasonID, LostNote: note})
}

// ReopenDeal reopens a won or lost deal (win:null).
func (c *Client) ReopenDeal(ctx context.Context, id string) (Deal, error) {
	return c.UpdateDeal(ctx, id, DealUpdate{Win: Null})
}

var (
	_ json.Marshaler = DealCreate{}
	_ json.Marshaler = DealUpdate{}
)
