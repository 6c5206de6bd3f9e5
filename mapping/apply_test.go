package mapping

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/shopspring/decimal"
)

func mustCompile(t *testing.T, spec Spec) *Mapping {
	t.Helper()
	m, err := compile(spec, testCatalog)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func apply(t *testing.T, m *Mapping, key string, rec map[string]any) Result {
	t.Helper()
	res, err := m.Apply(key, rec)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func errorStrings(res Result) []string {
	var out []string
	for _, e := range res.Errors {
		out = append(out, e.Error())
	}
	return out
}

func TestApplyReportsBadValues(t *testing.T) {
	m := mustCompile(t, Spec{Version: "1", Record: "customer", Entity: EntityOrganization,
		Fields: map[string]string{"name": "A1_NOME", "resume": "join(' ', emails(A1_EMAIL))"},
		CustomFields: map[string]string{
			"CNPJ":          "doc(A1_CGC)",
			"Segmento":      "A1_SEG",
			"Canais":        "A1_CANAIS",
			"Cliente desde": "A1_DTCAD",
		},
	})
	good := map[string]any{"A1_NOME": "ACME", "A1_EMAIL": "a@x.com", "A1_CGC": "11222333000181", "A1_SEG": "Varejo",
		"A1_CANAIS": []any{"Loja", "Online"}, "A1_DTCAD": time.Date(2024, 1, 15, 0, 0, 0, 0, time.UTC)}
	// Every field but the name is omit_field by default: its bad value is a warning and the
	// record goes without it. The name's stops the record, and then every problem is an error.
	tests := []struct {
		name     string
		change   map[string]any
		errors   []string
		warnings []string
		omitted  string // payload field, or custom field label, left out of the payload
	}{
		{"good record", nil, nil, nil, ""},
		{"invalid e-mail", map[string]any{"A1_EMAIL": "joao@@x"}, nil,
			[]string{`customer 000123|01: field A1_EMAIL → resume: "joao@@x" is not a valid e-mail`}, "resume"},
		{"wrong CNPJ check digit", map[string]any{"A1_CGC": "11222333000182"}, nil,
			[]string{`customer 000123|01: field A1_CGC → custom field "CNPJ": "11222333000182" is not a valid CNPJ (wrong check digits)`}, "CNPJ"},
		{"1-character name", map[string]any{"A1_NOME": "X"},
			[]string{`customer 000123|01: field A1_NOME → name: "X" is too short (the CRM needs at least 2 characters)`}, nil, ""},
		{"empty name", map[string]any{"A1_NOME": ""},
			[]string{`customer 000123|01: field A1_NOME → name: the name is empty (the CRM requires one)`}, nil, ""},
		{"unknown option names the value and the options", map[string]any{"A1_SEG": "Atacado"}, nil,
			[]string{`field A1_SEG → custom field "Segmento": "Atacado" is not an option of custom field "Segmento" (allowed: "Indústria", "Varejo", "Serviços")`}, "Segmento"},
		{"options are exact case", map[string]any{"A1_SEG": "VAREJO"}, nil,
			[]string{`"VAREJO" is not an option of custom field "Segmento" (allowed: "Indústria", "Varejo", "Serviços"); options are case-sensitive: did you mean "Varejo"?`}, "Segmento"},
		{"multiple choice value outside the options", map[string]any{"A1_CANAIS": []any{"Loja", "Feira"}}, nil,
			[]string{`"Feira" is not an option of custom field "Canais" (allowed: "Loja", "Online")`}, "Canais"},
		{"bad date", map[string]any{"A1_DTCAD": "2024-13-45"}, nil,
			[]string{`custom field "Cliente desde": "2024-13-45" is not a date`}, "Cliente desde"},
		{"several problems in one record", map[string]any{"A1_NOME": "X", "A1_CGC": "123"},
			[]string{`→ name: "X" is too short`, `→ custom field "CNPJ": "123" is neither a CPF`}, nil, ""},
		{"several warnings in one record", map[string]any{"A1_EMAIL": "joao@@x", "A1_CGC": "123"}, nil,
			[]string{`→ resume: "joao@@x" is not a valid e-mail`, `→ custom field "CNPJ": "123" is neither a CPF`}, "resume"},
		{"no e-mail at all", map[string]any{"A1_EMAIL": nil},
			nil, nil, ""}, // NULL is no e-mail, not an error
	}
	ids := map[string]string{}
	for label, f := range testCatalog {
		ids[label] = f.ID
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := map[string]any{}
			for k, v := range good {
				rec[k] = v
			}
			for k, v := range tt.change {
				rec[k] = v
			}
			res := apply(t, m, "000123|01", rec)
			for _, c := range []struct {
				what      string
				got, want []string
			}{{"errors", errorStrings(res), tt.errors}, {"warnings", warningStrings(res), tt.warnings}} {
				if len(c.got) != len(c.want) {
					t.Fatalf("%s = %q, want %d like %q", c.what, c.got, len(c.want), c.want)
				}
				for i, w := range c.want {
					if !strings.Contains(c.got[i], w) {
						t.Errorf("%s %d = %q\nwant it to contain %q", c.what, i, c.got[i], w)
					}
				}
			}
			if tt.omitted == "" {
				return
			}
			if len(res.Payload["organization_custom_fields"].([]map[string]any)) == 0 {
				t.Fatalf("no custom fields in %v", res.Payload)
			}
			if _, ok := res.Payload[tt.omitted]; ok {
				t.Errorf("payload has %s: %v, want it left out", tt.omitted, res.Payload)
			}
			for _, cf := range res.Payload["organization_custom_fields"].([]map[string]any) {
				if cf["custom_field_id"] == ids[tt.omitted] {
					t.Errorf("payload has custom field %s = %v, want it left out (the CRM keeps its value)", tt.omitted, cf["value"])
				}
			}
			if res.Payload["name"] != "ACME" {
				t.Errorf("name = %v: the record goes without the bad field only", res.Payload["name"])
			}
		})
	}
}

