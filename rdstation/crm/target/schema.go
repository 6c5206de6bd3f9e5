package target

import (
	"context"
	"fmt"

	"github.com/erpbridge/erpbridge/mapping"
	"github.com/erpbridge/erpbridge/rdstation/crm"
)

// v1Fields are the fields of RD Station CRM v1 entities a mapping may
// write. Deals are not listed: their payload is built by the orders
// stream, field by field (see Deals).
var v1Fields = map[string]map[string]mapping.FieldSpec{
	mapping.EntityOrganization: {"name": textField, "address": textField, "url": textField, "resume": longText,
		"user_id": textField, "organization_segments": {Kind: mapping.FieldTextList}},
	mapping.EntityContact: {"name": textField, "title": textField, "birthday": {Kind: mapping.FieldISODate},
		"emails": {Kind: mapping.FieldEmails}, "phones": {Kind: mapping.FieldPhones}, "organization_id": textField,
		"facebook": textField, "linkedin": textField, "skype": textField, "notes": longText},
	mapping.EntityProduct: {"name": textField, "description": longText, "base_price": {Kind: mapping.FieldNumber},
		"visible": {Kind: mapping.FieldBool}},
}

var (
	// textField is a CRM text field: only the name's 255 characters are
	// documented; the others are taken to be the same.
	textField = mapping.FieldSpec{Kind: mapping.FieldText}
	// longText is a description, resume or notes: 10,000 characters is an
	// assumption (overridable per mapping with limits), line breaks kept.
	longText = mapping.FieldSpec{Kind: mapping.FieldText, Limit: mapping.LongTextLimit, Long: true}
)

// StaticSchema describes an entity's standard fields, without its custom
// fields (no I/O): what `erpbridge validate` checks mappings against.
func StaticSchema(entity string) mapping.Schema {
	return mapping.Schema{Entity: entity, Fields: v1Fields[entity], CustomKey: entity + "_custom_fields"}
}

// Schema reads an entity's custom fields (GET /custom_fields?for=…) into
// its schema.
func Schema(ctx context.Context, c *crm.Client, entity string) (mapping.Schema, error) {
	fields, err := c.ListCustomFields(ctx, entity)
	if err != nil {
		return mapping.Schema{}, fmt.Errorf("reading CRM custom fields of %s: %w", entity, err)
	}
	s := StaticSchema(entity)
	s.Custom = make(mapping.CustomFieldCatalog, len(fields))
	for _, f := range fields {
		cf := mapping.CustomField{ID: f.ID, Type: mapping.FieldType(f.Type)}
		for _, o := range f.Options {
			cf.Options = append(cf.Options, o.Label)
		}
		s.Custom[f.Label] = cf
	}
	return s, nil
}
