package rdsim

import (
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
)

// tricky are names where case folding is not ASCII's.
var tricky = []string{"", " ", "acme", "ACME", " Acme ", "k", "K", "\u212a", "s", "S", "\u017f", "ß", "ẞ", "ss", "SS",
	"σ", "ς", "Σ", "ǅ", "Ǆ", "ǆ", "İ", "i", "ı", "I", "\xff", "\ufffd", "a\xffb", "a\ufffdb", "Ω", "\u2126", "ω", "\t\u00a0x\u3000"}

func TestNameKeyMatchesEqualFold(t *testing.T) {
	for _, a := range tricky {
		for _, b := range tricky {
			want := strings.EqualFold(strings.TrimSpace(a), strings.TrimSpace(b))
			if got := nameKey(a) == nameKey(b); got != want {
				t.Errorf("nameKey(%q) == nameKey(%q) is %v, EqualFold says %v", a, b, got, want)
			}
		}
	}
}

func FuzzNameKey(f *testing.F) {
	for i, a := range tricky {
		f.Add(a, tricky[(i+1)%len(tricky)])
	}
	f.Fuzz(func(t *testing.T, a, b string) {
		want := strings.EqualFold(strings.TrimSpace(a), strings.TrimSpace(b))
		if got := nameKey(a) == nameKey(b); got != want {
			t.Errorf("nameKey(%q) == nameKey(%q) is %v, EqualFold says %v", a, b, got, want)
		}
	})
}

// checkIndexes fails unless every index equals one rebuilt from the records.
func checkIndexes(t *testing.T, s *Sim) {
	t.Helper()
	s.mu.RLock()
	defer s.mu.RUnlock()
	d := s.d
	checkTable(t, "organizations", &d.orgs)
	checkTable(t, "contacts", &d.contacts)
	checkTable(t, "products", &d.products)
	checkTable(t, "deals", &d.deals)
}

func checkTable[T any](t *testing.T, name string, tb *table[T]) {
	t.Helper()
	for i, ix := range tb.ixs {
		want := map[string][]*slot[T]{}
		for _, s := range tb.order {
			for _, k := range ix.keys(s.v) {
				want[k] = append(want[k], s)
			}
		}
		if !maps.EqualFunc(ix.m, want, slices.Equal) {
			t.Errorf("%s index %d is out of step with the records: %d keys, want %d", name, i, len(ix.m), len(want))
		}
	}
}

func TestUniqueNamesFollowRenames(t *testing.T) {
	tests := []struct {
		path, wrapper string
		sw            Switches
		extra         map[string]any
	}{
		{"/organizations", "organization", Switches{}, nil},
		{"/products", "product", Switches{}, map[string]any{"base_price": 1}},
		{"/contacts", "contact", Switches{ContactNamesUnique: true}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.wrapper, func(t *testing.T) {
			a, _ := newAPI(t, Options{Switches: tt.sw})
			body := func(name string) any {
				m := map[string]any{"name": name}
				maps.Copy(m, tt.extra)
				return map[string]any{tt.wrapper: m}
			}
			first := a.must(200, "POST", tt.path, body("Acme Ltda"))
			a.must(200, "PUT", tt.path+"/"+str(first, "id"), body("Beta SA"))
			a.must(200, "POST", tt.path, body(" ACME LTDA")) // the old name is free
			r := a.do("POST", tt.path, body("beta sa "))     // the new one is taken
			if r.status != 422 {
				t.Fatalf("create with the new name: status %d, want 422 (%s)", r.status, r.body)
			}
			jsonEq(t, r.body, `{"errors":{"name":["has already been taken"]}}`)
			// Renaming to itself (another case) is no conflict.
			a.must(200, "PUT", tt.path+"/"+str(first, "id"), body("BETA SA"))
			checkIndexes(t, a.sim)
		})
	}
}

func TestRemovingARecordFreesItsName(t *testing.T) {
	a, _ := newAPI(t, Options{})
	org := a.must(200, "POST", "/organizations", map[string]any{"organization": map[string]any{"name": "Acme Ltda"}})
	a.must(422, "POST", "/organizations", map[string]any{"organization": map[string]any{"name": "acme ltda"}})
	// The API deletes no organization; the table's remove is what a delete uses.
	a.sim.mu.Lock()
	a.sim.d.orgs.remove(str(org, "id"))
	a.sim.mu.Unlock()
	a.must(200, "POST", "/organizations", map[string]any{"organization": map[string]any{"name": "acme ltda"}})
	checkIndexes(t, a.sim)
}