func warningStrings(res Result) []string {
	var out []string
	for _, e := range res.Warnings {
		out = append(out, e.Error())
	}
	return out
}

func TestApplyMissingColumnIsAnError(t *testing.T) {
	m := mustCompile(t, orgSpec(map[string]string{"name": "A1_NOME", "address": "join(' - ', A1_END, A1_MUN)"}))
	res := apply(t, m, "k1", map[string]any{"A1_NOME": "ACME", "A1_END": "RUA X"})
	want := []string{"customer k1: field A1_END, A1_MUN → address: column A1_MUN is not in the record (does the stream's source select it?)"}
	if diff := cmp.Diff(want, errorStrings(res)); diff != "" {
		t.Fatal(diff)
	}
}

func TestApplyNeverPanics(t *testing.T) {
	// Runtime failures of expressions become field errors naming the expression.
	m := mustCompile(t, orgSpec(map[string]string{
		"name":    "A1_NOME",
		"address": "A1_NOME - 1",  // text - number: a type error at run time
		"url":     "A1_NOME[100]", // index out of range
		"resume":  "[1, 2][A1_I]", // index from the record
	}))
	res := apply(t, m, "k", map[string]any{"A1_NOME": "ACME", "A1_LC": decimal.NewFromInt(1), "A1_I": int64(-9)})
	if len(res.Errors) != 3 {
		t.Fatalf("errors = %q, want 3", errorStrings(res))
	}
	for _, e := range res.Errors {
		if !strings.Contains(e.Msg, "evaluating") || strings.Contains(e.Msg, "\n") {
			t.Errorf("error %q should name the expression on one line", e.Error())
		}
	}
	if res.Payload["name"] != "ACME (k)" && res.Payload["name"] != "ACME" {
		t.Errorf("good fields are still mapped: %v", res.Payload)
	}
}

