package rdsim

import (
	"fmt"
	"strings"
	"time"
	"unicode"

	"github.com/shopspring/decimal"
)

// RDQL (docs/rdstation-api.md §2, "Filtering with RDQL"): `f:v` terms
// joined by whitespace (AND) or `or`, parentheses, negation `-f:v`,
// comparisons `f:>=v` (also >, <, <=), sets `f:(a,b)`, substring `f:~txt`,
// custom fields by slug `@slug:v`. A value is bare (up to whitespace, a
// comma or a parenthesis) or a double-quoted string in which a backslash
// escapes the next character ("a \"b\" c"). Date-times are
// "2023-01-01 12:00:00" (UTC), RFC 3339 or a bare date.

// rdqlNode is a parsed filter.
type rdqlNode interface {
	eval(get rdqlGetter) (bool, error)
}

// rdqlGetter returns a record's values for field ("@slug" for a custom
// field) and the field's kind; ok=false for a field the resource does not
// filter by.
type rdqlGetter func(field string) (vals []string, kind rdqlKind, ok bool)

type rdqlKind int

const (
	rdqlText rdqlKind = iota // case-insensitive equality, ~ substring
	rdqlID                   // exact equality
	rdqlTime                 // compared as instants
	rdqlNum                  // compared as decimals
)

type rdqlAnd []rdqlNode
type rdqlOr []rdqlNode
type rdqlNot struct{ n rdqlNode }

// RDQLTerm is one parsed condition: Field (with "@" for a custom field),
// Op ("" equality, ">=", ">", "<", "<=", "~") and Values (several for a set).
type RDQLTerm struct {
	Field  string
	Op     string
	Values []string
}

func (a rdqlAnd) eval(g rdqlGetter) (bool, error) {
	for _, n := range a {
		if ok, err := n.eval(g); err != nil || !ok {
			return false, err
		}
	}
	return true, nil
}

func (o rdqlOr) eval(g rdqlGetter) (bool, error) {
	for _, n := range o {
		if ok, err := n.eval(g); err != nil || ok {
			return ok, err
		}
	}
	return false, nil
}

func (n rdqlNot) eval(g rdqlGetter) (bool, error) {
	ok, err := n.n.eval(g)
	return !ok, err
}

func (t RDQLTerm) eval(g rdqlGetter) (bool, error) {
	vals, kind, ok := g(t.Field)
	if !ok {
		return false, fmt.Errorf("unknown filter field %q", t.Field)
	}
	for _, want := range t.Values {
		for _, have := range vals {
			m, err := rdqlMatch(kind, t.Op, have, want)
			if err != nil {
				return false, fmt.Errorf("filter %s: %w", t.Field, err)
			}
			if m {
				return true, nil
			}
		}
	}
	return false, nil
}

// rdqlMatch compares a record's value have with the literal want.
func rdqlMatch(kind rdqlKind, op, have, want string) (bool, error) {
	if op == "~" {
		return containsFold(have, want), nil
	}
	var c int
	switch kind {
	case rdqlTime:
		h, err1 := parseRDQLTime(have)
		w, err2 := parseRDQLTime(want)
		if err2 != nil {
			return false, fmt.Errorf("%q is not a date-time", want)
		}
		if err1 != nil {
			return false, nil
		}
		c = h.Compare(w)
	case rdqlNum:
		h, err1 := decimal.NewFromString(have)
		w, err2 := decimal.NewFromString(want)
		if err2 != nil {
			return false, fmt.Errorf("%q is not a number", want)
		}
		if err1 != nil {
			return false, nil
		}
		c = h.Cmp(w)
	case rdqlID:
		if op != "" {
			return false, fmt.Errorf("%s does not compare with %s", op, "ids")
		}
		return have == want, nil
	default:
		if op == "" {
			return nameKey(have) == nameKey(want), nil
		}
		c = cmpFold(have, want)
	}
	switch op {
	case "":
		return c == 0, nil
	case ">=":
		return c >= 0, nil
	case ">":
		return c > 0, nil
	case "<=":
		return c <= 0, nil
	case "<":
		return c < 0, nil
	}
	return false, fmt.Errorf("unknown operator %q", op)
}

