package crmv2

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"
)

// Field is a field a filter names: one of the constants, or a custom field
// made with CustomField. A Field built from any other string is checked
// when a filter uses it.
type Field string

// Fields the bridge filters by (docs/rdstation-api.md §2).
const (
	FieldID             Field = "id"
	FieldName           Field = "name"
	FieldEmail          Field = "email"
	FieldStatus         Field = "status"
	FieldClosedAt       Field = "closed_at"
	FieldCreatedAt      Field = "created_at"
	FieldUpdatedAt      Field = "updated_at"
	FieldOrganizationID Field = "organization_id"
	FieldPipelineID     Field = "pipeline_id"
	FieldStageID        Field = "stage_id"
)

var (
	reField = regexp.MustCompile(`^@?[a-z_][a-z0-9_]*$`)
	reSlug  = regexp.MustCompile(`^[a-z0-9_]+$`)
)

// CustomField is the filter field of the custom field with slug ("cnpj"
// → @cnpj).
func CustomField(slug string) Field {
	if !reSlug.MatchString(slug) {
		return Field("@" + slug) // refused when used, with the slug named
	}
	return Field("@" + slug)
}

// Filter is an RDQL expression built from typed parts: every value is
// quoted and escaped, so no value can change the expression's shape. The
// zero Filter filters nothing.
type Filter struct {
	expr string
	or   bool // a top-level disjunction: parenthesised inside And
	and  bool // a top-level conjunction: parenthesised inside Or
	err  error
}

// String is the expression as sent in filter=.
func (f Filter) String() string { return f.expr }

// Err is the first mistake made building f (a bad field name).
func (f Filter) Err() error { return f.err }

// IsZero reports a Filter that filters nothing.
func (f Filter) IsZero() bool { return f.expr == "" && f.err == nil }

// quote writes v as an RDQL string literal: in double quotes, with every
// backslash and double quote escaped by a backslash.
func quote(v string) string {
	var b strings.Builder
	b.Grow(len(v) + 2)
	b.WriteByte('"')
	for i := 0; i < len(v); i++ {
		if v[i] == '\\' || v[i] == '"' {
			b.WriteByte('\\')
		}
		b.WriteByte(v[i])
	}
	b.WriteByte('"')
	return b.String()
}

func term(f Field, op string, vals ...string) Filter {
	if !reField.MatchString(string(f)) {
		return Filter{err: fmt.Errorf("building a filter: %q is not a field name (custom fields by slug: [a-z0-9_]+)", string(f))}
	}
	if len(vals) == 0 {
		return Filter{err: fmt.Errorf("building a filter on %s: no value", f)}
	}
	if len(vals) == 1 {
		return Filter{expr: string(f) + ":" + op + quote(vals[0])}
	}
	q := make([]string, len(vals))
	for i, v := range vals {
		q[i] = quote(v)
	}
	return Filter{expr: string(f) + ":(" + strings.Join(q, ",") + ")"}
}

// Eq is f:"v" (text compares case-insensitively).
func Eq(f Field, v string) Filter { return term(f, "", v) }

// In is f:("a","b"): any of the values.
func In(f Field, vs ...string) Filter { return term(f, "", vs...) }

// Contains is f:~"v": a substring.
func Contains(f Field, v string) Filter { return term(f, "~", v) }

// Gte is f:>="v"; Gt, Lt and Lte the other comparisons.
func Gte(f Field, v string) Filter { return term(f, ">=", v) }

// Gt is f:>"v".
func Gt(f Field, v string) Filter { return term(f, ">", v) }

// Lt is f:<"v".
func Lt(f Field, v string) Filter { return term(f, "<", v) }

// Lte is f:<="v".
func Lte(f Field, v string) Filter { return term(f, "<=", v) }

// TimeLayout is RDQL's date-time literal, in UTC.
const TimeLayout = "2006-01-02 15:04:05"

// Since is f:>="t" at whole seconds (rounded down, so nothing at t is
// missed; a caller that must not see a record twice deduplicates).
func Since(f Field, t time.Time) Filter { return Gte(f, t.UTC().Format(TimeLayout)) }

// Not is -f:"v".
func Not(f Field, v string) Filter {
	t := Eq(f, v)
	if t.err == nil {
		t.expr = "-" + t.expr
	}
	return t
}

// And joins filters (all must hold); zero filters are skipped.
func And(fs ...Filter) Filter {
	var parts []string
	var errs []error
	for _, f := range fs {
		if f.err != nil {
			errs = append(errs, f.err)
			continue
		}
		if f.expr == "" {
			continue
		}
		if f.or {
			parts = append(parts, "("+f.expr+")")
		} else {
			parts = append(parts, f.expr)
		}
	}
	return Filter{expr: strings.Join(parts, " "), and: len(parts) > 1, err: errors.Join(errs...)}
}

// Or joins filters (any may hold); zero filters are skipped.
func Or(fs ...Filter) Filter {
	var parts []string
	var errs []error
	for _, f := range fs {
		if f.err != nil {
			errs = append(errs, f.err)
			continue
		}
		if f.expr == "" {
			continue
		}
		if f.and {
			parts = append(parts, "("+f.expr+")")
		} else {
			parts = append(parts, f.expr)
		}
	}
	return Filter{expr: strings.Join(parts, " or "), or: len(parts) > 1, err: errors.Join(errs...)}
}
