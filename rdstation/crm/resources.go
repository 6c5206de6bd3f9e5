package crm

import (
	"context"
	"iter"
	"net/http"
	"net/url"
	"strings"
)

// idPath joins a collection path and a record id, refusing an empty id
// (which would turn a GET of one record into a listing).
func idPath(method, collection, id string, rest ...string) (string, error) {
	if strings.TrimSpace(id) == "" {
		return "", &Error{Kind: ErrBadRequest, Method: method, Path: collection + "/{id}", Message: "empty id"}
	}
	p := collection + "/" + url.PathEscape(id)
	for _, r := range rest {
		p += "/" + r
	}
	return p, nil
}

// get reads one record.
func get[T any](ctx context.Context, c *Client, collection, id, wrapKey string) (T, error) {
	var out T
	p, err := idPath(http.MethodGet, collection, id)
	if err != nil {
		return out, err
	}
	err = c.do(ctx, request{method: http.MethodGet, path: p}, &out, wrapKey)
	return out, err
}

// write sends body and decodes the answer (unwrapping wrapKey).
func write[T any](ctx context.Context, c *Client, method, path string, body any, wrapKey string) (T, error) {
	var out T
	err := c.do(ctx, request{method: method, path: path, body: body}, &out, wrapKey)
	return out, err
}

// update PUTs body to collection/id.
func update[T any](ctx context.Context, c *Client, collection, id string, body any, wrapKey string) (T, error) {
	p, err := idPath(http.MethodPut, collection, id)
	if err != nil {
		var zero T
		return zero, err
	}
	return write[T](ctx, c, http.MethodPut, p, body, wrapKey)
}

// ---- token and users ----

// CheckToken calls GET /token/check: it proves the token works and says
// whose it is.
func (c *Client) CheckToken(ctx context.Context) (TokenInfo, error) {
	var out TokenInfo
	err := c.do(ctx, request{method: http.MethodGet, path: "/token/check"}, &out, "")
	return out, err
}

// UserQuery filters GET /users.
type UserQuery struct {
	// Active filters by active flag when set.
	Active      *bool
	Page, Limit int
}

func (q UserQuery) listing() listing {
	v := url.Values{}
	setBool(v, "active", q.Active)
	return listing{path: "/users", key: "users", query: v, page: q.Page, limit: q.Limit}
}

// ListUsers reads one page of users.
func (c *Client) ListUsers(ctx context.Context, q UserQuery) (Page[User], error) {
	return listPage[User](ctx, c, q.listing())
}

// Users iterates over every user.
func (c *Client) Users(ctx context.Context, q UserQuery) iter.Seq2[User, error] {
	return iterate[User](ctx, c, q.listing(), false)
}

// GetUser reads one user (with phone and teams).
func (c *Client) GetUser(ctx context.Context, id string) (User, error) {
	return get[User](ctx, c, "/users", id, "user")
}

// FindUserByEmail returns the user whose e-mail is email (case-insensitive),
// or an error matching ErrNotFound.
func (c *Client) FindUserByEmail(ctx context.Context, email string) (User, error) {
	email = strings.TrimSpace(email)
	for u, err := range c.Users(ctx, UserQuery{}) {
		if err != nil {
			return User{}, err
		}
		if strings.EqualFold(strings.TrimSpace(u.Email), email) {
			return u, nil
		}
	}
	return User{}, &Error{Kind: ErrNotFound, Method: http.MethodGet, Path: "/users", Message: "no user with that e-mail"}
}

// ---- organizations ----

// OrganizationQuery filters GET /organizations.
type OrganizationQuery struct {
	// Q searches by name.
	Q string
	// Order is name (default), created_at or updated_at; Direction asc or desc.
	Order, Direction string
	UserID           string
	Segment          string
	// Page is the (first) page, Limit the page size (default and max 200).
	Page, Limit int
}

func (q OrganizationQuery) listing() listing {
	v := url.Values{}
	setIf(v, "q", q.Q)
	setIf(v, "order", q.Order)
	setIf(v, "direction", q.Direction)
	setIf(v, "user_id", q.UserID)
	setIf(v, "organization_segment", q.Segment)
	return listing{path: "/organizations", key: "organizations", query: v, page: q.Page, limit: q.Limit, capped: true}
}

