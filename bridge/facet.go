package bridge

import (
	"context"
	"fmt"
	"maps"
)

// FacetOf is the payload key a facet's Mapper puts the CRM id of the
// record the facet is part of under (see NewFacet). It is never sent.
const FacetOf = "_facet_of"

// Facet is the target of a stream that writes part of the records
// another stream owns: a customer's credit position, in organization
// custom fields of the organization the customers stream made. It never
// creates a record: a record is found by the CRM id its Mapper puts under
// FacetOf (resolved from the owning stream), and only the payload's other
// fields are written to it. Its identities and fingerprints are its own
// entity's (entity), so neither stream's writes look like changes of the
// other's records. Run it update_only.
type Facet struct {
	t      Target
	entity string
}

var _ Target = (*Facet)(nil)

// NewFacet returns the facet entity of t's records.
func NewFacet(t Target, entity string) *Facet { return &Facet{t: t, entity: entity} }

// Entity implements Target: the facet's own.
func (f *Facet) Entity() string { return f.entity }

// Find implements Target: the record the payload names.
func (f *Facet) Find(_ context.Context, p Payload, _ bool) (string, bool, error) {
	id, _ := p[FacetOf].(string)
	return id, id != "", nil
}

// Create implements Target: a facet creates nothing.
func (f *Facet) Create(context.Context, Payload) (string, error) {
	return "", fmt.Errorf("%w: %s writes part of records another stream creates; it creates none", ErrRejected, f.entity)
}

// Update implements Target: the payload's fields, without FacetOf, on the
// record.
func (f *Facet) Update(ctx context.Context, crmID string, p Payload) error {
	q := maps.Clone(p)
	delete(q, FacetOf)
	return f.t.Update(ctx, crmID, q)
}

// KeysOf implements Target: the record's CRM id.
func (f *Facet) KeysOf(p Payload) Payload { return Payload{FacetOf: p[FacetOf]} }
