// Package mapping turns one ERP record into one CRM payload, declaratively.
//
// A [Spec] (decoded from the stream's TOML) says, per CRM field, which expression of the ERP
// record gives its value. Expressions are evaluated by expr-lang/expr with the record's columns
// as variables (upper-case names: A1_NOME, A1_CGC…) and a library of transforms for Brazilian data
// (digits, cnpj, cpf, doc, cep, phone, emails, title…). [Compile] checks every expression and
// resolves custom field labels once, at start; [Mapping.Apply] is then cheap, never panics and
// reports every bad value of a record as a [FieldError] naming the record's key, the ERP column
// and the CRM field.
//
// An invalid field is not an invalid record. A field whose value is invalid (a CNPJ with a wrong
// check digit, an e-mail without '@', a column the source could not read) is left out of the
// payload and reported in Result.Warnings: the record is sent without it and the CRM keeps what
// it had. Spec.OnInvalid can say "skip_record" for a field instead: its problem is then in
// Result.Errors and the engine parks the record (level skip) and goes on with the batch. The
// name is always skip_record, since the CRM refuses a record without one; so are problems of the
// mapping itself (a column the source does not select, an expression that fails).
//
// Rules the mapping applies, so a payload is one the CRM accepts:
//
//   - Text is trimmed. An empty value is left out of the payload (it never clears a CRM value,
//     as the CRM refuses text shorter than 2 characters); an empty custom field is sent as null,
//     which the CRM accepts and which clears it. A 1-character text is invalid; for the name the
//     minimum applies to the name with its unique suffix, the name the CRM gets.
//   - Control characters never reach the CRM (CleanText, applied to every text of the record
//     and to every text of the payload): NUL, the C0 controls but tab and line breaks, DEL, the
//     C1 controls and the bidirectional overrides, embeddings and isolates (U+202A–U+202E,
//     U+2066–U+2069) are removed. Long texts (description, resume, notes) keep line breaks and
//     tabs; every other text field gets one blank for each run of them.
//   - Text longer than the CRM's limit is truncated, never refused (name: 255 characters;
//     description, resume and notes: 10,000; everything else 255; Spec.Limits overrides).
//   - Custom field values: option values must be one of the field's options, exact case;
//     multiple_choice values a list of them; date values are sent as DD/MM/YYYY.
//   - Strings that are not valid UTF-8 (Protheus databases with a Latin-1 collation hand out
//     Windows-1252 bytes) are transcoded from Windows-1252, a superset of ISO-8859-1, before any
//     expression sees them. Spec.InvalidUTF8 = "reject" makes them a per-record error instead.
//
// Unique names: the CRM wants organization and product names unique, and the bridge adopts an
// existing CRM record by name, so two ERP records with the same name (two lojas of a customer, two
// customers that happen to share a name) would merge. Spec.UniqueName appends a suffix built from
// the record's own key columns, e.g. " ({A1_COD}/{A1_LOJA})". By default it is applied to every
// record: that is the only rule that needs no knowledge of other records, so it never merges two
// records and never flips a name between runs (an incremental poll cannot know every name up
// front). UniqueName.When narrows it (e.g. "A1_LOJA != '01'") for those who accept that two
// primary lojas with the same name then share a CRM name. The suffix survives truncation.
//
// Fingerprint: SHA-256 over the mapping version and the canonical JSON of the payload (sorted
// keys), so it is stable across runs and map orders, and changes when any mapped value or the
// version changes.
package mapping
