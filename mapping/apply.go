package mapping

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/expr-lang/expr/vm"
)

// FieldError is one bad value of one record: the record's key, the CRM field (or custom field),
// the ERP columns it was mapped from, the offending value and a sentence that names it.
type FieldError struct {
	Record string // what a record is, e.g. "customer"
	Key    string // the record's ERP key, e.g. "000123|01"
	Field  string // CRM field, or `custom field "Label"`
	Column string // ERP columns the field reads, comma-separated; may be empty
	Value  string // the offending value; may be empty
	Msg    string

	// mapping marks a problem of the mapping rather than of the value (a column the source does
	// not select, an expression that fails): it fails the record whatever on_invalid says.
	mapping bool
}

// Error reads like: customer 000123|01: field A1_EMAIL → emails: "joao@@x" is not a valid e-mail.
func (e FieldError) Error() string {
	if e.Column == "" {
		return fmt.Sprintf("%s %s: field %s: %s", e.Record, e.Key, e.Field, e.Msg)
	}
	return fmt.Sprintf("%s %s: field %s → %s: %s", e.Record, e.Key, e.Column, e.Field, e.Msg)
}

var _ error = FieldError{}

// Result is one mapped record. A record with Errors must not be sent: the engine reports it
// (level "skip") and goes on with the batch. A record with Warnings only is sent without the
// fields they name, and the engine lists them.
type Result struct {
	// Payload maps CRM field → value (string, bool, json.Number, []string, lists of objects);
	// custom fields are under the mapping's CustomFieldsKey as [{custom_field_id, value}].
	// A field whose value is invalid is not in it.
	Payload map[string]any
	// Errors lists the problems that keep the record from being sent, in field order: an
	// invalid value of a field whose on_invalid is skip_record (the name), or a problem of the
	// mapping itself. When there are any, every invalid field of the record is listed here.
	Errors []FieldError
	// Warnings lists the invalid values of fields whose on_invalid is omit_field: the record
	// goes out without those fields (the CRM keeps what it had for them).
	Warnings []FieldError
	// Fingerprint identifies Payload and the mapping version; see Fingerprint.
	Fingerprint string
}

// Apply maps one record (upper-case column → nil, string, decimal.Decimal, int64, time.Time or
// bool). Bad values are reported in Result.Errors or Result.Warnings, never as a panic; the
// error return is kept for failures of the mapping itself (a payload that cannot be encoded) and
// is nil for bad data.
func (m *Mapping) Apply(key string, rec map[string]any) (Result, error) {
	return m.ApplyInvalid(key, rec, nil)
}

// ApplyInvalid is Apply for a record some of whose columns the source could not read: invalid
// maps such a column to what is wrong with it, read after the column's name (`holds "abc",
// which is not a number`). A field that reads one is invalid, like a field whose transform
// refuses its value, and its on_invalid decides what happens to the record.
func (m *Mapping) ApplyInvalid(key string, rec map[string]any, invalid map[string]string) (res Result, err error) {
	var problems []FieldError
	skip := false
	problem := func(f *field, fe *FieldError) {
		problems = append(problems, *fe)
		skip = skip || fe.mapping || f.skip
	}
	defer func() {
		if r := recover(); r != nil {
			res.Errors = append(problems, m.failMapping(key, &field{name: "*"}, fmt.Sprintf("internal error while mapping: %v", r)))
			res.Warnings = nil
		}
	}()
	rec, bad := m.normalize(rec, invalid)
	payload := make(map[string]any, len(m.fields)+1)
	for i := range m.fields {
		f := &m.fields[i]
		v, ferr := m.eval(key, f, rec, bad)
		if ferr != nil {
			problem(f, ferr)
			continue
		}
		if f.name == "name" {
			v, ferr = m.uniqueName(key, f, v, rec, bad)
		} else {
			v, ferr = m.shape(key, f, v)
		}
		if ferr != nil {
			problem(f, ferr)
			continue
		}
		if v != nil {
			payload[f.name] = v
		}
	}
	if len(m.customs) > 0 {
		values := make([]map[string]any, 0, len(m.customs))
		for i := range m.customs {
			f := &m.customs[i]
			v, ferr := m.eval(key, f, rec, bad)
			if ferr == nil {
				v, ferr = m.shapeCustom(key, f, v)
			}
			if ferr != nil {
				problem(f, ferr) // left out: the CRM keeps its value (null would clear it)
				continue
			}
			values = append(values, map[string]any{"custom_field_id": f.custom.ID, "value": v})
		}
		payload[m.customKey] = values
	}
	if skip {
		res.Errors = problems
	} else {
		res.Warnings = problems
	}
	res.Payload = payload
	res.Fingerprint, err = Fingerprint(m.version, payload)
	if err != nil {
		return res, fmt.Errorf("fingerprinting %s %s: %w", m.record, key, err)
	}
	return res, nil
}

