package rdsim

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"
)

// stageIDs returns the default pipeline's stage ids in order.
func stageIDs(t *testing.T, a *api) []string {
	t.Helper()
	var ids []string
	for _, s := range list(a.must(200, "GET", "/deal_stages", nil), "deal_stages") {
		ids = append(ids, str(s.(map[string]any), "id"))
	}
	if len(ids) < 3 {
		t.Fatalf("default pipeline has %d stages", len(ids))
	}
	return ids
}

func dealStage(d map[string]any) string {
	st, _ := d["deal_stage"].(map[string]any)
	return str(st, "id")
}

func TestDealStageMustBeTopLevelOnUpdate(t *testing.T) {
	a, _ := newAPI(t, Options{})
	stages := stageIDs(t, a)
	deal := a.must(200, "POST", "/deals", map[string]any{"deal": map[string]any{"name": "Pedido 1", "deal_stage_id": stages[1]}})
	id := str(deal, "id")
	if dealStage(deal) != stages[1] {
		t.Fatalf("created in stage %s, want %s (stage goes inside deal on create)", dealStage(deal), stages[1])
	}
	tests := []struct {
		name string
		body any
		want string
	}{
		{"inside deal is ignored", map[string]any{"deal": map[string]any{"deal_stage_id": stages[2]}}, stages[1]},
		{"top level moves it", map[string]any{"deal": map[string]any{}, "deal_stage_id": stages[2]}, stages[2]},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := a.must(200, "PUT", "/deals/"+id, tt.body)
			if dealStage(got) != tt.want {
				t.Fatalf("stage after PUT %s, want %s", dealStage(got), tt.want)
			}
			if dealStage(a.must(200, "GET", "/deals/"+id, nil)) != tt.want {
				t.Fatal("GET disagrees with the PUT response")
			}
		})
	}
}

func TestDealAmountsFromProducts(t *testing.T) {
	a, _ := newAPI(t, Options{})
	p1 := str(a.must(200, "POST", "/products", map[string]any{"product": map[string]any{"name": "Setup", "base_price": 150}}), "id")
	p2 := str(a.must(200, "POST", "/products", map[string]any{"product": map[string]any{"name": "Licença", "base_price": 100}}), "id")
	deal := a.must(200, "POST", "/deals", map[string]any{
		"deal": map[string]any{"name": "Pedido 2", "amount_total": 999999},
		"deal_products": []any{
			map[string]any{"product_id": p1, "price": 150, "amount": 3, "discount": 50, "discount_type": "value", "recurrence": "spare"},
			map[string]any{"product_id": p2, "price": 100.10, "amount": 2, "discount": 10, "discount_type": "percentage", "recurrence": "monthly"},
		},
	})
	raw, _ := json.Marshal(map[string]any{"u": deal["amount_unique"], "m": deal["amount_montly"], "t": deal["amount_total"]})
	jsonEq(t, raw, `{"u":400,"m":180.18,"t":580.18}`)
	if _, has := deal["amount_monthly"]; has {
		t.Fatal("deal spells amount_monthly; v1 spells it amount_montly")
	}
	id := str(deal, "id")
	dps := list(a.must(200, "GET", "/deals/"+id+"/deal_products", nil), "deal_products")
	if len(dps) != 2 || dps[0].(map[string]any)["total"] != float64(400) || str(dps[0].(map[string]any), "name") != "Setup" {
		t.Fatalf("deal products %v: want 2 with the first totalling 400", dps)
	}

	t.Run("single create, update and delete", func(t *testing.T) {
		dp := a.must(201, "POST", "/deals/"+id+"/deal_products", map[string]any{"product_id": p1, "price": 10, "amount": 1, "discount": 0, "discount_type": "value"})
		a.must(200, "PUT", "/deals/"+id+"/deal_products/"+str(dp, "id"), map[string]any{"amount": 5})
		if got := a.must(200, "GET", "/deals/"+id, nil); got["amount_unique"] != float64(450) {
			t.Fatalf("amount_unique after adding 5×10: %v, want 450", got["amount_unique"])
		}
		a.must(204, "DELETE", "/deals/"+id+"/deal_products/"+str(dp, "id"), nil)
		if got := a.must(200, "GET", "/deals/"+id, nil); got["amount_unique"] != float64(400) {
			t.Fatalf("amount_unique after delete: %v, want 400", got["amount_unique"])
		}
	})
	t.Run("discount_type is required", func(t *testing.T) {
		a.must(422, "POST", "/deals/"+id+"/deal_products", map[string]any{"product_id": p1, "price": 10, "discount": 0})
		a.must(422, "POST", "/deals/"+id+"/deal_products", map[string]any{"product_id": p1, "price": 10, "discount": 0, "discount_type": "bogus"})
	})
	t.Run("batches", func(t *testing.T) {
		item := map[string]any{"product_id": p1, "price": 1, "amount": 1, "discount": 0, "discount_type": "value"}
		items := make([]any, 101)
		for i := range items {
			items[i] = item
		}
		a.must(413, "POST", "/deals/"+id+"/deal_products/batch", map[string]any{"deal_products": items})
		m := a.must(201, "POST", "/deals/"+id+"/deal_products/batch", map[string]any{"deal_products": items[:3]})
		dl, _ := m["deal"].(map[string]any)
		all := list(dl, "deal_products")
		if str(dl, "id") != id || len(all) != 5 {
			t.Fatalf("batch create answered %v, want the deal with 5 products", m)
		}
		last := str(all[4].(map[string]any), "id")
		a.must(200, "PATCH", "/deals/"+id+"/deal_products/batch/update", map[string]any{"deal_products": []any{map[string]any{"id": last, "price": 7}}})
		a.must(200, "DELETE", "/deals/"+id+"/deal_products/batch/destroy", map[string]any{"deal_products": []any{
			map[string]any{"id": str(all[2].(map[string]any), "id")}, map[string]any{"id": str(all[3].(map[string]any), "id")}}})
		got := a.must(200, "GET", "/deals/"+id, nil)
		if len(list(got, "deal_products")) != 3 || got["amount_unique"] != float64(407) {
			t.Fatalf("after batches: %d products, amount_unique %v; want 3 and 407", len(list(got, "deal_products")), got["amount_unique"])
		}
	})
}

