package rdsim

import (
	"net/http"
	"net/mail"
	"slices"
	"strings"
	"unicode"
)

// --- token and users ---

func (c *call) userRef(id string) any {
	u, ok := c.d.users.get(id)
	if !ok {
		return nil
	}
	return obj{"_id": u.ID, "id": u.ID, "name": u.Name, "email": u.Email, "nickname": nullable(u.Nickname)}
}

func renderUser(u *User, full bool) obj {
	o := obj{"_id": u.ID, "id": u.ID, "name": u.Name, "email": u.Email, "nickname": nullable(u.Nickname),
		"active": u.Active, "hidden": u.Hidden, "last_login": tsPtr(u.LastLogin),
		"created_at": ts(u.CreatedAt), "updated_at": ts(u.UpdatedAt)}
	if full {
		teams := []any{}
		for _, t := range u.Teams {
			teams = append(teams, obj{"_id": t.ID, "id": t.ID, "name": t.Name})
		}
		o["phone"] = nullable(u.Phone)
		o["teams"] = teams
	}
	return o
}

// GET /token/check.
func (s *Sim) tokenCheck(c *call) {
	u, _ := c.d.users.get(c.user)
	if c.sw.TokenCheckShape == "flat" {
		c.json(http.StatusOK, obj{"name": u.Name, "email": u.Email, "organization": c.d.account.Name})
		return
	}
	c.json(http.StatusOK, obj{"name": u.Name, "email": u.Email,
		"organization": obj{"_id": c.d.account.ID, "id": c.d.account.ID, "name": c.d.account.Name},
		"user":         renderUser(u, false)})
}

// readOwner reads user_id into *dst: an existing user's id; blank keeps
// the owner.
func (c *call) readOwner(f form, dst *string) {
	if v, ok := f.id("user_id"); ok && v != "" {
		if _, found := c.d.users.get(v); !found {
			f.errs.add(f.key("user_id"), msgNotFound)
		} else {
			*dst = v
		}
	}
}

// GET /users?active=.
func (s *Sim) listUsers(c *call) {
	out := []any{}
	active := c.q.Get("active")
	for _, u := range c.d.users.all() {
		if (active == "true" && !u.Active) || (active == "false" && u.Active) {
			continue
		}
		out = append(out, renderUser(u, false))
	}
	c.json(http.StatusOK, obj{"users": out})
}

func (s *Sim) getUser(c *call) {
	u, ok := c.d.users.get(c.r.PathValue("id"))
	if !ok {
		c.notFound("User")
		return
	}
	c.json(http.StatusOK, renderUser(u, true))
}

// --- organizations ---

func (c *call) renderOrg(o *Organization) obj {
	contacts := []any{}
	for _, ct := range c.d.contactsOfOrg(o.ID) {
		contacts = append(contacts, contactRef(ct))
	}
	var won, lost, open, paused int
	for _, dl := range c.d.dealsOfOrg(o.ID) {
		switch {
		case dl.Win != nil && *dl.Win:
			won++
		case dl.Win != nil:
			lost++
		case dl.Hold != nil && *dl.Hold:
			paused++
		default:
			open++
		}
	}
	segs := []any{}
	for _, id := range o.SegmentIDs {
		if g, ok := c.d.segments.get(id); ok {
			segs = append(segs, obj{"_id": g.ID, "id": g.ID, "name": g.Name})
		}
	}
	vals := c.renderValues(o.CustomFields)
	return obj{"_id": o.ID, "id": o.ID, "name": o.Name, "address": nullable(o.Address), "url": nullable(o.URL),
		"resume": nullable(o.Resume), "user": c.userRef(o.UserID), "contacts": contacts,
		"custom_fields": vals, "organization_custom_fields": vals, "organization_segments": segs,
		"won_count": won, "lost_count": lost, "opened_count": open, "paused_count": paused,
		"created_at": ts(o.CreatedAt), "updated_at": ts(o.UpdatedAt)}
}

