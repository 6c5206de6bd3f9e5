package target

import (
	"context"
	"fmt"

	"github.com/erpbridge/erpbridge/mapping"

	"github.com/erpbridge/erpbridge/bridge"
	"github.com/erpbridge/erpbridge/rdstation/crm"
)

// orgCustomKey is where an organization payload carries custom fields.
const orgCustomKey = "organization_custom_fields"

// Organizations writes organizations.
type Organizations struct {
	c *crm.Client
	// cnpjField is the id of the custom field holding the CNPJ/CPF; empty
	// means organizations are adopted by exact name only.
	cnpjField string
	ix        index
}

var _ bridge.Target = (*Organizations)(nil)

// NewOrganizations returns the organization target. cnpjFieldID may be "".
func NewOrganizations(c *crm.Client, cnpjFieldID string) *Organizations {
	return &Organizations{c: c, cnpjField: cnpjFieldID}
}

// Entity implements bridge.Target.
func (*Organizations) Entity() string { return "organization" }

func orgCustom(o crm.Organization, id string) string {
	for _, v := range o.CustomFields {
		if v.CustomFieldID == id {
			return v.Text()
		}
	}
	return ""
}

func (t *Organizations) cnpjOf(p bridge.Payload) string {
	if t.cnpjField == "" {
		return ""
	}
	return mapping.DocumentKey(customValue(p, orgCustomKey, t.cnpjField))
}

// KeysOf implements bridge.Target: the name and the CNPJ custom field.
func (t *Organizations) KeysOf(p bridge.Payload) bridge.Payload {
	keys := pick(p, "name")
	if doc := customValue(p, orgCustomKey, t.cnpjField); t.cnpjField != "" && doc != "" {
		keys[orgCustomKey] = []any{map[string]any{"custom_field_id": t.cnpjField, "value": doc}}
	}
	return keys
}

// Find adopts an existing organization: by CNPJ when the CNPJ field is
// configured and the payload has one, else by exact name.
func (t *Organizations) Find(ctx context.Context, p bridge.Payload, live bool) (string, bool, error) {
	name, doc := text(p, "name"), t.cnpjOf(p)
	if !live {
		if err := t.buildIndex(ctx); err != nil {
			return "", false, err
		}
		if doc != "" {
			if id, found, ok := t.ix.lookup("cnpj", doc); ok && found {
				return id, true, nil
			}
		}
		if id, found, ok := t.ix.lookup("name", name); ok {
			// A same-named organization with another CNPJ is another company.
			if theirs, _, _ := t.ix.lookup("cnpj-of", id); found && doc != "" && theirs != "" && theirs != doc {
				return "", false, nil
			}
			return id, found, nil
		}
	}
	id, found, err := t.findLive(ctx, name, doc)
	if err != nil || found || doc == "" {
		return id, found, err
	}
	// Not under this name (renamed since, or a stale CRM id): an
	// organization holding this CNPJ is this company all the same. The
	// listing index knows every organization that existed when it was
	// built; one a lost create made is found by the name it was sent with.
	return t.findByCNPJ(ctx, doc)
}

// findByCNPJ looks doc up in the listing index (built on first use). Past
// the listing cap (10,000 organizations) v1 cannot search by custom field:
// nothing is found.
func (t *Organizations) findByCNPJ(ctx context.Context, doc string) (string, bool, error) {
	if err := t.buildIndex(ctx); err != nil {
		return "", false, err
	}
	id, found, _ := t.ix.lookup("cnpj", doc)
	return id, found, nil
}

func (t *Organizations) buildIndex(ctx context.Context) error {
	return build(ctx, &t.ix, t.c.Organizations(ctx, crm.OrganizationQuery{}),
		func(o crm.Organization) [][3]string {
			keys := [][3]string{{"name", o.Name, o.ID}}
			if t.cnpjField != "" {
				doc := mapping.DocumentKey(orgCustom(o, t.cnpjField))
				keys = append(keys, [3]string{"cnpj", doc, o.ID}, [3]string{"cnpj-of", o.ID, doc})
			}
			return keys
		})
}

// findLive searches the CRM by name; with a CNPJ, a same-named organization
// with another CNPJ is another company and is not adopted.
func (t *Organizations) findLive(ctx context.Context, name, doc string) (string, bool, error) {
	if name == "" {
		return "", false, nil
	}
	orgs, err := t.c.FindOrganizationsByName(ctx, name)
	if err != nil {
		return "", false, classify(err)
	}
	for _, o := range orgs {
		if theirs := mapping.DocumentKey(orgCustom(o, t.cnpjField)); t.cnpjField != "" && doc != "" && theirs != "" && theirs != doc {
			continue
		}
		return o.ID, true, nil
	}
	return "", false, nil
}

// Create implements bridge.Target. A create refused because the name is
// taken (another process created it since the index was built) adopts the
// existing organization instead.
func (t *Organizations) Create(ctx context.Context, p bridge.Payload) (string, error) {
	var in crm.OrganizationInput
	if err := decode(p, &in); err != nil {
		return "", err
	}
	o, err := t.c.CreateOrganization(ctx, in)
	if nameTaken(err) {
		// Names are unique: say which organization has it; the engine
		// adopts it unless another ERP record owns it. One with another
		// CNPJ is another company: never adopted.
		id, found, ferr := t.findLive(ctx, in.Name, t.cnpjOf(p))
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
	// Not added to the index: the CRM's unique names catch a second create
	// of the same name (ExistsError), so the index need not grow with every
	// organization written and a million-row backfill stays flat in memory.
	return o.ID, nil
}

var _ bridge.NaturalKeyNamer = (*Organizations)(nil)

// NaturalKey names what organizations are adopted by, for messages.
func (t *Organizations) NaturalKey() string {
	if t.cnpjField != "" {
		return "CNPJ or name"
	}
	return "name"
}

// Update implements bridge.Target.
func (t *Organizations) Update(ctx context.Context, id string, p bridge.Payload) error {
	var in crm.OrganizationInput
	if err := decode(p, &in); err != nil {
		return err
	}
	if _, err := t.c.UpdateOrganization(ctx, id, in); err != nil {
		return classify(err)
	}
	return nil
}
