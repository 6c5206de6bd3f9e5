package target

import (
	"context"
	"errors"

	"github.com/erpbridge/erpbridge/bridge"
	"github.com/erpbridge/erpbridge/rdstation/crm"
)

// Products writes products. The API cannot search products: adoption by
// name uses an index of every product, and a live lookup lists them all.
type Products struct {
	c  *crm.Client
	ix index
}

var _ bridge.Target = (*Products)(nil)

// NewProducts returns the product target.
func NewProducts(c *crm.Client) *Products { return &Products{c: c} }

// Entity implements bridge.Target.
func (*Products) Entity() string { return "product" }

// KeysOf implements bridge.Target: the name.
func (*Products) KeysOf(p bridge.Payload) bridge.Payload { return pick(p, "name") }

// Find adopts an existing product by exact (case-insensitive) name.
func (t *Products) Find(ctx context.Context, p bridge.Payload, live bool) (string, bool, error) {
	name := text(p, "name")
	if name == "" {
		return "", false, nil
	}
	if !live {
		err := build(ctx, &t.ix, t.c.Products(ctx, crm.ProductQuery{}),
			func(pr crm.Product) [][3]string { return [][3]string{{"name", pr.Name, pr.ID}} })
		if err != nil {
			return "", false, err
		}
		if id, found, ok := t.ix.lookup("name", name); ok {
			return id, found, nil
		}
	}
	found, err := t.c.FindProductsByName(ctx, name)
	if errors.Is(err, crm.ErrListingCapped) {
		// Over 10,000 products the CRM cannot be searched: create, and let
		// a name already taken (names are unique) say which product it is.
		return "", false, nil
	}
	if err != nil {
		return "", false, classify(err)
	}
	if len(found) > 0 {
		return found[0].ID, true, nil
	}
	return "", false, nil
}

var _ bridge.NaturalKeyNamer = (*Products)(nil)

// NaturalKey names what products are adopted by, for messages.
func (*Products) NaturalKey() string { return "name" }

// Create implements bridge.Target; a name already taken adopts that product.
func (t *Products) Create(ctx context.Context, p bridge.Payload) (string, error) {
	var in crm.ProductInput
	if err := decode(p, &in); err != nil {
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
	// Not remembered: unique names catch a second create (see Organizations).
	return pr.ID, nil
}

// Update implements bridge.Target.
func (t *Products) Update(ctx context.Context, id string, p bridge.Payload) error {
	var in crm.ProductInput
	if err := decode(p, &in); err != nil {
		return err
	}
	if _, err := t.c.UpdateProduct(ctx, id, in); err != nil {
		return classify(err)
	}
	return nil
}
