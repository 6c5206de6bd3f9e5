package config

import (
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"

	"github.com/erpbridge/erpbridge/bridge/component"
	_ "github.com/erpbridge/erpbridge/cmd/erpbridge/internal/components"
)

// TestExampleShowsEveryOption: every option of every registered component
// (and of the core) appears in config.example.toml, set or commented, in
// its table: a new option, or a new stream, cannot land undocumented.
func TestExampleShowsEveryOption(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("..", "..", "..", "..", "config.example.toml"))
	if err != nil {
		t.Fatal(err)
	}
	text := string(data)
	tables := map[string]reflect.Type{"": reflect.TypeFor[Config]()}
	for _, c := range component.All() {
		tables[c.Table()] = reflect.TypeOf(c.NewConfig()).Elem()
	}
	for table, typ := range tables {
		for _, key := range optionKeys(typ, nil) {
			if fixedKey(key) {
				continue
			}
			in := table
			if sharedTable(key) && strings.HasPrefix(table, "streams.") {
				// A stream's mapping and delete mark take the same keys as
				// every stream's: shown once, for the customers.
				in = "streams.customers"
			}
			if !exampleHas(text, in, key) {
				t.Errorf("config.example.toml does not show %s", strings.TrimPrefix(table+"."+strings.Join(key, "."), "."))
			}
		}
	}
}

// fixedKey: mapping keys the stream fixes (setting them is an error).
func fixedKey(key []string) bool {
	return len(key) == 2 && key[0] == "mapping" && (key[1] == "record" || key[1] == "entity")
}

// sharedTable: tables every stream has with the same keys.
func sharedTable(key []string) bool {
	return len(key) > 1 && (key[0] == "mapping" || key[0] == "delete_mark")
}

// optionKeys lists the keys of a settings type, a nested table's keys
// under its name; a map is one key (its entries are the user's).
func optionKeys(t reflect.Type, prefix []string) [][]string {
	var out [][]string
	for i := range t.NumField() {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		name := tomlName(f)
		if f.Anonymous && f.Type.Kind() == reflect.Struct {
			out = append(out, optionKeys(f.Type, prefix)...)
			continue
		}
		if name == "-" {
			continue
		}
		key := append(append([]string(nil), prefix...), name)
		if f.Type.Kind() == reflect.Struct && f.Type != reflect.TypeFor[Duration]() {
			out = append(out, optionKeys(f.Type, key)...)
			continue
		}
		out = append(out, key)
	}
	return out
}

// exampleHas reports whether text sets or comments key in table: as
// `key = …` (or `# key = …`) in the table's section, or as its own
// `[table.key]` header.
func exampleHas(text, table string, key []string) bool {
	full := strings.TrimPrefix(table+"."+strings.Join(key, "."), ".")
	if regexp.MustCompile(`(?m)^#?\s*\[` + regexp.QuoteMeta(full) + `\]`).MatchString(text) {
		return true
	}
	section := table
	if len(key) > 1 {
		section = strings.TrimPrefix(table+"."+strings.Join(key[:len(key)-1], "."), ".")
	}
	body := text
	if section != "" {
		h := regexp.MustCompile(`(?m)^#?\s*\[` + regexp.QuoteMeta(section) + `\]\s*$`).FindStringIndex(text)
		if h == nil {
			return false
		}
		body = text[h[1]:]
	}
	// The section runs to the next header that is not one of its own.
	if loc := regexp.MustCompile(`(?m)^#?\s*\[([^\]]+)\]`).FindAllStringSubmatchIndex(body, -1); loc != nil {
		for _, l := range loc {
			name := body[l[2]:l[3]]
			if section == "" || !strings.HasPrefix(name, section+".") {
				body = body[:l[0]]
				break
			}
		}
	}
	leaf := regexp.QuoteMeta(key[len(key)-1])
	return regexp.MustCompile(`(?m)^#?\s*(` + leaf + `|"` + leaf + `")\s*=`).MatchString(body)
}
