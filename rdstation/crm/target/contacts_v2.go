package target

import (
	"context"
	"fmt"
	"strings"
	"sync"

	"github.com/erpbridge/erpbridge/bridge"
	crmv2 "github.com/erpbridge/erpbridge/rdstation/crm/v2"
)

// ContactsV2 writes contacts through CRM API v2: adopted by a live RDQL
// look-up, by first e-mail, or by exact name within the organization for
// a contact without e-mail. Nothing is listed, so adoption holds at any
// number of contacts.
type ContactsV2 struct {
	c          *crmv2.Client
	omitShared bool

	mu      sync.Mutex
	pretend map[string]string // a dry run's creates: look-up key → placeholder id
}

var (
	_ bridge.Target          = (*ContactsV2)(nil)
	_ bridge.ExclusiveKey    = (*ContactsV2)(nil)
	_ bridge.SharedKeys      = (*ContactsV2)(nil)
	_ bridge.NaturalKeyNamer = (*ContactsV2)(nil)
	_ bridge.DryRunIndex     = (*ContactsV2)(nil)
)

// NewContactsV2 returns the v2 contact target (omitShared: see NewContacts).
func NewContactsV2(c *crmv2.Client, omitShared bool) *ContactsV2 {
	return &ContactsV2{c: c, omitShared: omitShared}
}

// Entity implements bridge.Target.
func (*ContactsV2) Entity() string { return "contact" }

// ExclusiveKey implements bridge.ExclusiveKey (see Contacts).
func (*ContactsV2) ExclusiveKey() bool { return true }

// DropKey implements bridge.SharedKeys (see Contacts).
func (t *ContactsV2) DropKey(p bridge.Payload) (bridge.Payload, string, bool) {
	return dropFirstEmail(p, t.omitShared)
}

// NaturalKey implements bridge.NaturalKeyNamer.
func (*ContactsV2) NaturalKey() string { return "e-mail (or name in its organization)" }

// KeysOf implements bridge.Target (see Contacts).
func (*ContactsV2) KeysOf(p bridge.Payload) bridge.Payload {
	return pick(p, "name", "emails", "organization_id")
}

// contactV2 translates the contact mapping's payload into a v2 record;
// fields v2 has no place for yet are refused, never dropped unsaid.
func contactV2(p bridge.Payload) (crmv2.Contact, error) {
	var in struct {
		Name           string             `json:"name"`
		Title          string             `json:"title"`
		Birthday       string             `json:"birthday"`
		Emails         []crmv2.Email      `json:"emails"`
		Phones         []crmv2.Phone      `json:"phones"`
		OrganizationID string             `json:"organization_id"`
		LegalBases     []crmv2.LegalBasis `json:"legal_bases"`
		Facebook       string             `json:"facebook"`
		Linkedin       string             `json:"linkedin"`
		Skype          string             `json:"skype"`
		Notes          string             `json:"notes"`
		Custom         []struct {
			ID    string `json:"custom_field_id"`
			Value any    `json:"value"`
		} `json:"contact_custom_fields"`
	}
	if err := decode(p, &in); err != nil {
		return crmv2.Contact{}, err
	}
	for k, v := range map[string]string{"facebook": in.Facebook, "linkedin": in.Linkedin, "skype": in.Skype, "notes": in.Notes} {
		if v != "" {
			return crmv2.Contact{}, fmt.Errorf("%w: the contact field %s is not written through CRM API v2 yet", bridge.ErrRejected, k)
		}
	}
	for i, ph := range in.Phones {
		if ph.Type == "cellphone" {
			in.Phones[i].Type = "mobile" // v1's word for v2's
		}
	}
	c := crmv2.Contact{Name: in.Name, JobTitle: in.Title, Birthday: in.Birthday, Emails: in.Emails, Phones: in.Phones,
		OrganizationID: in.OrganizationID, LegalBases: in.LegalBases}
	if len(in.Custom) > 0 {
		c.CustomFields = map[string]any{}
		for _, cf := range in.Custom {
			c.CustomFields[cf.ID] = cf.Value
		}
	}
	return c, nil
}

// Find implements bridge.Target: always live (see ContactsV2).
func (t *ContactsV2) Find(ctx context.Context, p bridge.Payload, _ bool) (string, bool, error) {
	in, err := contactV2(p)
	if err != nil {
		return "", false, err
	}
	var f crmv2.Filter
	key := ""
	switch {
	case len(in.Emails) > 0 && in.Emails[0].Email != "":
		f, key = crmv2.Eq(crmv2.FieldEmail, in.Emails[0].Email), "email\x00"+strings.ToLower(in.Emails[0].Email)
	case in.Name != "":
		f = crmv2.And(crmv2.Eq(crmv2.FieldName, in.Name), crmv2.Eq(crmv2.FieldOrganizationID, in.OrganizationID))
		key = "org+name\x00" + orgName(in.OrganizationID, in.Name)
	default:
		return "", false, nil
	}
	t.mu.Lock()
	id, ok := t.pretend[key]
	t.mu.Unlock()
	if ok {
		return id, true, nil
	}
	for ct, err := range t.c.Contacts(ctx, crmv2.Query{Filter: f, PageSize: 1}) {
		if err != nil {
			return "", false, classify(err)
		}
		return ct.ID, true, nil
	}
	return "", false, nil
}

// Create implements bridge.Target.
func (t *ContactsV2) Create(ctx context.Context, p bridge.Payload) (string, error) {
	in, err := contactV2(p)
	if err != nil {
		return "", err
	}
	ct, err := t.c.CreateContact(ctx, in)
	if err != nil {
		return "", classify(err)
	}
	return ct.ID, nil
}

// Update implements bridge.Target.
func (t *ContactsV2) Update(ctx context.Context, id string, p bridge.Payload) error {
	in, err := contactV2(p)
	if err != nil {
		return err
	}
	if _, err := t.c.UpdateContact(ctx, id, in); err != nil {
		return classify(err)
	}
	return nil
}

// Pretend implements bridge.DryRunIndex: a later stream of the same dry
// run finds the contact by its e-mails or its name in its organization.
func (t *ContactsV2) Pretend(_ context.Context, p bridge.Payload, id string) error {
	in, err := contactV2(p)
	if err != nil {
		return err
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.pretend == nil {
		t.pretend = map[string]string{}
	}
	t.pretend["org+name\x00"+orgName(in.OrganizationID, in.Name)] = id
	for _, e := range in.Emails {
		t.pretend["email\x00"+strings.ToLower(e.Email)] = id
	}
	return nil
}

// ForgetPretended implements bridge.DryRunIndex.
func (t *ContactsV2) ForgetPretended() {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.pretend = nil
}
