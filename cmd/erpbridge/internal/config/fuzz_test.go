package config

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"
	"unicode/utf16"

	"github.com/pelletier/go-toml/v2"

	"github.com/erpbridge/erpbridge/bridge/component"
	_ "github.com/erpbridge/erpbridge/cmd/erpbridge/internal/components"
)

// FuzzParse feeds Parse and Validate arbitrary text and checks what can be
// checked of any input (see checkConfigText). Its seeds run in every test
// run; TestConfigTextProperties pins which property each seed reaches.
func FuzzParse(f *testing.F) {
	for _, tc := range configTextCases(f) {
		f.Add(tc.data)
	}
	f.Fuzz(func(t *testing.T, data []byte) { checkConfigText(t, data) })
}

// TestConfigTextProperties runs the fuzz target's checks on known texts and
// asserts which outcome each reaches, so every property is exercised by a
// plain go test.
func TestConfigTextProperties(t *testing.T) {
	for _, tc := range configTextCases(t) {
		t.Run(tc.name, func(t *testing.T) {
			if got := checkConfigText(t, tc.data); got != tc.want {
				t.Errorf("outcome %q, want %q", got, tc.want)
			}
		})
	}
}

// Outcomes of checkConfigText.
const (
	parseFails    = "Parse fails"
	validateFails = "Validate fails"
	roundTrips    = "valid, round-trips"
)

type configTextCase struct {
	name string
	data []byte
	want string
}

func configTextCases(tb testing.TB) []configTextCase {
	example, err := os.ReadFile(filepath.Join("..", "..", "..", "..", "config.example.toml"))
	if err != nil {
		tb.Fatal(err)
	}
	utf16le := func(s string) []byte {
		b := []byte{0xFF, 0xFE}
		for _, u := range utf16.Encode([]rune(s)) {
			b = append(b, byte(u), byte(u>>8))
		}
		return b
	}
	return []configTextCase{
		{"minimal", []byte(minimal), roundTrips},
		{"config.example.toml", example, roundTrips},
		{"a mapping table", []byte(minimal + "[streams.customers]\nmode = \"upsert\"\n[streams.customers.mapping.fields]\nname = \"A1_NOME\"\n"), roundTrips},
		{"a literal ${", []byte("data_dir = '$${X}'\n" + minimal), roundTrips},
		{"a UTF-8 byte order mark", append([]byte{0xEF, 0xBB, 0xBF}, minimal...), roundTrips},
		{"no token", []byte("data_dir = '${X}'\n"), validateFails},
		{"a bad schedule", []byte(minimal + "\n[schedule]\nincremental = \"* * *\"\n"), validateFails},
		{"a syntax error", []byte("[crm\n"), parseFails},
		{"a duration without unit", []byte(minimal + "overlap = 30\n"), parseFails},
		{"an unknown key", []byte(minimal + "frobnicate = 1\n"), parseFails},
		{"UTF-16", utf16le(minimal), parseFails},
	}
}

// checkConfigText checks what can be checked of any configuration text:
// nothing panics; every error of Parse and Validate names a line or a key
// (a UTF-16 file, a whole-file problem, says so instead); and a
// configuration that validates, written back as TOML, parses to the same
// configuration, which validates again. It returns the outcome.
func checkConfigText(t *testing.T, data []byte) string {
	t.Helper()
	lookup := env(map[string]string{"TOKEN": "t", "X": "x", "RDSTATION_CRM_TOKEN": "t"})
	cfg, err := Parse(data, lookup)
	if err != nil {
		checkNamesKeyOrLine(t, "Parse", err, true)
		return parseFails
	}
	if err := cfg.Validate(); err != nil {
		var joined interface{ Unwrap() []error }
		if !errors.As(err, &joined) {
			checkNamesKeyOrLine(t, "Validate", err, false)
			return validateFails
		}
		for _, e := range joined.Unwrap() {
			checkNamesKeyOrLine(t, "Validate", e, false)
		}
		return validateFails
	}
	text := marshalConfig(t, cfg)
	again, err := Parse(text, lookup)
	if err != nil {
		t.Fatalf("a valid configuration written back does not parse: %v\n%s", err, text)
	}
	if err := again.Validate(); err != nil {
		t.Fatalf("a valid configuration written back does not validate: %v\n%s", err, text)
	}
	if back := marshalConfig(t, again); !bytes.Equal(back, text) {
		t.Fatalf("a valid configuration changed when written back and read again:\n%s\n---\n%s", text, back)
	}
	return roundTrips
}

