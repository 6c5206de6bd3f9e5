package rdsim

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"sort"
	"strings"
	"time"
)

// contactStrings are the standard contact fields written as text, and
// where each goes.
var contactStrings = map[string]func(c *MarketingContact) *string{
	"name":            func(c *MarketingContact) *string { return &c.Name },
	"job_title":       func(c *MarketingContact) *string { return &c.JobTitle },
	"birthdate":       func(c *MarketingContact) *string { return &c.Birthdate },
	"bio":             func(c *MarketingContact) *string { return &c.Bio },
	"website":         func(c *MarketingContact) *string { return &c.Website },
	"personal_phone":  func(c *MarketingContact) *string { return &c.PersonalPhone },
	"mobile_phone":    func(c *MarketingContact) *string { return &c.MobilePhone },
	"city":            func(c *MarketingContact) *string { return &c.City },
	"state":           func(c *MarketingContact) *string { return &c.State },
	"country":         func(c *MarketingContact) *string { return &c.Country },
	"twitter":         func(c *MarketingContact) *string { return &c.Twitter },
	"facebook":        func(c *MarketingContact) *string { return &c.Facebook },
	"linkedin":        func(c *MarketingContact) *string { return &c.Linkedin },
	"company_name":    func(c *MarketingContact) *string { return &c.CompanyName },
	"company_site":    func(c *MarketingContact) *string { return &c.CompanySite },
	"company_address": func(c *MarketingContact) *string { return &c.CompanyAddress },
}

// LifecycleStages are the funnel stages PUT …/funnels/default takes.
// (Legal bases take the CRM's types and statuses, category communications.)
var LifecycleStages = []string{"Lead", "Qualified Lead", "Client"}

// contactView is GET /platform/contacts/…'s body (company is not returned).
func contactView(c *MarketingContact) obj {
	o := obj{"uuid": c.UUID, "email": c.Email, "name": c.Name, "job_title": c.JobTitle, "birthdate": c.Birthdate,
		"bio": c.Bio, "website": c.Website, "personal_phone": c.PersonalPhone, "mobile_phone": c.MobilePhone,
		"city": c.City, "state": c.State, "country": c.Country, "twitter": c.Twitter, "facebook": c.Facebook,
		"linkedin": c.Linkedin, "tags": append([]string{}, c.Tags...), "extra_emails": append([]string{}, c.ExtraEmails...),
		"legal_bases": append([]MarketingLegalBase{}, c.LegalBases...),
		"links":       []any{obj{"rel": "SELF", "href": "https://api.rd.services/platform/contacts/" + c.UUID, "media": "application/json", "type": "GET"}}}
	for k, v := range c.Fields {
		o[k] = v
	}
	return o
}

// lookup finds the contact a path id names ("email:x@y", "uuid:…"). It
// returns the e-mail key ("" for an uuid that names no contact) and
// writes the error itself when the id is malformed. Callers hold m.mu.
func (m *marketing) lookup(w http.ResponseWriter, id string) (c *MarketingContact, email string, byEmail, ok bool) {
	kind, value, found := strings.Cut(id, ":")
	switch {
	case found && kind == "email":
		email = strings.ToLower(strings.TrimSpace(value))
		return m.contacts[email], email, true, true
	case found && kind == "uuid":
		for _, c := range m.contacts {
			if c.UUID == value {
				return c, c.Email, false, true
			}
		}
		return nil, "", false, true
	}
	writeJSON(w, http.StatusBadRequest, mktError("INVALID_IDENTIFIER", "Use email:<value> or uuid:<value> to identify the contact"))
	return nil, "", false, false
}

func (m *marketing) listFields(w http.ResponseWriter, _ *http.Request) {
	m.mu.Lock()
	defer m.mu.Unlock()
	list := make([]any, 0, len(m.fields))
	for _, f := range m.fields {
		o := obj{"uuid": f.UUID, "api_identifier": f.APIIdentifier, "custom_field": f.Custom, "data_type": f.DataType,
			"presentation_type": f.PresentationType,
			"name":              obj{"default": f.Label, "pt-BR": f.Label}, "label": obj{"default": f.Label, "pt-BR": f.Label},
			"validation_rules": obj{}}
		if len(f.Options) > 0 {
			opts := make([]any, len(f.Options))
			for i, v := range f.Options {
				opts[i] = obj{"label": obj{"default": v, "pt-BR": v}, "value": v}
			}
			o["options"] = opts
		}
		list = append(list, o)
	}
	writeJSON(w, http.StatusOK, obj{"fields": list})
}

