package mapping

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/pelletier/go-toml/v2"
	"github.com/shopspring/decimal"
)

var update = flag.Bool("update", false, "rewrite the expected.json files of testdata/golden")

// goldenRecord is one entry of record.json. Values are typed by a small convention:
//
//	"text"                      string
//	null, true, false           nil, bool
//	{"decimal": "1500.10"}      decimal.Decimal
//	{"int": 42}                 int64
//	{"date": "2024-01-15"}      time.Time, UTC midnight (how the drivers hand out Protheus dates)
//	{"time": "2024-01-15T10:00:00Z"}
//	{"latin1": "SÃO PAULO"}     the text encoded as ISO-8859-1 bytes, as a Latin-1 database returns it
//
// A bare JSON number is refused: say which Go type it is.
//
// "invalid" lists the columns the source could not read, each with what is wrong with it (see
// ApplyInvalid); their value in "record" is null.
type goldenRecord struct {
	Key     string                     `json:"key"`
	Record  map[string]json.RawMessage `json:"record"`
	Invalid map[string]string          `json:"invalid,omitempty"`
}

type goldenResult struct {
	Key         string         `json:"key"`
	Payload     map[string]any `json:"payload"`
	Errors      []string       `json:"errors"`
	Warnings    []string       `json:"warnings,omitempty"`
	Fingerprint string         `json:"fingerprint"`
}

func decodeGoldenValue(raw json.RawMessage) (any, error) {
	var v any
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	switch x := v.(type) {
	case nil, string, bool:
		return x, nil
	case json.Number:
		return nil, fmt.Errorf("bare number %s: write {\"decimal\": \"%s\"} or {\"int\": %s}", x, x, x)
	case map[string]any:
		if len(x) != 1 {
			return nil, fmt.Errorf("typed value %s: want exactly one key", raw)
		}
		for typ, val := range x {
			s := fmt.Sprint(val)
			switch typ {
			case "decimal":
				return decimal.NewFromString(s)
			case "int":
				n, err := val.(json.Number).Int64()
				return n, err
			case "date":
				return time.Parse("2006-01-02", s)
			case "time":
				return time.Parse(time.RFC3339, s)
			case "latin1":
				b := make([]byte, 0, len(s))
				for _, r := range s {
					if r > 0xFF {
						return nil, fmt.Errorf("latin1 %q: %q is not in ISO-8859-1", s, r)
					}
					b = append(b, byte(r))
				}
				return string(b), nil
			}
			return nil, fmt.Errorf("unknown value type %q", typ)
		}
	}
	return nil, fmt.Errorf("value %s: want text, null, a boolean or a typed object", raw)
}

func readSpec(t *testing.T, path string) Spec {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var spec Spec
	dec := toml.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&spec); err != nil {
		t.Fatalf("decoding %s: %v", path, err)
	}
	return spec
}

// TestGolden maps every testdata/golden/<case>/record.json with the case's spec.toml (and its
// catalog.json, when there is one) and compares with expected.json. go test ./mapping -update
// rewrites the expected files.
func TestGolden(t *testing.T) {
	dirs, err := filepath.Glob(filepath.Join("testdata", "golden", "*"))
	if err != nil || len(dirs) == 0 {
		t.Fatalf("no golden cases: %v", err)
	}
	for _, dir := range dirs {
		t.Run(filepath.Base(dir), func(t *testing.T) {
			spec := readSpec(t, filepath.Join(dir, "spec.toml"))
			var catalog CustomFieldCatalog
			if b, err := os.ReadFile(filepath.Join(dir, "catalog.json")); err == nil {
				if err := json.Unmarshal(b, &catalog); err != nil {
					t.Fatalf("catalog.json: %v", err)
				}
			}
			m, err := compile(spec, catalog)
			if err != nil {
				t.Fatal(err)
			}
			b, err := os.ReadFile(filepath.Join(dir, "record.json"))
			if err != nil {
				t.Fatal(err)
			}
			var records []goldenRecord
			if err := json.Unmarshal(b, &records); err != nil {
				t.Fatalf("record.json: %v", err)
			}
			results := make([]goldenResult, 0, len(records))
			for _, r := range records {
				rec := make(map[string]any, len(r.Record))
				for col, raw := range r.Record {
					if rec[col], err = decodeGoldenValue(raw); err != nil {
						t.Fatalf("record.json %s %s: %v", r.Key, col, err)
					}
				}
				res, err := m.ApplyInvalid(r.Key, rec, r.Invalid)
				if err != nil {
					t.Fatal(err)
				}
				errs := errorStrings(res)
				if errs == nil {
					errs = []string{}
				}
				var warnings []string
				for _, w := range res.Warnings {
					warnings = append(warnings, w.Error())
				}
				results = append(results, goldenResult{Key: r.Key, Payload: res.Payload, Errors: errs, Warnings: warnings, Fingerprint: res.Fingerprint})
			}
			var got bytes.Buffer
			enc := json.NewEncoder(&got)
			enc.SetEscapeHTML(false)
			enc.SetIndent("", "  ")
			if err := enc.Encode(results); err != nil {
				t.Fatal(err)
			}
			path := filepath.Join(dir, "expected.json")
			if *update {
				if err := os.WriteFile(path, got.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run go test ./mapping -update to create it)", err)
			}
			if diff := cmp.Diff(string(want), got.String()); diff != "" {
				t.Errorf("%s (-want +got):\n%s", path, diff)
			}
		})
	}
}