func TestSeedAndResetRebuildIndexes(t *testing.T) {
	a, _ := newAPI(t, Options{})
	cf := a.must(201, "POST", "/custom_fields", map[string]any{"custom_field": map[string]any{"label": "CNPJ", "type": "text", "for": "organization", "unique": true}})
	if err := a.sim.Seed(SeedData{
		Organizations: []Organization{{ID: "0000000000000000000000a1", Name: "Seeded Org",
			CustomFields: []CustomFieldValue{{CustomFieldID: str(cf, "id"), Value: "111"}}}},
		Contacts: []Contact{{Name: "Seeded Contact", OrganizationID: "0000000000000000000000a1"}},
		Products: []Product{{Name: "Seeded Product"}},
		Deals:    []Deal{{Name: "Pedido 1", OrganizationID: "0000000000000000000000a1"}},
	}); err != nil {
		t.Fatal(err)
	}
	a.must(422, "POST", "/organizations", map[string]any{"organization": map[string]any{"name": "SEEDED ORG"}})
	a.must(422, "POST", "/organizations", map[string]any{"organization": map[string]any{"name": "Other",
		"organization_custom_fields": []any{map[string]any{"custom_field_id": str(cf, "id"), "value": "111"}}}})
	a.must(422, "POST", "/products", map[string]any{"product": map[string]any{"name": "seeded product"}})
	org := a.must(200, "GET", "/organizations/0000000000000000000000a1", nil)
	if n := len(list(org, "contacts")); n != 1 || org["opened_count"] != float64(1) {
		t.Fatalf("seeded organization shows %d contacts and %v open deals, want 1 and 1", n, org["opened_count"])
	}
	if n := len(list(a.must(200, "GET", "/deals?name=Pedido%201&exact_name=true", nil), "deals")); n != 1 {
		t.Fatalf("exact-name look-up found %d seeded deals, want 1", n)
	}
	checkIndexes(t, a.sim)

	a.must(200, "POST", "/_sim/reset", nil)
	a.must(200, "POST", "/organizations", map[string]any{"organization": map[string]any{"name": "Seeded Org"}})
	a.must(200, "POST", "/products", map[string]any{"product": map[string]any{"name": "Seeded Product"}})
	if n := len(list(a.must(200, "GET", "/deals?name=Pedido%201&exact_name=true", nil), "deals")); n != 0 {
		t.Fatalf("exact-name look-up after reset found %d deals, want 0", n)
	}
	checkIndexes(t, a.sim)
}

func TestIndexedRelationsAndValues(t *testing.T) {
	a, _ := newAPI(t, Options{})
	cf := a.must(201, "POST", "/custom_fields", map[string]any{"custom_field": map[string]any{"label": "CPF", "type": "text", "for": "contact", "unique": true}})
	cpf := func(v string) []any { return []any{map[string]any{"custom_field_id": str(cf, "id"), "value": v}} }
	o1 := str(a.must(200, "POST", "/organizations", map[string]any{"organization": map[string]any{"name": "Org One"}}), "id")
	o2 := str(a.must(200, "POST", "/organizations", map[string]any{"organization": map[string]any{"name": "Org Two"}}), "id")
	c1 := str(a.must(200, "POST", "/contacts", map[string]any{"contact": map[string]any{"name": "Ana", "organization_id": o2, "contact_custom_fields": cpf("123")}}), "id")
	c2 := str(a.must(200, "POST", "/contacts", map[string]any{"contact": map[string]any{"name": "Bia", "organization_id": o1}}), "id")
	// Moving c1 to o1 lists it before c2 (table order), not after.
	a.must(200, "PUT", "/contacts/"+c1, map[string]any{"contact": map[string]any{"organization_id": o1}})
	names := func(org string) string {
		var out []string
		for _, c := range list(a.must(200, "GET", "/organizations/"+org, nil), "contacts") {
			out = append(out, str(c.(map[string]any), "name"))
		}
		return strings.Join(out, ",")
	}
	if got1, got2 := names(o1), names(o2); got1 != "Ana,Bia" || got2 != "" {
		t.Fatalf("contacts of the organizations: %q and %q, want \"Ana,Bia\" and \"\"", got1, got2)
	}
	// A changed unique value frees the old one.
	a.must(422, "POST", "/contacts", map[string]any{"contact": map[string]any{"name": "Cris", "contact_custom_fields": cpf("123")}})
	a.must(200, "PUT", "/contacts/"+c1, map[string]any{"contact": map[string]any{"contact_custom_fields": cpf("456")}})
	a.must(200, "POST", "/contacts", map[string]any{"contact": map[string]any{"name": "Cris", "contact_custom_fields": cpf("123")}})
	// deal_ids links and unlinks.
	d1 := str(a.must(200, "POST", "/deals", map[string]any{"deal": map[string]any{"name": "Pedido 1"}, "set_contacts": []any{c2}}), "id")
	d2 := str(a.must(200, "POST", "/deals", map[string]any{"deal": map[string]any{"name": "Pedido 2"}}), "id")
	a.must(200, "PUT", "/contacts/"+c2, map[string]any{"contact": map[string]any{"deal_ids": []any{d2}}})
	got := a.must(200, "GET", "/contacts/"+c2, nil)["deal_ids"]
	if fmt.Sprint(got) != fmt.Sprint([]any{d2}) {
		t.Fatalf("deal_ids after relinking: %v, want [%s] (not %s)", got, d2, d1)
	}
	// Renamed deals are found by their new exact name only.
	a.must(200, "PUT", "/deals/"+d1, map[string]any{"deal": map[string]any{"name": "Pedido 1b"}})
	for name, want := range map[string]int{"Pedido%201": 0, "Pedido%201b": 1, "pedido%201b": 0} {
		if n := len(list(a.must(200, "GET", "/deals?exact_name=true&name="+name, nil), "deals")); n != want {
			t.Errorf("exact name %s: %d deals, want %d", name, n, want)
		}
	}
	a.must(204, "DELETE", "/custom_fields/"+str(cf, "id"), nil)
	if vals := list(a.must(200, "GET", "/contacts/"+c1, nil), "contact_custom_fields"); len(vals) != 0 {
		t.Fatalf("values of a deleted field are still shown: %v", vals)
	}
	checkIndexes(t, a.sim)
}