// GET /organizations.
func (s *Sim) listOrganizations(c *call) {
	p, ok := c.paging(DefaultListLimit, MaxListLimit)
	if !ok {
		return
	}
	order, desc, _ := c.orderAndDirection("name", "asc", "name", "created_at", "updated_at")
	q, userID, seg := c.q.Get("q"), c.q.Get("user_id"), c.q.Get("organization_segment")
	lq := strings.ToLower(q)
	var items []*Organization
	for _, o := range c.d.orgs.all() {
		if q != "" && !strings.Contains(strings.ToLower(o.Name), lq) || userID != "" && o.UserID != userID {
			continue
		}
		if seg != "" && !slices.ContainsFunc(o.SegmentIDs, func(id string) bool {
			g, ok := c.d.segments.get(id)
			return id == seg || ok && strings.EqualFold(g.Name, seg)
		}) {
			continue
		}
		items = append(items, o)
	}
	switch order {
	case "created_at":
		sortStable(items, desc, func(a, b *Organization) int { return cmpTime(a.CreatedAt, b.CreatedAt) })
	case "updated_at":
		sortStable(items, desc, func(a, b *Organization) int { return cmpTime(a.UpdatedAt, b.UpdatedAt) })
	default:
		sortStableFold(items, desc, func(x *Organization) string { return x.Name })
	}
	page, more := pageOf(items, p, true)
	out := make([]any, 0, len(page))
	for _, o := range page {
		out = append(out, c.renderOrg(o))
	}
	c.envelope("organizations", out, more, len(items))
}

func (s *Sim) getOrganization(c *call) {
	o, ok := c.d.orgs.get(c.r.PathValue("id"))
	if !ok {
		c.notFound("Organization")
		return
	}
	c.json(http.StatusOK, c.renderOrg(o))
}

func (s *Sim) createOrganization(c *call) { s.saveOrganization(c, nil) }

func (s *Sim) updateOrganization(c *call) {
	o, ok := c.d.orgs.get(c.r.PathValue("id"))
	if !ok {
		c.notFound("Organization")
		return
	}
	s.saveOrganization(c, o)
}

// saveOrganization creates (cur == nil) or updates an organization.
func (s *Sim) saveOrganization(c *call, cur *Organization) {
	f, ok := c.body("organization", true)
	if !ok {
		return
	}
	var next Organization
	if cur != nil {
		next = cur.clone()
	} else {
		next = Organization{ID: s.newID(), UserID: c.user, CreatedAt: c.now}
	}
	newSegments := s.readOrganization(c, f, &next, cur == nil)
	if !c.values(f, "organization_custom_fields", "organization", &next.CustomFields, next.ID) || c.failed(f) {
		return
	}
	for _, g := range newSegments {
		c.d.segments.add(g.ID, g)
	}
	next.UpdatedAt = c.now
	if cur != nil {
		c.d.orgs.replace(cur.ID, next)
		c.json(http.StatusOK, c.renderOrg(cur))
		return
	}
	c.d.orgs.add(next.ID, &next)
	c.json(c.createStatus(), c.renderOrg(&next))
}

// readOrganization applies the body's attributes; it returns the segments
// that must be created if the save succeeds.
func (s *Sim) readOrganization(c *call, f form, o *Organization, create bool) []*Segment {
	req := nonBlank
	if create {
		req = required
	}
	if v, ok := f.text("name", req, 0); ok {
		o.Name = v
		if c.d.ix.orgNames.other(nameKey(v), o.ID) {
			c.duplicateName(f, f.key("name"))
		}
	}
	for k, p := range map[string]*string{"resume": &o.Resume, "url": &o.URL, "address": &o.Address} {
		if v, ok := f.text(k, optional, 0); ok {
			*p = v
		}
	}
	c.readOwner(f, &o.UserID)
	var created []*Segment
	if names, ok := f.strs("organization_segments"); ok {
		o.SegmentIDs = nil
		for _, n := range names {
			var id string
			for _, g := range c.d.segments.all() {
				if strings.EqualFold(g.Name, n) {
					id = g.ID
				}
			}
			for _, g := range created {
				if strings.EqualFold(g.Name, n) {
					id = g.ID
				}
			}
			if id == "" {
				if len([]rune(strings.TrimSpace(n))) < 2 {
					f.errs.add(f.key("organization_segments"), msgTooShort)
					continue
				}
				g := &Segment{ID: s.newID(), Name: n}
				created = append(created, g)
				id = g.ID
			}
			o.SegmentIDs = append(o.SegmentIDs, id)
		}
	}
	return created
}

// GET /organizations/{id}/contacts.
func (s *Sim) listOrganizationContacts(c *call) {
	o, ok := c.d.orgs.get(c.r.PathValue("id"))
	if !ok {
		c.notFound("Organization")
		return
	}
	p, ok := c.paging(DefaultListLimit, MaxListLimit)
	if !ok {
		return
	}
	items := c.d.contactsOfOrg(o.ID)
	page, more := pageOf(items, p, true)
	out := make([]any, 0, len(page))
	for _, ct := range page {
		out = append(out, c.renderContact(ct, false))
	}
	c.envelope("contacts", out, more, len(items))
}

