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
// the process environment (erpbridge service install checks a file whose
// secrets live in the service's environment, not the installer's).
func LoadWithEnv(path string, lookup func(string) (string, bool)) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading config: %w", err)
	}
	if data, err = configText(data); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	cfg, err := Parse(data, lookup)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("resolving config path: %w", err)
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
// references with lookup. A UTF-8 byte order mark is skipped; UTF-16 is
// refused.
func Parse(data []byte, lookup func(string) (string, bool)) (*Config, error) {
	data, err := configText(data)
	if err != nil {
		return nil, err
	}
	lines := keyLines(data)
	if err := checkDurations(data, lines); err != nil {
		return nil, err
	}
	cfg := Default()
	dec := toml.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&cfg); err != nil {
		return nil, describeDecodeError(err)
	}
	cfg.lines = lines
	if err := (expander{lookup: lookup, lines: lines}).expand(reflect.ValueOf(&cfg).Elem(), nil, false); err != nil {
		return nil, err
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
func checkDurations(data []byte, lines map[string]int) error {
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
			key := strings.Join(k, ".")
			return fmt.Errorf("%skey %q: write a duration as a string with its unit, e.g. \"30s\" or \"2m\" (got %v)", at(lines, key), key, v)
		}
	}
	return nil
}
