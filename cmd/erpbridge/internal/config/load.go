package config

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"

	"github.com/pelletier/go-toml/v2"

	"github.com/erpbridge/erpbridge/bridge/component"
	"github.com/erpbridge/erpbridge/installer/layout"
)

// Load reads the file at path, decodes it strictly on top of Default(),
// expands ${ENV} references and resolves relative paths from the file's
// folder. A file in the platform's config folder gets the platform's data and
// log folders as defaults (see applyInstalledDefaults). It does not
// validate: call Validate.
func Load(path string) (*Config, error) {
	return LoadWithEnv(path, os.LookupEnv)
}

// LoadWithEnv is Load with ${ENV} references looked up in lookup instead of
// the process environment.
func LoadWithEnv(path string, lookup func(string) (string, bool)) (*Config, error) {
	return LoadWith(path, lookup, nil)
}

// LoadWith is LoadWithEnv where unset, when not nil, is asked about a
// reference that is not set (an unset variable, a secret not stored: ref is
// NAME or secret:NAME) and may answer the text to keep instead of failing
// (erpbridge service install checks a file whose secrets the service has,
// not the installer).
func LoadWith(path string, lookup func(string) (string, bool), unset func(ref string) (string, bool)) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading config: %w", err)
	}
	if data, err = configText(data); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("resolving config path: %w", err)
	}
	cfg, err := parse(data, references(lookup, unset, abs))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	cfg.path = abs
	cfg.applyInstalledDefaults(keySetIn(data), abs, layout.Host())
	cfg.resolvePaths(filepath.Dir(abs))
	return cfg, nil
}

// keySetIn reports whether the TOML text sets table.key ("" table: top
// level). Parse has already refused text that does not decode.
func keySetIn(data []byte) func(table, key string) bool {
	var raw map[string]any
	_ = toml.Unmarshal(data, &raw)
	return func(table, key string) bool {
		m := raw
		if table != "" {
			t, ok := raw[table].(map[string]any)
			if !ok {
				return false
			}
			m = t
		}
		_, ok := m[key]
		return ok
	}
}

// Parse decodes TOML text strictly on top of Default() and expands ${ENV}
// references with lookup (${secret:NAME}: systemd credentials only, as
// text has no secrets folder). A UTF-8 byte order mark is skipped; UTF-16
// is refused. Each component's table is decoded into that component's
// settings; a [streams.X] no component claims is an error.
func Parse(data []byte, lookup func(string) (string, bool)) (*Config, error) {
	return parse(data, references(lookup, nil, ""))
}

func parse(data []byte, resolve resolver) (*Config, error) {
	data, err := configText(data)
	if err != nil {
		return nil, err
	}
	lines := keyLines(data)
	var raw map[string]any
	if err := toml.Unmarshal(data, &raw); err != nil {
		return nil, describeDecodeError(err, "", lines)
	}
	cfg := base()
	cfg.lines = lines
	cfg.placeholders = placeholders(raw, "")
	x := expander{resolve: func(ref string) (string, error) {
		v, err := resolve(ref)
		if err == nil && strings.HasPrefix(ref, secretPrefix) {
			cfg.secrets = append(cfg.secrets, v)
		}
		return v, err
	}, lines: lines}
	for _, comp := range component.All() {
		table := strings.Split(comp.Table(), ".")
		settings := cfg.components[comp.Name()]
		sub, ok := take(raw, table)
		if ok {
			if err := decodeTable(sub, settings, comp.Table(), lines); err != nil {
				return nil, err
			}
		}
		if err := x.expand(reflect.ValueOf(settings).Elem(), table, false); err != nil {
			return nil, err
		}
		if d, ok := settings.(component.Defaulter); ok {
			set := func(key ...string) bool { return setIn(sub, key) }
			if err := d.ApplyDefaults(set); err != nil {
				return nil, err
			}
		}
	}
	if streams, ok := raw["streams"].(map[string]any); ok {
		var errs []error
		for _, name := range slices.Sorted(mapKeys(streams)) {
			key := "streams." + name
			errs = append(errs, fmt.Errorf("%sunknown stream %q (the streams are: %s)", at(lines, key), name, component.StreamNames()))
		}
		if len(streams) > 0 {
			return nil, errors.Join(errs...)
		}
		delete(raw, "streams")
	}
	if err := decodeTable(raw, &cfg, "", lines); err != nil {
		return nil, err
	}
	if err := x.expand(reflect.ValueOf(&cfg).Elem(), nil, false); err != nil {
		return nil, err
	}
	return &cfg, nil
}

// take removes the table at path from raw and returns it.
func take(raw map[string]any, path []string) (map[string]any, bool) {
	m := raw
	for i, part := range path {
		v, ok := m[part]
		if !ok {
			return nil, false
		}
		t, ok := v.(map[string]any)
		if !ok {
			return nil, false
		}
		if i == len(path)-1 {
			delete(m, part)
			return t, true
		}
		m = t
	}
	return nil, false
}

