package rdsim

import (
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"testing"
)

func TestErrorBodies(t *testing.T) {
	a, _ := newAPI(t, Options{})
	org := a.must(200, "POST", "/organizations", map[string]any{"organization": map[string]any{"name": "Acme Ltda"}})
	orgID := str(org, "id")
	a.must(201, "POST", "/custom_fields", map[string]any{"custom_field": map[string]any{"label": "CNPJ", "type": "text", "for": "organization"}})
	unknownCF := "0123456789abcdef01234567"
	tests := []struct {
		name, token, method, path string
		body                      any
		status                    int
		want                      string
	}{
		{"missing token", "", "GET", "/organizations", nil, 401, `{"error":"Permission denied."}`},
		{"unknown token", "nope", "GET", "/organizations", nil, 401, `{"error":"Permission denied."}`},
		{"unknown organization", DefaultToken, "GET", "/organizations/" + unknownCF, nil, 404,
			`{"errors":{"error_type":"RESOURCE_NOT_FOUND","error_message":"Organization not found"}}`},
		{"contacts cannot be added to a deal", DefaultToken, "POST", "/deals/" + unknownCF + "/contacts", map[string]any{}, 404,
			`{"errors":{"error_type":"RESOURCE_NOT_FOUND","error_message":"Route not found"}}`},
		{"one-char name", DefaultToken, "POST", "/organizations", map[string]any{"organization": map[string]any{"name": "A"}}, 422,
			`{"errors":{"name":["is too short (minimum is 2 characters)"]}}`},
		{"name of the wrong type", DefaultToken, "PUT", "/organizations/" + orgID, map[string]any{"organization": map[string]any{"name": 12}}, 422,
			`{"errors":{"name":[{"error_type":"MUST_BE_STRING","error_message":"must be a string"}]}}`},
		{"unknown custom field", DefaultToken, "PUT", "/organizations/" + orgID,
			map[string]any{"organization": map[string]any{"organization_custom_fields": []any{map[string]any{"custom_field_id": "X", "value": "1"}}}}, 400,
			`{"errors":"Could not find a custom field that matches: {:custom_field_id=>\"X\"}"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a.token = tt.token
			r := a.do(tt.method, tt.path, tt.body)
			if r.status != tt.status {
				t.Fatalf("status %d, want %d (%s)", r.status, tt.status, r.body)
			}
			jsonEq(t, r.body, tt.want)
		})
	}
	a.token = DefaultToken
	t.Run("malformed JSON", func(t *testing.T) {
		r := a.do("POST", "/organizations", `{"organization":`)
		if r.status != 400 || !strings.Contains(string(r.body), `"errors"`) {
			t.Fatalf("status %d body %s, want 400 with errors", r.status, r.body)
		}
	})
	if n := len(a.sim.State().Organizations); n != 1 {
		t.Fatalf("failed requests changed the account: %d organizations, want 1", n)
	}
}

var (
	idRE = regexp.MustCompile(`^[0-9a-f]{24}$`)
	tsRE = regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}-03:00$`)
)

func TestIDsAndTimestamps(t *testing.T) {
	a, _ := newAPI(t, Options{})
	org := a.must(200, "POST", "/organizations", map[string]any{"organization": map[string]any{"name": "Acme Ltda"}})
	if !idRE.MatchString(str(org, "id")) || org["_id"] != org["id"] {
		t.Fatalf("organization ids _id=%v id=%v, want the same 24-hex id", org["_id"], org["id"])
	}
	if got := str(org, "created_at"); got != "2026-03-10T09:00:30.000-03:00" {
		t.Fatalf("created_at %q, want the fake clock in -03:00", got)
	}
	reasons := a.must(200, "GET", "/deal_lost_reasons", nil)
	for _, it := range list(reasons, "deal_lost_reasons") {
		m := it.(map[string]any)
		if _, has := m["id"]; has || !idRE.MatchString(str(m, "_id")) {
			t.Fatalf("lost reason %v: want _id only", m)
		}
	}
	deal := a.must(200, "POST", "/deals", map[string]any{"deal": map[string]any{"name": "Big deal"}})
	got := a.must(200, "GET", "/deals/"+str(deal, "id"), nil)
	pipe, _ := got["deal_pipeline"].(map[string]any)
	if _, has := pipe["_id"]; has || str(pipe, "name") != DefaultPipelineName || !idRE.MatchString(str(pipe, "id")) {
		t.Fatalf("nested deal_pipeline %v: want id and name only, default pipeline", pipe)
	}
	if !tsRE.MatchString(str(got, "updated_at")) {
		t.Fatalf("updated_at %q does not look like 2023-02-16T10:29:36.600-03:00", got["updated_at"])
	}
}

func TestListingEnvelopes(t *testing.T) {
	a, _ := newAPI(t, Options{})
	tests := []struct {
		path, key string
		bare      bool
		n         int
	}{
		{"/deal_pipelines", "", true, 2},
		{"/custom_fields", "", true, 0},
		{"/deal_stages", "deal_stages", false, 5},
		{"/deal_sources", "deal_sources", false, 1},
		{"/campaigns", "campaigns", false, 1},
		{"/deal_lost_reasons", "deal_lost_reasons", false, 4},
		{"/organizations", "organizations", false, 0},
		{"/deals", "deals", false, 0},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			r := a.do("GET", tt.path, nil)
			if r.status != 200 {
				t.Fatalf("status %d: %s", r.status, r.body)
			}
			if tt.bare {
				var l []any
				if err := json.Unmarshal(r.body, &l); err != nil || len(l) != tt.n {
					t.Fatalf("body %s: want a bare array of %d", r.body, tt.n)
				}
				return
			}
			var m map[string]any
			if err := json.Unmarshal(r.body, &m); err != nil {
				t.Fatal(err)
			}
			if len(list(m, tt.key)) != tt.n || m["has_more"] != false || m["total"] != float64(tt.n) {
				t.Fatalf("body %s: want %d %s, has_more false, total", r.body, tt.n, tt.key)
			}
		})
	}
	if m := a.must(200, "GET", "/deals", nil); m["next_page"] != nil {
		t.Fatalf("deals next_page %v on a single page, want null", m["next_page"])
	}
}