// ListOrganizations reads one page of organizations.
func (c *Client) ListOrganizations(ctx context.Context, q OrganizationQuery) (Page[Organization], error) {
	return listPage[Organization](ctx, c, q.listing())
}

// Organizations iterates over the organizations matching q; it ends with a
// *ListingCappedError when the 10,000-record cap hides the rest.
func (c *Client) Organizations(ctx context.Context, q OrganizationQuery) iter.Seq2[Organization, error] {
	return iterate[Organization](ctx, c, q.listing(), false)
}

// GetOrganization reads one organization.
func (c *Client) GetOrganization(ctx context.Context, id string) (Organization, error) {
	return get[Organization](ctx, c, "/organizations", id, "organization")
}

type organizationBody struct {
	Organization OrganizationInput `json:"organization"`
}

// CreateOrganization creates an organization (names are unique per account).
func (c *Client) CreateOrganization(ctx context.Context, in OrganizationInput) (Organization, error) {
	return write[Organization](ctx, c, http.MethodPost, "/organizations", organizationBody{in}, "organization")
}

// UpdateOrganization changes the fields set in in.
func (c *Client) UpdateOrganization(ctx context.Context, id string, in OrganizationInput) (Organization, error) {
	return update[Organization](ctx, c, "/organizations", id, organizationBody{in}, "organization")
}

// FindOrganizationsByName searches by name (q) and keeps the organizations
// whose name equals name, ignoring case and surrounding spaces.
func (c *Client) FindOrganizationsByName(ctx context.Context, name string) ([]Organization, error) {
	name = strings.TrimSpace(name)
	var out []Organization
	for o, err := range c.Organizations(ctx, OrganizationQuery{Q: name}) {
		if err != nil {
			return out, err
		}
		if strings.EqualFold(strings.TrimSpace(o.Name), name) {
			out = append(out, o)
		}
	}
	return out, nil
}

// ---- contacts ----

// ContactQuery filters GET /contacts.
type ContactQuery struct {
	Email, Phone, Title, Q string
	// Order is name, created_at or updated_at; Direction asc or desc.
	Order, Direction string
	Page, Limit      int
}

func (q ContactQuery) listing() listing {
	v := url.Values{}
	setIf(v, "email", q.Email)
	setIf(v, "phone", q.Phone)
	setIf(v, "title", q.Title)
	setIf(v, "q", q.Q)
	setIf(v, "order", q.Order)
	setIf(v, "direction", q.Direction)
	return listing{path: "/contacts", key: "contacts", query: v, page: q.Page, limit: q.Limit, capped: true}
}

// ListContacts reads one page of contacts.
func (c *Client) ListContacts(ctx context.Context, q ContactQuery) (Page[Contact], error) {
	return listPage[Contact](ctx, c, q.listing())
}

// Contacts iterates over the contacts matching q (capped like Organizations).
func (c *Client) Contacts(ctx context.Context, q ContactQuery) iter.Seq2[Contact, error] {
	return iterate[Contact](ctx, c, q.listing(), false)
}

// GetContact reads one contact.
func (c *Client) GetContact(ctx context.Context, id string) (Contact, error) {
	return get[Contact](ctx, c, "/contacts", id, "contact")
}

type contactBody struct {
	Contact ContactInput `json:"contact"`
}

// CreateContact creates a contact.
func (c *Client) CreateContact(ctx context.Context, in ContactInput) (Contact, error) {
	return write[Contact](ctx, c, http.MethodPost, "/contacts", contactBody{in}, "contact")
}

// UpdateContact changes the fields set in in.
func (c *Client) UpdateContact(ctx context.Context, id string, in ContactInput) (Contact, error) {
	return update[Contact](ctx, c, "/contacts", id, contactBody{in}, "contact")
}