func TestConcurrentWritesKeepNamesUnique(t *testing.T) {
	a, _ := newAPI(t, Options{})
	const workers, ops = 4, 20
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := range ops {
				// Names collide across workers on purpose.
				name := fmt.Sprintf("Org %d", (w+i)%7)
				r := a.do("POST", "/organizations", map[string]any{"organization": map[string]any{"name": name}})
				if r.status != 200 && r.status != 422 {
					t.Errorf("create %q: status %d (%s)", name, r.status, r.body)
					return
				}
				if r.status == 200 {
					id := str(decode(t, r.body), "id")
					a.do("PUT", "/organizations/"+id, map[string]any{"organization": map[string]any{"name": fmt.Sprintf("Renamed %d", (w*ops+i)%5)}})
				}
			}
		})
	}
	wg.Wait()
	seen := map[string]bool{}
	for _, o := range a.sim.State().Organizations {
		if k := nameKey(o.Name); seen[k] {
			t.Errorf("two organizations named %q", o.Name)
		} else {
			seen[k] = true
		}
	}
	if len(seen) == 0 {
		t.Fatal("no organization was created")
	}
	checkIndexes(t, a.sim)
}

func decode(t *testing.T, body []byte) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(body, &m); err != nil {
		t.Fatalf("decoding %s: %v", body, err)
	}
	return m
}

// benchSim returns a simulator holding n organizations.
func benchSim(b *testing.B, n int) *Sim {
	b.Helper()
	s := New(Options{RequestsPerMinute: -1})
	orgs := make([]Organization, n)
	for i := range orgs {
		orgs[i] = Organization{Name: fmt.Sprintf("ACME COMERCIO DE ALIMENTOS %d", i)}
	}
	if err := s.Seed(SeedData{Organizations: orgs}); err != nil {
		b.Fatal(err)
	}
	return s
}

// BenchmarkCreateOrganization is one POST /organizations (unique-name check
// included) with n organizations already held: flat in n.
func BenchmarkCreateOrganization(b *testing.B) {
	for _, n := range []int{1_000, 100_000} {
		b.Run(fmt.Sprintf("existing=%d", n), func(b *testing.B) {
			s := benchSim(b, n)
			i := 0
			for b.Loop() {
				i++
				body := fmt.Sprintf(`{"organization":{"name":"NEW ORG %d"}}`, i)
				req := httptest.NewRequest(http.MethodPost, "/api/v1/organizations?token="+DefaultToken, strings.NewReader(body))
				w := httptest.NewRecorder()
				s.ServeHTTP(w, req)
				if w.Code != http.StatusOK {
					b.Fatalf("status %d: %s", w.Code, w.Body)
				}
			}
		})
	}
}
