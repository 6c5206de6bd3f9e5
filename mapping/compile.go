package mapping

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/ast"
	"github.com/expr-lang/expr/vm"
)

// Mapping is a compiled Spec: every expression checked and compiled once, every custom field
// label resolved. It is safe for concurrent use.
type Mapping struct {
	version   string
	record    string
	customKey string
	reject    bool

	fields  []field // sorted by CRM field name
	customs []field // sorted by custom field id
	suffix  []tplPart
	when    *vm.Program
	uniqCol []string // columns read by suffix and when
	columns []string
}

// field is one compiled CRM field or custom field.
type field struct {
	name    string // CRM field, or the custom field's label
	source  string // the expression as written
	prog    *vm.Program
	columns []string // record columns the expression reads
	kind    kind
	limit   int
	lines   bool // text keeps its line breaks (long texts)
	skip    bool // an invalid value fails the record (on_invalid = "skip_record")
	custom  *CustomField
}

// kind is how a CRM field's value is shaped and checked.
type kind int

const (
	kindAuto     kind = iota // shaped by the value's own type
	kindText                 // trimmed text, ≥ 2 characters, truncated to the limit
	kindEmails               // [{email}]
	kindPhones               // [{phone,type}]
	kindNumber               // exact JSON number
	kindBool                 // true / false
	kindTextList             // ["text", …]
	kindISODate              // YYYY-MM-DD
)

const (
	defaultLimit  = 255
	longTextLimit = 10000
)

var columnName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// Compile checks spec against the target's schema and compiles every expression once, resolving
// custom field labels through the schema's catalog. Every problem is reported, each naming the
// field or label and, for a bad expression, the position in it.
func Compile(spec Spec, schema Schema) (*Mapping, error) {
	m := &Mapping{
		version: spec.Version,
		record:  spec.Record,
	}
	if m.record == "" {
		m.record = "record"
	}
	m.customKey = schema.CustomKey
	if m.customKey == "" {
		m.customKey = "custom_fields"
	}
	catalog := schema.Custom
	var errs []error
	fail := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }

	if strings.TrimSpace(spec.Version) == "" {
		fail("version is empty (it is part of every fingerprint: set it, e.g. version = \"1\")")
	}
	known, checked := schema.Fields, schema.Fields != nil
	if spec.Entity != "" && schema.Entity != "" && spec.Entity != schema.Entity {
		fail("entity %q: the target's schema describes %q", spec.Entity, schema.Entity)
	}
	switch spec.InvalidUTF8 {
	case "", UTF8Transcode:
	case UTF8Reject:
		m.reject = true
	default:
		fail("invalid_utf8 %q is not one of transcode, reject", spec.InvalidUTF8)
	}
	if _, ok := spec.Fields["name"]; !ok && spec.Entity != "" {
		fail("field \"name\" is missing: every CRM %s needs a name", spec.Entity)
	}

	for _, name := range sortedKeys(spec.Fields) {
		src := spec.Fields[name]
		f, ok := known[name]
		switch {
		case strings.HasSuffix(name, "custom_fields"):
			fail("field %q: put custom fields under [custom_fields], by label", name)
			continue
		case checked && !ok:
			fail("field %q: not a field of a CRM %s (known: %s)", name, spec.Entity, quoteList(sortedKeys(known)))
			continue
		}
		prog, cols, err := compileExpr(src, false, spec.Choices)
		if err != nil {
			fail("field %q: %w", name, err)
			continue
		}
		limit := f.Limit
		if n, ok := spec.Limits[name]; ok && n >= 2 {
			limit = n
		}
		if limit == 0 {
			limit = defaultLimit
		}
		m.fields = append(m.fields, field{name: name, source: src, prog: prog, columns: cols, kind: kind(f.Kind),
			limit: limit, lines: f.Long, skip: name == "name" || spec.OnInvalid[name] == SkipRecord})
	}

	for _, label := range sortedKeys(spec.CustomFields) {
		src := spec.CustomFields[label]
		cf, err := catalog.resolve(label)
		if err == nil {
			err = cf.check(label)
		}
		if err != nil {
			errs = append(errs, err)
			continue
		}
		prog, cols, err := compileExpr(src, false, spec.Choices)
		if err != nil {
			fail("custom field %q: %w", label, err)
			continue
		}
		cf.Options = slices.Clone(cf.Options)
		m.customs = append(m.customs, field{name: label, source: src, prog: prog, columns: cols, custom: &cf,
			limit: limitFor(spec.Limits, label), skip: spec.OnInvalid[label] == SkipRecord})
	}
	slices.SortFunc(m.customs, func(a, b field) int { return strings.Compare(a.custom.ID, b.custom.ID) })

	for key, n := range spec.Limits {
		_, isField := spec.Fields[key]
		_, isCustom := spec.CustomFields[key]
		switch {
		case !isField && !isCustom:
			fail("limits: %q is neither a mapped field nor a mapped custom field label", key)
		case n < 2:
			fail("limits: %q = %d, want at least 2 (the CRM refuses shorter text)", key, n)
		}
	}

	for _, key := range sortedKeys(spec.OnInvalid) {
		_, isField := spec.Fields[key]
		_, isCustom := spec.CustomFields[key]
		switch v := spec.OnInvalid[key]; {
		case !isField && !isCustom:
			fail("on_invalid: %q is neither a mapped field nor a mapped custom field label", key)
		case v != OmitField && v != SkipRecord:
			fail("on_invalid: %q = %q, want %q or %q", key, v, OmitField, SkipRecord)
		case key == "name" && isField && v != SkipRecord:
			fail("on_invalid: \"name\" is always %q: the CRM refuses a record without a name", SkipRecord)
		}
	}

	if u := spec.UniqueName; u.Suffix != "" {
		parts, cols, err := parseTemplate(u.Suffix)
		if err != nil {
			fail("unique_name.suffix: %w", err)
		}
		m.suffix, m.uniqCol = parts, cols
		if runeLen(u.Suffix) > defaultLimit/2 {
			fail("unique_name.suffix: %q is too long to fit in a name", u.Suffix)
		}
		if strings.TrimSpace(u.When) != "" {
			prog, wcols, err := compileExpr(u.When, true, spec.Choices)
			if err != nil {
				fail("unique_name.when: %w", err)
			}
			m.when = prog
			m.uniqCol = append(m.uniqCol, wcols...)
		}
	} else if strings.TrimSpace(u.When) != "" {
		fail("unique_name.when is set but unique_name.suffix is empty")
	}

	if len(errs) > 0 {
		return nil, fmt.Errorf("compiling %s mapping: %w", m.record, errors.Join(errs...))
	}
	cols := slices.Clone(m.uniqCol)
	for _, f := range append(slices.Clone(m.fields), m.customs...) {
		cols = append(cols, f.columns...)
	}
	slices.Sort(cols)
	m.columns = slices.Compact(cols)
	return m, nil
}

