package config

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"

	"github.com/erpbridge/erpbridge/installer/layout"
	"github.com/pelletier/go-toml/v2"
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
// text has no secrets folder).
func Parse(data []byte, lookup func(string) (string, bool)) (*Config, error) {
	return parse(data, references(lookup, nil, ""))
}

func parse(data []byte, resolve resolver) (*Config, error) {
	if err := checkDurations(data); err != nil {
		return nil, err
	}
	cfg := Default()
	dec := toml.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&cfg); err != nil {
		return nil, describeDecodeError(err)
	}
	if err := expandEnv(reflect.ValueOf(&cfg).Elem(), nil, resolve); err != nil {
		return nil, withLine(data, err)
	}
	var raw map[string]any
	if err := toml.Unmarshal(data, &raw); err != nil {
		return nil, describeDecodeError(err)
	}
	set := func(stream string, key ...string) bool {
		v := any(raw)
		for _, k := range append([]string{"streams", stream, "mapping"}, key...) {
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
	if err := cfg.applyMappingDefaults(set); err != nil {
		return nil, err
	}
	return &cfg, nil
}

// describeDecodeError turns go-toml errors into messages that name the key
// and the line.
func describeDecodeError(err error) error {
	var strict *toml.StrictMissingError
	if errors.As(err, &strict) {
		msgs := make([]string, 0, len(strict.Errors))
		for i := range strict.Errors {
			e := &strict.Errors[i]
			line, _ := e.Position()
			msgs = append(msgs, fmt.Sprintf("line %d: unknown key %q", line, strings.Join(e.Key(), ".")))
		}
		return errors.New(strings.Join(msgs, "; "))
	}
	var de *toml.DecodeError
	if errors.As(err, &de) {
		line, _ := de.Position()
		if k := de.Key(); len(k) > 0 {
			return fmt.Errorf("line %d: key %q: %s", line, strings.Join(k, "."), de.Error())
		}
		return fmt.Errorf("line %d: %s", line, de.Error())
	}
	return fmt.Errorf("decoding TOML: %w", err)
}

var envRef = regexp.MustCompile(`\$\$\{|\$\{((?:secret:)?[A-Za-z_][A-Za-z0-9_]*)\}`)

// expandEnv replaces ${NAME} and ${secret:NAME} in every string reachable
// from v with what resolve answers. A reference that cannot be resolved is
// an error naming the key; `$${` stays a literal `${`.
func expandEnv(v reflect.Value, path []string, resolve resolver) error {
	switch v.Kind() {
	case reflect.String:
		s := v.String()
		if !strings.Contains(s, "${") {
			return nil
		}
		var errs []string
		out := envRef.ReplaceAllStringFunc(s, func(m string) string {
			if m == "$${" {
				return "${"
			}
			val, err := resolve(m[2 : len(m)-1])
			if err != nil {
				errs = append(errs, err.Error())
			}
			return val
		})
		if len(errs) > 0 {
			return &refError{path: path, msg: strings.Join(errs, "; ")}
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
			if err := expandEnv(v.Field(i), p, resolve); err != nil {
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
			if err := expandEnv(ev, append(append([]string(nil), path...), k.String()), resolve); err != nil {
				return err
			}
			v.SetMapIndex(k, ev)
		}
	}
	return nil
}

func tomlName(f reflect.StructField) string {
	if tag, ok := f.Tag.Lookup("toml"); ok {
		if name, _, _ := strings.Cut(tag, ","); name != "" {
			return name
		}
	}
	return f.Name
}

// resolvePaths makes relative file paths absolute from dir.
func (c *Config) resolvePaths(dir string) {
	abs := func(p string) string {
		if p == "" || filepath.IsAbs(p) {
			return p
		}
		return filepath.Join(dir, p)
	}
	c.DataDir = abs(c.DataDir)
	c.Log.File = abs(c.Log.File)
	if c.ERP.Driver == "sqlite" {
		c.ERP.DSN = resolveSQLitePath(c.ERP.DSN, abs)
	}
}

// resolveSQLitePath resolves a relative SQLite file path (optionally with a
// file: prefix and ?options) against the config folder.
func resolveSQLitePath(dsn string, abs func(string) string) string {
	if dsn == "" || strings.HasPrefix(dsn, ":memory:") {
		return dsn
	}
	prefix := ""
	rest := dsn
	if strings.HasPrefix(rest, "file:") {
		prefix, rest = "file:", strings.TrimPrefix(rest, "file:")
	}
	file, query, hasQuery := strings.Cut(rest, "?")
	file = abs(file)
	if hasQuery {
		return prefix + file + "?" + query
	}
	return prefix + file
}

// durationKeys lists the dotted keys holding a Duration, found in Config
// by reflection so a new duration option is checked without a list to keep.
var durationKeys = func() [][]string {
	var out [][]string
	var walk func(t reflect.Type, path []string)
	walk = func(t reflect.Type, path []string) {
		for i := range t.NumField() {
			f := t.Field(i)
			if !f.IsExported() {
				continue
			}
			if f.Anonymous && f.Type.Kind() == reflect.Struct {
				walk(f.Type, path) // embedded Stream: its keys are the table's own
				continue
			}
			name := tomlName(f)
			switch {
			case f.Type == reflect.TypeFor[Duration]():
				out = append(out, append(slices.Clone(path), name))
			case f.Type.Kind() == reflect.Struct && f.Type.PkgPath() == reflect.TypeFor[Config]().PkgPath():
				walk(f.Type, append(slices.Clone(path), name))
			}
		}
	}
	walk(reflect.TypeFor[Config](), nil)
	return out
}()

// checkDurations refuses a duration written without its unit (`timeout =
// 30`), which would otherwise be read as nanoseconds, naming key and line.
func checkDurations(data []byte) error {
	var raw map[string]any
	if toml.Unmarshal(data, &raw) != nil {
		return nil // the strict decode reports syntax errors with their line
	}
	for _, k := range durationKeys {
		table := raw
		for _, part := range k[:len(k)-1] {
			table, _ = table[part].(map[string]any)
		}
		v, ok := table[k[len(k)-1]]
		if !ok {
			continue
		}
		if _, isString := v.(string); !isString {
			return fmt.Errorf("line %d: key %q: write a duration as a string with its unit, e.g. \"30s\" or \"2m\" (got %v)",
				lineOf(data, strings.Join(k[:len(k)-1], "."), k[len(k)-1]), strings.Join(k, "."), v)
		}
	}
	return nil
}

// lineOf finds the line of key inside [table] (0 when not found).
func lineOf(data []byte, table, key string) int {
	in := table == ""
	keyRe := regexp.MustCompile(`^\s*` + regexp.QuoteMeta(key) + `\s*=`)
	for i, line := range strings.Split(string(data), "\n") {
		t := strings.TrimSpace(line)
		if strings.HasPrefix(t, "[") {
			in = t == "["+table+"]"
			continue
		}
		if in && keyRe.MatchString(line) {
			return i + 1
		}
	}
	return 0
}
