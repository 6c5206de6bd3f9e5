package rdsim

import (
	"cmp"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// routesV2 registers /crm/v2/*.
func (s *Sim) routesV2() {
	const v2 = "/crm/v2"
	for _, r := range []struct {
		pattern string
		h       http.HandlerFunc
	}{
		{"GET " + v2 + "/organizations", s.v2read(s.v2ListOrganizations)},
		{"GET " + v2 + "/organizations/{id}", s.v2read(s.v2GetOrganization)},
		{"POST " + v2 + "/organizations", s.v2Write("organization", "/organizations", v2OrgBody)},
		{"PUT " + v2 + "/organizations/{id}", s.v2Write("organization", "/organizations/{id}", v2OrgBody)},

		{"GET " + v2 + "/contacts", s.v2read(s.v2ListContacts)},
		{"GET " + v2 + "/contacts/{id}", s.v2read(s.v2GetContact)},
		{"POST " + v2 + "/contacts", s.v2Write("contact", "/contacts", v2ContactBody)},
		{"PUT " + v2 + "/contacts/{id}", s.v2Write("contact", "/contacts/{id}", v2ContactBody)},

		{"GET " + v2 + "/products", s.v2read(s.v2ListProducts)},
		{"GET " + v2 + "/products/{id}", s.v2read(s.v2GetProduct)},
		{"POST " + v2 + "/products", s.v2Write("product", "/products", v2ProductBody)},
		{"PUT " + v2 + "/products/{id}", s.v2Write("product", "/products/{id}", v2ProductBody)},

		{"GET " + v2 + "/custom_fields", s.v2read(s.v2ListCustomFields)},

		{"GET " + v2 + "/deals", s.v2read(s.v2ListDeals)},
		{"GET " + v2 + "/deals/{id}", s.v2read(s.v2GetDeal)},
		{"POST " + v2 + "/deals", s.v2Write("deal", "/deals", v2DealBody)},
		{"PUT " + v2 + "/deals/{id}", s.v2Write("deal", "/deals/{id}", v2DealBody)},
	} {
		s.v2mux.HandleFunc(r.pattern, r.h)
	}
	s.routesV2More()
}

// --- ids [U] ---

// v2ID is the id v2 shows for a record's id: the same 24-hex id (default),
// or, with Switches.V2UUIDIDs, a UUID made of it ("00000000-" + the id).
// [U] issue 15: what ids v2 returns for records v1 created.
func (c *call) v2ID(id string) any {
	if id == "" {
		return nil
	}
	if !c.sw.V2UUIDIDs || len(id) != 24 {
		return id
	}
	return "00000000-" + id[0:4] + "-" + id[4:8] + "-" + id[8:12] + "-" + id[12:24]
}

// fromV2ID turns an id v2 received back into the record's id; an id in
// the other switch's form does not resolve (as a real foreign id would not).
func (c *call) fromV2ID(id string) string {
	if !c.sw.V2UUIDIDs {
		return id
	}
	h := strings.ReplaceAll(id, "-", "")
	if len(id) != 36 || len(h) != 32 || h[:8] != "00000000" {
		return "\x00" + id
	}
	return h[8:]
}

func (c *call) v2IDs(ids []string) []any {
	out := make([]any, 0, len(ids))
	for _, id := range ids {
		out = append(out, c.v2ID(id))
	}
	return out
}

// --- custom fields by slug ---

// FieldSlug is the slug v2 keys a custom field by: its label lower-cased,
// accents dropped, every other run of characters an underscore
// ("CNPJ" → "cnpj", "Código ERP" → "codigo_erp").
func FieldSlug(label string) string {
	var b strings.Builder
	under := false
	for _, r := range strings.ToLower(label) {
		if f, ok := unaccent[r]; ok {
			r = f
		}
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			if under && b.Len() > 0 {
				b.WriteByte('_')
			}
			under = false
			b.WriteRune(r)
			continue
		}
		under = true
	}
	return b.String()
}