// --- contacts ---

// Legal basis enums (docs: crm-v1-bases-legais).
var (
	legalCategories = []string{"communications", "data_processing"}
	legalTypes      = []string{"consent", "legitimate_interest", "pre_existent_contract", "judicial_process", "public_interest", "vital_interest"}
	legalStatuses   = []string{"granted", "declined"}
)

func renderEmails(es []Email) []any {
	out := []any{}
	for _, e := range es {
		out = append(out, obj{"email": e.Email})
	}
	return out
}

func renderPhones(ps []Phone) []any {
	out := []any{}
	for _, p := range ps {
		out = append(out, obj{"phone": p.Phone, "type": nullable(p.Type), "whatsapp": p.Whatsapp})
	}
	return out
}

// contactRef is a contact as an organization or a deal embeds it.
func contactRef(ct *Contact) obj {
	return obj{"_id": ct.ID, "id": ct.ID, "name": ct.Name, "title": nullable(ct.Title),
		"emails": renderEmails(ct.Emails), "phones": renderPhones(ct.Phones)}
}

// orgRef is an organization as a contact or a deal embeds it.
func orgRef(org *Organization) obj {
	return obj{"_id": org.ID, "id": org.ID, "name": org.Name, "url": nullable(org.URL),
		"address": nullable(org.Address), "resume": nullable(org.Resume)}
}

func (c *call) renderContact(ct *Contact, full bool) obj {
	deals := []any{}
	ids := []string{}
	for _, dl := range c.d.dealsOfContact(ct.ID) {
		deals = append(deals, obj{"_id": dl.ID, "id": dl.ID, "name": dl.Name, "win": boolPtrJSON(dl.Win),
			"hold": boolPtrJSON(dl.Hold), "closed_at": tsPtr(dl.ClosedAt)})
		ids = append(ids, dl.ID)
	}
	lbs := []any{}
	for _, lb := range ct.LegalBases {
		lbs = append(lbs, obj{"category": lb.Category, "type": lb.Type, "status": lb.Status})
	}
	o := obj{"_id": ct.ID, "id": ct.ID, "name": ct.Name, "title": nullable(ct.Title), "birthday": nullable(ct.Birthday),
		"emails": renderEmails(ct.Emails), "phones": renderPhones(ct.Phones), "organization_id": nullable(ct.OrganizationID),
		"contact_custom_fields": c.renderValues(ct.CustomFields), "deals": deals, "legal_bases": lbs,
		"facebook": nullable(ct.Facebook), "linkedin": nullable(ct.Linkedin), "skype": nullable(ct.Skype),
		"notes": nullable(ct.Notes), "created_at": ts(ct.CreatedAt), "updated_at": ts(ct.UpdatedAt)}
	if full {
		o["deal_ids"] = ids
		o["organization"] = nil
		if org, ok := c.d.orgs.get(ct.OrganizationID); ok {
			o["organization"] = orgRef(org)
		}
	}
	return o
}

func digits(s string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsDigit(r) {
			return r
		}
		return -1
	}, s)
}

// GET /contacts.
func (s *Sim) listContacts(c *call) {
	p, ok := c.paging(DefaultListLimit, MaxListLimit)
	if !ok {
		return
	}
	order, desc, _ := c.orderAndDirection("name", "asc", "name", "created_at", "updated_at")
	email, phone, q, title := c.q.Get("email"), digits(c.q.Get("phone")), c.q.Get("q"), c.q.Get("title")
	var items []*Contact
	for _, ct := range c.d.contacts.all() {
		if email != "" && !slices.ContainsFunc(ct.Emails, func(e Email) bool { return strings.EqualFold(e.Email, email) }) {
			continue
		}
		if phone != "" && !slices.ContainsFunc(ct.Phones, func(p Phone) bool {
			d := digits(p.Phone)
			return d != "" && (strings.HasSuffix(d, phone) || strings.HasSuffix(phone, d))
		}) {
			continue
		}
		if q != "" && !containsFold(ct.Name, q) && !slices.ContainsFunc(ct.Emails, func(e Email) bool { return containsFold(e.Email, q) }) {
			continue
		}
		if title != "" && !containsFold(ct.Title, title) {
			continue
		}
		items = append(items, ct)
	}
	switch order {
	case "created_at":
		sortStable(items, desc, func(a, b *Contact) int { return cmpTime(a.CreatedAt, b.CreatedAt) })
	case "updated_at":
		sortStable(items, desc, func(a, b *Contact) int { return cmpTime(a.UpdatedAt, b.UpdatedAt) })
	default:
		sortStableFold(items, desc, func(x *Contact) string { return x.Name })
	}
	page, more := pageOf(items, p, true)
	out := make([]any, 0, len(page))
	for _, ct := range page {
		out = append(out, c.renderContact(ct, false))
	}
	c.envelope("contacts", out, more, len(items))
}

