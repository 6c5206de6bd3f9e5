package mapping

import (
	"bytes"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/pelletier/go-toml/v2"
	"github.com/shopspring/decimal"
)

// fuzzRecord holds a value of every type the ERP drivers hand out, and some they should not.
func fuzzRecord() map[string]any {
	return map[string]any{
		"A1_NOME": "ACME LTDA", "A1_COD": "000001", "A1_LOJA": "01", "A1_CGC": "11222333000181",
		"A1_EMAIL": "a@x.com;b@@y", "A1_LATIN": "S\xc3O", "A1_NIL": nil, "A1_EMPTY": "",
		"A1_LC": decimal.RequireFromString("1500.10"), "A1_INT": int64(-3), "A1_BOOL": true,
		"A1_DATE": time.Date(2024, 1, 15, 0, 0, 0, 0, time.UTC), "A1_FLOAT": 0.1,
		"A1_CTRL": "A\x00\x01\u202eB\u0085\r\nC",
	}
}

// checkClean fails when a text of payload (at any depth) holds a character CleanText removes.
func checkClean(t *testing.T, what string, v any) {
	t.Helper()
	switch x := v.(type) {
	case string:
		if _, dirty := CleanText(x); dirty {
			t.Fatalf("%s: %q holds a control or bidi character", what, x)
		}
	case []string:
		for _, e := range x {
			checkClean(t, what, e)
		}
	case []any:
		for _, e := range x {
			checkClean(t, what, e)
		}
	case []map[string]any:
		for _, e := range x {
			checkClean(t, what, e)
		}
	case map[string]any:
		for _, e := range x {
			checkClean(t, what, e)
		}
	}
}

// FuzzCompileExpression: an arbitrary expression, wherever it is used, never panics Compile or
// Apply, and Apply never fails on anything but the record's own values.
func FuzzCompileExpression(f *testing.F) {
	for _, seed := range []string{
		"A1_NOME", "emails(A1_EMAIL)", "phone(A1_DDD, A1_TEL)", "join(' - ', A1_NOME, A1_NIL, A1_LC)",
		"cnpj(A1_CGC)", "doc(A1_NIL)", "money(A1_LC)", "date(A1_DATE, 'DD/MM/YYYY')", "A1_LC + 1",
		"A1_NOME[99]", "[1, 2][A1_INT]", "{phone: A1_NOME}", "[A1_NOME, {a: 1}]", "1/0", "A1_INT / 0",
		"truncate(A1_NOME, A1_INT)", "let x = A1_NOME; x + x", "A1_BOOL ? A1_DATE : A1_LC", "1..5",
		"repeat('ab', 1000)", "map(1..3, # * 2)", "$env", "$env.A1_NOME", "nil", "A1_FLOAT", "toJSON($env)",
		"emails(", "(((", "\"\\u00\"", "'\xff'", "A1_LATIN", "upper(A1_LATIN)", "sum(1..10)", "A1_MISSING",
		"now()", "date('x', 1)", "coalesce()", "ifempty(A1_NIL, [A1_NOME])", "A1_CTRL", "'\x01\u202e' + A1_CTRL",
		"[A1_CTRL, {phone: A1_CTRL, type: A1_CTRL}]",
	} {
		f.Add(seed)
	}
	catalog := CustomFieldCatalog{
		"T": {ID: "t", Type: TypeText}, "O": {ID: "o", Type: TypeOption, Options: []string{"A", "B"}},
		"M": {ID: "m", Type: TypeMultipleChoice, Options: []string{"A", "B"}}, "D": {ID: "d", Type: TypeDate},
	}
	f.Fuzz(func(t *testing.T, src string) {
		specs := []Spec{
			{Version: "1", Entity: EntityContact, Fields: map[string]string{"name": src, "emails": src, "phones": src, "birthday": src}},
			{Version: "1", Entity: EntityProduct, Fields: map[string]string{"name": "A1_NOME", "base_price": src, "visible": src},
				UniqueName: UniqueName{Suffix: "{A1_COD}", When: src}},
			{Version: "1", Fields: map[string]string{"anything": src},
				CustomFields: map[string]string{"T": src, "O": src, "M": src, "D": src}},
		}
		for _, spec := range specs {
			m, err := compile(spec, catalog)
			if err != nil {
				continue
			}
			res, err := m.Apply("k", fuzzRecord())
			if err != nil {
				t.Fatalf("Apply(%q) failed: %v", src, err)
			}
			for _, e := range append(res.Errors, res.Warnings...) {
				if e.Msg == "" || e.Key != "k" || e.Field == "" {
					t.Fatalf("Apply(%q): incomplete field error %#v", src, e)
				}
			}
			checkClean(t, "Apply("+src+")", res.Payload)
			if res.Fingerprint == "" {
				t.Fatalf("Apply(%q): no fingerprint", src)
			}
		}
	})
}

