package crm

import (
	"encoding/json"
	"fmt"
)

// decodeWithID decodes b into dst (a pointer to a method-less copy of the
// caller's type) and fills *id from "_id" when "id" was absent: some
// objects (lost reasons, some product samples) carry only "_id".
func decodeWithID(b []byte, dst any, id *string) error {
	if err := json.Unmarshal(b, dst); err != nil {
		return err
	}
	if *id == "" {
		var o struct {
			OID string `json:"_id"`
		}
		if json.Unmarshal(b, &o) == nil {
			*id = o.OID
		}
	}
	return nil
}

// TokenInfo is the answer of GET /token/check.
type TokenInfo struct {
	// Email and Name are the token user's.
	Email string `json:"email"`
	Name  string `json:"name"`
	// Account is the account (organization) name, whatever shape it came in.
	Account string `json:"-"`
	// AccountID is the account's id when the answer carries one.
	AccountID string `json:"-"`
	// Raw is the whole answer (its shape is not documented).
	Raw json.RawMessage `json:"-"`
}

// UnmarshalJSON reads the undocumented token/check shape leniently.
func (t *TokenInfo) UnmarshalJSON(b []byte) error {
	type plain TokenInfo
	if err := json.Unmarshal(b, (*plain)(t)); err != nil {
		return err
	}
	t.Raw = append(json.RawMessage(nil), b...)
	var o struct {
		Organization any `json:"organization"`
	}
	if json.Unmarshal(b, &o) == nil {
		switch v := o.Organization.(type) {
		case string:
			t.Account = v
		case map[string]any:
			if n, ok := v["name"].(string); ok {
				t.Account = n
			}
			for _, k := range []string{"id", "_id"} {
				if id, ok := v[k].(string); ok && id != "" {
					t.AccountID = id
					break
				}
			}
		}
	}
	return nil
}

// Team is a user's team.
type Team struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// UnmarshalJSON accepts "_id" for "id".
func (x *Team) UnmarshalJSON(b []byte) error {
	type plain Team
	return decodeWithID(b, (*plain)(x), &x.ID)
}

// User is a CRM user (a deal or organization owner).
type User struct {
	ID        string `json:"id"`
	Name      string `json:"name"`
	Email     string `json:"email"`
	Nickname  string `json:"nickname,omitempty"`
	Active    bool   `json:"active"`
	Hidden    bool   `json:"hidden"`
	Phone     string `json:"phone,omitempty"`
	Teams     []Team `json:"teams,omitempty"`
	LastLogin string `json:"last_login,omitempty"`
	CreatedAt string `json:"created_at,omitempty"`
	UpdatedAt string `json:"updated_at,omitempty"`
}

// UnmarshalJSON accepts "_id" for "id".
func (x *User) UnmarshalJSON(b []byte) error {
	type plain User
	return decodeWithID(b, (*plain)(x), &x.ID)
}

// CustomFieldValue is a custom field's value on a record, and the shape
// sent on writes. Value is a string, a []string (multiple choice) or nil
// (sent as null, clearing the field). Date fields take DD/MM/YYYY.
type CustomFieldValue struct {
	// ID is the value's own id (responses only).
	ID            string `json:"_id,omitempty"`
	CustomFieldID string `json:"custom_field_id"`
	Value         any    `json:"value"`
	// CustomField is the field's definition, embedded in responses.
	CustomField *CustomField `json:"custom_field,omitempty"`
}

// Text returns the value as text: a string as is, a list joined by ", ".
func (v CustomFieldValue) Text() string {
	switch x := v.Value.(type) {
	case nil:
		return ""
	case string:
		return x
	case []any:
		s := ""
		for i, it := range x {
			if i > 0 {
				s += ", "
			}
			s += fmt.Sprint(it)
		}
		return s
	case []string:
		s := ""
		for i, it := range x {
			if i > 0 {
				s += ", "
			}
			s += it
		}
		return s
	default:
		return fmt.Sprint(x)
	}
}

// FieldValue returns the value of custom field id among values, and
// whether it is there.
func FieldValue(values []CustomFieldValue, id string) (CustomFieldValue, bool) {
	for _, v := range values {
		if v.CustomFieldID == id {
			return v, true
		}
	}
	return CustomFieldValue{}, false
}

// Custom field types and targets.
const (
	FieldTypeOption         = "option"
	FieldTypeText           = "text"
	FieldTypeDate           = "date"
	FieldTypeMultipleChoice = "multiple_choice"

	ForDeal         = "deal"
	ForContact      = "contact"
	ForOrganization = "organization"
	ForProduct      = "product"
)

