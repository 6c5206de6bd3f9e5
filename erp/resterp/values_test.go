package resterp

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/shopspring/decimal"

	"github.com/erpbridge/erpbridge/erp"
	"github.com/erpbridge/erpbridge/erp/sqlerp"
)

func decode(t *testing.T, s string) any {
	t.Helper()
	dec := json.NewDecoder(strings.NewReader(s))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		t.Fatal(err)
	}
	return v
}

var cmpDecimal = cmp.Comparer(func(a, b decimal.Decimal) bool { return a.Equal(b) })

func TestConvert(t *testing.T) {
	day := time.Date(2024, 1, 2, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		name string
		f    FieldSpec
		json string
		want erp.Value
		err  bool
	}{
		{"char right-trimmed", FieldSpec{Kind: sqlerp.KindChar}, `"000001  "`, "000001", false},
		{"char keeps leading blanks", FieldSpec{Kind: sqlerp.KindChar}, `"  x "`, "  x", false},
		{"char from a number", FieldSpec{Kind: sqlerp.KindChar}, `123`, "123", false},
		{"null is nil", FieldSpec{Kind: sqlerp.KindChar}, `null`, nil, false},
		{"number exact, no float drift", FieldSpec{Kind: sqlerp.KindNumber, Decimals: 2}, `0.30`, decimal.RequireFromString("0.3"), false},
		{"number rounded to decimals", FieldSpec{Kind: sqlerp.KindNumber, Decimals: 2}, `1000.3000000000001`, decimal.RequireFromString("1000.3"), false},
		{"big number exact", FieldSpec{Kind: sqlerp.KindNumber, Decimals: 2}, `12345678901234.56`, decimal.RequireFromString("12345678901234.56"), false},
		{"number as text", FieldSpec{Kind: sqlerp.KindNumber, Decimals: 2}, `"  12.5 "`, decimal.RequireFromString("12.5"), false},
		{"blank number is zero", FieldSpec{Kind: sqlerp.KindNumber}, `""`, decimal.Zero, false},
		{"int", FieldSpec{Kind: sqlerp.KindInt}, `42`, int64(42), false},
		{"date YYYYMMDD", FieldSpec{Kind: sqlerp.KindDate}, `"20240102"`, day, false},
		{"date ISO", FieldSpec{Kind: sqlerp.KindDate}, `"2024-01-02T10:00:00Z"`, day, false},
		{"blank date nil", FieldSpec{Kind: sqlerp.KindDate}, `"        "`, nil, false},
		{"invalid date refused", FieldSpec{Kind: sqlerp.KindDate}, `"20230231"`, nil, true},
		{"invalid ISO date refused", FieldSpec{Kind: sqlerp.KindDate}, `"2023-02-31"`, nil, true},
		{"garbage date refused", FieldSpec{Kind: sqlerp.KindDate}, `"amanhã"`, nil, true},
		{"number NaN refused", FieldSpec{Kind: sqlerp.KindNumber}, `"NaN"`, nil, true},
		{"number Infinity refused", FieldSpec{Kind: sqlerp.KindNumber}, `"Infinity"`, nil, true},
		{"huge exponent refused", FieldSpec{Kind: sqlerp.KindNumber, Decimals: 2}, `1e999999999`, nil, true},
		{"date as a number", FieldSpec{Kind: sqlerp.KindDate}, `20240102`, day, false},
		{"bool S", FieldSpec{Kind: sqlerp.KindBool}, `"S"`, true, false},
		{"bool JSON false", FieldSpec{Kind: sqlerp.KindBool}, `false`, false, false},
		{"bool blank nil", FieldSpec{Kind: sqlerp.KindBool}, `" "`, nil, false},
		{"bool nonsense", FieldSpec{Kind: sqlerp.KindBool}, `"maybe"`, nil, true},
		{"number nonsense", FieldSpec{Kind: sqlerp.KindNumber}, `"12,5"`, nil, true},
		{"object refused", FieldSpec{Kind: sqlerp.KindChar}, `{"a":1}`, nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.f.Name = "F"
			got, bad := convert(tt.f, decode(t, tt.json))
			if (bad != nil) != tt.err {
				t.Fatalf("bad value = %v, want one: %v", bad, tt.err)
			}
			if bad != nil && (bad.Column != "F" || bad.Reason == "" || !strings.Contains(bad.Error(), "F")) {
				t.Errorf("bad value %+v does not name the column and what is wrong", *bad)
			}
			if diff := cmp.Diff(tt.want, got, cmpDecimal); diff != "" {
				t.Errorf("value (-want +got):\n%s", diff)
			}
		})
	}
}

