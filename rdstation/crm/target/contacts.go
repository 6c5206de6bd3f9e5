package target

import (
	"context"
	"fmt"
	"maps"

	"github.com/erpbridge/erpbridge/bridge"
	"github.com/erpbridge/erpbridge/rdstation/crm"
)

// Contacts writes contacts. Contact names are not unique in the CRM, so a
// contact is adopted by e-mail, or by name within its organization.
type Contacts struct {
	c          *crm.Client
	ix         index
	omitShared bool
}

var _ bridge.Target = (*Contacts)(nil)

// NewContacts returns the contact target. omitShared says what becomes of
// a contact whose e-mail the CRM contact of another ERP record already has
// (a shared mailbox, one person on two customers): sent without that
// e-mail (its other e-mails, phones and organization go) and listed as a
// warning; else not sent, and listed once (streams.contacts.shared_email).
func NewContacts(c *crm.Client, omitShared bool) *Contacts {
	return &Contacts{c: c, omitShared: omitShared}
}

// Entity implements bridge.Target.
func (*Contacts) Entity() string { return "contact" }

var _ bridge.ExclusiveKey = (*Contacts)(nil)

// ExclusiveKey implements bridge.ExclusiveKey: an e-mail is one person, so
// a second ERP contact with an e-mail another one already synced is a
// conflict to report, not a second CRM contact to create.
func (*Contacts) ExclusiveKey() bool { return true }

var _ bridge.SharedKeys = (*Contacts)(nil)

// DropKey implements bridge.SharedKeys: p without its first e-mail, the one
// Find adopts by, unless shared e-mails are not to be omitted or p has none.
func (t *Contacts) DropKey(p bridge.Payload) (bridge.Payload, string, bool) {
	if !t.omitShared {
		return p, "", false
	}
	var list []any
	switch x := p["emails"].(type) {
	case []any: // a stored payload, decoded from JSON
		list = x
	case []map[string]any: // as the mapping makes it
		for _, e := range x {
			list = append(list, e)
		}
	}
	if len(list) == 0 {
		return p, "", false
	}
	first, _ := list[0].(map[string]any)
	email, _ := first["email"].(string)
	q := maps.Clone(p)
	if len(list) == 1 {
		delete(q, "emails")
	} else {
		q["emails"] = list[1:]
	}
	return q, fmt.Sprintf("e-mail %q", email), true
}

var _ bridge.NaturalKeyNamer = (*Contacts)(nil)

// NaturalKey names what contacts are adopted by, for messages.
func (*Contacts) NaturalKey() string { return "e-mail (or name in its organization)" }

// KeysOf implements bridge.Target: the e-mails, and the name within the
// organization for a contact without e-mail.
func (*Contacts) KeysOf(p bridge.Payload) bridge.Payload {
	return pick(p, "name", "emails", "organization_id")
}

func orgName(orgID, name string) string { return orgID + "\x00" + name }

// Find adopts an existing contact by its first e-mail; a contact without
// e-mail is matched by exact name within the same organization.
func (t *Contacts) Find(ctx context.Context, p bridge.Payload, live bool) (string, bool, error) {
	var in crm.ContactInput
	if err := decode(p, &in); err != nil {
		return "", false, err
	}
	email := ""
	if len(in.Emails) > 0 {
		email = in.Emails[0].Email
	}
	if !live {
		if err := t.buildIndex(ctx); err != nil {
			return "", false, err
		}
		kind, key := "org+name", orgName(in.OrganizationID, in.Name)
		if email != "" {
			kind, key = "email", email
		}
		if id, found, ok := t.ix.lookup(kind, key); ok {
			return id, found, nil
		}
	}
	if email != "" {
		found, err := t.c.FindContactsByEmail(ctx, email)
		if err != nil {
			return "", false, classify(err)
		}
		if len(found) > 0 {
			return found[0].ID, true, nil
		}
		return "", false, nil
	}
	if in.Name == "" {
		return "", false, nil
	}
	for ct, err := range t.c.Contacts(ctx, crm.ContactQuery{Q: in.Name}) {
		if err != nil {
			return "", false, classify(err)
		}
		if ct.Name == in.Name && ct.OrganizationID == in.OrganizationID {
			return ct.ID, true, nil
		}
	}
	return "", false, nil
}

// buildIndex lists the CRM's contacts once (see index).
func (t *Contacts) buildIndex(ctx context.Context) error {
	return build(ctx, &t.ix, t.c.Contacts(ctx, crm.ContactQuery{}),
		func(ct crm.Contact) [][3]string {
			keys := [][3]string{{"org+name", orgName(ct.OrganizationID, ct.Name), ct.ID}}
			for _, e := range ct.Emails {
				keys = append(keys, [3]string{"email", e.Email, ct.ID})
			}
			return keys
		})
}

var _ bridge.DryRunIndex = (*Contacts)(nil)

// Pretend implements bridge.DryRunIndex.
func (t *Contacts) Pretend(ctx context.Context, p bridge.Payload, id string) error {
	var in crm.ContactInput
	if err := decode(p, &in); err != nil {
		return err
	}
	if err := t.buildIndex(ctx); err != nil {
		return err
	}
	t.ix.pretend("org+name", orgName(in.OrganizationID, in.Name), id)
	for _, e := range in.Emails {
		t.ix.pretend("email", e.Email, id)
	}
	return nil
}

// ForgetPretended implements bridge.DryRunIndex.
func (t *Contacts) ForgetPretended() { t.ix.forgetPretended() }

func (t *Contacts) remember(in crm.ContactInput, id string) {
	t.ix.remember("org+name", orgName(in.OrganizationID, in.Name), id)
	for _, e := range in.Emails {
		t.ix.remember("email", e.Email, id)
	}
}

// Create implements bridge.Target.
func (t *Contacts) Create(ctx context.Context, p bridge.Payload) (string, error) {
	var in crm.ContactInput
	if err := decode(p, &in); err != nil {
		return "", err
	}
	ct, err := t.c.CreateContact(ctx, in)
	if err != nil {
		return "", classify(err)
	}
	t.remember(in, ct.ID)
	return ct.ID, nil
}

// Update implements bridge.Target.
func (t *Contacts) Update(ctx context.Context, id string, p bridge.Payload) error {
	var in crm.ContactInput
	if err := decode(p, &in); err != nil {
		return err
	}
	if _, err := t.c.UpdateContact(ctx, id, in); err != nil {
		return classify(err)
	}
	t.remember(in, id)
	return nil
}