// Version is the spec's version, part of every fingerprint.
func (m *Mapping) Version() string { return m.version }

// Columns lists, sorted, every record column the expressions read: the source must select them
// (a column missing from a record is an error of every field that reads it), and `check` can
// verify them against the ERP's catalog.
func (m *Mapping) Columns() []string { return slices.Clone(m.columns) }

// CustomFieldsKey is the payload key custom field values go under, e.g.
// "organization_custom_fields": a list of {"custom_field_id": id, "value": value}.
func (m *Mapping) CustomFieldsKey() string { return m.customKey }

func limitFor(limits map[string]int, name string) int {
	if n, ok := limits[name]; ok && n >= 2 {
		return n
	}
	return defaultLimit
}

// compileExpr compiles one expression and lists the record columns it reads.
func compileExpr(src string, asBool bool, choices map[string]map[string]string) (prog *vm.Program, columns []string, err error) {
	defer func() {
		if r := recover(); r != nil {
			prog, columns, err = nil, nil, fmt.Errorf("expression %q: %v", src, r)
		}
	}()
	if strings.TrimSpace(src) == "" {
		return nil, nil, errors.New("expression is empty")
	}
	c := &identCollector{idents: map[string]bool{}, skip: map[string]bool{"$env": true}, callees: map[string]bool{}}
	cb := &cboxPatch{choices: choices}
	opts := append(exprOptions(), expr.Patch(cb), expr.Patch(c))
	if asBool {
		opts = append(opts, expr.AsBool())
	}
	prog, err = expr.Compile(src, opts...)
	if err == nil {
		err = cb.err
	}
	if err != nil {
		return nil, nil, fmt.Errorf("expression %q: %w", src, err)
	}
	for _, name := range sortedKeys(c.callees) {
		if !isFunction(name) {
			return nil, nil, fmt.Errorf("expression %q: unknown function %s", src, name)
		}
	}
	for name := range c.idents {
		if !c.skip[name] {
			columns = append(columns, name)
		}
	}
	slices.Sort(columns)
	return prog, columns, nil
}

// identCollector records the variables an expression reads (identifiers that are neither called
// as functions nor declared with let) and the names it calls as functions.
type identCollector struct {
	idents  map[string]bool
	skip    map[string]bool
	callees map[string]bool
}

// Visit implements ast.Visitor.
func (c *identCollector) Visit(node *ast.Node) {
	switch n := (*node).(type) {
	case *ast.IdentifierNode:
		c.idents[n.Value] = true
	case *ast.CallNode:
		if id, ok := n.Callee.(*ast.IdentifierNode); ok {
			c.skip[id.Value] = true
			c.callees[id.Value] = true
		}
	case *ast.VariableDeclaratorNode:
		c.skip[n.Name] = true
	}
}

var _ ast.Visitor = (*identCollector)(nil)

// isFunction reports whether name is one of the transforms. Builtins of expr-lang that are not
// overridden never reach here as calls: the parser turns them into builtin nodes.
func isFunction(name string) bool {
	for _, f := range functions() {
		if f.name == name {
			return true
		}
	}
	return false
}

// tplPart is a literal (column == "") or a {COLUMN} placeholder of a suffix template.
type tplPart struct {
	text   string
	column string
}

func parseTemplate(t string) ([]tplPart, []string, error) {
	var parts []tplPart
	var cols []string
	for t != "" {
		open := strings.IndexByte(t, '{')
		if open < 0 {
			parts = append(parts, tplPart{text: t})
			break
		}
		if open > 0 {
			parts = append(parts, tplPart{text: t[:open]})
		}
		end := strings.IndexByte(t[open:], '}')
		if end < 0 {
			return nil, nil, fmt.Errorf("unclosed { in %q", t)
		}
		col := t[open+1 : open+end]
		if !columnName.MatchString(col) {
			return nil, nil, fmt.Errorf("placeholder {%s}: want a column name such as {A1_LOJA}", col)
		}
		parts = append(parts, tplPart{column: col})
		cols = append(cols, col)
		t = t[open+end+1:]
	}
	return parts, cols, nil
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// ExprColumns returns the record columns an expression reads (what
// `erpbridge map` shows beside each field).
func ExprColumns(src string) ([]string, error) {
	_, cols, err := compileExpr(src, false, nil)
	return cols, err
}