var unaccent = map[rune]rune{'á': 'a', 'à': 'a', 'â': 'a', 'ã': 'a', 'ä': 'a', 'é': 'e', 'è': 'e', 'ê': 'e', 'ë': 'e',
	'í': 'i', 'ì': 'i', 'î': 'i', 'ï': 'i', 'ó': 'o', 'ò': 'o', 'ô': 'o', 'õ': 'o', 'ö': 'o', 'ú': 'u', 'ù': 'u',
	'û': 'u', 'ü': 'u', 'ç': 'c', 'ñ': 'n'}

// fieldBySlug finds kind's custom field with slug.
func (d *data) fieldBySlug(kind, slug string) (*CustomField, bool) {
	for _, fd := range d.fields.all() {
		if fd.For == kind && FieldSlug(fd.Label) == slug {
			return fd, true
		}
	}
	return nil, false
}

func (c *call) v2Values(vals []CustomFieldValue) obj {
	out := obj{}
	for _, v := range vals {
		if fd, ok := c.d.fields.get(v.CustomFieldID); ok {
			out[FieldSlug(fd.Label)] = v.Value
		}
	}
	return out
}

// valueStrings is a custom field value as filter values.
func valueStrings(v any) []string {
	switch x := v.(type) {
	case nil:
		return nil
	case []string:
		return x
	default:
		return []string{fmt.Sprint(x)}
	}
}

// cfGetter answers "@slug" for a record of kind.
func (c *call) cfGetter(kind string, vals []CustomFieldValue, field string) ([]string, rdqlKind, bool) {
	fd, ok := c.d.fieldBySlug(kind, strings.TrimPrefix(field, "@"))
	if !ok {
		return nil, 0, false
	}
	for _, v := range vals {
		if v.CustomFieldID == fd.ID {
			return valueStrings(v.Value), rdqlText, true
		}
	}
	return nil, rdqlText, true
}

// --- rendering ---

const v2TimeLayout = "2006-01-02T15:04:05.000Z"

func v2Time(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UTC().Format(v2TimeLayout)
}

func filterTime(t time.Time) []string {
	if t.IsZero() {
		return nil
	}
	return []string{t.UTC().Format(time.RFC3339Nano)}
}

func (c *call) v2Org(o *Organization) obj {
	var addr any
	if o.Address != "" {
		addr = obj{"line": o.Address, "latitude": nil, "longitude": nil}
	}
	return obj{"id": c.v2ID(o.ID), "name": o.Name, "description": nullable(o.Resume), "url": nullable(o.URL),
		"address": addr, "segment_ids": c.v2IDs(o.SegmentIDs), "owner_id": c.v2ID(o.UserID),
		"custom_fields": c.v2Values(o.CustomFields), "created_at": v2Time(o.CreatedAt), "updated_at": v2Time(o.UpdatedAt)}
}

func (c *call) orgField(o *Organization, f string) ([]string, rdqlKind, bool) {
	switch f {
	case "id":
		return []string{c.v2IDStr(o.ID)}, rdqlID, true
	case "name":
		return []string{o.Name}, rdqlText, true
	case "owner_id":
		return []string{c.v2IDStr(o.UserID)}, rdqlID, true
	case "segment_ids":
		return anyStrings(c.v2IDs(o.SegmentIDs)), rdqlID, true
	case "created_at":
		return filterTime(o.CreatedAt), rdqlTime, true
	case "updated_at":
		return filterTime(o.UpdatedAt), rdqlTime, true
	}
	if strings.HasPrefix(f, "@") {
		return c.cfGetter("organization", o.CustomFields, f)
	}
	return nil, 0, false
}

func anyStrings(l []any) []string {
	out := make([]string, len(l))
	for i, x := range l {
		out[i] = fmt.Sprint(x)
	}
	return out
}