func TestApplyShapesFields(t *testing.T) {
	contact := mustCompile(t, Spec{Version: "1", Record: "contact", Entity: EntityContact,
		Fields: map[string]string{
			"name":     "title(U5_CONTAT)",
			"emails":   "U5_EMAIL", // a raw column is split and checked like emails()
			"phones":   "[phone(U5_DDD, U5_FONE), {phone: phone(U5_DDD, U5_CELULAR), type: 'cellphone'}, phone(U5_DDD, U5_FONE)]",
			"title":    "U5_FUNCAO",
			"birthday": "U5_NASC",
		}})
	res := apply(t, contact, "000001", map[string]any{
		"U5_CONTAT": "JOAO DA SILVA", "U5_EMAIL": "JOAO@ACME.COM.BR; joao@acme.com.br, vendas@acme.com.br",
		"U5_DDD": "011", "U5_FONE": "3333-4444", "U5_CELULAR": "98765-4321", "U5_FUNCAO": "", "U5_NASC": time.Date(1980, 5, 2, 0, 0, 0, 0, time.UTC),
	})
	want := map[string]any{
		"name":     "Joao da Silva",
		"emails":   []map[string]any{{"email": "joao@acme.com.br"}, {"email": "vendas@acme.com.br"}},
		"phones":   []map[string]any{{"phone": "1133334444", "type": "work"}, {"phone": "11987654321", "type": "cellphone"}},
		"birthday": "1980-05-02",
	}
	if len(res.Errors) > 0 {
		t.Fatal(errorStrings(res))
	}
	if diff := cmp.Diff(want, res.Payload); diff != "" {
		t.Fatalf("payload (-want +got):\n%s", diff)
	}

	product := mustCompile(t, productSpec())
	res = apply(t, product, "PA0001", map[string]any{"B1_COD": "PA0001", "B1_DESC": "PARAFUSO 3/8", "B1_PRV1": decimal.RequireFromString("15.4"), "B1_MSBLQL": "1"})
	want = map[string]any{"name": "PARAFUSO 3/8 (PA0001)", "description": "PARAFUSO 3/8", "base_price": json.Number("15.40"), "visible": false}
	if diff := cmp.Diff(want, res.Payload); diff != "" {
		t.Fatalf("payload (-want +got):\n%s", diff)
	}
	body, _ := json.Marshal(res.Payload)
	if !strings.Contains(string(body), `"base_price":15.40`) {
		t.Errorf("base_price should be an exact JSON number: %s", body)
	}
}

func TestApplyCustomFieldValues(t *testing.T) {
	m := mustCompile(t, Spec{Version: "1", Record: "customer", Entity: EntityOrganization,
		Fields: map[string]string{"name": "A1_NOME"},
		CustomFields: map[string]string{
			"CNPJ":          "doc(A1_CGC)",
			"Segmento":      "A1_SEG",
			"Canais":        "A1_CANAIS",
			"Cliente desde": "A1_DTCAD",
		}})
	res := apply(t, m, "k", map[string]any{"A1_NOME": "ACME", "A1_CGC": "52998224725   ", "A1_SEG": "",
		"A1_CANAIS": "Online", "A1_DTCAD": "20240115"})
	// Sorted by custom field id; an empty value is sent as null, which clears the CRM value.
	want := []map[string]any{
		{"custom_field_id": "cf-can", "value": []string{"Online"}},
		{"custom_field_id": "cf-cnpj", "value": "529.982.247-25"},
		{"custom_field_id": "cf-desde", "value": "15/01/2024"},
		{"custom_field_id": "cf-seg", "value": nil},
	}
	if diff := cmp.Diff(want, res.Payload["organization_custom_fields"]); diff != "" {
		t.Fatalf("custom fields (-want +got):\n%s", diff)
	}
	if m.CustomFieldsKey() != "organization_custom_fields" {
		t.Errorf("CustomFieldsKey() = %q", m.CustomFieldsKey())
	}
}

func TestApplyTruncatesToCRMLimits(t *testing.T) {
	long := strings.Repeat("ABCDEFGHIJ", 30) // 300 characters
	m := mustCompile(t, Spec{Version: "1", Record: "customer", Entity: EntityOrganization,
		Fields:     map[string]string{"name": "A1_NOME", "address": "A1_END", "resume": "A1_OBS"},
		Limits:     map[string]int{"address": 10},
		UniqueName: UniqueName{Suffix: " ({A1_COD}/{A1_LOJA})"},
	})
	res := apply(t, m, "k", map[string]any{"A1_NOME": long, "A1_END": "RUA DAS FLORES, 100", "A1_OBS": long, "A1_COD": "000001", "A1_LOJA": "02"})
	if len(res.Errors) > 0 {
		t.Fatal(errorStrings(res))
	}
	name := res.Payload["name"].(string)
	if runeLen(name) != 255 || !strings.HasSuffix(name, " (000001/02)") {
		t.Errorf("name has %d characters and ends %q; want 255 with the suffix kept", runeLen(name), name[len(name)-15:])
	}
	if got := res.Payload["address"]; got != "RUA DAS FL" {
		t.Errorf("address = %q, want the configured limit of 10", got)
	}
	if got := res.Payload["resume"]; got != long {
		t.Errorf("resume truncated to %d characters; its limit is long", runeLen(got.(string)))
	}
}