// normalize returns rec with every string made valid UTF-8 (transcoding from Windows-1252) and
// rid of the characters CleanText removes, plus the columns whose value is unusable, each with
// what is wrong with it: those invalid says, and, when the spec rejects invalid UTF-8, those
// holding such strings. rec itself is never modified.
func (m *Mapping) normalize(rec map[string]any, invalid map[string]string) (map[string]any, map[string]string) {
	var out map[string]any
	bad := invalid
	for col, v := range rec {
		var s string
		switch x := v.(type) {
		case string:
			s = x
		case []byte:
			s = string(x)
		default:
			continue
		}
		fixed, changed := EnsureUTF8(s)
		if changed && m.reject {
			if _, known := bad[col]; !known {
				bad = maps.Clone(bad)
				if bad == nil {
					bad = map[string]string{}
				}
				bad[col] = fmt.Sprintf("holds %q, which is not UTF-8 (Latin-1 bytes from the ERP?)", s)
			}
			continue
		}
		fixed, cleaned := CleanText(fixed)
		if _, isBytes := v.([]byte); !changed && !cleaned && !isBytes {
			continue
		}
		if out == nil {
			out = maps.Clone(rec)
		}
		out[col] = fixed
	}
	if out == nil {
		out = rec
	}
	return out, bad
}

// eval checks the columns f reads and runs its expression.
func (m *Mapping) eval(key string, f *field, rec map[string]any, bad map[string]string) (any, *FieldError) {
	if e := m.checkColumns(key, f, "", rec, bad); e != nil {
		return nil, e
	}
	out, err := run(f.prog, rec)
	if err != nil {
		return nil, m.exprError(key, f, err)
	}
	return out, nil
}

// checkColumns reports the first column of f (of names what reads it, e.g. " of unique_name")
// that rec lacks, or whose value bad says is unusable.
func (m *Mapping) checkColumns(key string, f *field, of string, rec map[string]any, bad map[string]string) *FieldError {
	for _, c := range f.columns {
		v, ok := rec[c]
		if !ok {
			e := m.failMapping(key, f, fmt.Sprintf("column %s%s is not in the record (does the stream's source select it?)", c, of))
			return &e
		}
		if why, isBad := bad[c]; isBad {
			e := m.fail(key, f, toText(v), c+" "+why)
			return &e
		}
	}
	return nil
}

// run evaluates a program, turning any panic into an error.
func run(prog *vm.Program, env map[string]any) (out any, err error) {
	defer func() {
		if r := recover(); r != nil {
			out, err = nil, fmt.Errorf("%v", r)
		}
	}()
	return vm.Run(prog, env)
}

func (m *Mapping) exprError(key string, f *field, err error) *FieldError {
	var ve *ValueError
	if errors.As(err, &ve) {
		e := m.fail(key, f, ve.Value, ve.Msg)
		return &e
	}
	msg, _, _ := strings.Cut(err.Error(), "\n")
	e := m.failMapping(key, f, fmt.Sprintf("evaluating %q: %s", f.source, msg))
	return &e
}

func (m *Mapping) fail(key string, f *field, value, msg string) FieldError {
	name := f.name
	if f.custom != nil {
		name = "custom field " + strconv.Quote(f.name)
	}
	return FieldError{Record: m.record, Key: key, Field: name, Column: strings.Join(f.columns, ", "), Value: value, Msg: msg}
}

// failMapping is fail for a problem of the mapping rather than of a value.
func (m *Mapping) failMapping(key string, f *field, msg string) FieldError {
	e := m.fail(key, f, "", msg)
	e.mapping = true
	return e
}

// uniqueName shapes the name, which is required, and appends the unique suffix; the base name is
// truncated so that the suffix always survives the CRM's limit. The CRM's 2-character minimum
// applies to the name it gets: "X" with its suffix is "X (000123/01)", a name it takes.
func (m *Mapping) uniqueName(key string, f *field, v any, rec map[string]any, bad map[string]string) (any, *FieldError) {
	name, err := plainText(v, false)
	if err != nil {
		return nil, m.valueError(key, f, v, err)
	}
	if name == "" {
		e := m.fail(key, f, "", "the name is empty (the CRM requires one)")
		return nil, &e
	}
	suffix, ferr := m.nameSuffix(key, f, rec, bad)
	if ferr != nil {
		return nil, ferr
	}
	if full := name + suffix; runeLen(full) < 2 {
		return nil, m.valueError(key, f, v, tooShort(full))
	}
	return Truncate(name, max(f.limit-runeLen(suffix), 2)) + suffix, nil
}