func (c *call) v2Contact(ct *Contact) obj {
	emails := []any{}
	for _, e := range ct.Emails {
		emails = append(emails, obj{"email": e.Email})
	}
	phones := []any{}
	for _, p := range ct.Phones {
		phones = append(phones, obj{"phone": p.Phone, "type": nullable(p.Type)})
	}
	legal := []any{}
	for _, l := range ct.LegalBases {
		legal = append(legal, obj{"category": l.Category, "type": l.Type, "status": l.Status})
	}
	return obj{"id": c.v2ID(ct.ID), "name": ct.Name, "job_title": nullable(ct.Title), "emails": emails, "phones": phones,
		"birthday": nullable(ct.Birthday), "social_profiles": []any{}, "organization_id": c.v2ID(ct.OrganizationID),
		"legal_bases": legal, "custom_fields": c.v2Values(ct.CustomFields),
		"created_at": v2Time(ct.CreatedAt), "updated_at": v2Time(ct.UpdatedAt)}
}

func (c *call) contactField(ct *Contact, f string) ([]string, rdqlKind, bool) {
	switch f {
	case "id":
		return []string{c.v2IDStr(ct.ID)}, rdqlID, true
	case "name":
		return []string{ct.Name}, rdqlText, true
	case "job_title":
		return []string{ct.Title}, rdqlText, true
	case "email":
		var out []string
		for _, e := range ct.Emails {
			out = append(out, e.Email)
		}
		return out, rdqlText, true
	case "phone":
		var out []string
		for _, p := range ct.Phones {
			out = append(out, p.Phone, digits(p.Phone))
		}
		return out, rdqlText, true
	case "organization_id":
		return []string{c.v2IDStr(ct.OrganizationID)}, rdqlID, true
	case "created_at":
		return filterTime(ct.CreatedAt), rdqlTime, true
	case "updated_at":
		return filterTime(ct.UpdatedAt), rdqlTime, true
	}
	if strings.HasPrefix(f, "@") {
		return c.cfGetter("contact", ct.CustomFields, f)
	}
	return nil, 0, false
}

func (c *call) v2Product(p *Product) obj {
	return obj{"id": c.v2ID(p.ID), "name": p.Name, "description": nullable(p.Description), "price": money(p.BasePrice),
		"visible": p.Visible, "custom_fields": c.v2Values(p.CustomFields),
		"created_at": v2Time(p.CreatedAt), "updated_at": v2Time(p.UpdatedAt)}
}

func (c *call) productField(p *Product, f string) ([]string, rdqlKind, bool) {
	switch f {
	case "id":
		return []string{c.v2IDStr(p.ID)}, rdqlID, true
	case "name":
		return []string{p.Name}, rdqlText, true
	case "price":
		return []string{p.BasePrice.String()}, rdqlNum, true
	case "visible":
		return []string{strconv.FormatBool(p.Visible)}, rdqlText, true
	case "created_at":
		return filterTime(p.CreatedAt), rdqlTime, true
	case "updated_at":
		return filterTime(p.UpdatedAt), rdqlTime, true
	}
	if strings.HasPrefix(f, "@") {
		return c.cfGetter("product", p.CustomFields, f)
	}
	return nil, 0, false
}

// dealStatus is v2's status of a v1 deal.
func dealStatus(d *Deal) string {
	switch {
	case d.Win != nil && *d.Win:
		return "won"
	case d.Win != nil:
		return "lost"
	case d.Hold != nil && *d.Hold:
		return "paused"
	}
	return "ongoing"
}

func (c *call) dealPipeline(d *Deal) string {
	if st, ok := c.d.stages.get(d.StageID); ok {
		return st.PipelineID
	}
	return ""
}