// FindContactsByEmail returns the contacts that have email among their
// e-mails (case-insensitive), using the API's email filter.
func (c *Client) FindContactsByEmail(ctx context.Context, email string) ([]Contact, error) {
	email = strings.TrimSpace(email)
	var out []Contact
	for ct, err := range c.Contacts(ctx, ContactQuery{Email: email}) {
		if err != nil {
			return out, err
		}
		for _, e := range ct.Emails {
			if strings.EqualFold(strings.TrimSpace(e.Email), email) {
				out = append(out, ct)
				break
			}
		}
	}
	return out, nil
}

// ---- products ----

// ProductQuery pages GET /products (the API has no filters).
type ProductQuery struct {
	Page, Limit int
}

func (q ProductQuery) listing() listing {
	return listing{path: "/products", key: "products", page: q.Page, limit: q.Limit}
}

// ListProducts reads one page of products.
func (c *Client) ListProducts(ctx context.Context, q ProductQuery) (Page[Product], error) {
	return listPage[Product](ctx, c, q.listing())
}

// Products iterates over every product.
func (c *Client) Products(ctx context.Context, q ProductQuery) iter.Seq2[Product, error] {
	return iterate[Product](ctx, c, q.listing(), false)
}

// GetProduct reads one product.
func (c *Client) GetProduct(ctx context.Context, id string) (Product, error) {
	return get[Product](ctx, c, "/products", id, "product")
}

type productBody struct {
	Product ProductInput `json:"product"`
}

// CreateProduct creates a product (names are unique per account).
func (c *Client) CreateProduct(ctx context.Context, in ProductInput) (Product, error) {
	return write[Product](ctx, c, http.MethodPost, "/products", productBody{in}, "product")
}

// UpdateProduct changes the fields set in in (Visible included).
func (c *Client) UpdateProduct(ctx context.Context, id string, in ProductInput) (Product, error) {
	return update[Product](ctx, c, "/products", id, productBody{in}, "product")
}

// FindProductsByName lists every product (the API cannot filter them) and
// keeps those whose name equals name, ignoring case and surrounding spaces.
func (c *Client) FindProductsByName(ctx context.Context, name string) ([]Product, error) {
	name = strings.TrimSpace(name)
	var out []Product
	for p, err := range c.Products(ctx, ProductQuery{}) {
		if err != nil {
			return out, err
		}
		if strings.EqualFold(strings.TrimSpace(p.Name), name) {
			out = append(out, p)
		}
	}
	return out, nil
}

// ---- custom fields ----

// ListCustomFields reads the custom fields for one target (ForDeal,
// ForContact, ForOrganization, ForProduct; "" for all).
func (c *Client) ListCustomFields(ctx context.Context, forEntity string) ([]CustomField, error) {
	v := url.Values{}
	setIf(v, "for", forEntity)
	var out []CustomField
	err := c.do(ctx, request{method: http.MethodGet, path: "/custom_fields", query: v}, &out, "")
	return out, err
}

// CreateCustomField creates a custom field.
func (c *Client) CreateCustomField(ctx context.Context, in CustomFieldInput) (CustomField, error) {
	body := struct {
		CustomField CustomFieldInput `json:"custom_field"`
	}{in}
	return write[CustomField](ctx, c, http.MethodPost, "/custom_fields", body, "custom_field")
}

// DeleteCustomField removes a custom field (and its values).
func (c *Client) DeleteCustomField(ctx context.Context, id string) error {
	p, err := idPath(http.MethodDelete, "/custom_fields", id)
	if err != nil {
		return err
	}
	return c.do(ctx, request{method: http.MethodDelete, path: p}, nil, "")
}

// ---- pipelines and stages ----

// ListPipelines reads every pipeline with its stages.
func (c *Client) ListPipelines(ctx context.Context) ([]Pipeline, error) {
	var out []Pipeline
	err := c.do(ctx, request{method: http.MethodGet, path: "/deal_pipelines"}, &out, "")
	return out, err
}

// StageQuery filters GET /deal_stages (at most 12 a page).
type StageQuery struct {
	// DealPipelineID selects the pipeline; empty means the default one.
	DealPipelineID string
	Page, Limit    int
}