// CustomFieldOption is one option of an option/multiple-choice field. The
// API sends options as strings or as objects; both read into Label.
type CustomFieldOption struct {
	ID    string `json:"id,omitempty"`
	Label string `json:"label"`
}

// UnmarshalJSON reads a string or an object with label/name/value.
func (o *CustomFieldOption) UnmarshalJSON(b []byte) error {
	var s string
	if json.Unmarshal(b, &s) == nil {
		o.Label = s
		return nil
	}
	var v struct {
		ID    any    `json:"id"`
		OID   any    `json:"_id"`
		Label string `json:"label"`
		Name  string `json:"name"`
		Value any    `json:"value"`
	}
	if err := json.Unmarshal(b, &v); err != nil {
		return fmt.Errorf("decoding custom field option: %w", err)
	}
	switch {
	case v.Label != "":
		o.Label = v.Label
	case v.Name != "":
		o.Label = v.Name
	case v.Value != nil:
		o.Label = fmt.Sprint(v.Value)
	}
	if v.ID != nil {
		o.ID = fmt.Sprint(v.ID)
	} else if v.OID != nil {
		o.ID = fmt.Sprint(v.OID)
	}
	return nil
}

// CustomField is a custom field definition.
type CustomField struct {
	ID            string              `json:"id"`
	Label         string              `json:"label"`
	Type          string              `json:"type"`
	For           string              `json:"for"`
	Options       []CustomFieldOption `json:"opts,omitempty"`
	AllowNew      bool                `json:"allow_new"`
	Order         int                 `json:"order"`
	Required      bool                `json:"required"`
	RequiredRules []json.RawMessage   `json:"required_rules,omitempty"`
	Unique        bool                `json:"unique"`
	Visible       bool                `json:"visible"`
}

// UnmarshalJSON accepts "_id" for "id".
func (x *CustomField) UnmarshalJSON(b []byte) error {
	type plain CustomField
	return decodeWithID(b, (*plain)(x), &x.ID)
}

// CustomFieldInput creates a custom field.
type CustomFieldInput struct {
	Label    string   `json:"label"`
	Type     string   `json:"type"`
	For      string   `json:"for"`
	Unique   *bool    `json:"unique,omitempty"`
	Required *bool    `json:"required,omitempty"`
	AllowNew *bool    `json:"allow_new,omitempty"`
	Options  []string `json:"options,omitempty"`
	Order    *int     `json:"order,omitempty"`
}

// Ref is an embedded reference to another record.
type Ref struct {
	ID             string `json:"id"`
	Name           string `json:"name,omitempty"`
	Email          string `json:"email,omitempty"`
	Nickname       string `json:"nickname,omitempty"`
	Order          int    `json:"order,omitempty"`
	DealPipelineID string `json:"deal_pipeline_id,omitempty"`
}

// UnmarshalJSON accepts "_id" for "id".
func (x *Ref) UnmarshalJSON(b []byte) error {
	type plain Ref
	return decodeWithID(b, (*plain)(x), &x.ID)
}

// Organization is a company in the CRM.
type Organization struct {
	ID                   string             `json:"id"`
	Name                 string             `json:"name"`
	Address              string             `json:"address,omitempty"`
	URL                  string             `json:"url,omitempty"`
	Resume               string             `json:"resume,omitempty"`
	User                 *Ref               `json:"user,omitempty"`
	Contacts             []Contact          `json:"contacts,omitempty"`
	CustomFields         []CustomFieldValue `json:"custom_fields,omitempty"`
	OrganizationSegments []Ref              `json:"organization_segments,omitempty"`
	WonCount             int                `json:"won_count"`
	LostCount            int                `json:"lost_count"`
	OpenedCount          int                `json:"opened_count"`
	PausedCount          int                `json:"paused_count"`
	CreatedAt            string             `json:"created_at,omitempty"`
	UpdatedAt            string             `json:"updated_at,omitempty"`
}

// UnmarshalJSON accepts "_id" for "id", and organization_custom_fields (the
// create/update answer) for custom_fields.
func (x *Organization) UnmarshalJSON(b []byte) error {
	type plain Organization
	if err := decodeWithID(b, (*plain)(x), &x.ID); err != nil {
		return err
	}
	if len(x.CustomFields) == 0 {
		var o struct {
			CF []CustomFieldValue `json:"organization_custom_fields"`
		}
		if json.Unmarshal(b, &o) == nil {
			x.CustomFields = o.CF
		}
	}
	return nil
}