func TestUniqueNames(t *testing.T) {
	always := mustCompile(t, customerSpec(""))
	rec := func(cod, loja, name string) map[string]any {
		return map[string]any{"A1_COD": cod, "A1_LOJA": loja, "A1_NOME": name, "A1_END": "", "A1_COMPLEM": "",
			"A1_BAIRRO": "", "A1_MUN": "", "A1_EST": "", "A1_CEP": ""}
	}
	names := map[string]string{}
	for _, r := range []map[string]any{
		rec("000001", "01", "ACME LTDA"), rec("000001", "02", "ACME LTDA"), rec("000002", "01", "ACME LTDA"),
	} {
		res := apply(t, always, "", r)
		n := res.Payload["name"].(string)
		if prev, dup := names[n]; dup {
			t.Fatalf("%v and %v share the CRM name %q", prev, r, n)
		}
		names[n] = r["A1_COD"].(string) + r["A1_LOJA"].(string)
		if again := apply(t, always, "", r).Payload["name"]; again != n {
			t.Fatalf("name flipped between runs: %q then %q", n, again)
		}
	}
	if _, ok := names["ACME LTDA (000001/02)"]; !ok {
		t.Errorf("names = %v", names)
	}

	spec := customerSpec("")
	spec.UniqueName.When = "A1_LOJA != '01'"
	primary := mustCompile(t, spec)
	if got := apply(t, primary, "", rec("000001", "01", "ACME LTDA")).Payload["name"]; got != "ACME LTDA" {
		t.Errorf("primary loja name = %q, want it as the ERP has it", got)
	}
	if got := apply(t, primary, "", rec("000001", "02", "ACME LTDA")).Payload["name"]; got != "ACME LTDA (000001/02)" {
		t.Errorf("second loja name = %q", got)
	}
}

// The columns of unique_name are checked like a field's: a missing one, or one holding bytes
// that are not UTF-8 under invalid_utf8 = "reject", is an error of the name, not a panic or a
// suffix made of blanks.
func TestUniqueNameColumnErrors(t *testing.T) {
	spec := orgSpec(map[string]string{"name": "A1_NOME"})
	spec.UniqueName.Suffix = " ({A1_COD}/{A1_LOJA})"
	spec.InvalidUTF8 = UTF8Reject
	m := mustCompile(t, spec)
	tests := []struct {
		name string
		rec  map[string]any
		want string
	}{
		{"missing column", map[string]any{"A1_NOME": "ACME", "A1_COD": "000001"},
			"customer k: field A1_COD, A1_LOJA → name: column A1_LOJA of unique_name is not in the record (does the stream's source select it?)"},
		{"latin-1 bytes", map[string]any{"A1_NOME": "ACME", "A1_COD": "000001", "A1_LOJA": "\xc701"},
			`customer k: field A1_COD, A1_LOJA → name: A1_LOJA holds "\xc701", which is not UTF-8 (Latin-1 bytes from the ERP?)`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := apply(t, m, "k", tt.rec)
			if diff := cmp.Diff([]string{tt.want}, errorStrings(res)); diff != "" {
				t.Errorf("errors (-want +got):\n%s", diff)
			}
			if _, ok := res.Payload["name"]; ok {
				t.Errorf("payload has a name: %v", res.Payload)
			}
		})
	}
}