func TestDealCreateWithOrganizationAndContacts(t *testing.T) {
	a, _ := newAPI(t, Options{})
	org := a.must(200, "POST", "/organizations", map[string]any{"organization": map[string]any{"name": "Acme Ltda"}})
	deal := a.must(200, "POST", "/deals", map[string]any{
		"deal":         map[string]any{"name": "Pedido 3"},
		"organization": map[string]any{"_id": str(org, "id")},
		"contacts":     []any{map[string]any{"name": "Bruno Lima", "emails": []any{map[string]any{"email": "bruno@acme.example"}}}},
	})
	if o, _ := deal["organization"].(map[string]any); str(o, "id") != str(org, "id") {
		t.Fatalf("deal organization %v", deal["organization"])
	}
	cs := list(a.must(200, "GET", "/deals/"+str(deal, "id")+"/contacts", nil), "contacts")
	if len(cs) != 1 {
		t.Fatalf("deal contacts %v, want the created one", cs)
	}
	ct := a.must(200, "GET", "/contacts/"+str(cs[0].(map[string]any), "id"), nil)
	if fmt.Sprint(ct["deal_ids"]) != fmt.Sprintf("[%s]", str(deal, "id")) || str(ct, "organization_id") != str(org, "id") {
		t.Fatalf("created contact %v: want deal_ids and the deal's organization", ct)
	}
	t.Run("a bad contact creates nothing", func(t *testing.T) {
		before := a.sim.State()
		a.must(422, "POST", "/deals", map[string]any{"deal": map[string]any{"name": "Pedido 4"}, "contacts": []any{map[string]any{"name": "X"}}})
		after := a.sim.State()
		if len(after.Deals) != len(before.Deals) || len(after.Contacts) != len(before.Contacts) {
			t.Fatal("a rejected deal left records behind")
		}
	})
	t.Run("new contacts' names follow the unique-name rule", func(t *testing.T) {
		a.sim.SetSwitches(Switches{ContactNamesUnique: true})
		defer a.sim.SetSwitches(Switches{})
		// Names compare trimmed and case-folded, within the body as against
		// the stored contacts.
		for _, names := range [][]any{{"Ana Souza", " ana souza"}, {"Bruno Lima "}} {
			var cs []any
			for _, n := range names {
				cs = append(cs, map[string]any{"name": n})
			}
			r := a.do("POST", "/deals", map[string]any{"deal": map[string]any{"name": "Pedido 5"}, "contacts": cs})
			if r.status != 422 {
				t.Fatalf("contacts %q: status %d, want 422 (%s)", names, r.status, r.body)
			}
		}
	})
	t.Run("organization in reads", func(t *testing.T) {
		a.sim.SetSwitches(Switches{OmitOrganizationInDealReads: true})
		defer a.sim.SetSwitches(Switches{})
		if _, has := a.must(200, "GET", "/deals/"+str(deal, "id"), nil)["organization"]; has {
			t.Fatal("GET /deals/{id} carries organization with OmitOrganizationInDealReads")
		}
		if _, has := a.must(200, "PUT", "/deals/"+str(deal, "id"), map[string]any{"deal": map[string]any{}})["organization"]; !has {
			t.Fatal("the update response lost organization")
		}
	})
}

