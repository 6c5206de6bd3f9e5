// Package dsn checks and redacts database connection strings (DSNs), so no
// error or log shows a password.
//
// DSNs reach error messages two ways: a driver that cannot parse one repeats
// it (pgx and go-ora quote url.Parse's error, password included), and a
// password holding a URL delimiter (# / ? %) splits the URL in the wrong
// places, so a piece of the password becomes the host the driver looks up.
// Check reads a DSN as its driver will, without connecting, and refuses such
// a DSN with a message that names the problem but not the text; Redact masks
// the secrets of a DSN (or any URL) for a message or a log; RedactError
// masks them in an error. sqlerp.Open uses all three. docs/protheus.md says
// how to write special characters in a password for each driver.
package dsn

import (
	"errors"
	"fmt"
	"io"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// mask replaces a secret.
const mask = "xxxxx"

// specialChars is the advice every malformed-DSN message ends with.
const specialChars = `write special characters in the user and password URL-encoded (% as %25, # as %23, / as %2F, ? as %3F, @ as %40, : as %3A; see docs/protheus.md, "Special characters in passwords")`

// urlSchemes lists the URL schemes each dialect's driver reads.
var urlSchemes = map[string][]string{
	"postgres":  {"postgres", "postgresql"},
	"sqlserver": {"sqlserver"},
	"oracle":    {"oracle"},
}

// cutScheme splits a URL-shaped DSN ("scheme://rest").
func cutScheme(dsn string) (scheme, rest string, ok bool) {
	scheme, rest, ok = strings.Cut(dsn, "://")
	if !ok || scheme == "" {
		return "", "", false
	}
	for i, c := range scheme {
		letter := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
		if !letter && (i == 0 || !(c >= '0' && c <= '9' || c == '+' || c == '-' || c == '.')) {
			return "", "", false
		}
	}
	return scheme, rest, true
}

// Check reads dsn as the driver of a dialect ("postgres", "sqlserver",
// "oracle", "sqlite": erp.driver, sqlerp's Dialect.Name) will, without
// connecting, and refuses what it would misread. Its errors never repeat
// the DSN.
func Check(dialect, dsn string) error {
	name := dialect
	if _, ok := urlSchemes[name]; !ok && name != "sqlite" {
		return fmt.Errorf("%q is not one of postgres, sqlserver, oracle, sqlite", dialect)
	}
	if strings.TrimSpace(dsn) == "" {
		return errors.New("is empty")
	}
	if name == "sqlite" {
		return nil // a file name: no credentials, no syntax to get wrong
	}
	scheme, rest, isURL := cutScheme(dsn)
	switch {
	case isURL:
		if !slices.Contains(urlSchemes[name], strings.ToLower(scheme)) {
			return fmt.Errorf("is not a %s URL: write %s://…, not %s://…", name, urlSchemes[name][0], scheme)
		}
		return checkURL(rest)
	case name == "oracle":
		return errors.New("is not a URL: write oracle://user:password@host:1521/SERVICE and " + specialChars)
	case name == "sqlserver" && strings.HasPrefix(strings.ToLower(dsn), "odbc:"):
		return checkKeyValues(dsn[len("odbc:"):], ';', '{')
	case name == "sqlserver":
		return checkKeyValues(dsn, ';', '"')
	default: // postgres keyword/value
		return checkKeyValues(dsn, ' ', '\'')
	}
}

// checkURL checks the part of a URL DSN after "scheme://".
func checkURL(rest string) error {
	if strings.Contains(rest, "#") {
		return errors.New(`has a "#", which ends a URL: ` + specialChars)
	}
	for i := 0; i < len(rest); i++ {
		if rest[i] == '%' && (i+2 >= len(rest) || !isHex(rest[i+1]) || !isHex(rest[i+2])) {
			return errors.New(`has a "%" that is not followed by two hexadecimal digits: ` + specialChars)
		}
	}
	authority := rest
	if i := strings.IndexAny(rest, "/?"); i >= 0 {
		authority = rest[:i]
	}
	if !strings.Contains(authority, "@") {
		path, query, _ := strings.Cut(rest[len(authority):], "?")
		if strings.Contains(path, "@") {
			return errors.New(`has its user and password cut short by a "/": ` + specialChars)
		}
		for _, param := range strings.Split(query, "&") {
			if name, _, _ := strings.Cut(param, "@"); strings.Contains(param, "@") && !strings.Contains(name, "=") {
				return errors.New(`has its user and password cut short by a "?": ` + specialChars)
			}
		}
	}
	if _, err := url.Parse("x://" + rest); err != nil {
		return errors.New("cannot be read as a URL (scheme://user:password@host:port/…): " + specialChars)
	}
	return nil
}

func isHex(c byte) bool { return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F' }

// checkKeyValues checks a key=value list: ADO (sep ';', values in "…" with
// "" for a quote), ODBC (';', values in {…} with }} for a brace) or
// PostgreSQL's keyword/value (sep ' ', values in '…' with \' and \\).
func checkKeyValues(s string, sep, quote byte) error {
	if sep == ' ' {
		s = blanksAroundEquals.ReplaceAllString(s, "=") // "host = db" is host=db
	}
	parts, ok := splitKeyValues(s, sep, quote)
	if !ok {
		return fmt.Errorf("has a %s value without its closing %s: %s", quoteName(quote), closing(quote), quoteAdvice(quote))
	}
	for _, p := range parts {
		if p = strings.TrimSpace(p); p != "" && !strings.Contains(p, "=") {
			what := map[byte]string{';': `";"`, ' ': "a blank"}[sep]
			return fmt.Errorf("has a part without \"=\": a value holding %s must be quoted: %s", what, quoteAdvice(quote))
		}
	}
	return nil
}

var blanksAroundEquals = regexp.MustCompile(`\s*=\s*`)

func quoteName(q byte) string {
	return map[byte]string{'"': "double-quoted", '{': "braced", '\'': "single-quoted"}[q]
}

func closing(q byte) string {
	if q == '{' {
		return "}"
	}
	return string(q)
}

func quoteAdvice(q byte) string {
	switch q {
	case '"':
		return `write password="pa;ss" and double a quote inside it (""); see docs/protheus.md, "Special characters in passwords"`
	case '{':
		return `write PWD={pa;ss} and double a closing brace inside it (}}); see docs/protheus.md, "Special characters in passwords"`
	default:
		return `write password='pa ss' and escape ' and \ inside it as \' and \\; see docs/protheus.md, "Special characters in passwords"`
	}
}

// splitKeyValues splits s at sep outside quoted values (opened by quote
// right after "="); ok is false when a quoted value does not close.
func splitKeyValues(s string, sep, quote byte) (parts []string, ok bool) {
	start := 0
	for i := 0; i < len(s); i++ {
		switch {
		case s[i] == sep:
			parts = append(parts, s[start:i])
			start = i + 1
		case s[i] == '=':
			j := i + 1
			for j < len(s) && s[j] == ' ' {
				j++
			}
			if j < len(s) && s[j] == quote {
				end := quotedEnd(s, j, quote)
				if end < 0 {
					return nil, false
				}
				i = end
			}
		}
	}
	return append(parts, s[start:]), true
}

// quotedEnd returns the index of the quote closing the value opened at
// s[open], or -1.
func quotedEnd(s string, open int, quote byte) int {
	closer := quote
	if quote == '{' {
		closer = '}'
	}
	for i := open + 1; i < len(s); i++ {
		switch {
		case quote == '\'' && s[i] == '\\':
			i++ // \' and \\
		case s[i] == closer && (quote == '\'' || i+1 >= len(s) || s[i+1] != closer):
			return i
		case s[i] == closer:
			i++ // "" or }}
		}
	}
	return -1
}

// secretSpans returns the [start, end) spans of dsn that hold secrets: the
// password of a URL's user info (everything between the first ':' and the
// last '@' after "scheme://", so a password holding delimiters is covered
// whole) or of user/password@host, and the values of password-like
// parameters, in a URL's query or a key=value list. A quoted value that does
// not close runs to the end; an unquoted one runs on over the pieces after
// it that are no key=value (a password cut by a ; or a blank).
func secretSpans(dsn string) [][2]int {
	var spans [][2]int
	_, rest, isURL := cutScheme(dsn)
	switch {
	case isURL:
		base := len(dsn) - len(rest)
		if at := strings.LastIndexByte(rest, '@'); at >= 0 {
			if colon := strings.IndexByte(rest[:at], ':'); colon >= 0 {
				spans = append(spans, [2]int{base + colon + 1, base + at})
			}
		}
	case !strings.Contains(dsn, "="):
		if m := userSlash.FindStringIndex(dsn); m != nil {
			if at := strings.LastIndexByte(dsn, '@'); at >= m[1] {
				spans = append(spans, [2]int{m[1], at})
			}
		}
	}
	for _, m := range paramRe.FindAllStringIndex(dsn, -1) {
		start := m[1]
		for start < len(dsn) && dsn[start] == ' ' {
			start++
		}
		end := len(dsn)
		switch {
		case start < len(dsn) && strings.IndexByte(`'"{`, dsn[start]) >= 0:
			if e := quotedEnd(dsn, start, dsn[start]); e >= 0 {
				end = e + 1
			}
		default:
			seps := valueEnd(dsn)
			for end = start; end < len(dsn); end++ {
				e := strings.IndexAny(dsn[end:], seps)
				if e < 0 {
					end = len(dsn)
					break
				}
				end += e
				if isURL || startsKey(dsn[end+1:], seps) {
					break
				}
				// a piece that is no key=value: the password went on
			}
		}
		spans = append(spans, [2]int{start, end})
	}
	return spans
}

// startsKey reports whether rest, what follows a separator in a key=value
// list, starts the next key=value (key = value counts) or is blank.
func startsKey(rest, seps string) bool {
	piece := rest
	if n := strings.IndexAny(rest, seps); n >= 0 {
		piece = rest[:n]
	}
	if strings.TrimSpace(piece) == "" || strings.Contains(piece, "=") {
		return true
	}
	return strings.HasPrefix(strings.TrimLeft(rest[len(piece):], " \t\n"), "=")
}

// userSlash finds "user/" at the start of an Oracle-style user/password@host.
var userSlash = regexp.MustCompile(`^[^/@:;=\s]+/`)

// paramRe finds "name=" of a parameter holding a secret (password, pwd,
// sslpassword, "wallet password", token, secret…), at the start of the DSN
// or after a separator (& ? ; blank).
var paramRe = regexp.MustCompile(`(?i)(?:^|[&?; {])[a-z0-9_% ]*(?:pass|pwd|secret|token)[a-z0-9_% ]*\s*=`)

// valueEnd is what ends an unquoted value in dsn: & in a URL's query, ; in
// an ADO or ODBC list, a blank in PostgreSQL's keyword/value list.
func valueEnd(dsn string) string {
	if _, _, ok := cutScheme(dsn); ok {
		return "&"
	}
	if strings.Contains(dsn, ";") {
		return ";"
	}
	return " \t\n"
}

// Redact returns dsn with its secrets masked, for a message or a log: the
// password of a URL's user info and the values of password-like parameters
// (password, pwd, sslpassword, token, …). A malformed DSN is masked
// generously rather than risk showing a piece of the password.
func Redact(dsn string) string {
	spans := secretSpans(dsn)
	if len(spans) == 0 {
		return dsn
	}
	slices.SortFunc(spans, func(a, b [2]int) int { return a[0] - b[0] })
	var b strings.Builder
	pos := 0
	for _, s := range spans {
		if s[1] <= pos {
			continue
		}
		if s[0] > pos {
			b.WriteString(dsn[pos:s[0]])
		}
		b.WriteString(mask)
		pos = s[1]
	}
	b.WriteString(dsn[pos:])
	return b.String()
}

// dsnSecrets lists the strings an error about dsn must not show: the DSN
// itself and each secret, as written, unquoted, URL-decoded and encoded, and
// its pieces of 4 characters or more between URL delimiters (what a driver
// shows when it misreads a password as a host or a port).
func dsnSecrets(dsn string) []string {
	var out []string
	for _, s := range append([]string{dsn, quoted(dsn)}, Secrets(dsn)...) {
		if len(s) >= 3 && !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	// Longest first, so a secret is masked whole before its pieces.
	slices.SortFunc(out, func(a, b string) int { return len(b) - len(a) })
	return out
}

// Secrets lists the secrets dsn holds (its password, password-like
// parameters) in every form a text may show them — as written, unquoted,
// URL-decoded and encoded, and their pieces of 4 characters or more
// between URL delimiters — longest first, to scrub them from any text. A
// DSN without a secret has none.
func Secrets(dsn string) []string {
	var out []string
	add := func(s string) {
		if len(s) >= 3 && !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	for _, sp := range secretSpans(dsn) {
		raw := dsn[sp[0]:sp[1]]
		forms := []string{raw, strings.Trim(raw, `'"{}`)}
		if dec, err := url.PathUnescape(raw); err == nil {
			forms = append(forms, dec)
		}
		for _, f := range slices.Clone(forms) {
			forms = append(forms, url.QueryEscape(f), url.PathEscape(f), quoted(f))
		}
		for _, f := range forms {
			add(f)
			for _, piece := range strings.FieldsFunc(f, func(r rune) bool { return strings.ContainsRune(`%#/?@:;&=,'"{} `, r) }) {
				if len(piece) >= 4 {
					add(piece)
				}
			}
		}
	}
	// Longest first, so a secret is masked whole before its pieces.
	slices.SortFunc(out, func(a, b string) int { return len(b) - len(a) })
	return out
}

// quoted is s as %q writes it, without the quotes.
func quoted(s string) string {
	q := strconv.Quote(s)
	return q[1 : len(q)-1]
}

// RedactError returns err with every secret of dsn masked in its message;
// errors.Is and errors.As still see the original chain.
func RedactError(err error, dsn string) error {
	if err == nil {
		return nil
	}
	msg := err.Error()
	for _, s := range dsnSecrets(dsn) {
		if s == dsn {
			msg = strings.ReplaceAll(msg, s, Redact(dsn))
			continue
		}
		msg = strings.ReplaceAll(msg, s, mask)
	}
	return &dsnError{msg: msg, err: err}
}

// dsnError is an error whose message had a DSN's secrets masked.
type dsnError struct {
	msg string
	err error
}

func (e *dsnError) Error() string { return e.msg }
func (e *dsnError) Unwrap() error { return e.err }

// Format prints only the masked message, for every verb.
func (e *dsnError) Format(f fmt.State, _ rune) { _, _ = io.WriteString(f, e.msg) }