func (m *marketing) getContact(w http.ResponseWriter, r *http.Request) {
	m.mu.Lock()
	defer m.mu.Unlock()
	c, _, _, ok := m.lookup(w, r.PathValue("id"))
	if !ok {
		return
	}
	if c == nil {
		writeJSON(w, http.StatusNotFound, mktError("RESOURCE_NOT_FOUND", "Lead not found"))
		return
	}
	writeJSON(w, http.StatusOK, contactView(c))
}

func (m *marketing) deleteContact(w http.ResponseWriter, r *http.Request) {
	m.mu.Lock()
	defer m.mu.Unlock()
	c, _, _, ok := m.lookup(w, r.PathValue("id"))
	if !ok {
		return
	}
	if c == nil {
		writeJSON(w, http.StatusNotFound, mktError("RESOURCE_NOT_FOUND", "Lead not found"))
		return
	}
	delete(m.contacts, c.Email)
	w.WriteHeader(http.StatusNoContent)
}

// readOnlyFields are refused in contact bodies (INVALID_FIELDS).
var readOnlyFields = []string{"uuid", "available_for_mailing", "created_at", "updated_at", "links", "lead_scoring", "fit", "interest"}

// contactChange checks a contact body and returns what it writes; the
// problems come back as the array body of §3.4. identifier is the field
// the path names the contact by ("email" or "uuid"). Callers hold m.mu.
func (m *marketing) contactChange(body map[string]any, identifier string, refuseOptions bool) (func(c *MarketingContact), []obj) {
	var errs []obj
	var apply []func(c *MarketingContact)
	keys := make([]string, 0, len(body))
	for k := range body {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		v := body[k]
		path := "$." + k
		switch {
		case k == identifier:
			errs = append(errs, mktPathError("CONFLICTING_FIELD", "The payload contains an attribute that was used to identify the lead", path))
		case k == "email":
			s, ok := v.(string)
			if !ok || !plausibleEmail(s) {
				errs = append(errs, mktPathError("INVALID_FORMAT", "email is invalid", path))
				continue
			}
			apply = append(apply, func(c *MarketingContact) { c.Email = strings.ToLower(strings.TrimSpace(s)) })
		case slices.Contains(readOnlyFields, k):
			errs = append(errs, mktPathError("INVALID_FIELDS", "The field "+k+" cannot be written", path))
		case contactStrings[k] != nil:
			s, ok := v.(string)
			if !ok && v != nil {
				errs = append(errs, mktPathError("INVALID_DATA_TYPE", k+" must be a string", path))
				continue
			}
			set := contactStrings[k]
			apply = append(apply, func(c *MarketingContact) { *set(c) = s })
		case k == "tags":
			tags, e := checkTags(v, path)
			if e != nil {
				errs = append(errs, *e)
				continue
			}
			apply = append(apply, func(c *MarketingContact) { c.Tags = tags })
		case k == "extra_emails":
			list, ok := stringList(v)
			if !ok {
				errs = append(errs, mktPathError("INVALID_DATA_TYPE", "extra_emails must be a list of strings", path))
				continue
			}
			apply = append(apply, func(c *MarketingContact) { c.ExtraEmails = list })
		case k == "legal_bases":
			lbs, e := checkLegalBases(v, path)
			if len(e) > 0 {
				errs = append(errs, e...)
				continue
			}
			apply = append(apply, func(c *MarketingContact) { c.LegalBases = mergeLegalBases(c.LegalBases, lbs) })
		case strings.HasPrefix(k, "cf_"):
			f := m.field(k)
			if f == nil || !f.Custom {
				errs = append(errs, mktPathError("INVALID_FIELDS", "The custom field "+k+" does not exist", path))
				continue
			}
			val, keep, e := checkCustom(*f, v, path, refuseOptions)
			if e != nil {
				errs = append(errs, *e)
				continue
			}
			if !keep {
				continue // an option the field does not have: silently not saved
			}
			apply = append(apply, func(c *MarketingContact) {
				if c.Fields == nil {
					c.Fields = map[string]any{}
				}
				if val == nil {
					delete(c.Fields, k)
					return
				}
				c.Fields[k] = val
			})
		default:
			errs = append(errs, mktPathError("INVALID_FIELDS", "The field "+k+" does not exist", path))
		}
	}
	return func(c *MarketingContact) {
		for _, a := range apply {
			a(c)
		}
	}, errs
}