func (q StageQuery) listing() listing {
	v := url.Values{}
	setIf(v, "deal_pipeline_id", q.DealPipelineID)
	return listing{path: "/deal_stages", key: "deal_stages", query: v, page: q.Page, limit: q.Limit, maxLimit: 12}
}

// ListDealStages reads one page of stages.
func (c *Client) ListDealStages(ctx context.Context, q StageQuery) (Page[Stage], error) {
	return listPage[Stage](ctx, c, q.listing())
}

// DealStages iterates over the stages of a pipeline.
func (c *Client) DealStages(ctx context.Context, q StageQuery) iter.Seq2[Stage, error] {
	return iterate[Stage](ctx, c, q.listing(), false)
}

// CreateDealStage creates a stage (unwrapped body; at most 12 per pipeline).
func (c *Client) CreateDealStage(ctx context.Context, in StageInput) (Stage, error) {
	return write[Stage](ctx, c, http.MethodPost, "/deal_stages", in, "deal_stage")
}

// UpdateDealStage changes a stage.
func (c *Client) UpdateDealStage(ctx context.Context, id string, in StageInput) (Stage, error) {
	return update[Stage](ctx, c, "/deal_stages", id, in, "deal_stage")
}

// ---- deal sources, campaigns, lost reasons ----

// NameQuery filters the small catalogues by name (q).
type NameQuery struct {
	Q           string
	Page, Limit int
}

func (q NameQuery) listing(path, key string) listing {
	v := url.Values{}
	setIf(v, "q", q.Q)
	return listing{path: path, key: key, query: v, page: q.Page, limit: q.Limit}
}

// ListDealSources reads one page of deal sources.
func (c *Client) ListDealSources(ctx context.Context, q NameQuery) (Page[DealSource], error) {
	return listPage[DealSource](ctx, c, q.listing("/deal_sources", "deal_sources"))
}

// DealSources iterates over the deal sources.
func (c *Client) DealSources(ctx context.Context, q NameQuery) iter.Seq2[DealSource, error] {
	return iterate[DealSource](ctx, c, q.listing("/deal_sources", "deal_sources"), false)
}

// CreateDealSource creates a deal source.
func (c *Client) CreateDealSource(ctx context.Context, in NamedInput) (DealSource, error) {
	body := struct {
		DealSource NamedInput `json:"deal_source"`
	}{in}
	return write[DealSource](ctx, c, http.MethodPost, "/deal_sources", body, "deal_source")
}

// ListCampaigns reads one page of campaigns.
func (c *Client) ListCampaigns(ctx context.Context, q NameQuery) (Page[Campaign], error) {
	return listPage[Campaign](ctx, c, q.listing("/campaigns", "campaigns"))
}

// Campaigns iterates over the campaigns.
func (c *Client) Campaigns(ctx context.Context, q NameQuery) iter.Seq2[Campaign, error] {
	return iterate[Campaign](ctx, c, q.listing("/campaigns", "campaigns"), false)
}

// CreateCampaign creates a campaign.
func (c *Client) CreateCampaign(ctx context.Context, in NamedInput) (Campaign, error) {
	body := struct {
		Campaign NamedInput `json:"campaign"`
	}{in}
	return write[Campaign](ctx, c, http.MethodPost, "/campaigns", body, "campaign")
}

// ListLostReasons reads one page of deal lost reasons.
func (c *Client) ListLostReasons(ctx context.Context, q NameQuery) (Page[LostReason], error) {
	return listPage[LostReason](ctx, c, q.listing("/deal_lost_reasons", "deal_lost_reasons"))
}

// LostReasons iterates over the deal lost reasons.
func (c *Client) LostReasons(ctx context.Context, q NameQuery) iter.Seq2[LostReason, error] {
	return iterate[LostReason](ctx, c, q.listing("/deal_lost_reasons", "deal_lost_reasons"), false)
}

// CreateLostReason creates a lost reason (2–40 characters; unwrapped body).
func (c *Client) CreateLostReason(ctx context.Context, name string) (LostReason, error) {
	body := struct {
		Name string `json:"name"`
	}{name}
	return write[LostReason](ctx, c, http.MethodPost, "/deal_lost_reasons", body, "deal_lost_reason")
}
