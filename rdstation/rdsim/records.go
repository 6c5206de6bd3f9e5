package rdsim

import (
	"slices"
	"time"

	"github.com/shopspring/decimal"
)

// State is a deep copy of every record the simulator holds. It is what
// GET /_sim/state returns; its shape is the simulator's own (the API's JSON
// shapes are rendered from it), with plain ids in every reference field.
type State struct {
	Account       Account        `json:"account"`
	Users         []User         `json:"users"`
	Segments      []Segment      `json:"segments"`
	Organizations []Organization `json:"organizations"`
	Contacts      []Contact      `json:"contacts"`
	Products      []Product      `json:"products"`
	CustomFields  []CustomField  `json:"custom_fields"`
	Pipelines     []Pipeline     `json:"deal_pipelines"`
	Stages        []Stage        `json:"deal_stages"`
	DealSources   []Named        `json:"deal_sources"`
	Campaigns     []Named        `json:"campaigns"`
	LostReasons   []Named        `json:"deal_lost_reasons"`
	Deals         []Deal         `json:"deals"`
	// Notes are the deals' notes (API "activities"), oldest first.
	Notes []Note `json:"notes"`
}

// SeedData lists records to add with Seed or POST /_sim/seed. It has
// State's shape (Account is ignored). Records are stored as given, without
// API validation: empty ids are generated, zero timestamps become now, and
// booleans are taken literally (set "active", "visible" explicitly).
// A user with a Token becomes a valid API token.
type SeedData State

// Account is the single simulated RD Station account.
type Account struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// Team is a team a user belongs to.
type Team struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// User is a CRM user; Token, when set, authenticates API calls as this user.
type User struct {
	ID        string     `json:"id"`
	Token     string     `json:"token,omitempty"`
	Name      string     `json:"name"`
	Email     string     `json:"email"`
	Nickname  string     `json:"nickname,omitempty"`
	Phone     string     `json:"phone,omitempty"`
	Active    bool       `json:"active"`
	Hidden    bool       `json:"hidden"`
	Teams     []Team     `json:"teams,omitempty"`
	LastLogin *time.Time `json:"last_login,omitempty"`
	CreatedAt time.Time  `json:"created_at"`
	UpdatedAt time.Time  `json:"updated_at"`
}

// Segment is an organization segment (auto-created from an unknown name).
type Segment struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// CustomFieldValue is one custom field's value on a record: a string, a
// []string (multiple_choice) or nil.
type CustomFieldValue struct {
	ID            string `json:"id"`
	CustomFieldID string `json:"custom_field_id"`
	Value         any    `json:"value"`
}

// Organization is a company.
type Organization struct {
	ID           string             `json:"id"`
	Name         string             `json:"name"`
	Resume       string             `json:"resume,omitempty"`
	URL          string             `json:"url,omitempty"`
	Address      string             `json:"address,omitempty"`
	UserID       string             `json:"user_id,omitempty"`
	SegmentIDs   []string           `json:"segment_ids,omitempty"`
	CustomFields []CustomFieldValue `json:"custom_fields,omitempty"`
	CreatedAt    time.Time          `json:"created_at"`
	UpdatedAt    time.Time          `json:"updated_at"`
}

// Email is one contact e-mail.
type Email struct {
	Email string `json:"email"`
}

// Phone is one contact phone; Type is free text (home, work, fax, cellphone…).
type Phone struct {
	Phone    string `json:"phone"`
	Type     string `json:"type,omitempty"`
	Whatsapp bool   `json:"whatsapp,omitempty"`
}

// LegalBasis is an LGPD legal basis of a contact.
type LegalBasis struct {
	Category string `json:"category"`
	Type     string `json:"type"`
	Status   string `json:"status"`
}

// Contact is a CRM contact; its deals are the deals listing it in ContactIDs.
type Contact struct {
	ID             string             `json:"id"`
	Name           string             `json:"name"`
	Title          string             `json:"title,omitempty"`
	Birthday       string             `json:"birthday,omitempty"`
	OrganizationID string             `json:"organization_id,omitempty"`
	Emails         []Email            `json:"emails,omitempty"`
	Phones         []Phone            `json:"phones,omitempty"`
	LegalBases     []LegalBasis       `json:"legal_bases,omitempty"`
	CustomFields   []CustomFieldValue `json:"custom_fields,omitempty"`
	Facebook       string             `json:"facebook,omitempty"`
	Linkedin       string             `json:"linkedin,omitempty"`
	Skype          string             `json:"skype,omitempty"`
	Notes          string             `json:"notes,omitempty"`
	CreatedAt      time.Time          `json:"created_at"`
	UpdatedAt      time.Time          `json:"updated_at"`
}

// Product is a catalogue product.
type Product struct {
	ID           string             `json:"id"`
	Name         string             `json:"name"`
	Description  string             `json:"description,omitempty"`
	BasePrice    decimal.Decimal    `json:"base_price"`
	Visible      bool               `json:"visible"`
	CustomFields []CustomFieldValue `json:"custom_fields,omitempty"`
	CreatedAt    time.Time          `json:"created_at"`
	UpdatedAt    time.Time          `json:"updated_at"`
}

