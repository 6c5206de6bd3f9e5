package mapping

import (
	"encoding/json"
	"errors"
	"fmt"
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
// (level "skip") and goes on with the batch.
type Result struct {
	// Payload maps CRM field → value (string, bool, json.Number, []string, lists of objects);
	// custom fields are under the mapping's CustomFieldsKey as [{custom_field_id, value}].
	Payload map[string]any
	// Errors lists every bad value of the record, in field order.
	Errors []FieldError
	// Fingerprint identifies Payload and the mapping version; see Fingerprint.
	Fingerprint string
}

// Apply maps one record (upper-case column → nil, string, decimal.Decimal, int64, time.Time or
// bool). Bad values are reported in Result.Errors, never as a panic; the error return is kept for
// failures of the mapping itself (a payload that cannot be encoded) and is nil for bad data.
func (m *Mapping) Apply(key string, rec map[string]any) (res Result, err error) {
	defer func() {
		if r := recover(); r != nil {
			res.Errors = append(res.Errors, m.fail(key, &field{name: "*"}, "", fmt.Sprintf("internal error while mapping: %v", r)))
		}
	}()
	rec, bad := m.normalize(rec)
	payload := make(map[string]any, len(m.fields)+1)
	for i := range m.fields {
		f := &m.fields[i]
		v, ferr := m.eval(key, f, rec, bad)
		if ferr != nil {
			res.Errors = append(res.Errors, *ferr)
			continue
		}
		if f.name == "name" {
			v, ferr = m.uniqueName(key, f, v, rec, bad)
		} else {
			v, ferr = m.shape(key, f, v)
		}
		if ferr != nil {
			res.Errors = append(res.Errors, *ferr)
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
				res.Errors = append(res.Errors, *ferr)
				continue
			}
			values = append(values, map[string]any{"custom_field_id": f.custom.ID, "value": v})
		}
		payload[m.customKey] = values
	}
	res.Payload = payload
	res.Fingerprint, err = Fingerprint(m.version, payload)
	if err != nil {
		return res, fmt.Errorf("fingerprinting %s %s: %w", m.record, key, err)
	}
	return res, nil
}

// normalize returns rec with every string made valid UTF-8 (transcoding from Windows-1252), or,
// when the spec rejects invalid UTF-8, rec as is plus the set of columns holding such strings.
// rec itself is never modified.
func (m *Mapping) normalize(rec map[string]any) (map[string]any, map[string]bool) {
	var out map[string]any
	var bad map[string]bool
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
		if _, isBytes := v.([]byte); !changed && !isBytes {
			continue
		}
		if changed && m.reject {
			if bad == nil {
				bad = map[string]bool{}
			}
			bad[col] = true
			continue
		}
		if out == nil {
			out = make(map[string]any, len(rec))
			for k, v := range rec {
				out[k] = v
			}
		}
		out[col] = fixed
	}
	if out == nil {
		out = rec
	}
	return out, bad
}

// eval checks the columns f reads and runs its expression.
func (m *Mapping) eval(key string, f *field, rec map[string]any, bad map[string]bool) (any, *FieldError) {
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
// that rec lacks, or holds as invalid UTF-8 the spec rejects.
func (m *Mapping) checkColumns(key string, f *field, of string, rec map[string]any, bad map[string]bool) *FieldError {
	for _, c := range f.columns {
		v, ok := rec[c]
		if !ok {
			e := m.fail(key, f, "", fmt.Sprintf("column %s%s is not in the record (does the stream's source select it?)", c, of))
			return &e
		}
		if bad[c] {
			e := m.fail(key, f, toText(v), fmt.Sprintf("%s holds %q, which is not UTF-8 (Latin-1 bytes from the ERP?)", c, toText(v)))
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
	e := m.fail(key, f, "", fmt.Sprintf("evaluating %q: %s", f.source, msg))
	return &e
}

func (m *Mapping) fail(key string, f *field, value, msg string) FieldError {
	name := f.name
	if f.custom != nil {
		name = "custom field " + strconv.Quote(f.name)
	}
	return FieldError{Record: m.record, Key: key, Field: name, Column: strings.Join(f.columns, ", "), Value: value, Msg: msg}
}

// uniqueName shapes the name, which is required, and appends the unique suffix; the base name is
// truncated so that the suffix always survives the CRM's limit.
func (m *Mapping) uniqueName(key string, f *field, v any, rec map[string]any, bad map[string]bool) (any, *FieldError) {
	name, err := shapeText(v, 1<<30)
	if err != nil {
		return nil, m.valueError(key, f, v, err)
	}
	if name == "" {
		e := m.fail(key, f, "", "the name is empty (the CRM requires one)")
		return nil, &e
	}
	if m.suffix == nil {
		return Truncate(name, f.limit), nil
	}
	uf := &field{name: f.name, columns: m.uniqCol}
	if e := m.checkColumns(key, uf, " of unique_name", rec, bad); e != nil {
		return nil, e
	}
	if m.when != nil {
		out, err := run(m.when, rec)
		if err != nil {
			msg, _, _ := strings.Cut(err.Error(), "\n")
			e := m.fail(key, uf, "", "evaluating unique_name.when: "+msg)
			return nil, &e
		}
		if b, ok := out.(bool); !ok {
			e := m.fail(key, uf, toText(out), fmt.Sprintf("unique_name.when gave %s, want true or false", describe(out)))
			return nil, &e
		} else if !b {
			return Truncate(name, f.limit), nil
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
	suffix := sb.String()
	return Truncate(name, max(f.limit-runeLen(suffix), 2)) + suffix, nil
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
	out, err := shapeValue(f.kind, f.limit, v)
	if err != nil {
		return nil, m.valueError(key, f, v, err)
	}
	return out, nil
}

func shapeValue(k kind, limit int, v any) (any, error) {
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
	s, err := shapeText(v, limit)
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

// shapeText trims text and enforces the CRM's 2-character minimum and the field's limit.
func shapeText(v any, limit int) (string, error) {
	switch v.(type) {
	case []any, []string, map[string]any:
		return "", valueErrorf(toText(v), "%s is not text", describe(v))
	}
	s := strings.TrimSpace(toText(v))
	if s == "" {
		return "", nil
	}
	if runeLen(s) < 2 {
		return "", valueErrorf(s, "%q is too short (the CRM needs at least 2 characters)", s)
	}
	return Truncate(s, limit), nil
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
		s, err := shapeText(e, limit)
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
		p, err := shapeText(number, limit)
		if err != nil {
			return nil, err
		}
		if p == "" || seen[p] {
			continue
		}
		seen[p] = true
		t, err := shapeText(typ, limit)
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
	s, err := shapeText(v, f.limit)
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
	s := strings.TrimSpace(toText(v))
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