func TestDealWinLoseReopenAndFilters(t *testing.T) {
	a, fake := newAPI(t, Options{})
	reasons := list(a.must(200, "GET", "/deal_lost_reasons", nil), "deal_lost_reasons")
	reason := str(reasons[0].(map[string]any), "_id")
	mk := func(name string) string {
		return str(a.must(200, "POST", "/deals", map[string]any{"deal": map[string]any{"name": name}}), "id")
	}
	won, lost, open := mk("Ganho"), mk("Perdido"), mk("Aberto")
	fake.Advance(time.Hour)
	w := a.must(200, "PUT", "/deals/"+won, map[string]any{"deal": map[string]any{"win": true}})
	if w["win"] != true || str(w, "closed_at") != "2026-03-10T10:00:30.000-03:00" {
		t.Fatalf("won deal win=%v closed_at=%v", w["win"], w["closed_at"])
	}
	l := a.must(200, "PUT", "/deals/"+lost, map[string]any{"deal": map[string]any{"win": false, "deal_lost_reason_id": reason, "deal_lost_note": "caro demais"}})
	if l["win"] != false || str(l, "deal_lost_reason_id") != reason || str(l, "deal_lost_note") != "caro demais" {
		t.Fatalf("lost deal %v", l)
	}
	a.must(200, "PUT", "/deals/"+open, map[string]any{"deal": map[string]any{"hold": true}})
	tests := []struct {
		query string
		want  []string
	}{
		{"win=true", []string{won}},
		{"win=false", []string{lost}},
		{"win=null", []string{open}},
		{"closed_at=true", []string{lost, won}},
		{"hold=true", []string{open}},
		{"win=true&closed_at_period=true&start_date=2026-03-10T09:30:00&end_date=2026-03-10T10:30:00", []string{won}},
		{"win=true&closed_at_period=true&start_date=2026-03-11&end_date=2026-03-12", nil},
		{"created_at_period=true&start_date=2026-03-10&end_date=2026-03-10", []string{open, lost, won}},
		{"name=Ganho&exact_name=true", []string{won}},
		{"name=ganh", []string{won}},
		{"name=ganh&exact_name=true", nil},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			var got []string
			for _, d := range list(a.must(200, "GET", "/deals?"+tt.query, nil), "deals") {
				got = append(got, str(d.(map[string]any), "id"))
			}
			if fmt.Sprint(got) != fmt.Sprint(tt.want) {
				t.Fatalf("GET /deals?%s = %v, want %v", tt.query, got, tt.want)
			}
		})
	}
	r := a.must(200, "PUT", "/deals/"+won, map[string]any{"deal": map[string]any{"win": nil}})
	if r["win"] != nil || r["closed_at"] != nil {
		t.Fatalf("reopened deal win=%v closed_at=%v, want both null", r["win"], r["closed_at"])
	}
	t.Run("switches", func(t *testing.T) {
		a.sim.SetSwitches(Switches{LostReasonRequired: true, WinKeepsClosedAtNull: true, WinMovesToLastStage: true})
		defer a.sim.SetSwitches(Switches{})
		a.must(422, "PUT", "/deals/"+open, map[string]any{"deal": map[string]any{"win": false}})
		w := a.must(200, "PUT", "/deals/"+open, map[string]any{"deal": map[string]any{"win": true}})
		stages := stageIDs(t, a)
		if w["closed_at"] != nil || dealStage(w) != stages[len(stages)-1] {
			t.Fatalf("won with switches: closed_at %v stage %s", w["closed_at"], dealStage(w))
		}
	})
}