func TestLatin1Bytes(t *testing.T) {
	spec := orgSpec(map[string]string{"name": "A1_NOME", "address": "join(' - ', A1_MUN, A1_EST)"})
	in := map[string]any{"A1_NOME": "JO\xc3O DA CONCEI\xc7\xc3O", "A1_MUN": "S\xc3O PAULO", "A1_EST": "SP"}

	transcode := mustCompile(t, spec)
	res := apply(t, transcode, "k", in)
	if res.Payload["name"] != "JOÃO DA CONCEIÇÃO" || res.Payload["address"] != "SÃO PAULO - SP" || len(res.Errors) > 0 {
		t.Errorf("transcoded payload = %v, errors %q", res.Payload, errorStrings(res))
	}
	if in["A1_MUN"] != "S\xc3O PAULO" {
		t.Error("Apply modified the caller's record")
	}

	spec.InvalidUTF8 = UTF8Reject
	reject := mustCompile(t, spec)
	res = apply(t, reject, "k", in)
	want := []string{
		`customer k: field A1_EST, A1_MUN → address: A1_MUN holds "S\xc3O PAULO", which is not UTF-8 (Latin-1 bytes from the ERP?)`,
		`customer k: field A1_NOME → name: A1_NOME holds "JO\xc3O DA CONCEI\xc7\xc3O", which is not UTF-8 (Latin-1 bytes from the ERP?)`,
	}
	if diff := cmp.Diff(want, errorStrings(res)); diff != "" {
		t.Errorf("errors (-want +got):\n%s", diff)
	}
}

func TestApplyIsSafeForConcurrentUse(t *testing.T) {
	m := mustCompile(t, customerSpec("CNPJ"))
	rec := map[string]any{"A1_COD": "000001", "A1_LOJA": "01", "A1_NOME": "ACME", "A1_END": "RUA X", "A1_COMPLEM": "",
		"A1_BAIRRO": "", "A1_MUN": "S\xc3O PAULO", "A1_EST": "SP", "A1_CEP": "01310100", "A1_CGC": "11222333000181"}
	want := apply(t, m, "k", rec).Fingerprint
	done := make(chan string)
	for range 4 {
		go func() {
			var fp string
			for range 50 {
				res, _ := m.Apply("k", rec)
				fp = res.Fingerprint
			}
			done <- fp
		}()
	}
	for range 4 {
		if got := <-done; got != want {
			t.Fatalf("fingerprint %s, want %s", got, want)
		}
	}
}

func TestNumbersAreExactDecimalsInExpressions(t *testing.T) {
	tests := []struct {
		expr string
		rec  map[string]any
		want string
	}{
		{"money(B1_PRV1 * 1.1)", map[string]any{"B1_PRV1": decimal.RequireFromString("10.10")}, "11.11"},
		{"money(0.1 + 0.2)", nil, "0.30"},
		{"money(B1_PRV1 - B1_PRV2)", map[string]any{"B1_PRV1": decimal.RequireFromString("5"), "B1_PRV2": int64(2)}, "3.00"},
		{"A1_LC > 1000 ? 'grande' : 'pequeno'", map[string]any{"A1_LC": decimal.RequireFromString("1500.50")}, "grande"},
		{"A1_LC == 0 ? 'sem limite' : 'com limite'", map[string]any{"A1_LC": decimal.RequireFromString("0.00")}, "sem limite"},
		{"money(-B1_PRV1)", map[string]any{"B1_PRV1": decimal.RequireFromString("2.5")}, "-2.50"},
		{"A1_TIPO == 'R' ? 'Revenda' : 'Outro'", map[string]any{"A1_TIPO": "R"}, "Revenda"},
		{"A1_NOME + ' LTDA'", map[string]any{"A1_NOME": "ACME"}, "ACME LTDA"},
		{"A1_EST < 'M' ? 'A-L' : 'M-Z'", map[string]any{"A1_EST": "SP"}, "M-Z"},
		{"A1_X == nil ? 'vazio' : 'cheio'", map[string]any{"A1_X": nil}, "vazio"},
	}
	for _, tt := range tests {
		t.Run(tt.expr, func(t *testing.T) {
			rec := map[string]any{"A1_NOME": "ACME"}
			for k, v := range tt.rec {
				rec[k] = v
			}
			m := mustCompile(t, orgSpec(map[string]string{"name": "A1_NOME", "resume": tt.expr}))
			res := apply(t, m, "k", rec)
			if len(res.Errors) > 0 {
				t.Fatalf("errors: %q", errorStrings(res))
			}
			if got := res.Payload["resume"]; got != tt.want {
				t.Fatalf("resume = %v, want %q", got, tt.want)
			}
		})
	}
}
