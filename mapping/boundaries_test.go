package mapping

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/shopspring/decimal"
)

// The limits of an e-mail address a CRM takes, each at its edge.
func TestValidEmailAtItsLimits(t *testing.T) {
	label63 := strings.Repeat("a", 63)
	long254 := strings.Repeat("a", 64) + "@" + label63 + "." + label63 + "." + strings.Repeat("b", 57) + ".com" // 254
	for _, tc := range []struct {
		email string
		valid bool
	}{
		{"a@b.co", true},
		{"@b.co", false},
		{strings.Repeat("a", 64) + "@b.co", true},
		{strings.Repeat("a", 65) + "@b.co", false},
		{long254, true},
		{"a" + long254, false},
		{"a@" + label63 + ".com", true},
		{"a@" + label63 + "b.com", false},
		{"a@b-c.com", true},
		{"a@-b.com", false},
		{"a@b-.com", false},
		{"a@b..com", false},
		{"a@com", false},
		{"a@b.c", false},
		{"a@b.c0", false},
		// Letters and digits at the edges of their ranges.
		{"09azAZ@09azAZ.azAZ", true},
		{"a@b.za", true},
		{"a@b.AZ", true},
		{"a@b.z@", false},
		{"a@b.a{", false},
		{"a@b.`a", false},
		{"a@b.Z[", false},
		{"a@b.@A", false},
		{"a/b@c.com", true},
		{"a:b@c.com", false},
		{"a@b_c.com", false},
		{"a@b/c.com", false},
		{"a@b:c.com", false},
		{"a@b@c.com", false},
		{".a@b.com", false},
		{"a.@b.com", false},
		{"a..b@c.com", false},
		{"a.b@c.com", true},
	} {
		if got := ValidEmail(tc.email); got != tc.valid {
			t.Errorf("ValidEmail(%q) = %v, want %v", tc.email, got, tc.valid)
		}
	}
}

// Lengths an expression gives truncate() are whole numbers from 0 to 2^20.
func TestTruncateLengths(t *testing.T) {
	rec := map[string]any{"S": "ABCDEF"}
	for _, tc := range []struct {
		src, want, wantErr string
	}{
		{"truncate(S, 0)", "", ""},
		{"truncate(S, 6)", "ABCDEF", ""},
		{"truncate(S, 5)", "ABCDE", ""},
		{"truncate(S, 1048576)", "ABCDEF", ""},
		{"truncate(S, 1048577)", "", "is not a length"},
		{"truncate(S, -1)", "", "is not a length"},
		{"truncate(S, 1.5)", "", "is not a length"},
	} {
		prog, _, err := compileExpr(tc.src, false, nil)
		if err != nil {
			t.Fatal(err)
		}
		got, err := run(prog, rec)
		switch {
		case tc.wantErr != "":
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("%s = %v, %v; want an error containing %q", tc.src, got, err, tc.wantErr)
			}
		case err != nil || got != tc.want:
			t.Errorf("%s = %v, %v; want %q", tc.src, got, err, tc.want)
		}
	}
}

// Text compares with text in expressions, each operator at equality.
func TestTextComparisons(t *testing.T) {
	rec := map[string]any{"A": "b", "B": "b", "C": "c"}
	for src, want := range map[string]bool{
		"A < B": false, "A <= B": true, "A > B": false, "A >= B": true,
		"A < C": true, "C > A": true, "C <= A": false, "A >= C": false,
	} {
		prog, _, err := compileExpr(src, true, nil)
		if err != nil {
			t.Fatal(err)
		}
		if got, err := run(prog, rec); err != nil || got != want {
			t.Errorf("%s = %v, %v; want %v", src, got, err, want)
		}
	}
}

// A number written as text is at most 64 characters.
func TestNumbersAsTextAreAtMost64Characters(t *testing.T) {
	if d, ok, err := toDecimal(strings.Repeat("9", 64)); err != nil || !ok || len(d.String()) != 64 {
		t.Errorf("a 64-digit number: %v, %v, %v", d, ok, err)
	}
	if _, _, err := toDecimal(strings.Repeat("9", 65)); err == nil {
		t.Error("a 65-digit number was taken")
	}
}