// FuzzTransforms: the Brazilian transforms never panic on arbitrary input and are idempotent:
// feeding a result back gives the same result.
func FuzzTransforms(f *testing.F) {
	for _, seed := range [][2]string{
		{"", "11222333000181"}, {"011", "98765-4321"}, {"", "12.abc.345/01de-35"}, {"11", "52998224725   "},
		{"", "+55 (31) 3333-4444"}, {"0", "0800 727 1234"}, {"", "a@x.com; B@Y.com.br,c@z"}, {"\xff", "S\xc3O"},
		{"55", "5555555555555"}, {"", "000000000000"}, {"", "<a@b.co>"}, {"", "mailto:x@y.com"},
	} {
		f.Add(seed[0], seed[1])
	}
	f.Fuzz(func(t *testing.T, a, s string) {
		for name, fn := range map[string]func(string) (string, error){"CNPJ": CNPJ, "CPF": CPF, "Document": Document} {
			out, err := fn(s)
			if err != nil {
				continue
			}
			if again, err := fn(out); err != nil || again != out {
				t.Fatalf("%s(%q) = %q, then %q, %v", name, s, out, again, err)
			}
		}
		p := Phone(a, s)
		if Phone("", p) != p || Phone(a, p) != p || p != Digits(p) {
			t.Fatalf("Phone(%q, %q) = %q is not stable: %q, %q", a, s, p, Phone("", p), Phone(a, p))
		}
		if intl := PhoneIntl(a, s); intl != p && (intl != "+55"+p || PhoneIntl("", intl) != intl) {
			t.Fatalf("PhoneIntl(%q, %q) = %q (Phone %q)", a, s, intl, p)
		}
		list, _ := Emails(s)
		again, err := Emails(strings.Join(list, ";"))
		if err != nil || strings.Join(again, ";") != strings.Join(list, ";") {
			t.Fatalf("Emails(%q) = %q, then %q, %v", s, list, again, err)
		}
		if e := Email(s); e != "" && !ValidEmail(e) {
			t.Fatalf("Email(%q) = %q is not valid", s, e)
		}
		if out, _ := EnsureUTF8(s); !utf8.ValidString(out) {
			t.Fatalf("EnsureUTF8(%q) = %q is not UTF-8", s, out)
		}
		if tr := Truncate(s, 5); utf8.ValidString(s) && utf8.RuneCountInString(tr) > 5 {
			t.Fatalf("Truncate(%q, 5) = %q", s, tr)
		}
		if c, _ := CleanText(s); strings.IndexFunc(c, invisible) >= 0 {
			t.Fatalf("CleanText(%q) = %q still holds a control character", s, c)
		} else if again, dirty := CleanText(c); dirty || again != c {
			t.Fatalf("CleanText(%q) = %q, then %q", s, c, again)
		}
		_ = Title(s)
		_ = CEP(s)
		_, _ = Money(s)
		_, _, _ = ParseDate(s)
		_, _ = FormatDate(s, a)
	})
}

// FuzzSpecTOML: an arbitrary mapping config, decoded as the config package does (strict TOML),
// never panics Compile or Apply.
func FuzzSpecTOML(f *testing.F) {
	f.Add([]byte("version = \"1\"\nentity = \"organization\"\n[fields]\nname = \"A1_NOME\"\n[custom_fields]\nCNPJ = \"doc(A1_CGC)\"\n[unique_name]\nsuffix = \" ({A1_COD}/{A1_LOJA})\"\n"))
	f.Add([]byte("version = \"2\"\nentity = \"product\"\ninvalid_utf8 = \"reject\"\n[fields]\nname = \"A1_LATIN\"\n[limits]\nname = 2\n"))
	f.Add([]byte("version = \"1\"\n[fields]\nname = \"A1_NOME\"\n[unique_name]\nsuffix = \"{\"\nwhen = \"A1_LOJA != '01'\"\n"))
	f.Add([]byte("[fields]\nname = 1\n"))
	f.Add([]byte("version = \"1\"\n[fields]\n\"\" = \"\"\n[limits]\nx = -1\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		var spec Spec
		dec := toml.NewDecoder(bytes.NewReader(data))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&spec); err != nil {
			return
		}
		m, err := compile(spec, testCatalog)
		if err != nil {
			return
		}
		if _, err := m.Apply("k", fuzzRecord()); err != nil {
			t.Fatalf("Apply failed: %v", err)
		}
	})
}
