package setup

import (
	"fmt"
	"sort"
	"strings"
	"unicode"
)

// Options are the settings the proposal does not decide.
type Options struct {
	Driver, DSN, Company string
	CRMBaseURL           string
	// TokenRef is what crm.token is written as: a ${secret:NAME} or
	// ${ENV} reference, never the token itself.
	TokenRef string
	// CNPJLabel is streams.customers.cnpj_field.
	CNPJLabel string
}

// TOML writes the proposal as a configuration file, commented with what
// was chosen and why; `erpbridge validate` accepts it as is.
func (p Proposal) TOML(o Options) string {
	var b strings.Builder
	w := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	w("# erpbridge configuration written by `erpbridge init`. Every option and its\n")
	w("# default: config.example.toml; mappings: docs/mapping.md; what init read: docs/init.md.\n")
	for _, n := range p.Notes {
		w("#\n")
		for _, line := range wrap(n, 76) {
			w("# %s\n", line)
		}
	}
	w("\n[crm]\nbase_url = %s\ntoken = %s\n", quote(o.CRMBaseURL), quote(o.TokenRef))
	w("\n[erp]\ndriver = %s\ndsn = %s\ncompany = %s\n", quote(o.Driver), quote(o.DSN), quote(o.Company))
	for _, s := range p.Streams {
		w("\n[streams.%s]\n", s.Name)
		for _, line := range wrap(s.Alias+": "+s.Why, 76) {
			w("# %s\n", line)
		}
		w("enabled = %t\nfilial = %s\n", s.Enabled, quote(s.Filial))
		if s.Name == "contacts" {
			w("# AC8 is read with the same branch.\n")
		}
		if s.Name == "customers" {
			w("cnpj_field = %s\n", quote(o.CNPJLabel))
		}
		var fields []Field
		for _, f := range p.Fields {
			if f.Stream == s.Name {
				fields = append(fields, f)
			}
		}
		if len(fields) == 0 {
			continue
		}
		w("\n# The customer's own fields (SX3, X3_PROPRI = U), as CRM custom fields by label.\n")
		w("[streams.%s.mapping.custom_fields]\n", s.Name)
		if s.Name == "customers" && o.CNPJLabel != "" {
			w("%s = \"doc(A1_CGC)\"\n", quote(o.CNPJLabel))
		}
		for _, f := range fields {
			comment := f.Column + ", " + f.Type
			if len(f.Combo) > 0 {
				comment += ": " + comboText(f.Combo)
			}
			if f.Note != "" {
				comment += "; " + f.Note
			}
			w("# %s\n%s = %s\n", comment, quote(f.Label), quote(f.Expr))
		}
	}
	return b.String()
}

func comboText(c map[string]string) string {
	var parts []string
	for _, k := range sortedKeys(c) {
		parts = append(parts, k+"="+c[k])
	}
	return strings.Join(parts, ";")
}

func sortedKeys(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// quote is a TOML basic string.
func quote(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch {
		case r == '"' || r == '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r > 0xFFFF && !unicode.IsPrint(r):
			fmt.Fprintf(&b, "\\U%08X", r)
		case r < 0x20 || r == 0x7f || !unicode.IsPrint(r) && r != ' ':
			fmt.Fprintf(&b, "\\u%04X", r)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return b.String()
}

// wrap breaks text into lines of at most width runes at blanks.
func wrap(text string, width int) []string {
	var lines []string
	line := ""
	for _, word := range strings.Fields(text) {
		if line != "" && len([]rune(line))+1+len([]rune(word)) > width {
			lines = append(lines, line)
			line = ""
		}
		if line != "" {
			line += " "
		}
		line += word
	}
	if line != "" {
		lines = append(lines, line)
	}
	return lines
}