// marshalConfig writes cfg as TOML a user could have written: the core
// keys and each component's table at its place, without the keys Parse
// fixes itself (a mapping's record and entity), a literal "${" escaped as
// "$${".
func marshalConfig(t *testing.T, cfg *Config) []byte {
	t.Helper()
	raw := tomlTable(t, cfg)
	for _, comp := range component.All() {
		settings, ok := cfg.Component(comp.Name())
		if !ok {
			continue
		}
		table := tomlTable(t, settings)
		if m, ok := table["mapping"].(map[string]any); ok {
			delete(m, "record")
			delete(m, "entity")
		}
		// [erp] company and companies are two forms of one setting: a file
		// sets one (both is refused), so write the one in use.
		if cs, ok := table["companies"].([]any); ok && comp.Table() == "erp" {
			if len(cs) > 0 {
				delete(table, "company")
			} else {
				delete(table, "companies")
			}
		}
		path := strings.Split(comp.Table(), ".")
		into := raw
		for _, part := range path[:len(path)-1] {
			next, ok := into[part].(map[string]any)
			if !ok {
				next = map[string]any{}
				into[part] = next
			}
			into = next
		}
		into[path[len(path)-1]] = table
	}
	b, err := toml.Marshal(raw)
	if err != nil {
		t.Fatalf("writing a valid configuration as TOML: %v", err)
	}
	return bytes.ReplaceAll(b, []byte("${"), []byte("$${"))
}

// tomlTable is v written as TOML and read back as a table.
func tomlTable(t *testing.T, v any) map[string]any {
	t.Helper()
	b, err := toml.Marshal(v)
	if err != nil {
		t.Fatalf("writing a valid configuration as TOML: %v", err)
	}
	var raw map[string]any
	if err := toml.Unmarshal(b, &raw); err != nil {
		t.Fatalf("reading back a valid configuration written as TOML: %v\n%s", err, b)
	}
	return raw
}

// topKeys are the configuration's top-level keys (the core's and the first
// part of every component's table), which every key an error names starts
// with.
func topKeys() string {
	var keys []string
	t := reflect.TypeFor[Config]()
	for i := range t.NumField() {
		if f := t.Field(i); f.IsExported() {
			keys = append(keys, regexp.QuoteMeta(tomlName(f)))
		}
	}
	for _, comp := range component.All() {
		top, _, _ := strings.Cut(comp.Table(), ".")
		if !slices.Contains(keys, regexp.QuoteMeta(top)) {
			keys = append(keys, regexp.QuoteMeta(top))
		}
	}
	return strings.Join(keys, "|")
}

var (
	// namesLine: "line 12: …".
	namesLine = regexp.MustCompile(`(^|: )line [1-9][0-9]*: `)
	// namesKey: `key "crm.token": …` (Parse) or "crm.token: …" (Validate),
	// after the line when there is one.
	namesKey = regexp.MustCompile(`(^|: )(key "(` + topKeys() + `)([."][^"]*)?"|(` + topKeys() + `)(\.[^ :]+)?:)`)
)

// checkNamesKeyOrLine fails unless err names a line or a key (or, from
// Parse, says the whole file is UTF-16).
func checkNamesKeyOrLine(t *testing.T, what string, err error, parse bool) {
	t.Helper()
	msg := err.Error()
	if parse && strings.HasPrefix(msg, "the file is UTF-16") {
		return
	}
	if namesLine.MatchString(msg) || namesKey.MatchString(msg) {
		return
	}
	t.Errorf("%s error names neither a line nor a key: %q", what, msg)
}