func TestListingCapAndLimits(t *testing.T) {
	a, _ := newAPI(t, Options{})
	const n = 10050
	orgs := make([]Organization, n)
	for i := range orgs {
		orgs[i] = Organization{Name: fmt.Sprintf("Org %05d", i)}
	}
	if err := a.sim.Seed(SeedData{Organizations: orgs}); err != nil {
		t.Fatal(err)
	}
	seen := 0
	page := 1
	for ; page <= 60; page++ {
		m := a.must(200, "GET", fmt.Sprintf("/organizations?limit=200&page=%d", page), nil)
		if m["total"] != float64(n) {
			t.Fatalf("page %d total %v, want %d", page, m["total"], n)
		}
		items := list(m, "organizations")
		if page == 1 && str(items[0].(map[string]any), "name") != "Org 00000" {
			t.Fatalf("first organization %v, want ordered by name", items[0])
		}
		seen += len(items)
		if m["has_more"] != true {
			if len(items) != 0 {
				t.Fatalf("page %d: has_more false with %d items", page, len(items))
			}
			break
		}
	}
	if seen != 10000 || page != 51 {
		t.Fatalf("reached %d organizations in %d pages, want 10000 then an empty page 51", seen, page)
	}
	t.Run("limit over 200 is clamped", func(t *testing.T) {
		if m := a.must(200, "GET", "/organizations?limit=500", nil); len(list(m, "organizations")) != 200 {
			t.Fatalf("limit=500 gave %d items, want 200", len(list(m, "organizations")))
		}
		if m := a.must(200, "GET", "/organizations", nil); len(list(m, "organizations")) != 20 {
			t.Fatalf("default limit gave %d items, want 20", len(list(m, "organizations")))
		}
	})
	t.Run("limit over 200 is 422 with the switch", func(t *testing.T) {
		a.sim.SetSwitches(Switches{LimitOverMaxIs422: true})
		defer a.sim.SetSwitches(Switches{})
		a.must(422, "GET", "/organizations?limit=201", nil)
	})
}