func (c *call) v2Deal(d *Deal) obj {
	unique, monthly, total := dealAmounts(d)
	var closed time.Time
	if d.ClosedAt != nil {
		closed = *d.ClosedAt
	}
	return obj{"id": c.v2ID(d.ID), "name": d.Name, "recurrence_price": money(monthly), "one_time_price": money(unique),
		"total_price": money(total), "expected_close_date": nullable(d.PredictionDate), "rating": d.Rating,
		"status": dealStatus(d), "closed_at": v2Time(closed), "pipeline_id": c.v2ID(c.dealPipeline(d)),
		"stage_id": c.v2ID(d.StageID), "owner_id": c.v2ID(d.UserID), "source_id": c.v2ID(d.SourceID),
		"campaign_id": c.v2ID(d.CampaignID), "lost_reason_id": c.v2ID(d.LostReasonID),
		"organization_id": c.v2ID(d.OrganizationID), "contact_ids": c.v2IDs(d.ContactIDs),
		"custom_fields": c.v2Values(d.CustomFields), "created_at": v2Time(d.CreatedAt), "updated_at": v2Time(d.UpdatedAt)}
}

func (c *call) dealField(d *Deal, f string) ([]string, rdqlKind, bool) {
	id := func(s string) []string { return []string{c.v2IDStr(s)} }
	switch f {
	case "id":
		return id(d.ID), rdqlID, true
	case "name":
		return []string{d.Name}, rdqlText, true
	case "rating":
		return []string{strconv.Itoa(d.Rating)}, rdqlNum, true
	case "status":
		return []string{dealStatus(d)}, rdqlID, true
	case "closed_at":
		if d.ClosedAt == nil {
			return nil, rdqlTime, true
		}
		return filterTime(*d.ClosedAt), rdqlTime, true
	case "created_at":
		return filterTime(d.CreatedAt), rdqlTime, true
	case "updated_at":
		return filterTime(d.UpdatedAt), rdqlTime, true
	case "expected_close_date":
		return []string{d.PredictionDate}, rdqlTime, true
	case "organization_id":
		return id(d.OrganizationID), rdqlID, true
	case "stage_id":
		return id(d.StageID), rdqlID, true
	case "pipeline_id":
		return id(c.dealPipeline(d)), rdqlID, true
	case "lost_reason_id":
		return id(d.LostReasonID), rdqlID, true
	case "campaign_id":
		return id(d.CampaignID), rdqlID, true
	case "owner_id":
		return id(d.UserID), rdqlID, true
	case "product_ids":
		var out []string
		for _, p := range d.Products {
			out = append(out, c.v2IDStr(p.ProductID))
		}
		return out, rdqlID, true
	case "has":
		if len(d.Products) > 0 {
			return []string{"product"}, rdqlID, true
		}
		return nil, rdqlID, true
	}
	if strings.HasPrefix(f, "@") {
		return c.cfGetter("deal", d.CustomFields, f)
	}
	return nil, 0, false
}

// --- reads ---

// v2read wraps a read handler: the call holds the read lock.
func (s *Sim) v2read(h func(c *call)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		user, _ := r.Context().Value(callKey{}).(string)
		c := &call{s: s, w: w, r: r, q: r.URL.Query(), user: user, now: s.clock.Now(), sw: s.Switches()}
		s.mu.RLock()
		defer s.mu.RUnlock()
		c.d = s.d
		h(c)
	}
}

func (c *call) v2NotFound(what string) {
	c.json(http.StatusNotFound, v2Errors(v2Error("RESOURCE_NOT_FOUND", what+" not found")))
}

