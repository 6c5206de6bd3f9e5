package config

import (
	"fmt"
	"os"
	"reflect"
	"regexp"
	"slices"
	"strings"

	"github.com/pelletier/go-toml/v2/unstable"

	"github.com/erpbridge/erpbridge/erp/sqlerp/dsn"
)

// redactedMask replaces a secret in a redacted config.
const redactedMask = "REDACTED"

// pureReference is a value that is only a reference: ${NAME} or
// ${secret:NAME}, which names a secret without holding it.
var pureReference = regexp.MustCompile(`^\$\{(secret:)?[A-Za-z_][A-Za-z0-9_]*\}$`)

// Redacted returns the text of the config file at path with nothing
// secret left, for a support bundle: a token or password that is written
// out is masked (a ${NAME} or ${secret:NAME} is kept: it names the secret,
// and is never resolved here); a DSN, and any other value holding a URL
// or key=value list, has its password masked (dsn.Redact); every comment
// is removed (it may hold anything). The lines stay where they were, so
// a message naming a line still points at it.
func Redacted(path string) ([]byte, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading config: %w", err)
	}
	if data, err = configText(data); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	type edit struct {
		at, end int
		with    string
	}
	var edits []edit
	p := unstable.Parser{KeepComments: true}
	p.Reset(data)
	offset := func(n *unstable.Node) (int, int) {
		return int(n.Raw.Offset), int(n.Raw.Offset + n.Raw.Length)
	}
	// value redacts one value (of the key named key), strings in arrays
	// and inline tables included.
	var comment func(n *unstable.Node)
	comment = func(n *unstable.Node) {
		at, end := offset(n)
		edits = append(edits, edit{at, end, ""})
		for c := n.Child(); c != nil && c.Valid(); c = c.Next() { // a run of comments hangs from its first
			comment(c)
		}
	}
	var value func(key string, v *unstable.Node)
	value = func(key string, v *unstable.Node) {
		switch v.Kind {
		case unstable.Comment:
			comment(v)
		case unstable.String:
			s := string(v.Data)
			out := dsn.Redact(s)
			if (key == "token" || key == "password") && s != "" && !pureReference.MatchString(s) {
				out = redactedMask
			}
			if out != s {
				at, end := offset(v)
				edits = append(edits, edit{at, end, tomlString(out)})
			}
		case unstable.Array:
			for it := v.Children(); it.Next(); {
				value(key, it.Node())
			}
		case unstable.InlineTable:
			for it := v.Children(); it.Next(); {
				switch kv := it.Node(); kv.Kind {
				case unstable.KeyValue:
					keyValue(kv, value)
				case unstable.Comment:
					comment(kv)
				}
			}
		}
	}
	var walk func(n *unstable.Node)
	walk = func(n *unstable.Node) {
		for ; n != nil && n.Valid(); n = n.Next() {
			switch n.Kind {
			case unstable.Comment:
				comment(n)
				continue
			case unstable.KeyValue:
				keyValue(n, value)
			}
			if c := n.Child(); c != nil && c.Valid() && n.Kind != unstable.KeyValue {
				walk(c)
			}
		}
	}
	for p.NextExpression() {
		walk(p.Expression())
	}
	if err := p.Error(); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	slices.SortFunc(edits, func(a, b edit) int { return b.at - a.at })
	out := slices.Clone(data)
	for _, e := range edits {
		out = slices.Concat(out[:e.at], []byte(e.with), out[e.end:])
	}
	return out, nil
}

// keyValue hands a key = value node's value, with the last part of its
// key, to value.
func keyValue(kv *unstable.Node, value func(key string, v *unstable.Node)) {
	last := ""
	for it := kv.Key(); it.Next(); {
		last = string(it.Node().Data)
	}
	if v := kv.Value(); v != nil && v.Valid() {
		value(last, v)
	}
}

// tomlString writes s as a TOML basic string.
func tomlString(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch {
		case r == '"' || r == '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r < 0x20 || r == 0x7f:
			fmt.Fprintf(&b, "\\u%04X", r)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return b.String()
}

// SecretValues lists the secrets the loaded configuration holds, as
// resolved: every ${secret:NAME} it read, every token and password value,
// and the secrets any other value holds (a DSN's or a URL's password:
// dsn.Secrets), longest first — for scrubbing them from any text that
// might quote one (a support bundle).
func (c *Config) SecretValues() []string {
	var out []string
	add := func(s string) {
		if len(s) >= 3 && !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	var walk func(v reflect.Value)
	walk = func(v reflect.Value) {
		switch v.Kind() {
		case reflect.Pointer, reflect.Interface:
			if !v.IsNil() {
				walk(v.Elem())
			}
		case reflect.Struct:
			t := v.Type()
			for i := range t.NumField() {
				f := t.Field(i)
				if !f.IsExported() {
					continue
				}
				fv := v.Field(i)
				switch name := tomlName(f); {
				case fv.Kind() == reflect.String && (name == "token" || name == "password"):
					add(fv.String())
				case fv.Kind() == reflect.String: // a DSN, a URL: the password it holds
					for _, s := range dsn.Secrets(fv.String()) {
						add(s)
					}
				default:
					walk(fv)
				}
			}
		}
	}
	for _, s := range c.secrets {
		add(s)
	}
	walk(reflect.ValueOf(c).Elem())
	for _, s := range c.components {
		walk(reflect.ValueOf(s))
	}
	slices.SortFunc(out, func(a, b string) int { return len(b) - len(a) })
	return out
}
