package target

import (
	"context"

	"github.com/erpbridge/erpbridge/bridge"
	"github.com/erpbridge/erpbridge/rdstation/crm"
	crmv2 "github.com/erpbridge/erpbridge/rdstation/crm/v2"
)

// ProductsV2 writes products through CRM API v2, adopting by exact
// (case-insensitive) name through the name filter: no listing, no cap.
type ProductsV2 struct{ c *crmv2.Client }

var (
	_ bridge.Target          = (*ProductsV2)(nil)
	_ bridge.NaturalKeyNamer = (*ProductsV2)(nil)
)

// NewProductsV2 returns the v2 product target.
func NewProductsV2(c *crmv2.Client) *ProductsV2 { return &ProductsV2{c: c} }

// Entity implements bridge.Target.
func (*ProductsV2) Entity() string { return "product" }

// NaturalKey implements bridge.NaturalKeyNamer.
func (*ProductsV2) NaturalKey() string { return "name" }

// KeysOf implements bridge.Target: the name.
func (*ProductsV2) KeysOf(p bridge.Payload) bridge.Payload { return pick(p, "name") }

func productV2(p bridge.Payload) (crmv2.Product, error) {
	var in struct {
		Name        string       `json:"name"`
		Description string       `json:"description"`
		BasePrice   *crm.Decimal `json:"base_price"`
		Visible     *bool        `json:"visible"`
		Custom      []struct {
			ID    string `json:"custom_field_id"`
			Value any    `json:"value"`
		} `json:"product_custom_fields"`
	}
	if err := decode(p, &in); err != nil {
		return crmv2.Product{}, err
	}
	out := crmv2.Product{Name: in.Name, Description: in.Description, Price: in.BasePrice, Visible: in.Visible}
	if len(in.Custom) > 0 {
		out.CustomFields = map[string]any{}
		for _, cf := range in.Custom {
			out.CustomFields[cf.ID] = cf.Value
		}
	}
	return out, nil
}

// Find implements bridge.Target: always live.
func (t *ProductsV2) Find(ctx context.Context, p bridge.Payload, _ bool) (string, bool, error) {
	name := text(p, "name")
	if name == "" {
		return "", false, nil
	}
	for pr, err := range t.c.Products(ctx, crmv2.Query{Filter: crmv2.Eq(crmv2.FieldName, name), PageSize: 1}) {
		if err != nil {
			return "", false, classify(err)
		}
		return pr.ID, true, nil
	}
	return "", false, nil
}

// Create implements bridge.Target; a name already taken adopts that product.
func (t *ProductsV2) Create(ctx context.Context, p bridge.Payload) (string, error) {
	in, err := productV2(p)
	if err != nil {
		return "", err
	}
	pr, err := t.c.CreateProduct(ctx, in)
	if nameTaken(err) {
		id, found, ferr := t.Find(ctx, p, true)
		if ferr != nil {
			return "", ferr
		}
		if found {
			return "", &bridge.ExistsError{CRMID: id, Err: err}
		}
	}
	if err != nil {
		return "", classify(err)
	}
	return pr.ID, nil
}

// Update implements bridge.Target.
func (t *ProductsV2) Update(ctx context.Context, id string, p bridge.Payload) error {
	in, err := productV2(p)
	if err != nil {
		return err
	}
	if _, err := t.c.UpdateProduct(ctx, id, in); err != nil {
		return classify(err)
	}
	return nil
}