func TestDealsNextPage(t *testing.T) {
	a, fake := newAPI(t, Options{})
	deals := make([]Deal, 0, 10010)
	for i := range 10010 {
		deals = append(deals, Deal{Name: fmt.Sprintf("D%05d", i), CreatedAt: fake.Now().Add(time.Duration(i) * time.Second)})
	}
	if err := a.sim.Seed(SeedData{Deals: deals}); err != nil {
		t.Fatal(err)
	}
	walk := func() int {
		n, cursor := 0, ""
		for range 60 {
			path := "/deals?limit=200"
			if cursor != "" {
				path += "&next_page=" + cursor
			}
			m := a.must(200, "GET", path, nil)
			n += len(list(m, "deals"))
			cursor, _ = m["next_page"].(string)
			if m["has_more"] != true {
				return n
			}
		}
		t.Fatal("next_page never ended")
		return 0
	}
	if n := walk(); n != ListingCap {
		t.Fatalf("walked %d deals with next_page, want the cap %d", n, ListingCap)
	}
	a.sim.SetSwitches(Switches{NextPageBypassesCap: true})
	if n := walk(); n != 10010 {
		t.Fatalf("walked %d deals with NextPageBypassesCap, want all 10010", n)
	}
	if m := a.must(200, "GET", "/deals?limit=1", nil); str(list(m, "deals")[0].(map[string]any), "name") != "D10009" {
		t.Fatal("deals are not newest first by default")
	}
}

// TestWonDealIsCopiedToThePipelineItsPipelineNames: a pipeline whose
// config.deal_won.copy_to_pipeline names another makes, at each win, a copy
// of the deal in that pipeline's first stage (open, or won under
// WonCopyIsWon) with its organization, products and custom fields; the
// setting renders as the pipeline's id (or {id,name}); an unknown pipeline
// is a 422.
func TestWonDealIsCopiedToThePipelineItsPipelineNames(t *testing.T) {
	a, _ := newAPI(t, Options{})
	var pipes []map[string]any
	if err := json.Unmarshal(a.do("GET", "/deal_pipelines", nil).body, &pipes); err != nil || len(pipes) < 2 {
		t.Fatalf("pipelines: %v %v", pipes, err)
	}
	sales, after := str(pipes[0], "id"), str(pipes[1], "id")
	copyOf := func(p map[string]any) any {
		cfg, _ := p["config"].(map[string]any)
		won, _ := cfg["deal_won"].(map[string]any)
		return won["copy_to_pipeline"]
	}
	if got := copyOf(pipes[0]); got != nil {
		t.Fatalf("copy_to_pipeline %v before it is set, want null", got)
	}
	a.must(422, "PUT", "/deal_pipelines/"+sales, map[string]any{"deal_pipeline": map[string]any{
		"config": map[string]any{"deal_won": map[string]any{"copy_to_pipeline": "0123456789abcdef01234567"}}}})
	p := a.must(200, "PUT", "/deal_pipelines/"+sales, map[string]any{"deal_pipeline": map[string]any{
		"config": map[string]any{"deal_won": map[string]any{"copy_to_pipeline": map[string]any{"id": after}}}}})
	if got := copyOf(p); got != after {
		t.Fatalf("copy_to_pipeline %v, want %s", got, after)
	}
	a.sim.SetSwitches(Switches{CopyToPipelineAsObject: true})
	if got, _ := copyOf(a.must(200, "GET", "/deal_pipelines/"+sales, nil)).(map[string]any); str(got, "id") != after || str(got, "name") == "" {
		t.Errorf("copy_to_pipeline as an object: %v, want {id: %s, name}", got, after)
	}
	a.sim.SetSwitches(Switches{})

	field := str(a.must(201, "POST", "/custom_fields", map[string]any{"custom_field": map[string]any{"label": "Canal", "type": "text", "for": "deal"}}), "id")
	prod := str(a.must(200, "POST", "/products", map[string]any{"product": map[string]any{"name": "Cadeira", "base_price": 10}}), "id")
	deal := a.must(200, "POST", "/deals", map[string]any{"deal": map[string]any{"name": "Venda com cópia",
		"deal_custom_fields": []any{map[string]any{"custom_field_id": field, "value": "Loja"}}},
		"organization":  map[string]any{"name": "Cliente Cópia"},
		"deal_products": []any{map[string]any{"product_id": prod, "amount": 2, "price": 10, "discount": 0, "discount_type": "value"}}})
	id := str(deal, "id")
	copies := func(win string) []map[string]any {
		var out []map[string]any
		for _, d := range list(a.must(200, "GET", "/deals?deal_pipeline_id="+after+"&win="+win, nil), "deals") {
			out = append(out, d.(map[string]any))
		}
		return out
	}
	a.must(200, "PUT", "/deals/"+id, map[string]any{"deal": map[string]any{"win": true}})
	open := copies("null")
	if len(open) != 1 || str(open[0], "name") != "Venda com cópia" || str(open[0], "id") == id {
		t.Fatalf("open deals in the copy pipeline: %v, want one copy", open)
	}
	c := open[0]
	org, _ := c["organization"].(map[string]any)
	if str(org, "name") != "Cliente Cópia" || len(list(c, "deal_products")) != 1 || len(list(c, "deal_custom_fields")) != 1 {
		t.Errorf("the copy lacks the organization, products or custom fields: %v", c)
	}
	if st, _ := c["deal_stage"].(map[string]any); str(st, "deal_pipeline_id") != after {
		t.Errorf("the copy's stage %v is not in the copy pipeline", st)
	}
	// Winning it again (reopened first) makes another copy; updating a won deal makes none.
	a.must(200, "PUT", "/deals/"+id, map[string]any{"deal": map[string]any{"rating": 3}})
	a.must(200, "PUT", "/deals/"+id, map[string]any{"deal": map[string]any{"win": nil}})
	a.sim.SetSwitches(Switches{WonCopyIsWon: true})
	defer a.sim.SetSwitches(Switches{})
	a.must(200, "PUT", "/deals/"+id, map[string]any{"deal": map[string]any{"win": true}})
	if n, won := len(copies("null")), copies("true"); n != 1 || len(won) != 1 || won[0]["closed_at"] == nil {
		t.Errorf("after a second win: %d open copies, won copies %v; want 1 and 1 won, closed", n, won)
	}
}