// v2Listing serves one listing: filter, sort, page, render.
func v2Listing[T any](c *call, items []*T, capped bool, field func(*T, string) ([]string, rdqlKind, bool), render func(*T) obj) {
	size, number := DefaultListLimit, 1
	if n, err := strconv.Atoi(c.q.Get("page[number]")); err == nil && n > 0 {
		number = n
	}
	if n, err := strconv.Atoi(c.q.Get("page[size]")); err == nil && n > 0 {
		size = n
	}
	if size > MaxListLimit {
		if c.sw.LimitOverMaxIs422 {
			c.json(http.StatusUnprocessableEntity, v2Errors(obj{"error_type": "INVALID_PAGE_SIZE",
				"error_message": fmt.Sprintf("must be less than or equal to %d", MaxListLimit), "path": "page[size]"}))
			return
		}
		size = MaxListLimit
	}
	if f := c.q.Get("filter"); f != "" {
		n, err := parseRDQL(f)
		if err != nil {
			c.json(http.StatusBadRequest, v2Errors(v2Error("INVALID_FILTER", err.Error())))
			return
		}
		var kept []*T
		for _, it := range items {
			ok, err := n.eval(func(f string) ([]string, rdqlKind, bool) { return field(it, f) })
			if err != nil {
				c.json(http.StatusBadRequest, v2Errors(v2Error("INVALID_FILTER", err.Error())))
				return
			}
			if ok {
				kept = append(kept, it)
			}
		}
		items = kept
	}
	for k, v := range c.q {
		sf, ok := strings.CutPrefix(k, "sort[")
		if !ok || !strings.HasSuffix(sf, "]") {
			continue
		}
		sf = strings.TrimSuffix(sf, "]")
		if len(items) > 0 {
			if _, _, ok := field(items[0], sf); !ok || strings.HasPrefix(sf, "@") {
				c.json(http.StatusBadRequest, v2Errors(obj{"error_type": "INVALID_SORT", "error_message": "cannot sort by " + sf, "path": k}))
				return
			}
		}
		sortStable(items, strings.EqualFold(v[0], "desc"), func(a, b *T) int {
			av, kind, _ := field(a, sf)
			bv, _, _ := field(b, sf)
			return cmpRDQL(kind, av, bv)
		})
		break
	}
	p := paging{page: number, limit: size}
	page, _ := pageOf(items, p, capped)
	reachable := len(items)
	if capped {
		reachable = min(reachable, ListingCap)
	}
	out := make([]any, 0, len(page))
	for _, it := range page {
		out = append(out, render(it))
	}
	last := max((reachable+size-1)/size, 1)
	link := func(n int) any {
		if n < 1 || n > last {
			return nil
		}
		q := maps.Clone(c.q)
		q.Set("page[number]", strconv.Itoa(n))
		q.Set("page[size]", strconv.Itoa(size))
		u := url.URL{Scheme: "http", Host: c.r.Host, Path: c.r.URL.Path, RawQuery: q.Encode()}
		return u.String()
	}
	c.json(http.StatusOK, obj{"data": out, "links": obj{"first": link(1), "prev": link(number - 1),
		"self": link(number), "next": link(number + 1), "last": link(last)}})
}

// cmpRDQL orders two records' values of one field (first value; none first).
func cmpRDQL(kind rdqlKind, a, b []string) int {
	if len(a) == 0 || len(b) == 0 {
		return cmp.Compare(len(a), len(b))
	}
	switch kind {
	case rdqlTime:
		at, _ := parseRDQLTime(a[0])
		bt, _ := parseRDQLTime(b[0])
		return at.Compare(bt)
	case rdqlText:
		return cmpFold(a[0], b[0])
	}
	return cmp.Compare(a[0], b[0])
}

func (s *Sim) v2ListOrganizations(c *call) {
	v2Listing(c, c.d.orgs.all(), true, c.orgField, c.v2Org)
}

func (s *Sim) v2GetOrganization(c *call) {
	o, ok := c.d.orgs.get(c.fromV2ID(c.r.PathValue("id")))
	if !ok {
		c.v2NotFound("Organization")
		return
	}
	c.json(http.StatusOK, obj{"data": c.v2Org(o)})
}

func (s *Sim) v2ListContacts(c *call) {
	v2Listing(c, c.d.contacts.all(), true, c.contactField, c.v2Contact)
}

func (s *Sim) v2GetContact(c *call) {
	ct, ok := c.d.contacts.get(c.fromV2ID(c.r.PathValue("id")))
	if !ok {
		c.v2NotFound("Contact")
		return
	}
	c.json(http.StatusOK, obj{"data": c.v2Contact(ct)})
}