func TestInferred(t *testing.T) {
	tests := []struct {
		json string
		want erp.Value
		ok   bool
	}{
		{`"ACME  "`, "ACME", true},
		{`10.10`, decimal.RequireFromString("10.1"), true},
		{`true`, true, true},
		{`null`, nil, true},
		{`[1]`, nil, false},
		{`{"a":1}`, nil, false},
	}
	for _, tt := range tests {
		got, ok := inferred(decode(t, tt.json))
		if ok != tt.ok || !cmp.Equal(tt.want, got, cmpDecimal) {
			t.Errorf("inferred(%s) = %v, %v; want %v, %v", tt.json, got, ok, tt.want, tt.ok)
		}
	}
}

func TestJSONPath(t *testing.T) {
	body := decode(t, `{"hasNext":true,"data":{"items":[{"code":"1","address":{"city":"SP"}}]},"n":null}`)
	tests := []struct {
		path string
		want any
		ok   bool
	}{
		{"hasNext", true, true},
		{"data.items.0.code", "1", true},
		{"data.items.0.address.city", "SP", true},
		{"data.items.1", nil, false},
		{"data.items.x", nil, false},
		{"n", nil, true},
		{"n.deeper", nil, false},
		{"missing", nil, false},
		{"hasNext.deeper", nil, false},
	}
	for _, tt := range tests {
		got, ok := jsonPath(body, tt.path)
		if ok != tt.ok || !cmp.Equal(tt.want, got) {
			t.Errorf("jsonPath(%q) = %v, %v; want %v, %v", tt.path, got, ok, tt.want, tt.ok)
		}
	}
	if got, ok := jsonPath(body, ""); !ok || !cmp.Equal(got, body) {
		t.Errorf("empty path should be the body itself")
	}
}

func TestParseStamp(t *testing.T) {
	want := time.Date(2024, 1, 2, 3, 4, 5, 123000000, time.UTC)
	tests := []struct {
		json string
		want *time.Time
		err  bool
	}{
		{`"2024-01-02T03:04:05.123Z"`, &want, false},
		{`"2024-01-02T00:04:05.123-03:00"`, &want, false},
		{`"2024-01-02T03:04:05.123"`, &want, false},
		{`"2024-01-02 03:04:05.123"`, &want, false},
		{`1704164645123`, &want, false},
		{`null`, nil, false},
		{`"  "`, nil, false},
		{`"yesterday"`, nil, true},
		{`true`, nil, true},
	}
	for _, tt := range tests {
		got, err := parseStamp(decode(t, tt.json))
		if (err != nil) != tt.err || !cmp.Equal(tt.want, got) {
			t.Errorf("parseStamp(%s) = %v, %v; want %v, error %v", tt.json, got, err, tt.want, tt.err)
		}
	}
}

func TestRouteSpecValidation(t *testing.T) {
	ok := RouteSpec{BaseURL: "http://127.0.0.1:1/rest", Path: "/customers", KeyFields: []string{"code"}}
	tests := []struct {
		name   string
		change func(*RouteSpec)
		want   string // "" = valid
	}{
		{"valid", func(*RouteSpec) {}, ""},
		{"credentials in URL", func(s *RouteSpec) { s.BaseURL = "http://admin:s3cret@127.0.0.1/rest" }, "credentials belong in auth"},
		{"not http", func(s *RouteSpec) { s.BaseURL = "ftp://127.0.0.1" }, "want http"},
		{"no path", func(s *RouteSpec) { s.Path = "" }, "no path"},
		{"no key", func(s *RouteSpec) { s.KeyFields = nil }, "no key fields"},
		{"user and token", func(s *RouteSpec) { s.Auth = Auth{User: "u", Token: "t"} }, "not both"},
		{"unknown kind", func(s *RouteSpec) { s.Fields = []FieldSpec{{Name: "x", Kind: "money"}} }, "unknown kind"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			spec := ok
			spec.KeyFields = append([]string(nil), ok.KeyFields...)
			tt.change(&spec)
			_, err := NewSource(spec)
			if tt.want == "" {
				if err != nil {
					t.Fatalf("NewSource: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("NewSource error = %v, want one containing %q", err, tt.want)
			}
			if strings.Contains(err.Error(), "s3cret") {
				t.Errorf("error leaks the password: %v", err)
			}
		})
	}
}
