package crmv2

import (
	"context"
	"fmt"
	"iter"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// MaxPageSize is the largest page[size] the bridge asks for. [U] v2's
// maximum is not documented; 200 is v1's and what RD's own n8n node uses.
const MaxPageSize = 200

// maxPages bounds one listing: the 10,000-record cap at the smallest page
// size, plus one. A server whose links never end cannot loop the bridge.
const maxPages = 10000 + 1

// Query selects and orders a listing.
type Query struct {
	// Filter is the RDQL filter (zero: none).
	Filter Filter
	// Sort orders by a field ("updated_at"); Desc reverses it.
	Sort Field
	Desc bool
	// PageSize is page[size] (default MaxPageSize).
	PageSize int
}

func (q Query) values() (url.Values, error) {
	v := url.Values{}
	if err := q.Filter.Err(); err != nil {
		return nil, err
	}
	if s := q.Filter.String(); s != "" {
		v.Set("filter", s)
	}
	if q.Sort != "" {
		if !reField.MatchString(string(q.Sort)) || strings.HasPrefix(string(q.Sort), "@") {
			return nil, fmt.Errorf("building a query: cannot sort by %q", string(q.Sort))
		}
		dir := "asc"
		if q.Desc {
			dir = "desc"
		}
		v.Set("sort["+string(q.Sort)+"]", dir)
	}
	size := q.PageSize
	if size <= 0 || size > MaxPageSize {
		size = MaxPageSize
	}
	v.Set("page[size]", strconv.Itoa(size))
	v.Set("page[number]", "1")
	return v, nil
}

type links struct {
	Next *string `json:"next"`
	Self *string `json:"self"`
}

// list yields every record of a listing, following links.next. A link to
// another host or outside the API root is refused: the bearer token is
// sent only to the configured API.
func list[T any](ctx context.Context, c *Client, path string, q Query) iter.Seq2[T, error] {
	return func(yield func(T, error) bool) {
		var zero T
		query, err := q.values()
		if err != nil {
			yield(zero, fmt.Errorf("listing %s: %w", path, err))
			return
		}
		seen := map[string]bool{}
		for range maxPages {
			var page struct {
				Data  []T   `json:"data"`
				Links links `json:"links"`
			}
			if err := c.api.Call(ctx, http.MethodGet, path, query, nil, &page); err != nil {
				yield(zero, fmt.Errorf("listing %s: %w", path, err))
				return
			}
			for _, r := range page.Data {
				if !yield(r, nil) {
					return
				}
			}
			if page.Links.Next == nil || *page.Links.Next == "" || len(page.Data) == 0 {
				return
			}
			next := *page.Links.Next
			if seen[next] {
				yield(zero, fmt.Errorf("listing %s: the server's next link %s repeats", path, next))
				return
			}
			seen[next] = true
			p, nq, err := c.relative(next)
			if err != nil {
				yield(zero, fmt.Errorf("listing %s: %w", path, err))
				return
			}
			path, query = p, nq
		}
		yield(zero, fmt.Errorf("listing %s: more than %d pages", path, maxPages))
	}
}

// relative splits a link into the path under the API root and its query.
func (c *Client) relative(link string) (string, url.Values, error) {
	u, err := url.Parse(link)
	if err != nil {
		return "", nil, fmt.Errorf("reading the next link %q: %w", link, err)
	}
	if u.IsAbs() && (u.Scheme != c.base.Scheme || u.Host != c.base.Host) {
		return "", nil, fmt.Errorf("the next link %q leaves the API at %s", link, c.base.Host)
	}
	p, ok := strings.CutPrefix(u.Path, c.base.Path)
	if !ok || !strings.HasPrefix(p, "/") {
		return "", nil, fmt.Errorf("the next link %q is outside the API root %s", link, c.base.Path)
	}
	return p, u.Query(), nil
}

func get[T any](ctx context.Context, c *Client, path string) (T, error) {
	var out struct {
		Data T `json:"data"`
	}
	if err := c.api.Call(ctx, http.MethodGet, path, nil, nil, &out); err != nil {
		return out.Data, fmt.Errorf("reading %s: %w", path, err)
	}
	return out.Data, nil
}

func write[T any](ctx context.Context, c *Client, method, path string, in T) (T, error) {
	var out struct {
		Data T `json:"data"`
	}
	if err := c.api.Call(ctx, method, path, nil, map[string]any{"data": in}, &out); err != nil {
		var zero T
		verb := "creating"
		if method != http.MethodPost {
			verb = "updating"
		}
		return zero, fmt.Errorf("%s %s: %w", verb, path, err)
	}
	return out.Data, nil
}

func idPath(kind, id string) string { return "/" + kind + "/" + url.PathEscape(id) }

// Organizations lists organizations (the 10,000 cap applies to what q
// selects: filter to reach past it).
func (c *Client) Organizations(ctx context.Context, q Query) iter.Seq2[Organization, error] {
	return list[Organization](ctx, c, "/organizations", q)
}

// Organization reads one organization.
func (c *Client) Organization(ctx context.Context, id string) (Organization, error) {
	return get[Organization](ctx, c, idPath("organizations", id))
}

// CreateOrganization creates an organization. A lost answer is
// crm.ErrOutcomeUnknown: look the organization up before sending again.
func (c *Client) CreateOrganization(ctx context.Context, o Organization) (Organization, error) {
	return write(ctx, c, http.MethodPost, "/organizations", o)
}

// UpdateOrganization changes the fields set in o.
func (c *Client) UpdateOrganization(ctx context.Context, id string, o Organization) (Organization, error) {
	return write(ctx, c, http.MethodPut, idPath("organizations", id), o)
}

// Contacts lists contacts.
func (c *Client) Contacts(ctx context.Context, q Query) iter.Seq2[Contact, error] {
	return list[Contact](ctx, c, "/contacts", q)
}

// Contact reads one contact.
func (c *Client) Contact(ctx context.Context, id string) (Contact, error) {
	return get[Contact](ctx, c, idPath("contacts", id))
}

// CreateContact creates a contact.
func (c *Client) CreateContact(ctx context.Context, ct Contact) (Contact, error) {
	return write(ctx, c, http.MethodPost, "/contacts", ct)
}

// UpdateContact changes the fields set in ct.
func (c *Client) UpdateContact(ctx context.Context, id string, ct Contact) (Contact, error) {
	return write(ctx, c, http.MethodPut, idPath("contacts", id), ct)
}

// Products lists products.
func (c *Client) Products(ctx context.Context, q Query) iter.Seq2[Product, error] {
	return list[Product](ctx, c, "/products", q)
}

// Product reads one product.
func (c *Client) Product(ctx context.Context, id string) (Product, error) {
	return get[Product](ctx, c, idPath("products", id))
}

// CreateProduct creates a product.
func (c *Client) CreateProduct(ctx context.Context, p Product) (Product, error) {
	return write(ctx, c, http.MethodPost, "/products", p)
}

// UpdateProduct changes the fields set in p.
func (c *Client) UpdateProduct(ctx context.Context, id string, p Product) (Product, error) {
	return write(ctx, c, http.MethodPut, idPath("products", id), p)
}

// Deals lists deals.
func (c *Client) Deals(ctx context.Context, q Query) iter.Seq2[Deal, error] {
	return list[Deal](ctx, c, "/deals", q)
}

// Deal reads one deal.
func (c *Client) Deal(ctx context.Context, id string) (Deal, error) {
	return get[Deal](ctx, c, idPath("deals", id))
}

// CreateDeal creates a deal (status ongoing only).
func (c *Client) CreateDeal(ctx context.Context, d Deal) (Deal, error) {
	return write(ctx, c, http.MethodPost, "/deals", d)
}

// UpdateDeal changes the fields set in d; Status won or lost closes it.
func (c *Client) UpdateDeal(ctx context.Context, id string, d Deal) (Deal, error) {
	return write(ctx, c, http.MethodPut, idPath("deals", id), d)
}

// CustomFields lists the custom fields of entity ("" for all).
func (c *Client) CustomFields(ctx context.Context, entity string) iter.Seq2[FieldDef, error] {
	q := Query{}
	if entity != "" {
		q.Filter = Eq(Field("entity"), entity)
	}
	return list[FieldDef](ctx, c, "/custom_fields", q)
}

// Pipelines lists the sales pipelines.
func (c *Client) Pipelines(ctx context.Context) iter.Seq2[Pipeline, error] {
	return list[Pipeline](ctx, c, "/pipelines", Query{})
}

// Stages lists a pipeline's stages as the API lists them (each has its
// Order).
func (c *Client) Stages(ctx context.Context, pipelineID string) iter.Seq2[Stage, error] {
	return list[Stage](ctx, c, idPath("pipelines", pipelineID)+"/stages", Query{})
}

// LostReasons lists the deal lost reasons.
func (c *Client) LostReasons(ctx context.Context) iter.Seq2[Named, error] {
	return list[Named](ctx, c, "/lost_reasons", Query{})
}

// Users lists the account's users (q filters, e.g. Eq(FieldEmail, …)).
func (c *Client) Users(ctx context.Context, q Query) iter.Seq2[User, error] {
	return list[User](ctx, c, "/users", q)
}

// DealProducts reads a deal's products.
func (c *Client) DealProducts(ctx context.Context, dealID string) ([]DealProduct, error) {
	return get[[]DealProduct](ctx, c, idPath("deals", dealID)+"/products")
}

// CreateDealProduct adds a product line to a deal. A lost answer is
// crm.ErrOutcomeUnknown: read the deal's products before sending again.
func (c *Client) CreateDealProduct(ctx context.Context, dealID string, p DealProduct) (DealProduct, error) {
	return write(ctx, c, http.MethodPost, idPath("deals", dealID)+"/products", p)
}

// UpdateDealProduct changes the fields set in p.
func (c *Client) UpdateDealProduct(ctx context.Context, dealID, id string, p DealProduct) (DealProduct, error) {
	return write(ctx, c, http.MethodPut, idPath("deals", dealID)+"/products/"+url.PathEscape(id), p)
}

// DeleteDealProduct removes a product line.
func (c *Client) DeleteDealProduct(ctx context.Context, dealID, id string) error {
	path := idPath("deals", dealID) + "/products/" + url.PathEscape(id)
	if err := c.api.Call(ctx, http.MethodDelete, path, nil, nil, nil); err != nil {
		return fmt.Errorf("deleting %s: %w", path, err)
	}
	return nil
}

// CreateNote writes a note onto a deal.
func (c *Client) CreateNote(ctx context.Context, dealID, text string) error {
	path := idPath("deals", dealID) + "/notes"
	if err := c.api.Call(ctx, http.MethodPost, path, nil, map[string]any{"data": map[string]any{"text": text}}, nil); err != nil {
		return fmt.Errorf("creating %s: %w", path, err)
	}
	return nil
}
