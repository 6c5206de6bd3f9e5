package config

import (
	"fmt"
	"os"
	"reflect"
	"slices"
	"strings"

	"github.com/pelletier/go-toml/v2"

	"github.com/erpbridge/erpbridge/bridge/component"
	"github.com/erpbridge/erpbridge/erp/sqlerp/dsn"
)

// Difference is one setting two configuration files give different values.
type Difference struct {
	// Key is the full key ("streams.orders.filial").
	Key string
	// This and Other are the values as TOML writes them ("" when the file
	// leaves a map entry out); ThisLine and OtherLine the lines that set
	// them, 0 for a default.
	This, Other         string
	ThisLine, OtherLine int
}

// Compare reads the configuration files this and other as they are
// written — ${NAME} and ${secret:NAME} left unexpanded, relative paths as
// written, every default filled in — and returns the settings whose values
// differ, in key order, leaving out the ones that differ by design between
// a test environment and production: DSNs and secrets (every key named
// dsn, token or password, and the password any other URL holds). Go-live is done twice (homologação, then
// produção): what is left is what the team must decide on.
func Compare(this, other string) ([]Difference, error) {
	a, err := readAsWritten(this)
	if err != nil {
		return nil, err
	}
	b, err := readAsWritten(other)
	if err != nil {
		return nil, err
	}
	av, err := a.flatten()
	if err != nil {
		return nil, err
	}
	bv, err := b.flatten()
	if err != nil {
		return nil, err
	}
	var out []Difference
	for _, k := range slices.Sorted(mapKeys(union(av, bv))) {
		if secretKeys[k[strings.LastIndexByte(k, '.')+1:]] || av[k] == bv[k] {
			continue
		}
		out = append(out, Difference{Key: k, This: av[k], Other: bv[k], ThisLine: a.lines[k], OtherLine: b.lines[k]})
	}
	return out, nil
}

// readAsWritten parses a file with its references left as they are.
func readAsWritten(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading config: %w", err)
	}
	cfg, err := parse(data, func(ref string) (string, error) { return "${" + ref + "}", nil })
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	cfg.path = path
	return cfg, nil
}

func union(a, b map[string]string) map[string]string {
	out := make(map[string]string, len(a)+len(b))
	for k, v := range a {
		out[k] = v
	}
	for k, v := range b {
		out[k] = v
	}
	return out
}

// flatten writes every setting of c, the core's and each component's, as
// full key → value as TOML writes it.
func (c *Config) flatten() (map[string]string, error) {
	out := map[string]string{}
	core := map[string]any{"data_dir": c.DataDir, "log": c.Log, "schedule": c.Schedule, "http": c.HTTP}
	if err := flattenValue(out, "", core); err != nil {
		return nil, err
	}
	for _, comp := range component.All() {
		if s, ok := c.components[comp.Name()]; ok {
			if err := flattenValue(out, comp.Table(), s); err != nil {
				return nil, err
			}
		}
	}
	return out, nil
}

// flattenValue marshals v as TOML and adds its keys under prefix.
func flattenValue(out map[string]string, prefix string, v any) error {
	text, err := toml.Marshal(v)
	if err != nil {
		return fmt.Errorf("comparing [%s]: %w", prefix, err)
	}
	var m map[string]any
	if err := toml.Unmarshal(text, &m); err != nil {
		return fmt.Errorf("comparing [%s]: %w", prefix, err)
	}
	var walk func(key string, v any)
	walk = func(key string, v any) {
		if t, ok := v.(map[string]any); ok {
			for k, x := range t {
				walk(join(key, k), x)
			}
			return
		}
		out[key] = tomlValue(v)
	}
	walk(prefix, m)
	return nil
}

func join(prefix, key string) string {
	if prefix == "" {
		return key
	}
	return prefix + "." + key
}

// tomlValue writes one value as it reads in a TOML file, a password a URL
// or DSN holds masked (dsn.Redact: two values differing by it alone are
// alike).
func tomlValue(v any) string {
	switch x := v.(type) {
	case string:
		return fmt.Sprintf("%q", dsn.Redact(x))
	case []any:
		parts := make([]string, len(x))
		for i, e := range x {
			parts[i] = tomlValue(e)
		}
		return "[" + strings.Join(parts, ", ") + "]"
	case nil:
		return ""
	}
	if reflect.TypeOf(v).Kind() == reflect.Map {
		b, _ := toml.Marshal(v)
		return "{" + strings.Join(strings.Fields(string(b)), " ") + "}"
	}
	return fmt.Sprint(v)
}