func (s *Sim) getContact(c *call) {
	ct, ok := c.d.contacts.get(c.r.PathValue("id"))
	if !ok {
		c.notFound("Contact")
		return
	}
	c.json(http.StatusOK, c.renderContact(ct, true))
}

func (s *Sim) createContact(c *call) { s.saveContact(c, nil) }

func (s *Sim) updateContact(c *call) {
	ct, ok := c.d.contacts.get(c.r.PathValue("id"))
	if !ok {
		c.notFound("Contact")
		return
	}
	s.saveContact(c, ct)
}

func (s *Sim) saveContact(c *call, cur *Contact) {
	f, ok := c.body("contact", true)
	if !ok {
		return
	}
	create := cur == nil
	var next Contact
	if create {
		next = Contact{ID: s.newID(), CreatedAt: c.now}
	} else {
		next = cur.clone()
	}
	dealIDs, setDeals := s.readContact(c, f, &next, create)
	if !c.values(f, "contact_custom_fields", "contact", &next.CustomFields, next.ID) || c.failed(f) {
		return
	}
	next.UpdatedAt = c.now
	if cur == nil {
		c.d.contacts.add(next.ID, &next)
		cur = &next
	} else {
		c.d.contacts.replace(cur.ID, next)
	}
	if setDeals {
		c.linkDeals(cur.ID, dealIDs)
	}
	status := http.StatusOK
	if create {
		status = c.createStatus()
	}
	c.json(status, c.renderContact(cur, true))
}

// linkDeals makes dealIDs the deals listing contact id: the deals that list
// it now and the wanted ones, each looked at once.
func (c *call) linkDeals(id string, dealIDs []string) {
	seen := map[string]bool{}
	for _, dl := range append(c.d.dealsOfContact(id), c.d.deals.pick(dealIDs)...) {
		if seen[dl.ID] {
			continue
		}
		seen[dl.ID] = true
		has := slices.Contains(dl.ContactIDs, id)
		want := slices.Contains(dealIDs, dl.ID)
		next := *dl
		switch {
		case want && !has:
			next.ContactIDs = append(slices.Clip(dl.ContactIDs), id)
		case has && !want:
			next.ContactIDs = slices.DeleteFunc(slices.Clone(dl.ContactIDs), func(x string) bool { return x == id })
		default:
			continue
		}
		c.d.deals.replace(dl.ID, next)
	}
}

// readContact applies a contact body to ct; it returns the deal ids to link
// when the body carries deal_ids.
func (s *Sim) readContact(c *call, f form, ct *Contact, create bool) ([]string, bool) {
	req := nonBlank
	if create {
		req = required
	}
	if v, ok := f.text("name", req, 0); ok {
		ct.Name = v
		if c.sw.ContactNamesUnique && c.d.ix.contactNames.other(nameKey(v), ct.ID) {
			c.duplicateName(f, f.key("name"))
		}
	}
	for k, p := range map[string]*string{"title": &ct.Title, "facebook": &ct.Facebook, "linkedin": &ct.Linkedin, "skype": &ct.Skype, "notes": &ct.Notes} {
		if v, ok := f.text(k, optional, 0); ok {
			*p = v
		}
	}
	if v, ok := f.dateYMD("birthday"); ok {
		ct.Birthday = v
	}
	if items, ok := f.objects("emails"); ok {
		ct.Emails = nil
		for _, it := range items {
			e, _ := it.text("email", required, 0)
			if e == "" {
				continue
			}
			if !validEmail(e) {
				f.errs.add(f.key("emails"), msgInvalid)
				continue
			}
			ct.Emails = append(ct.Emails, Email{Email: e})
		}
	}
	if items, ok := f.objects("phones"); ok {
		ct.Phones = nil
		for _, it := range items {
			ph, _ := it.text("phone", required, 0)
			typ, _ := it.text("type", optional, 0)
			wa, _ := it.boolPtr("whatsapp")
			if ph != "" {
				ct.Phones = append(ct.Phones, Phone{Phone: ph, Type: typ, Whatsapp: wa != nil && *wa})
			}
		}
	}
	if v, ok := f.id("organization_id"); ok {
		if _, found := c.d.orgs.get(v); v != "" && !found {
			f.errs.add(f.key("organization_id"), msgNotFound)
		} else {
			ct.OrganizationID = v
		}
	}
	if items, ok := f.objects("legal_bases"); ok {
		ct.LegalBases = nil
		for _, it := range items {
			lb := LegalBasis{}
			for k, set := range map[string]struct {
				p    *string
				enum []string
			}{"category": {&lb.Category, legalCategories}, "type": {&lb.Type, legalTypes}, "status": {&lb.Status, legalStatuses}} {
				v, _ := it.m[k].(string)
				if !slices.Contains(set.enum, v) {
					f.errs.add(f.key("legal_bases.")+k, msgNotInc)
				}
				*set.p = v
			}
			ct.LegalBases = append(ct.LegalBases, lb)
		}
	}
	ids, setDeals := f.strs("deal_ids")
	for _, id := range ids {
		if _, ok := c.d.deals.get(id); !ok {
			f.errs.add(f.key("deal_ids"), msgNotFound)
		}
	}
	return ids, setDeals
}

