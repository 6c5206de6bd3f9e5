package crmv2

import (
	"time"

	"github.com/erpbridge/erpbridge/rdstation/crm"
)

// Records as v2 shows them (docs/rdstation-api.md §2). Writes send only
// the fields set (omitempty); custom fields are keyed by slug.

// Address is an organization's address.
type Address struct {
	Line      string   `json:"line,omitempty"`
	Latitude  *float64 `json:"latitude,omitempty"`
	Longitude *float64 `json:"longitude,omitempty"`
}

// Organization is a company.
type Organization struct {
	ID           string         `json:"id,omitempty"`
	Name         string         `json:"name,omitempty"`
	Description  string         `json:"description,omitempty"`
	URL          string         `json:"url,omitempty"`
	Address      *Address       `json:"address,omitempty"`
	SegmentIDs   []string       `json:"segment_ids,omitempty"`
	OwnerID      string         `json:"owner_id,omitempty"`
	CustomFields map[string]any `json:"custom_fields,omitempty"`
	CreatedAt    *time.Time     `json:"created_at,omitempty"`
	UpdatedAt    *time.Time     `json:"updated_at,omitempty"`
}

// Email is one contact e-mail.
type Email struct {
	Email string `json:"email"`
}

// Phone is one contact phone; Type is work, fax, home or mobile.
type Phone struct {
	Phone string `json:"phone"`
	Type  string `json:"type,omitempty"`
}

// LegalBasis is an LGPD legal basis.
type LegalBasis struct {
	Category string `json:"category"`
	Type     string `json:"type"`
	Status   string `json:"status"`
}

// Contact is a person.
type Contact struct {
	ID             string         `json:"id,omitempty"`
	Name           string         `json:"name,omitempty"`
	JobTitle       string         `json:"job_title,omitempty"`
	Emails         []Email        `json:"emails,omitempty"`
	Phones         []Phone        `json:"phones,omitempty"`
	Birthday       string         `json:"birthday,omitempty"`
	OrganizationID string         `json:"organization_id,omitempty"`
	LegalBases     []LegalBasis   `json:"legal_bases,omitempty"`
	CustomFields   map[string]any `json:"custom_fields,omitempty"`
	CreatedAt      *time.Time     `json:"created_at,omitempty"`
	UpdatedAt      *time.Time     `json:"updated_at,omitempty"`
}

// Product is a catalogue product.
type Product struct {
	ID           string         `json:"id,omitempty"`
	Name         string         `json:"name,omitempty"`
	Description  string         `json:"description,omitempty"`
	Price        *crm.Decimal   `json:"price,omitempty"`
	Visible      *bool          `json:"visible,omitempty"`
	CustomFields map[string]any `json:"custom_fields,omitempty"`
	CreatedAt    *time.Time     `json:"created_at,omitempty"`
	UpdatedAt    *time.Time     `json:"updated_at,omitempty"`
}

// Deal statuses.
const (
	StatusOngoing = "ongoing"
	StatusWon     = "won"
	StatusLost    = "lost"
	StatusPaused  = "paused"
)

// Deal is an opportunity. Prices are read-only (the products' totals).
type Deal struct {
	ID                string         `json:"id,omitempty"`
	Name              string         `json:"name,omitempty"`
	Status            string         `json:"status,omitempty"`
	RecurrencePrice   *crm.Decimal   `json:"recurrence_price,omitempty"`
	OneTimePrice      *crm.Decimal   `json:"one_time_price,omitempty"`
	TotalPrice        *crm.Decimal   `json:"total_price,omitempty"`
	ExpectedCloseDate string         `json:"expected_close_date,omitempty"`
	Rating            *int           `json:"rating,omitempty"`
	ClosedAt          *time.Time     `json:"closed_at,omitempty"`
	PipelineID        string         `json:"pipeline_id,omitempty"`
	StageID           string         `json:"stage_id,omitempty"`
	OwnerID           string         `json:"owner_id,omitempty"`
	SourceID          string         `json:"source_id,omitempty"`
	CampaignID        string         `json:"campaign_id,omitempty"`
	LostReasonID      string         `json:"lost_reason_id,omitempty"`
	OrganizationID    string         `json:"organization_id,omitempty"`
	ContactIDs        []string       `json:"contact_ids,omitempty"`
	CustomFields      map[string]any `json:"custom_fields,omitempty"`
	CreatedAt         *time.Time     `json:"created_at,omitempty"`
	UpdatedAt         *time.Time     `json:"updated_at,omitempty"`
}

// FieldDef is a custom field definition; v2 names it by Slug, and its
// Entity is organization, contact, deal or product.
type FieldDef struct {
	ID       string   `json:"id"`
	Slug     string   `json:"slug"`
	Label    string   `json:"label"`
	Type     string   `json:"type"`
	Entity   string   `json:"entity"`
	Options  []string `json:"options,omitempty"`
	Required bool     `json:"required"`
	Unique   bool     `json:"unique"`
}

// Pipeline is a sales pipeline; Stage one of its stages.
type Pipeline struct {
	ID    string `json:"id"`
	Name  string `json:"name"`
	Order int    `json:"order"`
}

// Stage is a stage of a pipeline, in Order.
type Stage struct {
	ID         string `json:"id"`
	Name       string `json:"name"`
	PipelineID string `json:"pipeline_id"`
	Order      int    `json:"order"`
}

// Named is a lost reason (and any other id-and-name record).
type Named struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// User is a CRM user.
type User struct {
	ID     string `json:"id"`
	Name   string `json:"name"`
	Email  string `json:"email"`
	Active bool   `json:"active"`
}

// Discount types and billing frequencies of a deal product.
const (
	DiscountAmount     = "amount"
	DiscountPercentage = "percentage"
	BillingOneTime     = "one-time"
	BillingMonthly     = "monthly"
	BillingAnnually    = "annually"
)

// DealProduct is one product line of a deal.
type DealProduct struct {
	ID               string       `json:"id,omitempty"`
	ProductID        string       `json:"product_id,omitempty"`
	Price            *crm.Decimal `json:"price,omitempty"`
	Quantity         *crm.Decimal `json:"quantity,omitempty"`
	DiscountType     string       `json:"discount_type,omitempty"`
	Discount         *crm.Decimal `json:"discount,omitempty"`
	TotalPrice       *crm.Decimal `json:"total_price,omitempty"`
	BillingFrequency string       `json:"billing_frequency,omitempty"`
}