// TestDealProductAmountSwitch: a decimal amount is kept, cut to its whole
// part or refused, per Switches.DealProductAmounts; the line and deal
// totals are price × amount of what was kept, exactly.
func TestDealProductAmountSwitch(t *testing.T) {
	tests := []struct {
		mode       string
		status     int
		amount     any    // amount and amount_decimal read back
		total      string // line total and deal amount_total
		zeroStatus int    // a 0.5 amount
	}{
		{"", 201, 2.375, "23.761875", 201},
		{AmountsDecimal, 201, 2.375, "23.761875", 201},
		{AmountsTruncate, 201, float64(2), "20.01", 422},
		{AmountsReject, 422, nil, "0", 422},
	}
	for _, tt := range tests {
		t.Run("mode "+tt.mode, func(t *testing.T) {
			a, _ := newAPI(t, Options{Switches: Switches{DealProductAmounts: tt.mode}})
			p := str(a.must(200, "POST", "/products", map[string]any{"product": map[string]any{"name": "Fio de cobre (kg)"}}), "id")
			id := str(a.must(200, "POST", "/deals", map[string]any{"deal": map[string]any{"name": "Pedido 7"}}), "id")
			line := func(amount any) map[string]any {
				return map[string]any{"product_id": p, "price": 10.005, "amount": amount, "discount": 0, "discount_type": "value"}
			}
			r := a.do("POST", "/deals/"+id+"/deal_products/batch", map[string]any{"deal_products": []any{line(2.375)}})
			if r.status != tt.status {
				t.Fatalf("batch with amount 2.375: status %d, want %d (%s)", r.status, tt.status, r.body)
			}
			deal := a.must(200, "GET", "/deals/"+id, nil)
			raw, _ := json.Marshal(deal["amount_total"])
			jsonEq(t, raw, tt.total)
			if tt.amount != nil {
				dp := list(a.must(200, "GET", "/deals/"+id+"/deal_products", nil), "deal_products")[0].(map[string]any)
				if dp["amount"] != tt.amount || dp["amount_decimal"] != tt.amount {
					t.Errorf("amount %v, amount_decimal %v; want both %v", dp["amount"], dp["amount_decimal"], tt.amount)
				}
				raw, _ := json.Marshal(dp["total"])
				jsonEq(t, raw, tt.total)
			}
			if r := a.do("POST", "/deals/"+id+"/deal_products", line(0.5)); r.status != tt.zeroStatus {
				t.Errorf("amount 0.5: status %d, want %d (%s)", r.status, tt.zeroStatus, r.body)
			}
			a.must(201, "POST", "/deals/"+id+"/deal_products", line(3)) // whole amounts pass everywhere
		})
	}
}