// OrganizationInput creates or updates an organization; empty fields are
// not sent.
type OrganizationInput struct {
	Name    string `json:"name,omitempty"`
	Resume  string `json:"resume,omitempty"`
	URL     string `json:"url,omitempty"`
	Address string `json:"address,omitempty"`
	UserID  string `json:"user_id,omitempty"`
	// Segments are segment names; unknown ones are created.
	Segments     []string           `json:"organization_segments,omitempty"`
	CustomFields []CustomFieldValue `json:"organization_custom_fields,omitempty"`
}

// Email is a contact's e-mail address.
type Email struct {
	Email string `json:"email"`
}

// Phone is a contact's phone number. Type is usually home, work, fax or
// cellphone.
type Phone struct {
	Phone    string `json:"phone"`
	Type     string `json:"type,omitempty"`
	WhatsApp bool   `json:"whatsapp,omitempty"`
}

// Legal basis values.
const (
	LegalCategoryCommunications = "communications"
	LegalCategoryDataProcessing = "data_processing"
	LegalTypeConsent            = "consent"
	LegalTypeLegitimateInterest = "legitimate_interest"
	LegalTypeContract           = "pre_existent_contract"
	LegalStatusGranted          = "granted"
	LegalStatusDeclined         = "declined"
)

// LegalBasis is an LGPD legal basis on a contact.
type LegalBasis struct {
	Category string `json:"category"`
	Type     string `json:"type"`
	Status   string `json:"status"`
}

// DealSummary is a deal as embedded in a contact.
type DealSummary struct {
	ID       string `json:"id"`
	Name     string `json:"name"`
	Win      *bool  `json:"win"`
	ClosedAt string `json:"closed_at,omitempty"`
}

// UnmarshalJSON accepts "_id" for "id".
func (x *DealSummary) UnmarshalJSON(b []byte) error {
	type plain DealSummary
	return decodeWithID(b, (*plain)(x), &x.ID)
}

// Contact is a person in the CRM.
type Contact struct {
	ID             string             `json:"id"`
	Name           string             `json:"name"`
	Title          string             `json:"title,omitempty"`
	Birthday       any                `json:"birthday,omitempty"`
	Emails         []Email            `json:"emails,omitempty"`
	Phones         []Phone            `json:"phones,omitempty"`
	OrganizationID string             `json:"organization_id,omitempty"`
	Organization   *Ref               `json:"organization,omitempty"`
	CustomFields   []CustomFieldValue `json:"contact_custom_fields,omitempty"`
	Deals          []DealSummary      `json:"deals,omitempty"`
	DealIDs        []string           `json:"deal_ids,omitempty"`
	LegalBases     []LegalBasis       `json:"legal_bases,omitempty"`
	Facebook       string             `json:"facebook,omitempty"`
	LinkedIn       string             `json:"linkedin,omitempty"`
	Skype          string             `json:"skype,omitempty"`
	Notes          string             `json:"notes,omitempty"`
	CreatedAt      string             `json:"created_at,omitempty"`
	UpdatedAt      string             `json:"updated_at,omitempty"`
}

// UnmarshalJSON accepts "_id" for "id" and fills OrganizationID from an
// embedded organization.
func (x *Contact) UnmarshalJSON(b []byte) error {
	type plain Contact
	if err := decodeWithID(b, (*plain)(x), &x.ID); err != nil {
		return err
	}
	if x.OrganizationID == "" && x.Organization != nil {
		x.OrganizationID = x.Organization.ID
	}
	return nil
}

// ContactInput creates or updates a contact (also used for the new
// contacts of a deal); empty fields are not sent.
type ContactInput struct {
	Name           string             `json:"name,omitempty"`
	Title          string             `json:"title,omitempty"`
	Birthday       string             `json:"birthday,omitempty"`
	Emails         []Email            `json:"emails,omitempty"`
	Phones         []Phone            `json:"phones,omitempty"`
	OrganizationID string             `json:"organization_id,omitempty"`
	DealIDs        []string           `json:"deal_ids,omitempty"`
	LegalBases     []LegalBasis       `json:"legal_bases,omitempty"`
	CustomFields   []CustomFieldValue `json:"contact_custom_fields,omitempty"`
}

// Product is a catalogue product.
type Product struct {
	ID           string             `json:"id"`
	Name         string             `json:"name"`
	Description  string             `json:"description,omitempty"`
	BasePrice    Decimal            `json:"base_price"`
	Visible      bool               `json:"visible"`
	CustomFields []CustomFieldValue `json:"product_custom_fields,omitempty"`
	CreatedAt    string             `json:"created_at,omitempty"`
	UpdatedAt    string             `json:"updated_at,omitempty"`
}