// nameSuffix is the unique suffix of a record's name, "" when there is none or when says no.
func (m *Mapping) nameSuffix(key string, f *field, rec map[string]any, bad map[string]string) (string, *FieldError) {
	if m.suffix == nil {
		return "", nil
	}
	uf := &field{name: f.name, columns: m.uniqCol}
	if e := m.checkColumns(key, uf, " of unique_name", rec, bad); e != nil {
		return "", e
	}
	if m.when != nil {
		out, err := run(m.when, rec)
		if err != nil {
			msg, _, _ := strings.Cut(err.Error(), "\n")
			e := m.failMapping(key, uf, "evaluating unique_name.when: "+msg)
			return "", &e
		}
		if b, ok := out.(bool); !ok {
			e := m.failMapping(key, uf, fmt.Sprintf("unique_name.when gave %s, want true or false", describe(out)))
			return "", &e
		} else if !b {
			return "", nil
		}
	}
	var sb strings.Builder
	for _, p := range m.suffix {
		if p.column == "" {
			sb.WriteString(p.text)
		} else {
			sb.WriteString(strings.TrimSpace(toText(rec[p.column])))
		}
	}
	return sb.String(), nil
}

func (m *Mapping) valueError(key string, f *field, v any, err error) *FieldError {
	var ve *ValueError
	if errors.As(err, &ve) {
		e := m.fail(key, f, ve.Value, ve.Msg)
		return &e
	}
	e := m.fail(key, f, toText(v), err.Error())
	return &e
}

// shape turns an expression's value into what the CRM field takes; nil means "leave it out".
func (m *Mapping) shape(key string, f *field, v any) (any, *FieldError) {
	out, err := shapeValue(f.kind, f.limit, f.lines, v)
	if err != nil {
		return nil, m.valueError(key, f, v, err)
	}
	return out, nil
}

// shapeValue shapes v as a field of kind k; lines keeps line breaks in text (long texts).
func shapeValue(k kind, limit int, lines bool, v any) (any, error) {
	if k == kindAuto {
		k = autoKind(v)
	}
	switch k {
	case kindEmails:
		return shapeEmails(v)
	case kindPhones:
		return shapePhones(v, limit)
	case kindNumber:
		return shapeNumber(v)
	case kindBool:
		switch x := v.(type) {
		case nil:
			return nil, nil
		case bool:
			return x, nil
		case string:
			switch strings.ToLower(strings.TrimSpace(x)) {
			case "":
				return nil, nil
			case "true":
				return true, nil
			case "false":
				return false, nil
			}
		}
		return nil, valueErrorf(toText(v), "%s is not true or false", describe(v))
	case kindTextList:
		list, err := shapeTextList(v, limit)
		if len(list) == 0 || err != nil {
			return nil, err
		}
		return list, nil
	case kindISODate:
		t, ok, err := toTime(v)
		if err != nil || !ok {
			return nil, err
		}
		return t.Format("2006-01-02"), nil
	}
	s, err := shapeText(v, limit, lines)
	if s == "" || err != nil {
		return nil, err
	}
	return s, nil
}

func autoKind(v any) kind {
	switch v.(type) {
	case bool:
		return kindBool
	case int, int64, int32, float64:
		return kindNumber
	case []any, []string:
		return kindTextList
	}
	if _, ok, err := toDecimal(v); ok && err == nil {
		if _, isString := v.(string); !isString {
			return kindNumber
		}
	}
	return kindText
}

// shapeText trims text and enforces the CRM's 2-character minimum and the field's limit; lines
// keeps line breaks and tabs (long texts), else each run of them is one blank.
func shapeText(v any, limit int, lines bool) (string, error) {
	s, err := plainText(v, lines)
	if s == "" || err != nil {
		return "", err
	}
	if runeLen(s) < 2 {
		return "", tooShort(s)
	}
	return Truncate(s, limit), nil
}

// plainText is v as trimmed text (see shapeText), refusing lists and maps.
func plainText(v any, lines bool) (string, error) {
	switch v.(type) {
	case []any, []string, map[string]any:
		return "", valueErrorf(toText(v), "%s is not text", describe(v))
	}
	s, _ := CleanText(toText(v)) // the record's text is clean already; a literal may not be
	if !lines {
		s = OneLine(s)
	}
	return strings.TrimSpace(s), nil
}

