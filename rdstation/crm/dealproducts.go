package crm

import (
	"context"
	"fmt"
	"net/http"
)

// MaxBatch is the largest number of deal products one batch call takes.
const MaxBatch = 100

// ListDealProducts reads a deal's products.
func (c *Client) ListDealProducts(ctx context.Context, dealID string) ([]DealProduct, error) {
	p, err := idPath(http.MethodGet, "/deals", dealID, "deal_products")
	if err != nil {
		return nil, err
	}
	var env struct {
		DealProducts []DealProduct `json:"deal_products"`
	}
	err = c.do(ctx, request{method: http.MethodGet, path: p}, &env, "")
	return env.DealProducts, err
}

// CreateDealProduct adds one product to a deal (a nil discount is sent as
// 0 and an empty discount type as "value").
func (c *Client) CreateDealProduct(ctx context.Context, dealID string, in DealProductInput) (DealProduct, error) {
	p, err := idPath(http.MethodPost, "/deals", dealID, "deal_products")
	if err != nil {
		return DealProduct{}, err
	}
	in.ID = ""
	return write[DealProduct](ctx, c, http.MethodPost, p, in.withCreateDefaults(), "deal_product")
}

// UpdateDealProduct changes one product line of a deal.
func (c *Client) UpdateDealProduct(ctx context.Context, dealID, id string, in DealProductInput) (DealProduct, error) {
	p, err := idPath(http.MethodPut, "/deals", dealID, "deal_products")
	if err != nil {
		return DealProduct{}, err
	}
	p, err = idPath(http.MethodPut, p, id)
	if err != nil {
		return DealProduct{}, err
	}
	in.ID = ""
	return write[DealProduct](ctx, c, http.MethodPut, p, in, "deal_product")
}

// DeleteDealProduct removes one product line from a deal.
func (c *Client) DeleteDealProduct(ctx context.Context, dealID, id string) error {
	p, err := idPath(http.MethodDelete, "/deals", dealID, "deal_products")
	if err != nil {
		return err
	}
	if p, err = idPath(http.MethodDelete, p, id); err != nil {
		return err
	}
	return c.do(ctx, request{method: http.MethodDelete, path: p}, nil, "")
}

// batchAnswer reads the batch endpoints' {"deal":{…,"deal_products":[…]}}
// (or a bare {"deal_products":[…]}).
type batchAnswer struct {
	Deal struct {
		DealProducts []DealProduct `json:"deal_products"`
	} `json:"deal"`
	DealProducts []DealProduct `json:"deal_products"`
}

func (a batchAnswer) products() []DealProduct {
	if len(a.Deal.DealProducts) > 0 {
		return a.Deal.DealProducts
	}
	return a.DealProducts
}

// batch sends items in calls of at most MaxBatch and merges the deal
// products the answers list (by id, first seen first). On a failure it
// returns what the earlier calls answered and an error naming the items
// that were not confirmed.
func (c *Client) batch(ctx context.Context, method, dealID, suffix, verb string, items []DealProductInput) ([]DealProduct, error) {
	p, err := idPath(method, "/deals", dealID, "deal_products", suffix)
	if err != nil {
		return nil, err
	}
	var out []DealProduct
	seen := map[string]bool{}
	calls := (len(items) + MaxBatch - 1) / MaxBatch
	for i := 0; i < len(items); i += MaxBatch {
		chunk := items[i:min(i+MaxBatch, len(items))]
		body := struct {
			DealProducts []DealProductInput `json:"deal_products"`
		}{chunk}
		var ans batchAnswer
		if err := c.do(ctx, request{method: method, path: p, body: body}, &ans, ""); err != nil {
			return out, fmt.Errorf("%s deal products batch %d of %d (items %d–%d): %w",
				verb, i/MaxBatch+1, calls, i, i+len(chunk)-1, err)
		}
		for _, dp := range ans.products() {
			if dp.ID == "" || !seen[dp.ID] {
				seen[dp.ID] = true
				out = append(out, dp)
			}
		}
	}
	return out, nil
}

// CreateDealProducts adds products to a deal through the batch endpoint, in
// calls of at most 100. It returns the deal products the answers listed.
func (c *Client) CreateDealProducts(ctx context.Context, dealID string, items []DealProductInput) ([]DealProduct, error) {
	in := make([]DealProductInput, len(items))
	for i, it := range items {
		it.ID = ""
		in[i] = it.withCreateDefaults()
	}
	return c.batch(ctx, http.MethodPost, dealID, "batch", "creating", in)
}

// UpdateDealProducts changes product lines (each item carries its ID)
// through the batch endpoint, in calls of at most 100.
func (c *Client) UpdateDealProducts(ctx context.Context, dealID string, items []DealProductInput) ([]DealProduct, error) {
	for i, it := range items {
		if it.ID == "" {
			return nil, &Error{Kind: ErrBadRequest, Method: http.MethodPatch, Path: "/deals/{id}/deal_products/batch/update",
				Message: fmt.Sprintf("item %d has no id", i)}
		}
	}
	return c.batch(ctx, http.MethodPatch, dealID, "batch/update", "updating", items)
}

// DeleteDealProducts removes product lines by id through the batch
// endpoint, in calls of at most 100.
func (c *Client) DeleteDealProducts(ctx context.Context, dealID string, ids []string) error {
	items := make([]DealProductInput, len(ids))
	for i, id := range ids {
		items[i] = DealProductInput{ID: id}
	}
	_, err := c.batch(ctx, http.MethodDelete, dealID, "batch/destroy", "deleting", items)
	return err
}