// UnmarshalJSON accepts "_id" for "id".
func (x *Product) UnmarshalJSON(b []byte) error {
	type plain Product
	return decodeWithID(b, (*plain)(x), &x.ID)
}

// ProductInput creates or updates a product; nil and empty fields are not
// sent (Visible: false hides a product, which cannot be deleted).
type ProductInput struct {
	Name         string             `json:"name,omitempty"`
	Description  string             `json:"description,omitempty"`
	BasePrice    *Decimal           `json:"base_price,omitempty"`
	Visible      *bool              `json:"visible,omitempty"`
	CustomFields []CustomFieldValue `json:"product_custom_fields,omitempty"`
}

// Stage is a deal stage.
type Stage struct {
	ID             string `json:"id"`
	Name           string `json:"name"`
	Nickname       string `json:"nickname,omitempty"`
	Order          int    `json:"order"`
	Description    string `json:"description,omitempty"`
	Objective      string `json:"objective,omitempty"`
	DealPipelineID string `json:"deal_pipeline_id,omitempty"`
	DealPipeline   *Ref   `json:"deal_pipeline,omitempty"`
}

// UnmarshalJSON accepts "_id" for "id" and fills DealPipelineID from the
// embedded pipeline.
func (x *Stage) UnmarshalJSON(b []byte) error {
	type plain Stage
	if err := decodeWithID(b, (*plain)(x), &x.ID); err != nil {
		return err
	}
	if x.DealPipelineID == "" && x.DealPipeline != nil {
		x.DealPipelineID = x.DealPipeline.ID
	}
	return nil
}

// StageInput creates or updates a deal stage (sent unwrapped).
type StageInput struct {
	DealPipelineID string `json:"deal_pipeline_id,omitempty"`
	Name           string `json:"name,omitempty"`
	Order          *int   `json:"order,omitempty"`
	Description    string `json:"description,omitempty"`
	Objective      string `json:"objective,omitempty"`
}

// Pipeline is a sales pipeline with its stages.
type Pipeline struct {
	ID     string          `json:"id"`
	Name   string          `json:"name"`
	Order  int             `json:"order"`
	Stages []Stage         `json:"deal_stages"`
	Config json.RawMessage `json:"config,omitempty"`
}

// UnmarshalJSON accepts "_id" for "id".
func (x *Pipeline) UnmarshalJSON(b []byte) error {
	type plain Pipeline
	return decodeWithID(b, (*plain)(x), &x.ID)
}

// CopyToPipeline returns the id of the pipeline a deal won in this one is
// copied into (config.deal_won.copy_to_pipeline), "" when none. The value's
// shape is not documented ([U]): a pipeline id, or an object with "id" or
// "_id", are read; ok is false when the setting is there but in no shape
// read, so a caller can say it does not know.
func (x Pipeline) CopyToPipeline() (id string, ok bool) {
	var cfg struct {
		DealWon struct {
			CopyTo json.RawMessage `json:"copy_to_pipeline"`
		} `json:"deal_won"`
	}
	if len(x.Config) == 0 || json.Unmarshal(x.Config, &cfg) != nil {
		return "", len(x.Config) == 0
	}
	raw := cfg.DealWon.CopyTo
	if len(raw) == 0 || string(raw) == "null" {
		return "", true
	}
	if json.Unmarshal(raw, &id) == nil {
		return id, true
	}
	var ref Ref
	if json.Unmarshal(raw, &ref) == nil && ref.ID != "" {
		return ref.ID, true
	}
	return "", false
}

// DealSource is where a deal came from.
type DealSource struct {
	ID          string `json:"id"`
	Name        string `json:"name"`
	Description string `json:"description,omitempty"`
}

// UnmarshalJSON accepts "_id" for "id".
func (x *DealSource) UnmarshalJSON(b []byte) error {
	type plain DealSource
	return decodeWithID(b, (*plain)(x), &x.ID)
}

// Campaign is a marketing campaign deals are attributed to.
type Campaign struct {
	ID          string `json:"id"`
	Name        string `json:"name"`
	Description string `json:"description,omitempty"`
}

// UnmarshalJSON accepts "_id" for "id".
func (x *Campaign) UnmarshalJSON(b []byte) error {
	type plain Campaign
	return decodeWithID(b, (*plain)(x), &x.ID)
}

// NamedInput creates a deal source or a campaign.
type NamedInput struct {
	Name        string `json:"name"`
	Description string `json:"description,omitempty"`
}