func tooShort(s string) error {
	return valueErrorf(s, "%q is too short (the CRM needs at least 2 characters)", s)
}

func listOf(v any) []any {
	switch x := v.(type) {
	case nil:
		return nil
	case []any:
		return x
	case []string:
		out := make([]any, len(x))
		for i, s := range x {
			out[i] = s
		}
		return out
	}
	return []any{v}
}

func shapeTextList(v any, limit int) ([]string, error) {
	var out []string
	for _, e := range listOf(v) {
		s, err := shapeText(e, limit, false)
		if err != nil {
			return nil, err
		}
		if s != "" && !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out, nil
}

func shapeEmails(v any) (any, error) {
	var out []map[string]any
	seen := map[string]bool{}
	for _, e := range listOf(v) {
		if _, isMap := e.(map[string]any); isMap {
			return nil, valueErrorf(toText(e), "%s is not an e-mail", describe(e))
		}
		list, err := Emails(toText(e))
		if err != nil {
			return nil, err
		}
		for _, addr := range list {
			if !seen[addr] {
				seen[addr] = true
				out = append(out, map[string]any{"email": addr})
			}
		}
	}
	if len(out) == 0 {
		return nil, nil
	}
	return out, nil
}

// defaultPhoneType is the type of a phone given as plain text (RD Station: home, work, fax,
// cellphone…).
const defaultPhoneType = "work"

func shapePhones(v any, limit int) (any, error) {
	var out []map[string]any
	seen := map[string]bool{}
	for _, e := range listOf(v) {
		number, typ := e, any(defaultPhoneType)
		if m, ok := e.(map[string]any); ok {
			number = m["phone"]
			if t, ok := m["type"]; ok && !isEmpty(t) {
				typ = t
			}
		}
		p, err := shapeText(number, limit, false)
		if err != nil {
			return nil, err
		}
		if p == "" || seen[p] {
			continue
		}
		seen[p] = true
		t, err := shapeText(typ, limit, false)
		if err != nil {
			return nil, err
		}
		out = append(out, map[string]any{"phone": p, "type": t})
	}
	if len(out) == 0 {
		return nil, nil
	}
	return out, nil
}

func shapeNumber(v any) (any, error) {
	d, ok, err := toDecimal(v)
	if err != nil || !ok {
		return nil, err
	}
	if s, isString := v.(string); isString && json.Valid([]byte(strings.TrimSpace(s))) {
		return json.Number(strings.TrimSpace(s)), nil
	}
	return json.Number(d.String()), nil
}

// shapeCustom turns a value into what a custom field of its type takes; nil clears the field.
func (m *Mapping) shapeCustom(key string, f *field, v any) (any, *FieldError) {
	cf := f.custom
	bad := func(err error) (any, *FieldError) { return nil, m.valueError(key, f, v, err) }
	switch cf.Type {
	case TypeOption:
		s, err := shapeOption(v, f.name, cf.Options)
		if err != nil {
			return bad(err)
		}
		if s == "" {
			return nil, nil
		}
		return s, nil
	case TypeMultipleChoice:
		var out []string
		for _, e := range listOf(v) {
			s, err := shapeOption(e, f.name, cf.Options)
			if err != nil {
				return bad(err)
			}
			if s != "" && !slices.Contains(out, s) {
				out = append(out, s)
			}
		}
		if len(out) == 0 {
			return nil, nil
		}
		return out, nil
	case TypeDate:
		t, ok, err := toTime(v)
		if err != nil {
			return bad(err)
		}
		if !ok {
			return nil, nil
		}
		return t.Format("02/01/2006"), nil
	}
	s, err := shapeText(v, f.limit, false)
	if err != nil {
		return bad(err)
	}
	if s == "" {
		return nil, nil
	}
	return s, nil
}

// shapeOption checks a value against a field's options, exact case.
func shapeOption(v any, label string, options []string) (string, error) {
	switch v.(type) {
	case []any, []string, map[string]any:
		return "", valueErrorf(toText(v), "%s is not an option", describe(v))
	}
	s, _ := CleanText(toText(v))
	s = strings.TrimSpace(OneLine(s))
	if s == "" || slices.Contains(options, s) {
		return s, nil
	}
	msg := fmt.Sprintf("%q is not an option of custom field %q (allowed: %s)", s, label, quoteList(options))
	for _, o := range options {
		if strings.EqualFold(o, s) {
			msg += fmt.Sprintf("; options are case-sensitive: did you mean %q?", o)
			break
		}
	}
	return "", &ValueError{Value: s, Msg: msg}
}