// setIn reports whether the table t sets the key at path.
func setIn(t map[string]any, path []string) bool {
	v := any(t)
	for _, k := range path {
		m, ok := v.(map[string]any)
		if !ok {
			return false
		}
		if v, ok = m[k]; !ok {
			return false
		}
	}
	return true
}

func mapKeys[V any](m map[string]V) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

// decodeTable decodes the table t (the file's, at prefix) strictly into
// into: an unknown key or a value of the wrong type is an error naming the
// full key and its line in the file.
func decodeTable(t map[string]any, into any, prefix string, lines map[string]int) error {
	if err := checkDurations(t, reflect.TypeOf(into).Elem(), prefix, lines); err != nil {
		return err
	}
	text, err := toml.Marshal(t)
	if err != nil {
		return fmt.Errorf("%sdecoding [%s]: %w", at(lines, prefix), prefix, err)
	}
	dec := toml.NewDecoder(bytes.NewReader(text))
	dec.DisallowUnknownFields()
	if err := dec.Decode(into); err != nil {
		return describeDecodeError(err, prefix, lines)
	}
	return nil
}

// describeDecodeError turns go-toml errors into messages that name the key
// (under prefix) and the line in the file.
func describeDecodeError(err error, prefix string, lines map[string]int) error {
	full := func(k []string) string {
		if prefix == "" {
			return strings.Join(k, ".")
		}
		return prefix + "." + strings.Join(k, ".")
	}
	var strict *toml.StrictMissingError
	if errors.As(err, &strict) {
		msgs := make([]string, 0, len(strict.Errors))
		for i := range strict.Errors {
			key := full(strict.Errors[i].Key())
			msgs = append(msgs, fmt.Sprintf("%sunknown key %q", lineOf(lines, key), key))
		}
		return errors.New(strings.Join(msgs, "; "))
	}
	var de *toml.DecodeError
	if errors.As(err, &de) {
		if k := de.Key(); len(k) > 0 {
			key := full(k)
			return fmt.Errorf("%skey %q: %s", lineOf(lines, key), key, de.Error())
		}
		if prefix == "" { // the file's own text: the position is the file's
			line, _ := de.Position()
			return fmt.Errorf("line %d: %s", line, de.Error())
		}
		return fmt.Errorf("%s[%s]: %s", at(lines, prefix), prefix, de.Error())
	}
	return fmt.Errorf("decoding TOML: %w", err)
}

// lineOf is "line N: " for key, or for the nearest table above it the
// file sets.
func lineOf(lines map[string]int, key string) string {
	for k := key; k != ""; {
		if s := at(lines, k); s != "" {
			return s
		}
		i := strings.LastIndexByte(k, '.')
		if i < 0 {
			break
		}
		k = k[:i]
	}
	return ""
}

func tomlName(f reflect.StructField) string {
	if tag, ok := f.Tag.Lookup("toml"); ok {
		if name, _, _ := strings.Cut(tag, ","); name != "" {
			return name
		}
	}
	return f.Name
}

// resolvePaths makes relative file paths absolute from dir: the core's and
// the components' (component.PathResolver).
func (c *Config) resolvePaths(dir string) {
	abs := func(p string) string {
		if p == "" || filepath.IsAbs(p) {
			return p
		}
		return filepath.Join(dir, p)
	}
	c.DataDir = abs(c.DataDir)
	c.Log.File = abs(c.Log.File)
	for _, s := range c.components {
		if r, ok := s.(component.PathResolver); ok {
			r.ResolvePaths(abs)
		}
	}
}

// durationKeys lists the keys (relative to a table of type t) holding a
// Duration, found by reflection so a new duration option is checked
// without a list to keep.
func durationKeys(t reflect.Type) [][]string {
	var out [][]string
	var walk func(t reflect.Type, path []string)
	walk = func(t reflect.Type, path []string) {
		for i := range t.NumField() {
			f := t.Field(i)
			if !f.IsExported() {
				continue
			}
			if f.Anonymous && f.Type.Kind() == reflect.Struct {
				walk(f.Type, path) // an embedded base: its keys are the table's own
				continue
			}
			name := tomlName(f)
			switch {
			case f.Type == reflect.TypeFor[Duration]():
				out = append(out, append(slices.Clone(path), name))
			case f.Type.Kind() == reflect.Struct:
				walk(f.Type, append(slices.Clone(path), name))
			}
		}
	}
	walk(t, nil)
	return out
}

// checkDurations refuses a duration written without its unit (`timeout =
// 30`), which would otherwise be read as nanoseconds, naming key and line.
func checkDurations(table map[string]any, t reflect.Type, prefix string, lines map[string]int) error {
	for _, k := range durationKeys(t) {
		m := table
		for _, part := range k[:len(k)-1] {
			m, _ = m[part].(map[string]any)
		}
		v, ok := m[k[len(k)-1]]
		if !ok {
			continue
		}
		if _, isString := v.(string); !isString {
			key := strings.Join(k, ".")
			if prefix != "" {
				key = prefix + "." + key
			}
			return fmt.Errorf("%skey %q: write a duration as a string with its unit, e.g. \"30s\" or \"2m\" (got %v)", at(lines, key), key, v)
		}
	}
	return nil
}