func (s *Sim) v2ListProducts(c *call) {
	v2Listing(c, c.d.products.all(), false, c.productField, c.v2Product)
}

func (s *Sim) v2GetProduct(c *call) {
	p, ok := c.d.products.get(c.fromV2ID(c.r.PathValue("id")))
	if !ok {
		c.v2NotFound("Product")
		return
	}
	c.json(http.StatusOK, obj{"data": c.v2Product(p)})
}

func (s *Sim) v2ListDeals(c *call) {
	v2Listing(c, c.d.deals.all(), true, c.dealField, c.v2Deal)
}

func (s *Sim) v2GetDeal(c *call) {
	d, ok := c.d.deals.get(c.fromV2ID(c.r.PathValue("id")))
	if !ok {
		c.v2NotFound("Deal")
		return
	}
	c.json(http.StatusOK, obj{"data": c.v2Deal(d)})
}

// --- writes ---

// v2BodyFunc turns a v2 record body into the v1 body of the same write
// (create when update is false); it runs under the read lock to resolve
// slugs and ids, and returns a v2 error to answer instead.
type v2BodyFunc func(c *call, in map[string]any, update bool) (v1 map[string]any, status int, errBody obj)

// v2Write serves a v2 create or update by running the v1 route (v1path,
// with {id}) on the translated body, then renders the record read back.
func (s *Sim) v2Write(kind, v1path string, tr v2BodyFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		user, _ := r.Context().Value(callKey{}).(string)
		c := &call{s: s, w: w, r: r, q: r.URL.Query(), user: user, now: s.clock.Now(), sw: s.Switches()}
		raw, err := decodeBody(r)
		if err != nil {
			c.json(http.StatusBadRequest, v2Errors(v2Error("BAD_REQUEST", "Malformed request body: "+err.Error())))
			return
		}
		in, ok := raw["data"].(map[string]any)
		if !ok {
			c.json(http.StatusBadRequest, v2Errors(obj{"error_type": "BAD_REQUEST", "error_message": "data is required", "path": "data"}))
			return
		}
		id := r.PathValue("id")
		s.mu.RLock()
		c.d = s.d
		path := v1path
		if id != "" {
			id = c.fromV2ID(id)
			path = strings.Replace(v1path, "{id}", url.PathEscape(id), 1)
		}
		body, status, errBody := tr(c, in, id != "")
		s.mu.RUnlock()
		if errBody != nil {
			c.json(status, errBody)
			return
		}
		method := http.MethodPost
		if id != "" {
			method = http.MethodPut
		}
		st, out := s.v1Call(r, method, path, body)
		if st < 200 || st > 299 {
			c.json(st, v1ErrorsToV2(st, out))
			return
		}
		rid, _ := out["id"].(string)
		s.mu.RLock()
		defer s.mu.RUnlock()
		c.d = s.d
		var rendered obj
		switch kind {
		case "organization":
			if o, ok := c.d.orgs.get(rid); ok {
				rendered = c.v2Org(o)
			}
		case "contact":
			if ct, ok := c.d.contacts.get(rid); ok {
				rendered = c.v2Contact(ct)
			}
		case "product":
			if p, ok := c.d.products.get(rid); ok {
				rendered = c.v2Product(p)
			}
		case "deal":
			if d, ok := c.d.deals.get(rid); ok {
				rendered = c.v2Deal(d)
			}
		}
		status = http.StatusOK
		if id == "" {
			status = http.StatusCreated
		}
		c.json(status, obj{"data": rendered})
	}
}