func plausibleEmail(s string) bool {
	s = strings.TrimSpace(s)
	at := strings.LastIndexByte(s, '@')
	return at > 0 && at < len(s)-3 && strings.Contains(s[at:], ".") && !strings.ContainsAny(s, " ,;")
}

func stringList(v any) ([]string, bool) {
	list, ok := v.([]any)
	if !ok {
		return nil, false
	}
	out := make([]string, 0, len(list))
	for _, x := range list {
		s, ok := x.(string)
		if !ok {
			return nil, false
		}
		out = append(out, s)
	}
	return out, true
}

// checkTags reads a tag list: an array of unique lowercase strings.
func checkTags(v any, path string) ([]string, *obj) {
	tags, ok := stringList(v)
	if !ok {
		e := mktPathError("INVALID_DATA_TYPE", "tags must be an array of strings", path)
		return nil, &e
	}
	seen := map[string]bool{}
	for _, t := range tags {
		if t != strings.ToLower(t) {
			e := mktPathError("VALUES_MUST_BE_LOWERCASE", "Tags must be lowercase: "+t, path)
			return nil, &e
		}
		if seen[t] {
			e := mktPathError("VALUES_MUST_BE_UNIQUE", "Tags must be unique: "+t, path)
			return nil, &e
		}
		seen[t] = true
	}
	return tags, nil
}

func checkLegalBases(v any, path string) ([]MarketingLegalBase, []obj) {
	list, ok := v.([]any)
	if !ok {
		return nil, []obj{mktPathError("INVALID_DATA_TYPE", "legal_bases must be an array", path)}
	}
	var out []MarketingLegalBase
	var errs []obj
	for i, x := range list {
		m, _ := x.(map[string]any)
		lb := MarketingLegalBase{}
		lb.Category, _ = m["category"].(string)
		lb.Type, _ = m["type"].(string)
		lb.Status, _ = m["status"].(string)
		p := fmt.Sprintf("%s[%d]", path, i)
		switch {
		case lb.Category != "communications":
			errs = append(errs, mktPathError("INVALID_OPTION", "category must be communications", p+".category"))
		case !slices.Contains(legalTypes, lb.Type):
			errs = append(errs, mktPathError("INVALID_OPTION", "type must be one of "+strings.Join(legalTypes, ", "), p+".type"))
		case !slices.Contains(legalStatuses, lb.Status):
			errs = append(errs, mktPathError("INVALID_OPTION", "status must be granted or declined", p+".status"))
		default:
			out = append(out, lb)
		}
	}
	return out, errs
}

// mergeLegalBases replaces the bases of the same category and type.
func mergeLegalBases(have, set []MarketingLegalBase) []MarketingLegalBase {
	out := slices.Clone(have)
	for _, lb := range set {
		i := slices.IndexFunc(out, func(o MarketingLegalBase) bool { return o.Category == lb.Category && o.Type == lb.Type })
		if i >= 0 {
			out[i] = lb
		} else {
			out = append(out, lb)
		}
	}
	return out
}