// LostReason is why a deal was lost (the API sends only "_id").
type LostReason struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// UnmarshalJSON accepts "_id" for "id".
func (x *LostReason) UnmarshalJSON(b []byte) error {
	type plain LostReason
	return decodeWithID(b, (*plain)(x), &x.ID)
}

// Deal is a sales opportunity.
type Deal struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	// Win is true when won, false when lost, nil while open.
	Win            *bool              `json:"win"`
	Hold           *bool              `json:"hold"`
	ClosedAt       string             `json:"closed_at,omitempty"`
	PredictionDate string             `json:"prediction_date,omitempty"`
	Rating         int                `json:"rating"`
	Interactions   int                `json:"interactions"`
	AmountUnique   Decimal            `json:"amount_unique"`
	AmountMonthly  Decimal            `json:"amount_montly"`
	AmountTotal    Decimal            `json:"amount_total"`
	Stage          *Ref               `json:"deal_stage,omitempty"`
	Pipeline       *Ref               `json:"deal_pipeline,omitempty"`
	User           *Ref               `json:"user,omitempty"`
	Organization   *Ref               `json:"organization,omitempty"`
	Contacts       []Contact          `json:"contacts,omitempty"`
	Products       []DealProduct      `json:"deal_products,omitempty"`
	CustomFields   []CustomFieldValue `json:"deal_custom_fields,omitempty"`
	DealSource     *Ref               `json:"deal_source,omitempty"`
	Campaign       *Ref               `json:"campaign,omitempty"`
	DealSourceID   string             `json:"deal_source_id,omitempty"`
	CampaignID     string             `json:"campaign_id,omitempty"`
	LostReasonID   string             `json:"deal_lost_reason_id,omitempty"`
	LostNote       string             `json:"deal_lost_note,omitempty"`
	FromRDSM       bool               `json:"from_rdsm_integration,omitempty"`
	CreatedAt      string             `json:"created_at,omitempty"`
	UpdatedAt      string             `json:"updated_at,omitempty"`
}

// UnmarshalJSON accepts "_id" for "id" and "amount_monthly" for the
// API's "amount_montly".
func (x *Deal) UnmarshalJSON(b []byte) error {
	type plain Deal
	if err := decodeWithID(b, (*plain)(x), &x.ID); err != nil {
		return err
	}
	if x.AmountMonthly.IsZero() {
		var o struct {
			M *Decimal `json:"amount_monthly"`
		}
		if json.Unmarshal(b, &o) == nil && o.M != nil {
			x.AmountMonthly = *o.M
		}
	}
	return nil
}

// DealProduct is a product line of a deal.
type DealProduct struct {
	ID            string  `json:"id"`
	ProductID     string  `json:"product_id"`
	Name          string  `json:"name,omitempty"`
	Description   string  `json:"description,omitempty"`
	BasePrice     Decimal `json:"base_price"`
	Price         Decimal `json:"price"`
	Amount        Decimal `json:"amount"`
	AmountDecimal Decimal `json:"amount_decimal"`
	Discount      Decimal `json:"discount"`
	DiscountType  string  `json:"discount_type,omitempty"`
	Recurrence    string  `json:"recurrence,omitempty"`
	Total         Decimal `json:"total"`
}

// UnmarshalJSON accepts "_id" for "id".
func (x *DealProduct) UnmarshalJSON(b []byte) error {
	type plain DealProduct
	return decodeWithID(b, (*plain)(x), &x.ID)
}

// Deal product discount types and recurrences.
const (
	DiscountValue     = "value"
	DiscountPercent   = "percent"
	RecurrenceSpare   = "spare"
	RecurrenceMonthly = "monthly"
)

// DealProductInput creates or updates a deal product (unwrapped). On
// create a nil Discount is sent as 0 and an empty DiscountType as "value",
// because the API rejects an empty discount type.
type DealProductInput struct {
	// ID identifies the line in batch updates and deletes.
	ID           string   `json:"id,omitempty"`
	ProductID    string   `json:"product_id,omitempty"`
	Price        *Decimal `json:"price,omitempty"`
	Amount       *Decimal `json:"amount,omitempty"`
	Discount     *Decimal `json:"discount,omitempty"`
	DiscountType string   `json:"discount_type,omitempty"`
	Recurrence   string   `json:"recurrence,omitempty"`
}

func (in DealProductInput) withCreateDefaults() DealProductInput {
	if in.Discount == nil {
		z := Decimal{}
		in.Discount = &z
	}
	if in.DiscountType == "" {
		in.DiscountType = DiscountValue
	}
	return in
}
