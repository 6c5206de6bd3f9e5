package mapping

// testFields describe the fields of a CRM like RD Station CRM v1: a
// fixture. The adapters own the real schemas (rdstation/crm/target); the
// mapping knows no CRM.
var testFields = map[string]map[string]FieldSpec{
	EntityOrganization: {"name": {Kind: FieldText}, "address": {Kind: FieldText}, "url": {Kind: FieldText},
		"resume": {Kind: FieldText, Limit: LongTextLimit, Long: true}, "user_id": {Kind: FieldText},
		"organization_segments": {Kind: FieldTextList}},
	EntityContact: {"name": {Kind: FieldText}, "title": {Kind: FieldText}, "birthday": {Kind: FieldISODate},
		"emails": {Kind: FieldEmails}, "phones": {Kind: FieldPhones}, "organization_id": {Kind: FieldText},
		"facebook": {Kind: FieldText}, "linkedin": {Kind: FieldText}, "skype": {Kind: FieldText},
		"notes": {Kind: FieldText, Limit: LongTextLimit, Long: true}},
	EntityProduct: {"name": {Kind: FieldText}, "description": {Kind: FieldText, Limit: LongTextLimit, Long: true},
		"base_price": {Kind: FieldNumber}, "visible": {Kind: FieldBool}},
}

// compile compiles spec against the fixture schema of its entity.
func compile(spec Spec, cat CustomFieldCatalog) (*Mapping, error) {
	return Compile(spec, Schema{Entity: spec.Entity, Fields: testFields[spec.Entity], CustomKey: customKeyOf(spec.Entity), Custom: cat})
}

func customKeyOf(entity string) string {
	if entity == "" {
		return ""
	}
	return entity + "_custom_fields"
}

// The default specs of the Protheus streams, as fixtures of realistic
// mappings (the real ones are erp/protheus's, tested there).
func customerSpec(cnpjLabel string) Spec {
	s := Spec{Version: "1", Record: "customer", Entity: EntityOrganization,
		Fields: map[string]string{
			"name":    "A1_NOME",
			"address": "join(' - ', A1_END, A1_COMPLEM, A1_BAIRRO, join('/', A1_MUN, A1_EST), cep(A1_CEP))",
		},
		UniqueName: UniqueName{Suffix: " ({A1_COD}/{A1_LOJA})"},
	}
	if cnpjLabel != "" {
		s.CustomFields = map[string]string{cnpjLabel: "doc(A1_CGC)"}
	}
	return s
}

func productSpec() Spec {
	return Spec{Version: "1", Record: "product", Entity: EntityProduct,
		Fields: map[string]string{"name": "B1_DESC", "description": "B1_DESC", "base_price": "money(B1_PRV1)",
			"visible": "B1_MSBLQL != '1'"},
		UniqueName: UniqueName{Suffix: " ({B1_COD})"},
	}
}
