package mapping

import (
	"strings"
	"unicode/utf8"

	"golang.org/x/text/encoding/charmap"
)

// EnsureUTF8 returns s unchanged when it is valid UTF-8. Otherwise it decodes s as
// Windows-1252 — what SQL Server's Latin1_General collations store and a superset of
// ISO-8859-1 for every printable character — and reports true. A string that is valid UTF-8
// is always taken as UTF-8: "SÃO" written by a UTF-8 client is not double-decoded. The five
// bytes Windows-1252 leaves undefined (0x81, 0x8D, 0x8F, 0x90, 0x9D) become U+FFFD.
func EnsureUTF8(s string) (string, bool) {
	if utf8.ValidString(s) {
		return s, false
	}
	out, err := charmap.Windows1252.NewDecoder().String(s)
	if err != nil {
		// Windows1252 decodes every byte; this is a safety net, not a path.
		out = latin1(s)
	}
	return out, true
}

// latin1 decodes s byte by byte as ISO-8859-1.
func latin1(s string) string {
	r := make([]rune, len(s))
	for i := 0; i < len(s); i++ {
		r[i] = rune(s[i])
	}
	return string(r)
}

// CleanText removes from s the characters no CRM field should get and a reader cannot see: NUL
// and the other C0 controls but tab, line feed and carriage return; DEL; the C1 controls
// (U+0080–U+009F); and the bidirectional embeddings, overrides and isolates (U+202A–U+202E,
// U+2066–U+2069), with which "ACME \u202eLTDA" displays reversed. It reports whether it removed
// anything. Every text value of a record goes through it before any expression sees it.
func CleanText(s string) (string, bool) {
	i := strings.IndexFunc(s, invisible)
	if i < 0 {
		return s, false
	}
	var b strings.Builder
	b.Grow(len(s))
	b.WriteString(s[:i])
	for _, r := range s[i:] {
		if !invisible(r) {
			b.WriteRune(r)
		}
	}
	return b.String(), true
}

func invisible(r rune) bool {
	switch {
	case r == '\t' || r == '\n' || r == '\r':
		return false
	case r < 0x20, r >= 0x7F && r <= 0x9F:
		return true
	case r >= 0x202A && r <= 0x202E, r >= 0x2066 && r <= 0x2069:
		return true
	}
	return false
}

// OneLine makes each run of line breaks and tabs in s one blank: what a one-line CRM field (a
// name, a phone, a custom field) gets. Long texts (description, resume, notes) keep them.
func OneLine(s string) string {
	if !strings.ContainsAny(s, "\t\n\r") {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	blank := false
	for _, r := range s {
		if r == '\t' || r == '\n' || r == '\r' {
			if !blank {
				b.WriteByte(' ')
			}
			blank = true
			continue
		}
		blank = false
		b.WriteRune(r)
	}
	return b.String()
}