// How values read as text: floats in their shortest form, times as dates
// at midnight and as RFC 3339 otherwise.
func TestValuesAsText(t *testing.T) {
	day := time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		v    any
		want string
	}{
		{1.25, "1.25"},
		{float64(3), "3"},
		{day, "2024-03-01"},
		{day.Add(time.Hour), "2024-03-01T01:00:00Z"},
		{day.Add(time.Minute), "2024-03-01T00:01:00Z"},
		{day.Add(time.Second), "2024-03-01T00:00:01Z"},
		{day.Add(time.Millisecond), "2024-03-01T00:00:00Z"},
		{time.Time{}, ""},
	} {
		if got := toText(tc.v); got != tc.want {
			t.Errorf("toText(%v) = %q, want %q", tc.v, got, tc.want)
		}
	}
	// A value quoted in an error message keeps up to 80 characters.
	if s := strings.Repeat("x", 80); truncateForMessage(s) != s {
		t.Error("an 80-character value was cut in a message")
	}
	if got := truncateForMessage(strings.Repeat("x", 81)); got != strings.Repeat("x", 77)+"..." {
		t.Errorf("an 81-character value in a message: %q", got)
	}
}

// Text fields take 2 characters or more; lists of text drop blanks and
// repeats, and refuse an element too short; a configured limit of 2 is
// honoured; values of an unknown kind go as numbers when they are numbers.
func TestShapingAtItsLimits(t *testing.T) {
	for _, tc := range []struct {
		name    string
		k       kind
		limit   int
		v       any
		want    any
		wantErr string
	}{
		{"two characters", kindText, 255, "AB", "AB", ""},
		{"one character", kindText, 255, "A", nil, "too short"},
		{"a list", kindTextList, 255, []any{"Loja", " ", "Online", "Loja"}, []string{"Loja", "Online"}, ""},
		{"an empty list", kindTextList, 255, []any{"", " "}, nil, ""},
		{"a list with a short element", kindTextList, 255, []any{"Loja", "X"}, nil, "too short"},
		{"auto: a decimal", kindAuto, 255, decimal.RequireFromString("12.50"), json.Number("12.5"), ""},
		{"auto: text that reads as a number stays text", kindAuto, 255, "0012", "0012", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := shapeValue(tc.k, tc.limit, false, tc.v)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("= %v, %v; want an error containing %q", got, err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}

	m := mustCompile(t, Spec{Version: "1", Record: "customer", Entity: EntityOrganization,
		Fields: map[string]string{"name": "A1_NOME", "address": "A1_END"}, Limits: map[string]int{"address": 2}})
	if got := apply(t, m, "k", map[string]any{"A1_NOME": "ACME", "A1_END": "RUA"}).Payload["address"]; got != "RU" {
		t.Errorf("address with a limit of 2 = %v, want RU", got)
	}
}

// A unique-name suffix may take half a name, and may start with a column.
func TestUniqueNameSuffixes(t *testing.T) {
	half := strings.Repeat("x", defaultLimit/2-len("{A1_LOJA}")) + "{A1_LOJA}"
	for _, tc := range []struct {
		suffix, want, wantErr string
	}{
		{"{A1_LOJA}", "ACME02", ""},
		{" {A1_COD}/{A1_LOJA}", "ACME 000001/02", ""},
		{half, "ACME" + strings.Repeat("x", defaultLimit/2-len("{A1_LOJA}")) + "02", ""},
		{"x" + half, "", "too long to fit in a name"},
	} {
		m, err := compile(Spec{Version: "1", Record: "customer", Entity: EntityOrganization,
			Fields: map[string]string{"name": "A1_NOME"}, UniqueName: UniqueName{Suffix: tc.suffix}}, testCatalog)
		if tc.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("suffix %q: %v; want an error containing %q", tc.suffix, err, tc.wantErr)
			}
			continue
		}
		if err != nil {
			t.Fatalf("suffix %q: %v", tc.suffix, err)
		}
		res := apply(t, m, "k", map[string]any{"A1_NOME": "ACME", "A1_COD": "000001", "A1_LOJA": "02"})
		if got := res.Payload["name"]; got != tc.want {
			t.Errorf("suffix %q: name %q, want %q", tc.suffix, got, tc.want)
		}
	}
}