// CustomField is a custom field definition; For is deal, contact,
// organization or product; Type is text, date, option or multiple_choice.
type CustomField struct {
	ID        string    `json:"id"`
	Label     string    `json:"label"`
	Type      string    `json:"type"`
	For       string    `json:"for"`
	Opts      []string  `json:"opts,omitempty"`
	AllowNew  bool      `json:"allow_new"`
	Required  bool      `json:"required"`
	Unique    bool      `json:"unique"`
	Visible   bool      `json:"visible"`
	Order     int       `json:"order"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// Pipeline is a deal pipeline; its stages are the Stages naming it.
type Pipeline struct {
	ID    string `json:"id"`
	Name  string `json:"name"`
	Order int    `json:"order"`
	// CopyToPipeline is the pipeline a deal won in this one is copied
	// into (config.deal_won.copy_to_pipeline; "" none): see Sim's copy on win.
	CopyToPipeline string    `json:"copy_to_pipeline,omitempty"`
	CreatedAt      time.Time `json:"created_at"`
	UpdatedAt      time.Time `json:"updated_at"`
}

// Stage is a deal stage of a pipeline.
type Stage struct {
	ID          string    `json:"id"`
	PipelineID  string    `json:"deal_pipeline_id"`
	Name        string    `json:"name"`
	Nickname    string    `json:"nickname,omitempty"`
	Order       int       `json:"order"`
	Description string    `json:"description,omitempty"`
	Objective   string    `json:"objective,omitempty"`
	CreatedAt   time.Time `json:"created_at"`
	UpdatedAt   time.Time `json:"updated_at"`
}

// Named is a deal source, a campaign or a deal lost reason.
type Named struct {
	ID          string    `json:"id"`
	Name        string    `json:"name"`
	Description string    `json:"description,omitempty"`
	CreatedAt   time.Time `json:"created_at"`
	UpdatedAt   time.Time `json:"updated_at"`
}

// DealProduct is one product line of a deal.
type DealProduct struct {
	ID           string          `json:"id"`
	ProductID    string          `json:"product_id"`
	Price        decimal.Decimal `json:"price"`
	Amount       decimal.Decimal `json:"amount"`
	Discount     decimal.Decimal `json:"discount"`
	DiscountType string          `json:"discount_type"`
	Recurrence   string          `json:"recurrence"`
	CreatedAt    time.Time       `json:"created_at"`
	UpdatedAt    time.Time       `json:"updated_at"`
}

// Deal is an opportunity. Win: nil open, true won, false lost.
type Deal struct {
	ID             string             `json:"id"`
	Name           string             `json:"name"`
	UserID         string             `json:"user_id"`
	StageID        string             `json:"deal_stage_id"`
	OrganizationID string             `json:"organization_id,omitempty"`
	ContactIDs     []string           `json:"contact_ids,omitempty"`
	SourceID       string             `json:"deal_source_id,omitempty"`
	CampaignID     string             `json:"campaign_id,omitempty"`
	Win            *bool              `json:"win"`
	Hold           *bool              `json:"hold"`
	ClosedAt       *time.Time         `json:"closed_at"`
	ClosedByID     string             `json:"closed_by_id,omitempty"`
	LostReasonID   string             `json:"deal_lost_reason_id,omitempty"`
	LostNote       string             `json:"deal_lost_note,omitempty"`
	PredictionDate string             `json:"prediction_date,omitempty"`
	Rating         int                `json:"rating,omitempty"`
	Interactions   int                `json:"interactions,omitempty"`
	CustomFields   []CustomFieldValue `json:"custom_fields,omitempty"`
	Products       []DealProduct      `json:"deal_products,omitempty"`
	FromRDSM       bool               `json:"from_rdsm_integration,omitempty"`
	CreatedAt      time.Time          `json:"created_at"`
	UpdatedAt      time.Time          `json:"updated_at"`
}

func cloneValues(in []CustomFieldValue) []CustomFieldValue {
	if in == nil {
		return nil
	}
	out := make([]CustomFieldValue, len(in))
	for i, v := range in {
		out[i] = v
		if l, ok := v.Value.([]string); ok {
			out[i].Value = slices.Clone(l)
		}
	}
	return out
}

func ptrClone[T any](p *T) *T {
	if p == nil {
		return nil
	}
	v := *p
	return &v
}

func (u User) clone() User {
	u.Teams = slices.Clone(u.Teams)
	u.LastLogin = ptrClone(u.LastLogin)
	return u
}

func (o Organization) clone() Organization {
	o.SegmentIDs = slices.Clone(o.SegmentIDs)
	o.CustomFields = cloneValues(o.CustomFields)
	return o
}

func (c Contact) clone() Contact {
	c.Emails = slices.Clone(c.Emails)
	c.Phones = slices.Clone(c.Phones)
	c.LegalBases = slices.Clone(c.LegalBases)
	c.CustomFields = cloneValues(c.CustomFields)
	return c
}

func (p Product) clone() Product {
	p.CustomFields = cloneValues(p.CustomFields)
	return p
}

func (f CustomField) clone() CustomField {
	f.Opts = slices.Clone(f.Opts)
	return f
}

func (d Deal) clone() Deal {
	d.ContactIDs = slices.Clone(d.ContactIDs)
	d.Win = ptrClone(d.Win)
	d.Hold = ptrClone(d.Hold)
	d.ClosedAt = ptrClone(d.ClosedAt)
	d.CustomFields = cloneValues(d.CustomFields)
	d.Products = slices.Clone(d.Products)
	return d
}

func same[T any](v T) T { return v }
