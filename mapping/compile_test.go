package mapping

import (
	"strings"
	"testing"
)

var testCatalog = CustomFieldCatalog{
	"CNPJ":          {ID: "cf-cnpj", Type: TypeText},
	"Segmento":      {ID: "cf-seg", Type: TypeOption, Options: []string{"Indústria", "Varejo", "Serviços"}},
	"Canais":        {ID: "cf-can", Type: TypeMultipleChoice, Options: []string{"Loja", "Online"}},
	"Cliente desde": {ID: "cf-desde", Type: TypeDate},
	"Região":        {ID: "cf-reg1", Type: TypeText},
	"REGIÃO ":       {ID: "cf-reg2", Type: TypeText},
}

func orgSpec(fields map[string]string) Spec {
	return Spec{Version: "1", Record: "customer", Entity: EntityOrganization, Fields: fields}
}

func TestCompileErrors(t *testing.T) {
	tests := []struct {
		name string
		spec Spec
		want []string // every one must appear in the error
	}{
		{"syntax error names the field and the position",
			orgSpec(map[string]string{"name": "A1_NOME", "address": "join(' - ', A1_END"}),
			[]string{`field "address"`, `join(' - ', A1_END`, "(1:"}},
		{"wrong arity fails at start",
			orgSpec(map[string]string{"name": "phone(A1_DDD)"}),
			[]string{`field "name"`, "not enough arguments"}},
		{"unknown function",
			orgSpec(map[string]string{"name": "digts(A1_CGC)"}),
			[]string{`field "name"`, "unknown function digts"}},
		{"the clock is not available",
			orgSpec(map[string]string{"name": "now()"}),
			[]string{"unknown function now"}},
		{"empty expression",
			orgSpec(map[string]string{"name": " "}),
			[]string{`field "name"`, "expression is empty"}},
		{"unknown label lists the known ones",
			Spec{Version: "1", Entity: EntityOrganization, Fields: map[string]string{"name": "A1_NOME"}, CustomFields: map[string]string{"Setor": "A1_X"}},
			[]string{`custom field "Setor": no such label`, `"CNPJ"`, `"Segmento"`}},
		{"ambiguous label",
			Spec{Version: "1", Entity: EntityOrganization, Fields: map[string]string{"name": "A1_NOME"}, CustomFields: map[string]string{"região": "A1_X"}},
			[]string{`custom field "região": ambiguous label`, `"REGIÃO "`, `"Região"`}},
		{"custom field expression error names the label",
			Spec{Version: "1", Entity: EntityOrganization, Fields: map[string]string{"name": "A1_NOME"}, CustomFields: map[string]string{"CNPJ": "doc(A1_CGC"}},
			[]string{`custom field "CNPJ"`, "doc(A1_CGC"}},
		{"field unknown to the entity",
			orgSpec(map[string]string{"name": "A1_NOME", "adress": "A1_END"}),
			[]string{`field "adress": not a field of a CRM organization`, `"address"`}},
		{"custom fields are declared by label",
			orgSpec(map[string]string{"name": "A1_NOME", "organization_custom_fields": "A1_X"}),
			[]string{`put custom fields under [custom_fields]`}},
		{"name is required",
			orgSpec(map[string]string{"address": "A1_END"}),
			[]string{`field "name" is missing`}},
		{"version is required",
			Spec{Entity: EntityProduct, Fields: map[string]string{"name": "B1_DESC"}},
			[]string{"version is empty"}},
		{"unknown utf-8 policy",
			Spec{Version: "1", Entity: EntityProduct, Fields: map[string]string{"name": "B1_DESC"}, InvalidUTF8: "ignore"},
			[]string{`invalid_utf8 "ignore"`}},
		{"limit for an unmapped field",
			Spec{Version: "1", Entity: EntityProduct, Fields: map[string]string{"name": "B1_DESC"}, Limits: map[string]int{"description": 100}},
			[]string{`limits: "description"`}},
		{"limit too small",
			Spec{Version: "1", Entity: EntityProduct, Fields: map[string]string{"name": "B1_DESC"}, Limits: map[string]int{"name": 1}},
			[]string{`limits: "name" = 1`}},
		{"bad suffix placeholder",
			Spec{Version: "1", Entity: EntityProduct, Fields: map[string]string{"name": "B1_DESC"}, UniqueName: UniqueName{Suffix: " ({B1 COD})"}},
			[]string{"unique_name.suffix", "{B1 COD}"}},
		{"unclosed suffix placeholder",
			Spec{Version: "1", Entity: EntityProduct, Fields: map[string]string{"name": "B1_DESC"}, UniqueName: UniqueName{Suffix: " ({B1_COD"}},
			[]string{"unique_name.suffix", "unclosed {"}},
		{"when without suffix",
			Spec{Version: "1", Entity: EntityProduct, Fields: map[string]string{"name": "B1_DESC"}, UniqueName: UniqueName{When: "true"}},
			[]string{"unique_name.when is set but unique_name.suffix is empty"}},
		{"on_invalid of an unmapped field",
			Spec{Version: "1", Entity: EntityProduct, Fields: map[string]string{"name": "B1_DESC"}, OnInvalid: map[string]string{"base_price": SkipRecord}},
			[]string{`on_invalid: "base_price" is neither a mapped field nor a mapped custom field label`}},
		{"unknown on_invalid policy",
			Spec{Version: "1", Entity: EntityProduct, Fields: map[string]string{"name": "B1_DESC", "base_price": "B1_PRV1"}, OnInvalid: map[string]string{"base_price": "ignore"}},
			[]string{`on_invalid: "base_price" = "ignore", want "omit_field" or "skip_record"`}},
		{"the name cannot be omitted",
			Spec{Version: "1", Entity: EntityProduct, Fields: map[string]string{"name": "B1_DESC"}, OnInvalid: map[string]string{"name": OmitField}},
			[]string{`on_invalid: "name" is always "skip_record"`}},
		{"when must be boolean",
			Spec{Version: "1", Entity: EntityProduct, Fields: map[string]string{"name": "B1_DESC"}, UniqueName: UniqueName{Suffix: "x{B1_COD}", When: "'yes'"}},
			[]string{"unique_name.when"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := compile(tt.spec, testCatalog)
			if err == nil {
				t.Fatalf("Compile succeeded (%v); want an error", m)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q\ndoes not contain %q", err, w)
				}
			}
		})
	}
}