// v2CustomFields turns {slug: value} into v1 [{custom_field_id, value}].
func (c *call) v2CustomFields(kind string, in map[string]any) ([]any, obj) {
	m, ok := in["custom_fields"].(map[string]any)
	if !ok {
		return nil, nil
	}
	out := []any{}
	for _, slug := range slices.Sorted(maps.Keys(m)) {
		fd, ok := c.d.fieldBySlug(kind, slug)
		if !ok {
			return nil, v2Errors(obj{"error_type": "INVALID_CUSTOM_FIELD", "error_message": "no " + kind + " custom field has the slug " + slug,
				"path": "custom_fields." + slug})
		}
		out = append(out, obj{"custom_field_id": fd.ID, "value": m[slug]})
	}
	return out, nil
}

// copyKeys copies v2 keys to v1 keys where present.
func copyKeys(in, out map[string]any, pairs ...string) {
	for i := 0; i+1 < len(pairs); i += 2 {
		if v, ok := in[pairs[i]]; ok {
			out[pairs[i+1]] = v
		}
	}
}

// idKeys copies v2 id keys to v1 keys, translating the ids.
func (c *call) idKeys(in, out map[string]any, pairs ...string) {
	for i := 0; i+1 < len(pairs); i += 2 {
		if v, ok := in[pairs[i]]; ok {
			if s, isStr := v.(string); isStr {
				v = c.fromV2ID(s)
			}
			out[pairs[i+1]] = v
		}
	}
}

func v2OrgBody(c *call, in map[string]any, _ bool) (map[string]any, int, obj) {
	o := map[string]any{}
	copyKeys(in, o, "name", "name", "description", "resume", "url", "url")
	c.idKeys(in, o, "owner_id", "user_id")
	switch a := in["address"].(type) {
	case map[string]any:
		o["address"] = a["line"]
	case string, nil:
		if _, ok := in["address"]; ok {
			o["address"] = a
		}
	}
	if ids, ok := in["segment_ids"].([]any); ok {
		names := []any{}
		for _, x := range ids {
			id, _ := x.(string)
			g, found := c.d.segments.get(c.fromV2ID(id))
			if !found {
				return nil, http.StatusUnprocessableEntity, v2Errors(obj{"error_type": "NOT_FOUND", "error_message": "segment " + id + " not found", "path": "segment_ids"})
			}
			names = append(names, g.Name)
		}
		o["organization_segments"] = names
	}
	cfs, e := c.v2CustomFields("organization", in)
	if e != nil {
		return nil, http.StatusUnprocessableEntity, e
	}
	if cfs != nil {
		o["organization_custom_fields"] = cfs
	}
	return obj{"organization": o}, 0, nil
}

func v2ContactBody(c *call, in map[string]any, _ bool) (map[string]any, int, obj) {
	o := map[string]any{}
	copyKeys(in, o, "name", "name", "job_title", "title", "emails", "emails", "phones", "phones", "birthday", "birthday", "legal_bases", "legal_bases")
	c.idKeys(in, o, "organization_id", "organization_id")
	cfs, e := c.v2CustomFields("contact", in)
	if e != nil {
		return nil, http.StatusUnprocessableEntity, e
	}
	if cfs != nil {
		o["contact_custom_fields"] = cfs
	}
	return obj{"contact": o}, 0, nil
}

func v2ProductBody(c *call, in map[string]any, _ bool) (map[string]any, int, obj) {
	o := map[string]any{}
	copyKeys(in, o, "name", "name", "description", "description", "price", "base_price", "visible", "visible")
	cfs, e := c.v2CustomFields("product", in)
	if e != nil {
		return nil, http.StatusUnprocessableEntity, e
	}
	if cfs != nil {
		o["product_custom_fields"] = cfs
	}
	return obj{"product": o}, 0, nil
}