func validEmail(s string) bool {
	a, err := mail.ParseAddress(s)
	if err != nil || a.Address != s {
		return false
	}
	at := strings.LastIndexByte(s, '@')
	return at > 0 && strings.Contains(s[at+1:], ".")
}

// --- products ---

func (c *call) renderProduct(p *Product) obj {
	var price any = money(p.BasePrice)
	if c.sw.BasePriceAsString {
		price = p.BasePrice.StringFixed(2)
	}
	return obj{"_id": p.ID, "id": p.ID, "name": p.Name, "description": nullable(p.Description), "base_price": price,
		"visible": p.Visible, "product_custom_fields": c.renderValues(p.CustomFields),
		"created_at": ts(p.CreatedAt), "updated_at": ts(p.UpdatedAt)}
}

// GET /products (page, limit only).
func (s *Sim) listProducts(c *call) {
	p, ok := c.paging(DefaultListLimit, MaxListLimit)
	if !ok {
		return
	}
	items := c.d.products.all()
	page, more := pageOf(items, p, false)
	out := make([]any, 0, len(page))
	for _, pr := range page {
		out = append(out, c.renderProduct(pr))
	}
	c.envelope("products", out, more, len(items))
}

func (s *Sim) getProduct(c *call) {
	p, ok := c.d.products.get(c.r.PathValue("id"))
	if !ok {
		c.notFound("Product")
		return
	}
	c.json(http.StatusOK, c.renderProduct(p))
}

func (s *Sim) createProduct(c *call) { s.saveProduct(c, nil) }

func (s *Sim) updateProduct(c *call) {
	p, ok := c.d.products.get(c.r.PathValue("id"))
	if !ok {
		c.notFound("Product")
		return
	}
	s.saveProduct(c, p)
}

func (s *Sim) saveProduct(c *call, cur *Product) {
	f, ok := c.body("product", true)
	if !ok {
		return
	}
	var next Product
	req := nonBlank
	if cur != nil {
		next = cur.clone()
	} else {
		next = Product{ID: s.newID(), Visible: true, CreatedAt: c.now}
		req = required
	}
	if v, ok := f.text("name", req, 255); ok {
		next.Name = v
		if c.d.ix.productNames.other(nameKey(v), next.ID) {
			c.duplicateName(f, "name")
		}
	}
	if v, ok := f.text("description", optional, 0); ok {
		next.Description = v
	}
	if v, ok := f.money("base_price"); ok {
		next.BasePrice = v
		if v.IsNegative() {
			f.errs.add("base_price", "must be greater than or equal to 0")
		}
	}
	if cur == nil || !c.sw.ProductVisibleReadOnly {
		if v, ok := f.boolPtr("visible"); ok {
			next.Visible = v == nil || *v
		}
	}
	if !c.values(f, "product_custom_fields", "product", &next.CustomFields, next.ID) || c.failed(f) {
		return
	}
	next.UpdatedAt = c.now
	if cur != nil {
		c.d.products.replace(cur.ID, next)
		c.json(http.StatusOK, c.renderProduct(cur))
		return
	}
	c.d.products.add(next.ID, &next)
	c.json(c.createStatus(), c.renderProduct(&next))
}
