package mapping

// CRM entities a Spec can target. The entity decides which CRM fields are known and the payload
// key custom fields go under (organization_custom_fields, contact_custom_fields…).
const (
	EntityOrganization = "organization"
	EntityContact      = "contact"
	EntityProduct      = "product"
	EntityDeal         = "deal"
)

// InvalidUTF8 policies (Spec.InvalidUTF8).
const (
	// UTF8Transcode decodes strings that are not valid UTF-8 as Windows-1252 (the default).
	UTF8Transcode = "transcode"
	// UTF8Reject reports a string that is not valid UTF-8 as an error of every field that uses it.
	UTF8Reject = "reject"
)

// OnInvalid policies (Spec.OnInvalid): what a field whose value is invalid (a CNPJ with a wrong
// check digit, an e-mail without '@', a 1-character text, a column the ERP could not give) does
// to its record.
const (
	// OmitField sends the record without the field — the CRM keeps what it had for it — and
	// lists the field's problem (level skip) until the value is fixed. The default of every field
	// but the name: an invalid field is not an invalid record.
	OmitField = "omit_field"
	// SkipRecord does not send the record: the field's problem is the record's error (level
	// skip). The name's, fixed: the CRM refuses a record without one.
	SkipRecord = "skip_record"
)

// Spec declares the mapping of one stream, as written in the config's TOML:
//
//	version = "1"
//	record = "customer"
//	entity = "organization"
//	[fields]
//	name = "A1_NOME"
//	address = "join(' - ', A1_END, A1_MUN, A1_EST)"
//	[custom_fields]
//	CNPJ = "doc(A1_CGC)"
//	[unique_name]
//	suffix = " ({A1_COD}/{A1_LOJA})"
type Spec struct {
	// Version is part of every fingerprint: bumping it makes every record be sent again.
	Version string `toml:"version"`
	// Record names one ERP record in messages ("customer 000123|01: …"); default "record".
	Record string `toml:"record"`
	// Entity is the CRM entity: organization, contact, product or deal. It decides the known
	// fields and where custom fields go in the payload.
	Entity string `toml:"entity"`
	// Fields maps a CRM field to the expression that gives its value.
	Fields map[string]string `toml:"fields"`
	// CustomFields maps a CRM custom field's label to the expression that gives its value.
	CustomFields map[string]string `toml:"custom_fields"`
	// UniqueName keeps CRM names unique when ERP names are not.
	UniqueName UniqueName `toml:"unique_name"`
	// Limits overrides the maximum length (in characters) of a CRM field or custom field label.
	// Longer values are truncated.
	Limits map[string]int `toml:"limits"`
	// InvalidUTF8 is "transcode" (default) or "reject".
	InvalidUTF8 string `toml:"invalid_utf8"`
	// OnInvalid says, per CRM field or custom field label, what an invalid value of that field
	// does to its record: "omit_field" (the default) or "skip_record". The name is always
	// skip_record.
	OnInvalid map[string]string `toml:"on_invalid"`
}

// UniqueName appends a suffix made from the record's own columns to the CRM name, so that two
// ERP records with the same name never share (and so never merge into) one CRM record.
type UniqueName struct {
	// Suffix is a template: {COLUMN} is replaced by the column's value, e.g. " ({A1_COD}/{A1_LOJA})".
	// Empty means names are sent as the ERP has them.
	Suffix string `toml:"suffix"`
	// When is an optional boolean expression; the suffix is added only where it is true.
	// Empty means always, the one rule that needs no knowledge of other records.
	When string `toml:"when"`
}
