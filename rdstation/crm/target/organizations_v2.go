package target

import (
	"context"
	"fmt"
	"slices"

	"github.com/erpbridge/erpbridge/bridge"
	"github.com/erpbridge/erpbridge/mapping"
	crmv2 "github.com/erpbridge/erpbridge/rdstation/crm/v2"
)

// OrganizationsV2 writes organizations through CRM API v2 (issue 15). It
// takes the payload the organization mapping builds, with custom fields
// identified by their v2 slug (the v2 schema's custom field ids), and
// adopts existing organizations by a live RDQL look-up: by CNPJ
// (@slug:"…") first, then by exact name. Nothing is listed, so adoption by
// CNPJ holds at any number of organizations — v1's index stops at the
// listing cap (10,000), beyond which a renamed company is created twice.
type OrganizationsV2 struct {
	c *crmv2.Client
	// cnpjSlug is the slug of the custom field holding the CNPJ/CPF; empty
	// means organizations are adopted by exact name only.
	cnpjSlug string
}

var (
	_ bridge.Target          = (*OrganizationsV2)(nil)
	_ bridge.NaturalKeyNamer = (*OrganizationsV2)(nil)
)

// NewOrganizationsV2 returns the v2 organization target; cnpjSlug may be "".
func NewOrganizationsV2(c *crmv2.Client, cnpjSlug string) *OrganizationsV2 {
	return &OrganizationsV2{c: c, cnpjSlug: cnpjSlug}
}

// Entity implements bridge.Target.
func (*OrganizationsV2) Entity() string { return "organization" }

// NaturalKey implements bridge.NaturalKeyNamer.
func (t *OrganizationsV2) NaturalKey() string {
	if t.cnpjSlug != "" {
		return "CNPJ or name"
	}
	return "name"
}

func (t *OrganizationsV2) cnpjOf(p bridge.Payload) string {
	if t.cnpjSlug == "" {
		return ""
	}
	return customValue(p, orgCustomKey, t.cnpjSlug)
}

// KeysOf implements bridge.Target: the name and the CNPJ custom field.
func (t *OrganizationsV2) KeysOf(p bridge.Payload) bridge.Payload {
	keys := pick(p, "name")
	if doc := t.cnpjOf(p); doc != "" {
		keys[orgCustomKey] = []any{map[string]any{"custom_field_id": t.cnpjSlug, "value": doc}}
	}
	return keys
}

// Find implements bridge.Target: always a live look-up (live or not), by
// CNPJ then by name; a same-named organization with another CNPJ is
// another company and is not adopted.
func (t *OrganizationsV2) Find(ctx context.Context, p bridge.Payload, _ bool) (string, bool, error) {
	doc := t.cnpjOf(p)
	if key := mapping.DocumentKey(doc); key != "" {
		// The CRM compares the text: ask for the forms a person types (as
		// sent, bare, masked), then keep the one that is this document.
		forms := []string{doc}
		for _, f := range []string{key, func() string { m, _ := mapping.Document(key); return m }()} {
			if f != "" && !slices.Contains(forms, f) {
				forms = append(forms, f)
			}
		}
		for o, err := range t.c.Organizations(ctx, crmv2.Query{Filter: crmv2.In(crmv2.CustomField(t.cnpjSlug), forms...)}) {
			if err != nil {
				return "", false, classify(err)
			}
			if theirs, _ := o.CustomFields[t.cnpjSlug].(string); mapping.DocumentKey(theirs) == key {
				return o.ID, true, nil
			}
		}
	}
	return t.findByName(ctx, text(p, "name"), doc)
}

func (t *OrganizationsV2) findByName(ctx context.Context, name, doc string) (string, bool, error) {
	if name == "" {
		return "", false, nil
	}
	for o, err := range t.c.Organizations(ctx, crmv2.Query{Filter: crmv2.Eq(crmv2.FieldName, name), PageSize: 2}) {
		if err != nil {
			return "", false, classify(err)
		}
		theirs, _ := o.CustomFields[t.cnpjSlug].(string)
		if doc != "" && theirs != "" && mapping.DocumentKey(theirs) != mapping.DocumentKey(doc) {
			return "", false, nil
		}
		return o.ID, true, nil
	}
	return "", false, nil
}

// orgV2 translates the organization mapping's payload into a v2 record.
func orgV2(p bridge.Payload) (crmv2.Organization, error) {
	var in struct {
		Name     string `json:"name"`
		Address  string `json:"address"`
		URL      string `json:"url"`
		Resume   string `json:"resume"`
		UserID   string `json:"user_id"`
		Segments []any  `json:"organization_segments"`
		Custom   []struct {
			ID    string `json:"custom_field_id"`
			Value any    `json:"value"`
		} `json:"organization_custom_fields"`
	}
	if err := decode(p, &in); err != nil {
		return crmv2.Organization{}, err
	}
	if len(in.Segments) > 0 {
		return crmv2.Organization{}, fmt.Errorf("%w: organization_segments are not written through CRM API v2 yet (v2 takes segment ids)", bridge.ErrRejected)
	}
	o := crmv2.Organization{Name: in.Name, URL: in.URL, Description: in.Resume, OwnerID: in.UserID}
	if in.Address != "" {
		o.Address = &crmv2.Address{Line: in.Address}
	}
	if len(in.Custom) > 0 {
		o.CustomFields = map[string]any{}
		for _, cf := range in.Custom {
			o.CustomFields[cf.ID] = cf.Value
		}
	}
	return o, nil
}

// Create implements bridge.Target. A name already taken names the
// organization that has it (adopted by the engine), unless that one has
// another CNPJ.
func (t *OrganizationsV2) Create(ctx context.Context, p bridge.Payload) (string, error) {
	in, err := orgV2(p)
	if err != nil {
		return "", err
	}
	o, err := t.c.CreateOrganization(ctx, in)
	if nameTaken(err) {
		id, found, ferr := t.findByName(ctx, in.Name, t.cnpjOf(p))
		if ferr != nil {
			return "", ferr
		}
		if found {
			return "", &bridge.ExistsError{CRMID: id, Err: err}
		}
		return "", fmt.Errorf("%w: the CRM has another company (another CNPJ) named %q: %w", bridge.ErrRejected, in.Name, err)
	}
	if err != nil {
		return "", classify(err)
	}
	return o.ID, nil
}

// Update implements bridge.Target.
func (t *OrganizationsV2) Update(ctx context.Context, id string, p bridge.Payload) error {
	in, err := orgV2(p)
	if err != nil {
		return err
	}
	if _, err := t.c.UpdateOrganization(ctx, id, in); err != nil {
		return classify(err)
	}
	return nil
}
