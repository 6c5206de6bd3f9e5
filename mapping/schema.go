package mapping

// Schema is what a target system's adapter says of one entity: the fields
// a mapping may write, how each value is shaped, where custom field values
// go in the payload and which custom fields exist. The mapping knows no
// target system: every name here comes from the adapter.
type Schema struct {
	// Entity is the entity described (organization, contact, product, deal).
	Entity string
	// Fields are the entity's standard fields. Nil leaves field names
	// unchecked, each value shaped by its own type.
	Fields map[string]FieldSpec
	// CustomKey is the payload key custom field values go under, as a
	// list of {"custom_field_id": id, "value": value} (default
	// "custom_fields").
	CustomKey string
	// Custom are the entity's custom fields, by label.
	Custom CustomFieldCatalog
}

// FieldSpec is one standard field of an entity.
type FieldSpec struct {
	Kind FieldKind
	// Limit is the longest text the target takes (0: 255 characters).
	Limit int
	// Long: a long text, whose line breaks are kept.
	Long bool
}

// FieldKind is how a field's value is shaped and checked.
type FieldKind int

// Field kinds.
const (
	FieldAuto     = FieldKind(kindAuto)     // shaped by the value's own type
	FieldText     = FieldKind(kindText)     // trimmed text, ≥ 2 characters, truncated to the limit
	FieldEmails   = FieldKind(kindEmails)   // [{email}]
	FieldPhones   = FieldKind(kindPhones)   // [{phone,type}]
	FieldNumber   = FieldKind(kindNumber)   // an exact JSON number
	FieldBool     = FieldKind(kindBool)     // true / false
	FieldTextList = FieldKind(kindTextList) // ["text", …]
	FieldISODate  = FieldKind(kindISODate)  // YYYY-MM-DD
)

// LongTextLimit is the limit long texts get unless the adapter says.
const LongTextLimit = longTextLimit

// Lookup finds the custom field of a label: an exact match first, else the
// one label that matches ignoring case and surrounding blanks. No match, or
// several, is an error naming the label and the candidates. It is the one
// way labels are resolved: by mappings, at start and by `erpbridge check`.
func (c CustomFieldCatalog) Lookup(label string) (CustomField, error) { return c.resolve(label) }