// v2DealBody: POST accepts only status "ongoing" [C]; PUT maps the status
// to v1's win/hold (won → win true, lost → win false, paused → hold,
// ongoing → reopened and not held). [U] v2 status-change rules.
func v2DealBody(c *call, in map[string]any, update bool) (map[string]any, int, obj) {
	d := map[string]any{}
	top := map[string]any{"deal": d}
	copyKeys(in, d, "name", "name", "rating", "rating", "expected_close_date", "prediction_date")
	c.idKeys(in, d, "owner_id", "user_id", "source_id", "deal_source_id", "campaign_id", "campaign_id",
		"lost_reason_id", "deal_lost_reason_id", "organization_id", "organization_id")
	if update {
		c.idKeys(in, top, "stage_id", "deal_stage_id")
	} else {
		c.idKeys(in, d, "stage_id", "deal_stage_id")
	}
	if _, ok := in["stage_id"]; !ok {
		if pid, ok := in["pipeline_id"].(string); ok {
			sts := c.d.stagesOf(c.fromV2ID(pid))
			if len(sts) == 0 {
				return nil, http.StatusUnprocessableEntity, v2Errors(obj{"error_type": "NOT_FOUND", "error_message": "pipeline " + pid + " not found", "path": "pipeline_id"})
			}
			if update {
				top["deal_stage_id"] = sts[0].ID
			} else {
				d["deal_stage_id"] = sts[0].ID
			}
		}
	}
	if ids, ok := in["contact_ids"].([]any); ok {
		if update {
			return nil, http.StatusUnprocessableEntity, v2Errors(obj{"error_type": "NOT_SUPPORTED",
				"error_message": "the simulator sets contact_ids on create only", "path": "contact_ids"})
		}
		set := []any{}
		for _, x := range ids {
			s, _ := x.(string)
			set = append(set, c.fromV2ID(s))
		}
		top["set_contacts"] = set
	}
	if st, ok := in["status"]; ok {
		s, _ := st.(string)
		bad := func() (map[string]any, int, obj) {
			return nil, http.StatusUnprocessableEntity, v2Errors(obj{"error_type": "INVALID_STATUS",
				"error_message": fmt.Sprintf("status %q is not allowed here", s), "path": "status"})
		}
		switch {
		case !update && s != "ongoing":
			return bad()
		case !update:
		case s == "won":
			d["win"] = true
		case s == "lost":
			d["win"] = false
		case s == "paused":
			d["hold"] = true
		case s == "ongoing":
			d["win"], d["hold"] = nil, false
		default:
			return bad()
		}
	}
	cfs, e := c.v2CustomFields("deal", in)
	if e != nil {
		return nil, http.StatusUnprocessableEntity, e
	}
	if cfs != nil {
		d["deal_custom_fields"] = cfs
	}
	return top, 0, nil
}

// --- custom fields ---

// v2Field renders a custom field definition: v2 names it by slug and
// entity (v1's label and "for").
func (c *call) v2Field(fd *CustomField) obj {
	opts := []any{}
	for _, o := range fd.Opts {
		opts = append(opts, o)
	}
	return obj{"id": c.v2ID(fd.ID), "slug": FieldSlug(fd.Label), "label": fd.Label, "type": fd.Type, "entity": fd.For,
		"options": opts, "required": fd.Required, "unique": fd.Unique, "visible": fd.Visible,
		"created_at": v2Time(fd.CreatedAt), "updated_at": v2Time(fd.UpdatedAt)}
}

func (c *call) fieldField(fd *CustomField, f string) ([]string, rdqlKind, bool) {
	switch f {
	case "id":
		return []string{c.v2IDStr(fd.ID)}, rdqlID, true
	case "entity":
		return []string{fd.For}, rdqlID, true
	case "slug":
		return []string{FieldSlug(fd.Label)}, rdqlID, true
	case "label":
		return []string{fd.Label}, rdqlText, true
	}
	return nil, 0, false
}

// GET /custom_fields (filter entity:organization…).
func (s *Sim) v2ListCustomFields(c *call) {
	v2Listing(c, c.d.fields.all(), false, c.fieldField, c.v2Field)
}

// v2IDStr is v2ID as filter text: "" for no id.
func (c *call) v2IDStr(id string) string {
	if id == "" {
		return ""
	}
	return fmt.Sprint(c.v2ID(id))
}
