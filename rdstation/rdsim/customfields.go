package rdsim

import (
	"cmp"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

// Custom field kinds ("for") and types.
var (
	fieldKinds = []string{"deal", "contact", "organization", "product"}
	fieldTypes = []string{"text", "date", "option", "multiple_choice"}
)

// values reads the custom field values under key for a record of kind
// into *vals, merged over what it holds (a null value removes one), then
// adds a 422 for each required field of kind left without a value. An
// unknown field id, or another kind's, answers the documented 400 and
// returns false, leaving *vals alone; invalid values become 422 errors
// keyed by the field label.
func (c *call) values(f form, key, kind string, vals *[]CustomFieldValue, selfID string) bool {
	if items, ok := f.objects(key); ok {
		out := cloneValues(*vals)
		for _, it := range items {
			cfid, _ := it.m["custom_field_id"].(string)
			fd, ok := c.d.fields.get(cfid)
			if !ok || fd.For != kind {
				c.badRequest(fmt.Sprintf("Could not find a custom field that matches: {:custom_field_id=>%q}", cfid))
				return false
			}
			v, ok := c.fieldValue(f, fd, it.m["value"])
			if !ok {
				continue
			}
			if v != nil && fd.Unique && c.valueTaken(fd, v, selfID) {
				f.errs.add(fd.Label, msgTaken)
				continue
			}
			i := slices.IndexFunc(out, func(x CustomFieldValue) bool { return x.CustomFieldID == fd.ID })
			switch {
			case v == nil && i >= 0:
				out = slices.Delete(out, i, i+1)
			case v == nil:
			case i >= 0:
				out[i].Value = v
			default:
				out = append(out, CustomFieldValue{ID: c.s.newID(), CustomFieldID: fd.ID, Value: v})
			}
		}
		*vals = out
	}
	c.requireValues(f, kind, *vals)
	return true
}

// requireValues adds a 422 for each required field of kind without a value.
func (c *call) requireValues(f form, kind string, vals []CustomFieldValue) {
	for _, fd := range c.d.fields.all() {
		if fd.For != kind || !fd.Required {
			continue
		}
		if !slices.ContainsFunc(vals, func(v CustomFieldValue) bool { return v.CustomFieldID == fd.ID }) {
			f.errs.add(fd.Label, msgBlank)
		}
	}
}

// fieldValue validates one raw value against its field; nil clears.
func (c *call) fieldValue(f form, fd *CustomField, raw any) (any, bool) {
	bad := func(msg string) (any, bool) {
		f.errs.add(fd.Label, msg)
		return nil, false
	}
	if raw == nil {
		return nil, true
	}
	if fd.Type == "multiple_choice" {
		l, ok := raw.([]any)
		if !ok {
			return bad("must be a list of the field's options")
		}
		out := make([]string, 0, len(l))
		for _, x := range l {
			s, ok := x.(string)
			if !ok || (!fd.AllowNew && !slices.Contains(fd.Opts, s)) {
				return bad(fmt.Sprintf("%v is not one of the field's options", x))
			}
			out = append(out, s)
		}
		if len(out) == 0 {
			return nil, true
		}
		return out, true
	}
	var s string
	switch x := raw.(type) {
	case string:
		s = x
	case json.Number:
		if fd.Type != "text" {
			return bad("must be a string")
		}
		s = x.String()
	default:
		f.errs.typed(fd.Label, "MUST_BE_STRING", "must be a string")
		return nil, false
	}
	if strings.TrimSpace(s) == "" {
		return nil, true
	}
	switch fd.Type {
	case "date":
		if len(s) != 10 {
			return bad("must be a date in the format DD/MM/YYYY")
		}
		if _, err := time.Parse("02/01/2006", s); err != nil {
			return bad("must be a date in the format DD/MM/YYYY")
		}
	case "option":
		if !fd.AllowNew && !slices.Contains(fd.Opts, s) {
			return bad(fmt.Sprintf("%q is not one of the field's options", s))
		}
	default:
		if utf8.RuneCountInString(strings.TrimSpace(s)) < 2 {
			return bad(msgTooShort)
		}
	}
	return s, true
}

// valueTaken reports another record of the field's kind holding value v.
func (c *call) valueTaken(fd *CustomField, v any, selfID string) bool {
	key := valueKey(fd.ID, v)
	switch fd.For {
	case "organization":
		return c.d.ix.orgValues.other(key, selfID)
	case "contact":
		return c.d.ix.contactValues.other(key, selfID)
	case "product":
		return c.d.ix.productValues.other(key, selfID)
	case "deal":
		return c.d.ix.dealValues.other(key, selfID)
	}
	return false
}

// renderValues renders values as [{_id,id,custom_field_id,value,custom_field{…}}].
func (c *call) renderValues(vals []CustomFieldValue) []any {
	out := make([]any, 0, len(vals))
	for _, v := range vals {
		o := obj{"_id": v.ID, "id": v.ID, "custom_field_id": v.CustomFieldID, "value": v.Value}
		if fd, ok := c.d.fields.get(v.CustomFieldID); ok {
			o["custom_field"] = renderField(fd)
		}
		out = append(out, o)
	}
	return out
}

func renderField(fd *CustomField) obj {
	opts := fd.Opts
	if opts == nil {
		opts = []string{}
	}
	return obj{"_id": fd.ID, "id": fd.ID, "label": fd.Label, "type": fd.Type, "for": fd.For, "opts": opts,
		"allow_new": fd.AllowNew, "order": fd.Order, "required": fd.Required, "required_rules": []any{},
		"unique": fd.Unique, "visible": fd.Visible, "created_at": ts(fd.CreatedAt), "updated_at": ts(fd.UpdatedAt)}
}

// GET /custom_fields?for= → bare array.
func (s *Sim) listCustomFields(c *call) {
	kind := c.q.Get("for")
	if kind != "" && !slices.Contains(fieldKinds, kind) {
		c.json(http.StatusUnprocessableEntity, obj{"errors": verrs{"for": {msgNotInc}}})
		return
	}
	fields := c.d.fields.all()
	slices.SortStableFunc(fields, func(a, b *CustomField) int { return cmp.Compare(a.Order, b.Order) })
	out := []any{}
	for _, fd := range fields {
		if kind == "" || fd.For == kind {
			out = append(out, renderField(fd))
		}
	}
	c.json(http.StatusOK, out)
}

func (s *Sim) getCustomField(c *call) {
	fd, ok := c.d.fields.get(c.r.PathValue("id"))
	if !ok {
		c.notFound("Custom field")
		return
	}
	c.json(http.StatusOK, renderField(fd))
}

// POST /custom_fields {"custom_field":{label*,type*,for*,…}} → 201.
func (s *Sim) createCustomField(c *call) {
	f, ok := c.body("custom_field", true)
	if !ok {
		return
	}
	fd := &CustomField{Visible: true, CreatedAt: c.now, UpdatedAt: c.now}
	fd.Label, _ = f.text("label", required, 0)
	if t, ok := f.id("type"); !ok || !slices.Contains(fieldTypes, t) {
		f.errs.add("type", msgNotInc)
	} else {
		fd.Type = t
	}
	if k, ok := f.id("for"); !ok || !slices.Contains(fieldKinds, k) {
		f.errs.add("for", msgNotInc)
	} else {
		fd.For = k
	}
	s.fieldAttrs(c, f, fd)
	if c.failed(f) {
		return
	}
	if !f.has("order") {
		fd.Order = len(c.d.fields.order) + 1
	}
	fd.ID = s.newID()
	c.d.fields.add(fd.ID, fd)
	c.json(http.StatusCreated, renderField(fd))
}

// fieldAttrs reads the updatable attributes of a custom field.
func (s *Sim) fieldAttrs(c *call, f form, fd *CustomField) {
	for _, k := range []string{"options", "opts"} {
		if opts, ok := f.strs(k); ok {
			fd.Opts = opts
		}
	}
	for k, p := range map[string]*bool{"unique": &fd.Unique, "required": &fd.Required, "allow_new": &fd.AllowNew, "visible": &fd.Visible} {
		if b, ok := f.boolPtr(k); ok {
			*p = b != nil && *b
		}
	}
	if n, ok := f.integer("order"); ok {
		fd.Order = n
	}
}

func (s *Sim) updateCustomField(c *call) {
	fd, ok := c.d.fields.get(c.r.PathValue("id"))
	if !ok {
		c.notFound("Custom field")
		return
	}
	f, ok := c.body("custom_field", true)
	if !ok {
		return
	}
	next := fd.clone()
	if l, ok := f.text("label", nonBlank, 0); ok {
		next.Label = l
	}
	s.fieldAttrs(c, f, &next)
	if c.failed(f) {
		return
	}
	next.UpdatedAt = c.now
	*fd = next
	c.json(http.StatusOK, renderField(fd))
}

// DELETE /custom_fields/{id} removes the field and its values everywhere.
func (s *Sim) deleteCustomField(c *call) {
	id := c.r.PathValue("id")
	fd, ok := c.d.fields.get(id)
	if !ok {
		c.notFound("Custom field")
		return
	}
	out := renderField(fd)
	dropFieldValues(&c.d.orgs, id, func(o *Organization) *[]CustomFieldValue { return &o.CustomFields })
	dropFieldValues(&c.d.contacts, id, func(ct *Contact) *[]CustomFieldValue { return &ct.CustomFields })
	dropFieldValues(&c.d.products, id, func(p *Product) *[]CustomFieldValue { return &p.CustomFields })
	dropFieldValues(&c.d.deals, id, func(d *Deal) *[]CustomFieldValue { return &d.CustomFields })
	c.d.fields.remove(id)
	c.deleted(out)
}

// dropFieldValues removes custom field id's values from the records of t
// holding one, through replace so that t's indexes follow.
func dropFieldValues[T any](t *table[T], id string, values func(*T) *[]CustomFieldValue) {
	isField := func(v CustomFieldValue) bool { return v.CustomFieldID == id }
	for _, s := range t.order {
		vals := *values(s.v)
		if !slices.ContainsFunc(vals, isField) {
			continue
		}
		next := *s.v
		*values(&next) = slices.DeleteFunc(slices.Clone(vals), isField)
		t.replace(s.id, next)
	}
}