func TestUniqueNames(t *testing.T) {
	org := func(name string) any { return map[string]any{"organization": map[string]any{"name": name}} }
	prod := func(name string) any {
		return map[string]any{"product": map[string]any{"name": name, "base_price": 10}}
	}
	contact := func(name string) any { return map[string]any{"contact": map[string]any{"name": name}} }
	tests := []struct {
		name         string
		sw           Switches
		path         string
		first, again any
		status       int
		want         string
	}{
		{"organization", Switches{}, "/organizations", org("Acme Ltda"), org(" acme ltda"), 422, `{"errors":{"name":["has already been taken"]}}`},
		{"product", Switches{}, "/products", prod("Widget"), prod("Widget"), 422, `{"errors":{"name":["has already been taken"]}}`},
		{"contacts by default", Switches{}, "/contacts", contact("Ana Souza"), contact("Ana Souza"), 200, ""},
		{"contacts with the switch", Switches{ContactNamesUnique: true}, "/contacts", contact("Ana Souza"), contact("Ana Souza"), 422,
			`{"errors":{"name":["has already been taken"]}}`},
		{"typed body", Switches{DuplicateNameBody: "typed"}, "/organizations", org("Acme Ltda"), org("Acme Ltda"), 422,
			`{"errors":{"name":[{"error_type":"ALREADY_TAKEN","error_message":"has already been taken"}]}}`},
		{"flat body", Switches{DuplicateNameBody: "flat"}, "/organizations", org("Acme Ltda"), org("Acme Ltda"), 422,
			`{"errors":{"error_type":"ALREADY_TAKEN","error_message":"Name has already been taken"}}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, _ := newAPI(t, Options{Switches: tt.sw})
			a.must(200, "POST", tt.path, tt.first)
			r := a.do("POST", tt.path, tt.again)
			if r.status != tt.status {
				t.Fatalf("second create: status %d, want %d (%s)", r.status, tt.status, r.body)
			}
			if tt.want != "" {
				jsonEq(t, r.body, tt.want)
			}
		})
	}
	t.Run("renaming onto a taken name", func(t *testing.T) {
		a, _ := newAPI(t, Options{})
		a.must(200, "POST", "/organizations", org("Acme Ltda"))
		b := a.must(200, "POST", "/organizations", org("Beta SA"))
		a.must(422, "PUT", "/organizations/"+str(b, "id"), org("ACME LTDA"))
		a.must(200, "PUT", "/organizations/"+str(b, "id"), org("Beta SA"))
	})
}

func TestTwoCharRule(t *testing.T) {
	a, _ := newAPI(t, Options{})
	org := a.must(200, "POST", "/organizations", map[string]any{"organization": map[string]any{"name": "Acme Ltda"}})
	pipes := a.do("GET", "/deal_pipelines", nil)
	var pl []map[string]any
	_ = json.Unmarshal(pipes.body, &pl)
	tests := []struct {
		name, method, path string
		body               any
		field              string
	}{
		{"organization resume", "PUT", "/organizations/" + str(org, "id"), map[string]any{"organization": map[string]any{"resume": "x"}}, "resume"},
		{"contact name", "POST", "/contacts", map[string]any{"contact": map[string]any{"name": "J"}}, "name"},
		{"contact title", "POST", "/contacts", map[string]any{"contact": map[string]any{"name": "Jo", "title": "Y"}}, "title"},
		{"product name", "POST", "/products", map[string]any{"product": map[string]any{"name": "P"}}, "name"},
		{"deal name", "POST", "/deals", map[string]any{"deal": map[string]any{"name": "D"}}, "name"},
		{"lost reason (unwrapped)", "POST", "/deal_lost_reasons", map[string]any{"name": "L"}, "name"},
		{"deal source", "POST", "/deal_sources", map[string]any{"deal_source": map[string]any{"name": "S"}}, "name"},
		{"stage", "POST", "/deal_stages", map[string]any{"deal_pipeline_id": pl[0]["id"], "name": "S"}, "name"},
		{"custom field label", "POST", "/custom_fields", map[string]any{"custom_field": map[string]any{"label": "L", "type": "text", "for": "deal"}}, "label"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := a.do(tt.method, tt.path, tt.body)
			var m struct {
				Errors map[string][]any `json:"errors"`
			}
			_ = json.Unmarshal(r.body, &m)
			if r.status != 422 || len(m.Errors) != 1 {
				t.Fatalf("status %d body %s, want 422 naming one field", r.status, r.body)
			}
			for k, v := range m.Errors {
				if k != tt.field || v[0] != msgTooShort {
					t.Fatalf("errors %v, want %s too short", m.Errors, tt.field)
				}
			}
		})
	}
	a.must(200, "POST", "/deal_lost_reasons", map[string]any{"name": "Ok"})
	a.must(422, "POST", "/deal_lost_reasons", map[string]any{"name": strings.Repeat("x", 41)})
}

func TestCustomFieldValues(t *testing.T) {
	a, _ := newAPI(t, Options{})
	field := func(label, typ string, opts ...string) string {
		m := a.must(201, "POST", "/custom_fields", map[string]any{"custom_field": map[string]any{"label": label, "type": typ, "for": "organization", "options": opts}})
		return str(m, "id")
	}
	date := field("Fundação", "date")
	opt := field("Porte", "option", "Pequeno", "Grande")
	multi := field("Linhas", "multiple_choice", "Peças", "Serviços")
	contactField := str(a.must(201, "POST", "/custom_fields", map[string]any{"custom_field": map[string]any{"label": "Cargo", "type": "text", "for": "contact"}}), "id")
	org := a.must(200, "POST", "/organizations", map[string]any{"organization": map[string]any{"name": "Acme Ltda"}})
	path := "/organizations/" + str(org, "id")
	tests := []struct {
		name   string
		id     string
		value  any
		status int
	}{
		{"date DD/MM/YYYY", date, "31/01/2024", 200},
		{"date ISO", date, "2024-01-31", 422},
		{"date impossible", date, "31/02/2024", 422},
		{"option exact", opt, "Pequeno", 200},
		{"option other case", opt, "pequeno", 422},
		{"option unknown", opt, "Médio", 422},
		{"multiple choice list", multi, []string{"Peças", "Serviços"}, 200},
		{"multiple choice unknown", multi, []string{"Peças", "Outros"}, 422},
		{"multiple choice bare string", multi, "Peças", 422},
		{"field of another entity", contactField, "Diretor", 400},
		{"null clears", date, nil, 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body := map[string]any{"organization": map[string]any{"organization_custom_fields": []any{map[string]any{"custom_field_id": tt.id, "value": tt.value}}}}
			r := a.do("PUT", path, body)
			if r.status != tt.status {
				t.Fatalf("status %d, want %d (%s)", r.status, tt.status, r.body)
			}
		})
	}
	got := a.must(200, "GET", path, nil)
	vals := list(got, "custom_fields")
	byField := map[string]any{}
	for _, v := range vals {
		m := v.(map[string]any)
		byField[str(m, "custom_field_id")] = m["value"]
	}
	if _, has := byField[date]; has || byField[opt] != "Pequeno" || fmt.Sprint(byField[multi]) != "[Peças Serviços]" {
		t.Fatalf("stored values %v: want the valid ones kept, the date cleared", byField)
	}
}

func TestRequiredCustomFields(t *testing.T) {
	tests := []struct {
		kind, path   string
		create       func(values []any) any
		updateNoVals any
	}{
		{"organization", "/organizations", func(v []any) any {
			return map[string]any{"organization": map[string]any{"name": "Acme Ltda", "organization_custom_fields": v}}
		}, map[string]any{"organization": map[string]any{"url": "acme.example"}}},
		{"contact", "/contacts", func(v []any) any {
			return map[string]any{"contact": map[string]any{"name": "Ana Souza", "contact_custom_fields": v}}
		}, map[string]any{"contact": map[string]any{"title": "CFO"}}},
		{"product", "/products", func(v []any) any {
			return map[string]any{"product": map[string]any{"name": "Parafuso", "base_price": 1, "product_custom_fields": v}}
		}, map[string]any{"product": map[string]any{"description": "Aço"}}},
		{"deal", "/deals", func(v []any) any {
			return map[string]any{"deal": map[string]any{"name": "Pedido 1", "deal_custom_fields": v}}
		}, map[string]any{"deal": map[string]any{"rating": 2}}},
		{"contact", "/deals", func(v []any) any { // a deal's new contacts
			return map[string]any{"deal": map[string]any{"name": "Pedido 2"}, "contacts": []any{map[string]any{"name": "Bia Lima", "contact_custom_fields": v}}}
		}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.kind+" via "+tt.path, func(t *testing.T) {
			a, _ := newAPI(t, Options{})
			cf := a.must(201, "POST", "/custom_fields", map[string]any{"custom_field": map[string]any{"label": "Código ERP", "type": "text", "for": tt.kind, "required": true}})
			r := a.do("POST", tt.path, tt.create(nil))
			if r.status != 422 {
				t.Fatalf("create without the required field: status %d, want 422 (%s)", r.status, r.body)
			}
			jsonEq(t, r.body, `{"errors":{"Código ERP":["can't be blank"]}}`)
			r = a.do("POST", tt.path, tt.create([]any{map[string]any{"custom_field_id": "0123456789abcdef01234567", "value": "C1"}}))
			if r.status != 400 {
				t.Fatalf("create with an unknown field: status %d, want 400 (%s)", r.status, r.body)
			}
			rec := a.must(200, "POST", tt.path, tt.create([]any{map[string]any{"custom_field_id": str(cf, "id"), "value": "C1"}}))
			if tt.updateNoVals != nil {
				// An update that sends no custom fields keeps the stored value.
				a.must(200, "PUT", tt.path+"/"+str(rec, "id"), tt.updateNoVals)
			}
		})
	}
}

func TestBodiesWrappedAndUnwrapped(t *testing.T) {
	tests := []struct {
		name   string
		strict bool
		path   string
		body   any
		status int
	}{
		{"product wrapped", false, "/products", map[string]any{"product": map[string]any{"name": "Widget"}}, 200},
		{"product unwrapped, lenient", false, "/products", map[string]any{"name": "Widget"}, 200},
		{"product unwrapped, strict", true, "/products", map[string]any{"name": "Widget"}, 400},
		{"lost reason unwrapped, strict", true, "/deal_lost_reasons", map[string]any{"name": "Caro"}, 200},
		{"lost reason wrapped, strict", true, "/deal_lost_reasons", map[string]any{"deal_lost_reason": map[string]any{"name": "Caro"}}, 422},
		{"lost reason wrapped, lenient", false, "/deal_lost_reasons", map[string]any{"deal_lost_reason": map[string]any{"name": "Caro"}}, 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, _ := newAPI(t, Options{Switches: Switches{StrictBodies: tt.strict}})
			if r := a.do("POST", tt.path, tt.body); r.status != tt.status {
				t.Fatalf("status %d, want %d (%s)", r.status, tt.status, r.body)
			}
		})
	}
}

func TestCreateStatusSwitch(t *testing.T) {
	for _, st := range []int{0, 201} {
		a, _ := newAPI(t, Options{Switches: Switches{CreateStatus: st}})
		want := max(st, 200)
		a.must(want, "POST", "/organizations", map[string]any{"organization": map[string]any{"name": "Acme Ltda"}})
		a.must(want, "POST", "/contacts", map[string]any{"contact": map[string]any{"name": "Ana"}})
		a.must(want, "POST", "/products", map[string]any{"product": map[string]any{"name": "Widget"}})
		a.must(want, "POST", "/deals", map[string]any{"deal": map[string]any{"name": "Deal"}})
		a.must(201, "POST", "/custom_fields", map[string]any{"custom_field": map[string]any{"label": "CNPJ", "type": "text", "for": "organization"}})
	}
}

func TestContactsAndProducts(t *testing.T) {
	a, _ := newAPI(t, Options{})
	org := a.must(200, "POST", "/organizations", map[string]any{"organization": map[string]any{"name": "Acme Ltda"}})
	ct := a.must(200, "POST", "/contacts", map[string]any{"contact": map[string]any{
		"name": "Ana Souza", "emails": []any{map[string]any{"email": "ana@acme.example"}},
		"phones": []any{map[string]any{"phone": "(11) 3333-4444", "type": "work"}}, "organization_id": str(org, "id"),
		"legal_bases": []any{map[string]any{"category": "communications", "type": "consent", "status": "granted"}},
	}})
	if o, _ := ct["organization"].(map[string]any); str(o, "name") != "Acme Ltda" {
		t.Fatalf("contact organization %v, want Acme Ltda", ct["organization"])
	}
	for _, tt := range []struct{ query, want string }{
		{"email=ANA@acme.example", "Ana Souza"}, {"phone=33334444", "Ana Souza"}, {"q=souza", "Ana Souza"}, {"email=x@y.example", ""},
	} {
		m := a.must(200, "GET", "/contacts?"+tt.query, nil)
		items := list(m, "contacts")
		if (tt.want == "") != (len(items) == 0) || len(items) > 0 && str(items[0].(map[string]any), "name") != tt.want {
			t.Fatalf("GET /contacts?%s = %v, want %q", tt.query, items, tt.want)
		}
	}
	if m := a.must(200, "GET", "/organizations/"+str(org, "id")+"/contacts", nil); m["total"] != float64(1) {
		t.Fatalf("organization contacts %v, want 1", m)
	}
	a.must(422, "POST", "/contacts", map[string]any{"contact": map[string]any{"name": "Bad", "legal_bases": []any{map[string]any{"category": "x", "type": "consent", "status": "granted"}}}})
	a.must(422, "POST", "/contacts", map[string]any{"contact": map[string]any{"name": "Bad", "emails": []any{map[string]any{"email": "not-an-email"}}}})

	p := a.must(200, "POST", "/products", map[string]any{"product": map[string]any{"name": "Widget", "base_price": "15.44"}})
	if p["base_price"] != 15.44 || p["visible"] != true {
		t.Fatalf("product %v: want base_price 15.44 as a number, visible", p)
	}
	p = a.must(200, "PUT", "/products/"+str(p, "id"), map[string]any{"product": map[string]any{"visible": false}})
	if p["visible"] != false {
		t.Fatalf("product after PUT visible=false: %v", p["visible"])
	}
	a.sim.SetSwitches(Switches{BasePriceAsString: true, ProductVisibleReadOnly: true})
	p = a.must(200, "PUT", "/products/"+str(p, "id"), map[string]any{"product": map[string]any{"visible": true}})
	if p["base_price"] != "15.44" || p["visible"] != false {
		t.Fatalf("with switches: base_price %v visible %v, want \"15.44\" and unchanged false", p["base_price"], p["visible"])
	}
}

func TestTokensAndUsers(t *testing.T) {
	a, _ := newAPI(t, Options{Tokens: []string{"t1", "t2"}})
	a.token = "t2"
	m := a.must(200, "GET", "/token/check", nil)
	if str(m, "email") != "user2@sim.example" {
		t.Fatalf("token check %v, want the second user", m)
	}
	a.token = "t1"
	m = a.must(200, "GET", "/token/check", nil)
	if str(m, "name") != DefaultAdminName || str(m, "email") != DefaultAdminEmail {
		t.Fatalf("token check %v, want the admin", m)
	}
	users := list(a.must(200, "GET", "/users", nil), "users")
	if len(users) != 2 {
		t.Fatalf("%d users, want 2", len(users))
	}
	u := a.must(200, "GET", "/users/"+str(users[0].(map[string]any), "id"), nil)
	if _, ok := u["teams"].([]any); !ok || u["phone"] == nil {
		t.Fatalf("user %v: want phone and teams", u)
	}
	if r := a.do("GET", "/users/"+str(users[0].(map[string]any), "id")+"x", nil); r.status != http.StatusNotFound {
		t.Fatalf("unknown user: status %d", r.status)
	}
}
