package mapping

import (
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
