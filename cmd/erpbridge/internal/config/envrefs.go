package config

import (
	"errors"
	"fmt"
	"reflect"
	"regexp"
	"strings"
)

// References. `${NAME}` in any string value is replaced by the environment
// variable NAME, `${secret:NAME}` by the stored secret NAME (refs.go), and
// `$${` is a literal `${`; nothing else is expanded. A `${` that does not close around a name is an error, and so is
// a shell's `$NAME` or cmd.exe's `%NAME%` in a secret (a token, a password,
// a DSN), which would otherwise be sent as the secret itself.

// secretKeys are the names of the keys holding secrets.
var secretKeys = map[string]bool{"token": true, "password": true, "dsn": true}

var envName = regexp.MustCompile(`^(secret:)?[A-Za-z_][A-Za-z0-9_]*$`)

// expandRefs replaces ${NAME} and ${secret:NAME} in s with what resolve
// answers, and $${ with ${. Its errors (resolve's among them) never repeat
// s.
func expandRefs(s string, resolve resolver) (out string, err error) {
	var b strings.Builder
	for i := 0; i < len(s); {
		switch {
		case strings.HasPrefix(s[i:], "$${"):
			b.WriteString("${")
			i += 3
		case strings.HasPrefix(s[i:], "${"):
			end := strings.IndexByte(s[i+2:], '}')
			if end < 0 {
				return "", errors.New(`has a "${" without its closing "}": write ${NAME}, or $${ for a literal "${"`)
			}
			name := s[i+2 : i+2+end]
			if !envName.MatchString(name) {
				return "", errors.New(`has a "${…}" around something that is not an environment variable name nor secret:NAME (letters, digits and _): write ${NAME} or ${secret:NAME}, or $${ for a literal "${"`)
			}
			val, err := resolve(name)
			if err != nil {
				return "", err
			}
			b.WriteString(val)
			i += 2 + end + 1
		default:
			b.WriteByte(s[i])
			i++
		}
	}
	return b.String(), nil
}

// foreignRef describes a reference in s that erpbridge does not expand — a
// shell's "$NAME" or cmd.exe's "%NAME%" — or returns "". A percent-encoded
// byte (%C3%A9 in a URL-encoded password) is not one.
func foreignRef(s string) string {
	nameChar := func(c byte, first bool) bool {
		return c == '_' || c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || !first && c >= '0' && c <= '9'
	}
	for i := 0; i+1 < len(s); i++ {
		switch s[i] {
		case '$':
			if nameChar(s[i+1], true) {
				return "$NAME"
			}
		case '%':
			j := i + 1
			for j < len(s) && nameChar(s[j], j == i+1) {
				j++
			}
			if j == i+1 || j >= len(s) || s[j] != '%' {
				continue
			}
			if j-i-1 == 2 && isHex(s[i+1]) && isHex(s[i+2]) || j+2 < len(s) && isHex(s[j+1]) && isHex(s[j+2]) {
				continue // %C3%… : percent-encoding
			}
			return "%NAME%"
		}
	}
	return ""
}

func isHex(c byte) bool { return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F' }

// expander expands ${NAME} and ${secret:NAME} in every string of a Config.
type expander struct {
	resolve resolver
	lines   map[string]int // keyLines of the file
}

// expand replaces ${NAME} in every string reachable from v. A reference to
// an unset variable, a malformed one, and a foreign one in a secret are
// errors naming the key and its line; `$${` stays a literal `${`.
func (x expander) expand(v reflect.Value, path []string, secret bool) error {
	switch v.Kind() {
	case reflect.String:
		key := strings.Join(path, ".")
		s := v.String()
		if secret {
			switch foreignRef(s) {
			case "$NAME":
				return fmt.Errorf("%skey %q: has $NAME, which is not expanded: write ${NAME} to read the environment variable NAME, or ${secret:NAME} for a stored secret (a secret that really holds \"$\" is stored with erpbridge secret set, referenced as ${secret:NAME})", at(x.lines, key), key)
			case "%NAME%":
				return fmt.Errorf("%skey %q: has %%NAME%%, which is not expanded (it is cmd.exe's syntax): write ${NAME} to read the environment variable NAME, or ${secret:NAME} for a stored secret", at(x.lines, key), key)
			}
		}
		if !strings.Contains(s, "${") {
			return nil
		}
		out, err := expandRefs(s, x.resolve)
		if err != nil {
			return fmt.Errorf("%skey %q: %w", at(x.lines, key), key, err)
		}
		v.SetString(out)
	case reflect.Struct:
		t := v.Type()
		for i := 0; i < v.NumField(); i++ {
			f := t.Field(i)
			if !f.IsExported() {
				continue
			}
			p := path
			if !f.Anonymous {
				p = append(append([]string(nil), path...), tomlName(f))
			}
			if err := x.expand(v.Field(i), p, f.Type.Kind() == reflect.String && secretKeys[tomlName(f)]); err != nil {
				return err
			}
		}
	case reflect.Map:
		if v.Type().Elem().Kind() != reflect.String {
			return nil
		}
		for _, k := range v.MapKeys() {
			ev := reflect.New(v.Type().Elem()).Elem()
			ev.Set(v.MapIndex(k))
			if err := x.expand(ev, append(append([]string(nil), path...), k.String()), false); err != nil {
				return err
			}
			v.SetMapIndex(k, ev)
		}
	}
	return nil
}
