package rdsim

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"testing"
)

// Temporary: transcript to compare behaviour before/after the indexes.
func TestZZGoldenTranscript(t *testing.T) {
	out := os.Getenv("GOLDEN_OUT")
	if out == "" {
		t.Skip()
	}
	var sb strings.Builder
	a, _ := newAPI(t, Options{Seed: 7})
	rec := func(method, path string, body any) map[string]any {
		r := a.do(method, path, body)
		fmt.Fprintf(&sb, "%s %s -> %d %s\n", method, path, r.status, r.body)
		m := map[string]any{}
		_ = json.Unmarshal(r.body, &m)
		return m
	}
	org := func(name string, extra ...any) any {
		o := map[string]any{"name": name}
		for i := 0; i+1 < len(extra); i += 2 {
			o[extra[i].(string)] = extra[i+1]
		}
		return map[string]any{"organization": o}
	}
	for _, sw := range []Switches{{}, {ContactNamesUnique: true, DuplicateNameBody: "typed"}, {ContactNamesUnique: true, DuplicateNameBody: "flat", CreateStatus: 201}} {
		a.sim.Reset()
		a.sim.SetSwitches(sw)
		cf := rec("POST", "/custom_fields", map[string]any{"custom_field": map[string]any{"label": "CNPJ", "type": "text", "for": "organization", "unique": true}})
		ccf := rec("POST", "/custom_fields", map[string]any{"custom_field": map[string]any{"label": "CPF", "type": "text", "for": "contact", "unique": true}})
		pcf := rec("POST", "/custom_fields", map[string]any{"custom_field": map[string]any{"label": "SKU", "type": "text", "for": "product", "unique": true}})
		dcf := rec("POST", "/custom_fields", map[string]any{"custom_field": map[string]any{"label": "Pedido", "type": "text", "for": "deal", "unique": true}})
		cfv := func(id, v string) []any { return []any{map[string]any{"custom_field_id": id, "value": v}} }
		o1 := rec("POST", "/organizations", org("Acme Ltda", "organization_custom_fields", cfv(str(cf, "id"), "111")))
		o2 := rec("POST", "/organizations", org("Beta SA", "organization_segments", []any{"Varejo", "varejo", "Atacado"}))
		rec("POST", "/organizations", org(" acme LTDA "))
		rec("POST", "/organizations", org("Kelvin \u212a", "organization_custom_fields", cfv(str(cf, "id"), "111")))
		rec("POST", "/organizations", org("kelvin k"))
		rec("POST", "/organizations", org("Straße ſ"))
		rec("POST", "/organizations", org("STRASSE S"))
		rec("POST", "/organizations", org("straße s"))
		rec("PUT", "/organizations/"+str(o2, "id"), org("ACME LTDA"))
		rec("PUT", "/organizations/"+str(o1, "id"), org("Acme Renamed", "organization_custom_fields", cfv(str(cf, "id"), "222")))
		rec("POST", "/organizations", org("Acme Ltda", "organization_custom_fields", cfv(str(cf, "id"), "111")))
		rec("POST", "/organizations", org("acme renamed"))
		rec("PUT", "/organizations/"+str(o1, "id"), org("Acme Renamed"))
		c1 := rec("POST", "/contacts", map[string]any{"contact": map[string]any{"name": "Ana Souza", "organization_id": str(o1, "id"), "contact_custom_fields": cfv(str(ccf, "id"), "123"), "emails": []any{map[string]any{"email": "ana@x.com"}}}})
		rec("POST", "/contacts", map[string]any{"contact": map[string]any{"name": "Carla", "contact_custom_fields": cfv(str(ccf, "id"), "123")}})
		c2 := rec("POST", "/contacts", map[string]any{"contact": map[string]any{"name": "ana souza ", "contact_custom_fields": cfv(str(ccf, "id"), "124")}})
		if str(c2, "id") == "" {
			c2 = rec("POST", "/contacts", map[string]any{"contact": map[string]any{"name": "Dora", "contact_custom_fields": cfv(str(ccf, "id"), "124")}})
		}
		c3 := rec("POST", "/contacts", map[string]any{"contact": map[string]any{"name": "Bruno", "organization_id": str(o2, "id")}})
		rec("PUT", "/contacts/"+str(c3, "id"), map[string]any{"contact": map[string]any{"organization_id": str(o1, "id")}})
		p1 := rec("POST", "/products", map[string]any{"product": map[string]any{"name": "Widget", "base_price": 10, "product_custom_fields": cfv(str(pcf, "id"), "W1")}})
		rec("POST", "/products", map[string]any{"product": map[string]any{"name": "widget ", "base_price": 10}})
		rec("POST", "/products", map[string]any{"product": map[string]any{"name": "Gadget", "base_price": 10, "product_custom_fields": cfv(str(pcf, "id"), "W1")}})
		rec("PUT", "/products/"+str(p1, "id"), map[string]any{"product": map[string]any{"name": "Widget 2"}})
		rec("POST", "/products", map[string]any{"product": map[string]any{"name": "Widget", "base_price": 1}})
		d1 := rec("POST", "/deals", map[string]any{"deal": map[string]any{"name": "Pedido 1", "deal_custom_fields": cfv(str(dcf, "id"), "P1")}, "organization": map[string]any{"_id": str(o1, "id")},
			"set_contacts": []any{str(c1, "id"), str(c1, "id")}, "contacts": []any{map[string]any{"name": "Novo Contato"}, map[string]any{"name": "novo contato"}}})
		d1 = rec("POST", "/deals", map[string]any{"deal": map[string]any{"name": "Pedido 1", "deal_custom_fields": cfv(str(dcf, "id"), "P1")}, "organization": map[string]any{"_id": str(o1, "id")},
			"set_contacts": []any{str(c1, "id"), str(c1, "id")}, "contacts": []any{map[string]any{"name": "Novo Contato"}, map[string]any{"name": "Outro Contato"}}})
		rec("POST", "/deals", map[string]any{"deal": map[string]any{"name": "Pedido 1", "deal_custom_fields": cfv(str(dcf, "id"), "P1")}})
		rec("POST", "/deals", map[string]any{"deal": map[string]any{"name": "pedido 1"}, "organization": map[string]any{"name": "Acme Renamed"}})
		d2 := rec("POST", "/deals", map[string]any{"deal": map[string]any{"name": "pedido 1"}, "organization": map[string]any{"name": "Delta"}})
		d3 := rec("POST", "/deals", map[string]any{"deal": map[string]any{"name": "Pedido 3"}, "organization": map[string]any{"name": "Gamma"}, "contacts": []any{map[string]any{"name": "Ana Souza"}}})
		if str(d3, "id") == "" {
			d3 = rec("POST", "/deals", map[string]any{"deal": map[string]any{"name": "Pedido 3"}, "organization": map[string]any{"name": "Gamma"}, "contacts": []any{map[string]any{"name": "Zed"}}})
		}
		rec("PUT", "/deals/"+str(d2, "id"), map[string]any{"deal": map[string]any{"name": "Pedido 2", "organization_id": str(o2, "id")}})
		rec("PUT", "/contacts/"+str(c2, "id"), map[string]any{"contact": map[string]any{"deal_ids": []any{str(d1, "id"), str(d3, "id"), str(d1, "id")}}})
		rec("PUT", "/contacts/"+str(c1, "id"), map[string]any{"contact": map[string]any{"deal_ids": []any{str(d3, "id")}}})
		rec("PUT", "/contacts/"+str(c1, "id"), map[string]any{"contact": map[string]any{"name": "Bruno"}})
		for _, q := range []string{"", "?q=acme", "?q=ACME%20RENAMED", "?q=gamma&order=created_at&direction=desc", "?organization_segment=varejo"} {
			rec("GET", "/organizations"+q, nil)
			rec("GET", "/contacts"+q, nil)
		}
		for _, q := range []string{"?name=Pedido%201&exact_name=true", "?name=pedido%201&exact_name=true", "?name=pedido", "?name=Pedido%202&exact_name=true&organization=" + str(o2, "id"), "?organization=" + str(o1, "id")} {
			rec("GET", "/deals"+q, nil)
		}
		for _, id := range []string{str(o1, "id"), str(o2, "id")} {
			rec("GET", "/organizations/"+id, nil)
			rec("GET", "/organizations/"+id+"/contacts", nil)
		}
		for _, id := range []string{str(c1, "id"), str(c2, "id"), str(c3, "id")} {
			rec("GET", "/contacts/"+id, nil)
		}
		rec("GET", "/deals/"+str(d1, "id")+"/contacts", nil)
		rec("GET", "/products", nil)
		// seed duplicates, then try again
		if err := a.sim.Seed(SeedData{Organizations: []Organization{{Name: "Seeded"}, {Name: "seeded", CustomFields: []CustomFieldValue{{CustomFieldID: str(cf, "id"), Value: "999"}}}},
			Contacts: []Contact{{Name: "Seeded C", OrganizationID: str(o2, "id")}}, Deals: []Deal{{Name: "Pedido 1", ContactIDs: []string{str(c3, "id")}, OrganizationID: str(o2, "id")}},
			Products: []Product{{Name: "Seeded P"}}}); err != nil {
			t.Fatal(err)
		}
		rec("POST", "/organizations", org("SEEDED"))
		rec("POST", "/organizations", org("Other", "organization_custom_fields", cfv(str(cf, "id"), "999")))
		rec("POST", "/products", map[string]any{"product": map[string]any{"name": "seeded p", "base_price": 1}})
		rec("POST", "/contacts", map[string]any{"contact": map[string]any{"name": "seeded c"}})
		rec("GET", "/organizations/"+str(o2, "id"), nil)
		rec("GET", "/contacts/"+str(c3, "id"), nil)
		rec("GET", "/deals?name=Pedido%201&exact_name=true", nil)
		rec("DELETE", "/custom_fields/"+str(cf, "id"), nil)
		rec("POST", "/organizations", org("Other", "organization_custom_fields", cfv(str(cf, "id"), "999")))
		for _, q := range []string{"", "?direction=desc", "?q=seeded&direction=desc", "?q=SEEDED", "?order=updated_at"} {
			rec("GET", "/organizations"+q, nil)
			rec("GET", "/contacts"+q, nil)
		}
		st := a.do("GET", "/_sim/state", nil)
		fmt.Fprintf(&sb, "STATE %s\n", st.body)
	}
	if err := os.WriteFile(out, []byte(sb.String()), 0o644); err != nil {
		t.Fatal(err)
	}
}