func TestCompileReportsEveryProblemAtOnce(t *testing.T) {
	_, err := compile(Spec{Entity: EntityOrganization, Fields: map[string]string{"name": "A1_NOME(", "address": "x +"},
		CustomFields: map[string]string{"Nope": "1"}}, testCatalog)
	if err == nil {
		t.Fatal("want an error")
	}
	for _, w := range []string{"version is empty", `field "name"`, `field "address"`, `custom field "Nope"`} {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error %q\ndoes not contain %q", err, w)
		}
	}
}

func TestCompileBadCatalogEntries(t *testing.T) {
	cat := CustomFieldCatalog{
		"Tipo":  {ID: "a", Type: "checkbox"},
		"Opção": {ID: "b", Type: TypeOption},
	}
	_, err := compile(Spec{Version: "1", Entity: EntityContact, Fields: map[string]string{"name": "U5_CONTAT"},
		CustomFields: map[string]string{"Tipo": "'x'", "Opção": "'y'"}}, cat)
	for _, w := range []string{`custom field "Tipo": unknown type "checkbox"`, `custom field "Opção": option field without options`} {
		if err == nil || !strings.Contains(err.Error(), w) {
			t.Errorf("error %v does not contain %q", err, w)
		}
	}
}

func TestCompileLabelMatchIgnoringCase(t *testing.T) {
	m, err := compile(Spec{Version: "1", Entity: EntityOrganization, Fields: map[string]string{"name": "A1_NOME"},
		CustomFields: map[string]string{"cnpj": "doc(A1_CGC)"}}, testCatalog)
	if err != nil {
		t.Fatal(err)
	}
	res, _ := m.Apply("k", map[string]any{"A1_NOME": "ACME", "A1_CGC": "11222333000181"})
	got := res.Payload["organization_custom_fields"].([]map[string]any)[0]["custom_field_id"]
	if got != "cf-cnpj" {
		t.Fatalf("custom_field_id = %v, want cf-cnpj", got)
	}
}

func TestColumns(t *testing.T) {
	m, err := compile(Spec{Version: "1", Entity: EntityOrganization,
		Fields: map[string]string{
			"name":    "let n = trim(A1_NOME); n",
			"address": "join(' - ', A1_END, A1_MUN)",
			"resume":  "{phone: A1_TEL}.phone",
		},
		CustomFields: map[string]string{"CNPJ": "doc(A1_CGC)"},
		UniqueName:   UniqueName{Suffix: " ({A1_COD}/{A1_LOJA})", When: "A1_PESSOA == 'J'"},
	}, testCatalog)
	if err != nil {
		t.Fatal(err)
	}
	want := "A1_CGC A1_COD A1_END A1_LOJA A1_MUN A1_NOME A1_PESSOA A1_TEL"
	if got := strings.Join(m.Columns(), " "); got != want {
		t.Fatalf("Columns() = %s\nwant        %s", got, want)
	}
}

// TestCompileAgainstAnotherEntitysSchema: a spec for one entity compiled
// against the schema of another is refused, naming both.
func TestCompileAgainstAnotherEntitysSchema(t *testing.T) {
	_, err := Compile(Spec{Version: "1", Entity: "company", Fields: map[string]string{"name": "X"}},
		Schema{Entity: EntityOrganization, Fields: testFields[EntityOrganization]})
	if err == nil || !strings.Contains(err.Error(), `entity "company"`) || !strings.Contains(err.Error(), `"organization"`) {
		t.Fatalf("Compile = %v, want an error naming both entities", err)
	}
}