func parseRDQLTime(s string) (time.Time, error) {
	for _, l := range []string{"2006-01-02 15:04:05", time.RFC3339Nano, time.DateOnly} {
		if t, err := time.ParseInLocation(l, s, time.UTC); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("not a date-time: %q", s)
}

// ParseRDQL parses a filter; it is exported for the client's round-trip
// tests. The result is the terms in order (for tests) and the tree.
func ParseRDQL(s string) ([]RDQLTerm, error) {
	p := &rdqlParser{s: s}
	if _, err := p.parse(); err != nil {
		return nil, err
	}
	return p.terms, nil
}

func parseRDQL(s string) (rdqlNode, error) {
	p := &rdqlParser{s: s}
	return p.parse()
}

type rdqlParser struct {
	s     string
	i     int
	terms []RDQLTerm
}

func (p *rdqlParser) parse() (rdqlNode, error) {
	n, err := p.or()
	if err != nil {
		return nil, err
	}
	p.space()
	if p.i < len(p.s) {
		return nil, p.errf("unexpected %q", p.s[p.i:])
	}
	return n, nil
}

func (p *rdqlParser) errf(format string, args ...any) error {
	return fmt.Errorf("invalid filter at %d: %s", p.i, fmt.Sprintf(format, args...))
}

func (p *rdqlParser) space() {
	for p.i < len(p.s) && unicode.IsSpace(rune(p.s[p.i])) {
		p.i++
	}
}

// keywordOr reports (and consumes) the `or` keyword.
func (p *rdqlParser) keywordOr() bool {
	p.space()
	if len(p.s)-p.i >= 3 && strings.EqualFold(p.s[p.i:p.i+2], "or") && (unicode.IsSpace(rune(p.s[p.i+2])) || p.s[p.i+2] == '(') {
		p.i += 2
		return true
	}
	return false
}

func (p *rdqlParser) or() (rdqlNode, error) {
	var alts rdqlOr
	for {
		n, err := p.and()
		if err != nil {
			return nil, err
		}
		alts = append(alts, n)
		if !p.keywordOr() {
			break
		}
	}
	if len(alts) == 1 {
		return alts[0], nil
	}
	return alts, nil
}

func (p *rdqlParser) and() (rdqlNode, error) {
	var all rdqlAnd
	for {
		p.space()
		if p.i >= len(p.s) || p.s[p.i] == ')' {
			break
		}
		save := p.i
		if p.keywordOr() {
			p.i = save
			break
		}
		n, err := p.unary()
		if err != nil {
			return nil, err
		}
		all = append(all, n)
	}
	if len(all) == 0 {
		return nil, p.errf("expected a condition")
	}
	if len(all) == 1 {
		return all[0], nil
	}
	return all, nil
}

func (p *rdqlParser) unary() (rdqlNode, error) {
	if p.s[p.i] == '-' {
		p.i++
		n, err := p.primary()
		if err != nil {
			return nil, err
		}
		return rdqlNot{n}, nil
	}
	return p.primary()
}

func (p *rdqlParser) primary() (rdqlNode, error) {
	if p.i < len(p.s) && p.s[p.i] == '(' {
		p.i++
		n, err := p.or()
		if err != nil {
			return nil, err
		}
		p.space()
		if p.i >= len(p.s) || p.s[p.i] != ')' {
			return nil, p.errf("expected )")
		}
		p.i++
		return n, nil
	}
	start := p.i
	if p.i < len(p.s) && p.s[p.i] == '@' {
		p.i++
	}
	for p.i < len(p.s) && (p.s[p.i] == '_' || p.s[p.i] >= 'a' && p.s[p.i] <= 'z' || p.s[p.i] >= 'A' && p.s[p.i] <= 'Z' || p.s[p.i] >= '0' && p.s[p.i] <= '9') {
		p.i++
	}
	field := p.s[start:p.i]
	if field == "" || field == "@" {
		return nil, p.errf("expected a field name")
	}
	if p.i >= len(p.s) || p.s[p.i] != ':' {
		return nil, p.errf("expected : after %s", field)
	}
	p.i++
	t := RDQLTerm{Field: field}
	for _, op := range []string{">=", "<=", ">", "<", "~"} {
		if strings.HasPrefix(p.s[p.i:], op) {
			t.Op = op
			p.i += len(op)
			break
		}
	}
	if p.i < len(p.s) && p.s[p.i] == '(' && t.Op == "" {
		p.i++
		for {
			p.space()
			v, err := p.value()
			if err != nil {
				return nil, err
			}
			t.Values = append(t.Values, v)
			p.space()
			if p.i < len(p.s) && p.s[p.i] == ',' {
				p.i++
				continue
			}
			if p.i < len(p.s) && p.s[p.i] == ')' {
				p.i++
				break
			}
			return nil, p.errf("expected , or ) in a set")
		}
	} else {
		v, err := p.value()
		if err != nil {
			return nil, err
		}
		t.Values = []string{v}
	}
	p.terms = append(p.terms, t)
	return t, nil
}

func (p *rdqlParser) value() (string, error) {
	if p.i < len(p.s) && p.s[p.i] == '"' {
		p.i++
		var b strings.Builder
		for p.i < len(p.s) {
			c := p.s[p.i]
			switch {
			case c == '\\' && p.i+1 < len(p.s):
				b.WriteByte(p.s[p.i+1])
				p.i += 2
			case c == '\\':
				return "", p.errf("dangling escape")
			case c == '"':
				p.i++
				return b.String(), nil
			default:
				b.WriteByte(c)
				p.i++
			}
		}
		return "", p.errf("unterminated string")
	}
	start := p.i
	for p.i < len(p.s) && !unicode.IsSpace(rune(p.s[p.i])) && !strings.ContainsRune(`(),"`, rune(p.s[p.i])) {
		p.i++
	}
	if p.i == start {
		return "", p.errf("expected a value")
	}
	return p.s[start:p.i], nil
}
