package protheus

import "github.com/erpbridge/erpbridge/mapping"

// The default mappings of the Protheus streams: what a config starts from.

// CustomerSpec maps Protheus customers (SA1) to CRM organizations: the name as the ERP has it
// plus " (code/loja)", an address line, and — when cnpjLabel is not empty — the CNPJ or CPF,
// validated and formatted, in the custom field with that label.
func CustomerSpec(cnpjLabel string) mapping.Spec {
	s := mapping.Spec{
		Version: "1",
		Record:  "customer",
		Entity:  mapping.EntityOrganization,
		Fields: map[string]string{
			"name":    "A1_NOME",
			"address": "join(' - ', A1_END, A1_COMPLEM, A1_BAIRRO, join('/', A1_MUN, A1_EST), cep(A1_CEP))",
		},
		UniqueName: mapping.UniqueName{Suffix: " ({A1_COD}/{A1_LOJA})"},
	}
	if cnpjLabel != "" {
		s.CustomFields = map[string]string{cnpjLabel: "doc(A1_CGC)"}
	}
	return s
}

// ContactSpec maps Protheus contacts (SU5) to CRM contacts: name, e-mails and phones (the
// landline as "work", the mobile as "cellphone"). U5_FUNCAO is a code into SUM, not a job title,
// so the title is left out; map it where a readable column exists.
func ContactSpec() mapping.Spec {
	return mapping.Spec{
		Version: "1",
		Record:  "contact",
		Entity:  mapping.EntityContact,
		Fields: map[string]string{
			"name":   "title(U5_CONTAT)",
			"emails": "emails(U5_EMAIL)",
			"phones": "[phone(U5_DDD, U5_FONE), {phone: phone(U5_DDD, U5_CELULAR), type: 'cellphone'}]",
		},
	}
}

// ProductSpec maps Protheus products (SB1) to CRM products: the description plus " (code)" as
// the unique name, the description, the list price B1_PRV1 (swap in a price-table column such as
// DA1_PRCVEN when the source joins it) and visible unless blocked (B1_MSBLQL = '1').
func ProductSpec() mapping.Spec {
	return mapping.Spec{
		Version: "1",
		Record:  "product",
		Entity:  mapping.EntityProduct,
		Fields: map[string]string{
			"name":        "B1_DESC",
			"description": "B1_DESC",
			"base_price":  "money(B1_PRV1)",
			"visible":     "B1_MSBLQL != '1'",
		},
		UniqueName: mapping.UniqueName{Suffix: " ({B1_COD})"},
	}
}

// DefaultSpecs returns the default spec of each standard stream, keyed by stream name
// (customers, contacts, products), for a config to start from. The customers spec has no CNPJ
// custom field: use CustomerSpec with the CRM's label to add one.
func DefaultSpecs() map[string]mapping.Spec {
	return map[string]mapping.Spec{
		"customers": CustomerSpec(""),
		"contacts":  ContactSpec(),
		"products":  ProductSpec(),
	}
}