// checkCustom checks a custom field value against its field: the data
// type, and the options of option fields. keep is false for an option the
// field does not have when such values are dropped without a word.
func checkCustom(f MarketingField, v any, path string, refuseOptions bool) (val any, keep bool, e *obj) {
	bad := func(typ, msg string) (any, bool, *obj) {
		o := mktPathError(typ, msg, path)
		return nil, false, &o
	}
	if v == nil {
		return nil, true, nil
	}
	var vals []string
	switch f.DataType {
	case "STRING":
		s, ok := v.(string)
		if !ok {
			return bad("INVALID_DATA_TYPE", f.APIIdentifier+" must be a string")
		}
		vals, val = []string{s}, s
	case "STRING[]":
		list, ok := stringList(v)
		if !ok {
			return bad("INVALID_DATA_TYPE", f.APIIdentifier+" must be an array of strings")
		}
		vals, val = list, list
	case "INTEGER":
		n, ok := v.(json.Number)
		if _, err := n.Int64(); !ok || err != nil {
			return bad("INVALID_DATA_TYPE", f.APIIdentifier+" must be an integer")
		}
		return n, true, nil
	case "BOOLEAN":
		b, ok := v.(bool)
		if !ok {
			return bad("INVALID_DATA_TYPE", f.APIIdentifier+" must be true or false")
		}
		return b, true, nil
	}
	if len(f.Options) > 0 {
		for _, s := range vals {
			if !slices.Contains(f.Options, s) {
				if refuseOptions {
					return bad("INVALID_OPTION", fmt.Sprintf("%q is not an option of %s", s, f.APIIdentifier))
				}
				return nil, false, nil
			}
		}
	}
	return val, true, nil
}

func (m *marketing) upsertContact(w http.ResponseWriter, r *http.Request) {
	var body map[string]any
	if !readJSON(w, r, &body) {
		return
	}
	refuse := m.Switches().RefuseInvalidOptions
	m.mu.Lock()
	defer m.mu.Unlock()
	c, email, byEmail, ok := m.lookup(w, r.PathValue("id"))
	if !ok {
		return
	}
	identifier := "uuid"
	if byEmail {
		identifier = "email"
	}
	if c == nil && !byEmail {
		writeJSON(w, http.StatusNotFound, mktError("RESOURCE_NOT_FOUND", "Lead not found"))
		return
	}
	if c == nil && !plausibleEmail(email) {
		writeJSON(w, http.StatusBadRequest, obj{"errors": obj{"email": []any{obj{"error_type": "INVALID_FORMAT", "error_message": "Email is invalid"}}}})
		return
	}
	change, errs := m.contactChange(body, identifier, refuse)
	if len(errs) > 0 {
		writeJSON(w, http.StatusBadRequest, mktPathErrors(errs...))
		return
	}
	if ok, limited := m.quota("patch", email, MarketingPatchesPerContact); !ok {
		writeJSON(w, http.StatusTooManyRequests, limited)
		return
	}
	now := m.clock.Now()
	if c == nil {
		c = &MarketingContact{UUID: m.uuid(), Email: email, Tags: []string{}, LegalBases: []MarketingLegalBase{},
			Funnel: MarketingFunnel{LifecycleStage: "Lead"}, CreatedAt: now}
		m.contacts[email] = c
	}
	change(c)
	if c.Email != email { // the e-mail changed (by uuid)
		delete(m.contacts, email)
		m.contacts[c.Email] = c
	}
	c.UpdatedAt = now
	writeJSON(w, http.StatusOK, contactView(c))
}

func (m *marketing) createContact(w http.ResponseWriter, r *http.Request) {
	var body map[string]any
	if !readJSON(w, r, &body) {
		return
	}
	refuse := m.Switches().RefuseInvalidOptions
	m.mu.Lock()
	defer m.mu.Unlock()
	email, _ := body["email"].(string)
	email = strings.ToLower(strings.TrimSpace(email))
	if email == "" {
		writeJSON(w, http.StatusBadRequest, obj{"errors": obj{"email": []any{obj{"error_type": "CANNOT_BE_NULL", "error_message": "Cannot be null"}}}})
		return
	}
	if m.contacts[email] != nil {
		writeJSON(w, http.StatusBadRequest, mktError("EMAIL_ALREADY_IN_USE", "The email is already in use"))
		return
	}
	change, errs := m.contactChange(body, "", refuse)
	if len(errs) > 0 {
		writeJSON(w, http.StatusBadRequest, mktPathErrors(errs...))
		return
	}
	now := m.clock.Now()
	c := &MarketingContact{UUID: m.uuid(), Email: email, Tags: []string{}, LegalBases: []MarketingLegalBase{},
		Funnel: MarketingFunnel{LifecycleStage: "Lead"}, CreatedAt: now, UpdatedAt: now}
	change(c)
	m.contacts[c.Email] = c
	writeJSON(w, http.StatusOK, contactView(c))
}

func (m *marketing) addTags(w http.ResponseWriter, r *http.Request) {
	var body map[string]any
	if !readJSON(w, r, &body) {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	c, email, _, ok := m.lookup(w, r.PathValue("id"))
	if !ok {
		return
	}
	if c == nil {
		writeJSON(w, http.StatusNotFound, mktError("RESOURCE_NOT_FOUND", "Lead not found"))
		return
	}
	tags, e := checkTags(body["tags"], "$.tags")
	if e != nil {
		writeJSON(w, http.StatusBadRequest, mktPathErrors(*e))
		return
	}
	if ok, limited := m.quota("tag", email, MarketingTagsPerContact); !ok {
		writeJSON(w, http.StatusTooManyRequests, limited)
		return
	}
	now := m.clock.Now()
	i := 0
	for i < len(m.tagsDay) && !m.tagsDay[i].Add(24*time.Hour).After(now) {
		i++
	}
	m.tagsDay = m.tagsDay[i:]
	if len(m.tagsDay) >= MarketingTagsPerAccount {
		writeJSON(w, http.StatusTooManyRequests, mktError("RATE_LIMIT_EXCEDDED", "Daily tag limit of the account exceeded"))
		return
	}
	m.tagsDay = append(m.tagsDay, now)
	for _, t := range tags {
		if !slices.Contains(c.Tags, t) {
			c.Tags = append(c.Tags, t)
		}
	}
	c.UpdatedAt = now
	writeJSON(w, http.StatusOK, obj{"tags": append([]string{}, c.Tags...)})
}

func funnelView(f MarketingFunnel) obj {
	var owner any
	if f.ContactOwnerEmail != "" {
		owner = f.ContactOwnerEmail
	}
	return obj{"lifecycle_stage": f.LifecycleStage, "opportunity": f.Opportunity, "contact_owner_email": owner,
		"fit": orDefault(f.Fit, "d"), "interest": orDefault(f.Interest, "4")}
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

func (m *marketing) funnelContact(w http.ResponseWriter, r *http.Request) (*MarketingContact, string, bool) {
	if r.PathValue("funnel") != "default" {
		writeJSON(w, http.StatusBadRequest, mktError("INVALID_FUNNEL_NAME", "Only the default funnel exists"))
		return nil, "", false
	}
	c, email, _, ok := m.lookup(w, r.PathValue("id"))
	if !ok {
		return nil, "", false
	}
	if c == nil {
		writeJSON(w, http.StatusNotFound, mktError("RESOURCE_NOT_FOUND", "Lead not found"))
		return nil, "", false
	}
	return c, email, true
}

func (m *marketing) getFunnel(w http.ResponseWriter, r *http.Request) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if c, _, ok := m.funnelContact(w, r); ok {
		writeJSON(w, http.StatusOK, funnelView(c.Funnel))
	}
}

func (m *marketing) putFunnel(w http.ResponseWriter, r *http.Request) {
	var body map[string]any
	if !readJSON(w, r, &body) {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	c, email, ok := m.funnelContact(w, r)
	if !ok {
		return
	}
	f := c.Funnel
	var errs []obj
	for k, v := range body {
		switch k {
		case "lifecycle_stage":
			s, _ := v.(string)
			if !slices.Contains(LifecycleStages, s) {
				errs = append(errs, mktPathError("INVALID_OPTION", "lifecycle_stage must be one of "+strings.Join(LifecycleStages, ", "), "$."+k))
				continue
			}
			f.LifecycleStage = s
		case "opportunity":
			b, ok := v.(bool)
			if !ok {
				errs = append(errs, mktPathError("INVALID_DATA_TYPE", "opportunity must be true or false", "$."+k))
				continue
			}
			f.Opportunity = b
		case "contact_owner_email":
			s, _ := v.(string)
			f.ContactOwnerEmail = s
		default:
			errs = append(errs, mktPathError("INVALID_FIELDS", "The field "+k+" does not exist", "$."+k))
		}
	}
	if len(errs) > 0 {
		writeJSON(w, http.StatusBadRequest, mktPathErrors(errs...))
		return
	}
	if ok, limited := m.quota("funnel", email, MarketingFunnelPerContact); !ok {
		writeJSON(w, http.StatusTooManyRequests, limited)
		return
	}
	c.Funnel, c.UpdatedAt = f, m.clock.Now()
	writeJSON(w, http.StatusOK, funnelView(f))
}

// eventTypes are the event types this simulator knows, with their
// required payload fields.
var eventTypes = map[string][]string{
	"CONVERSION":       {"conversion_identifier", "email"},
	"OPPORTUNITY":      {"email", "funnel_name"},
	"SALE":             {"email", "funnel_name"},
	"OPPORTUNITY_LOST": {"email", "funnel_name"},
}

// conversionFields are the CONVERSION payload fields besides the contact's.
var conversionFields = []string{"conversion_identifier", "email", "client_tracking_id", "traffic_source", "traffic_medium",
	"traffic_campaign", "traffic_value", "available_for_mailing"}

// eventIn is an event as posted.
type eventIn struct {
	Type    string         `json:"event_type"`
	Family  string         `json:"event_family"`
	Payload map[string]any `json:"payload"`
}

// checkEvent validates one event; prefix is its JSON path ("$" or "$[3]").
// Callers hold m.mu.
func (m *marketing) checkEvent(in eventIn, prefix string, sw MarketingSwitches) (apply func(c *MarketingContact), status int, body obj) {
	bad := func(typ, msg, path string) (func(*MarketingContact), int, obj) {
		return nil, http.StatusBadRequest, mktPathErrors(mktPathError(typ, msg, prefix+path))
	}
	required, known := eventTypes[in.Type]
	switch {
	case !known:
		return bad("INVALID_OPTION", "event_type "+in.Type+" is not supported", ".event_type")
	case in.Family != "CDP":
		return bad("INVALID_OPTION", "event_family must be CDP", ".event_family")
	case in.Payload == nil:
		return bad("CANNOT_BE_NULL", "payload cannot be null", ".payload")
	}
	for _, k := range required {
		if s, _ := in.Payload[k].(string); strings.TrimSpace(s) == "" {
			return bad("CANNOT_BE_NULL", k+" cannot be null", ".payload."+k)
		}
	}
	email, _ := in.Payload["email"].(string)
	if !plausibleEmail(email) {
		return bad("INVALID_FORMAT", "email is invalid", ".payload.email")
	}
	if in.Type != "CONVERSION" {
		if fn, _ := in.Payload["funnel_name"].(string); fn != "default" {
			return bad("INVALID_OPTION", "funnel_name must be default", ".payload.funnel_name")
		}
	}
	switch in.Type {
	case "SALE":
		v, has := in.Payload["value"]
		if !has && sw.SaleValueRequired {
			return bad("CANNOT_BE_NULL", "value cannot be null", ".payload.value")
		}
		if _, ok := v.(json.Number); has && !ok {
			return bad("INVALID_DATA_TYPE", "value must be a number", ".payload.value")
		}
		return func(c *MarketingContact) {}, 0, nil
	case "OPPORTUNITY":
		return func(c *MarketingContact) { c.Funnel.Opportunity = true }, 0, nil
	case "OPPORTUNITY_LOST":
		return func(c *MarketingContact) { c.Funnel.Opportunity = false }, 0, nil
	}
	// CONVERSION: the contact's fields, tags appended, legal bases.
	fields := map[string]any{}
	var tags []string
	for k, v := range in.Payload {
		switch {
		case slices.Contains(conversionFields, k):
		case k == "tags":
			t, e := checkTags(v, prefix+".payload.tags")
			if e != nil {
				return nil, http.StatusBadRequest, mktPathErrors(*e)
			}
			tags = t
		default:
			fields[k] = v
		}
	}
	change, errs := m.contactChange(fields, "", sw.RefuseInvalidOptions)
	if len(errs) > 0 {
		for i := range errs {
			errs[i]["path"] = prefix + ".payload" + strings.TrimPrefix(errs[i]["path"].(string), "$")
		}
		return nil, http.StatusBadRequest, mktPathErrors(errs...)
	}
	return func(c *MarketingContact) {
		change(c)
		for _, t := range tags {
			if !slices.Contains(c.Tags, t) {
				c.Tags = append(c.Tags, t)
			}
		}
		c.Conversions++
	}, 0, nil
}

// record applies a checked event and records it. Callers hold m.mu.
func (m *marketing) record(in eventIn, apply func(*MarketingContact), batch string) MarketingEvent {
	now := m.clock.Now()
	email, _ := in.Payload["email"].(string)
	email = strings.ToLower(strings.TrimSpace(email))
	c := m.contacts[email]
	if c == nil && in.Type == "CONVERSION" {
		c = &MarketingContact{UUID: m.uuid(), Email: email, Tags: []string{}, LegalBases: []MarketingLegalBase{},
			Funnel: MarketingFunnel{LifecycleStage: "Lead"}, CreatedAt: now}
		m.contacts[email] = c
	}
	ev := MarketingEvent{UUID: m.uuid(), Type: in.Type, Family: in.Family, Email: email, Payload: cloneMap(in.Payload),
		BatchUUID: batch, At: now, NoContact: c == nil}
	if c != nil {
		apply(c)
		c.UpdatedAt = now
	}
	m.events = append(m.events, ev)
	return ev
}

// unknownContact answers an event for an e-mail without a contact when the
// switch refuses it (ok false), else lets it be recorded. Callers hold m.mu.
func (m *marketing) unknownContact(in eventIn, sw MarketingSwitches) bool {
	if in.Type == "CONVERSION" || sw.EventsForUnknownContacts == UnknownContactsAccept {
		return true
	}
	email, _ := in.Payload["email"].(string)
	return m.contacts[strings.ToLower(strings.TrimSpace(email))] != nil
}

func (m *marketing) postEvent(w http.ResponseWriter, r *http.Request) {
	var in eventIn
	if !readJSON(w, r, &in) {
		return
	}
	sw := m.Switches()
	m.mu.Lock()
	defer m.mu.Unlock()
	apply, status, body := m.checkEvent(in, "$", sw)
	if status != 0 {
		writeJSON(w, status, body)
		return
	}
	if !m.unknownContact(in, sw) {
		writeJSON(w, http.StatusNotFound, mktError("RESOURCE_NOT_FOUND", "Lead not found"))
		return
	}
	email, _ := in.Payload["email"].(string)
	if ok, limited := m.quota("event", strings.ToLower(strings.TrimSpace(email)), MarketingEventsPerContact); !ok {
		writeJSON(w, http.StatusTooManyRequests, limited)
		return
	}
	ev := m.record(in, apply, "")
	writeJSON(w, http.StatusOK, obj{"event_uuid": ev.UUID})
}

// postBatch checks every event first; one bad event refuses the whole
// batch (its path names it) and nothing is recorded.
func (m *marketing) postBatch(w http.ResponseWriter, r *http.Request) {
	if r.ContentLength > MarketingBatchLimit {
		writeJSON(w, http.StatusRequestEntityTooLarge, mktError("REQUEST_ENTITY_TOO_LARGE", "The batch body is limited to 0.2 MB"))
		return
	}
	var in []eventIn
	if !readJSON(w, r, &in) {
		return
	}
	sw := m.Switches()
	m.mu.Lock()
	defer m.mu.Unlock()
	applies := make([]func(*MarketingContact), len(in))
	for i, e := range in {
		apply, status, body := m.checkEvent(e, fmt.Sprintf("$[%d]", i), sw)
		if status != 0 {
			writeJSON(w, status, body)
			return
		}
		if !m.unknownContact(e, sw) {
			writeJSON(w, http.StatusNotFound, mktPathErrors(mktPathError("RESOURCE_NOT_FOUND", "Lead not found", fmt.Sprintf("$[%d].payload.email", i))))
			return
		}
		applies[i] = apply
	}
	batch := m.uuid()
	out := make([]any, len(in))
	for i, e := range in {
		email, _ := e.Payload["email"].(string)
		if ok, limited := m.quota("event", strings.ToLower(strings.TrimSpace(email)), MarketingEventsPerContact); !ok {
			writeJSON(w, http.StatusTooManyRequests, limited)
			return
		}
		out[i] = obj{"event_uuid": m.record(e, applies[i], batch).UUID}
	}
	writeJSON(w, http.StatusOK, obj{"event_batch_uuid": batch, "events": out})
}

func sortedContacts(m map[string]*MarketingContact) []*MarketingContact {
	out := make([]*MarketingContact, 0, len(m))
	for _, c := range m {
		out = append(out, c)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Email < out[j].Email })
	return out
}
