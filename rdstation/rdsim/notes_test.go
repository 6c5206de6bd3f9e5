package rdsim

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
)

func noteBody(dealID, text string) map[string]any {
	return map[string]any{"activity": map[string]any{"deal_id": dealID, "text": text}}
}

func TestNotesCreateAndList(t *testing.T) {
	for _, status := range []int{0, http.StatusOK, http.StatusCreated} {
		want := max(status, http.StatusOK)
		t.Run(fmt.Sprintf("switch=%d", status), func(t *testing.T) {
			a, _ := newAPI(t, Options{Switches: Switches{NoteCreateStatus: status}})
			deal := str(a.must(200, "POST", "/deals", map[string]any{"deal": map[string]any{"name": "Pedido 9"}}), "id")
			other := str(a.must(200, "POST", "/deals", map[string]any{"deal": map[string]any{"name": "Pedido 10"}}), "id")
			note := a.must(want, "POST", "/activities", noteBody(deal, "ERP rejected the order: sem estoque"))
			for _, k := range []string{"_id", "id", "deal_id", "text", "user_id", "date", "created_at"} {
				if str(note, k) == "" {
					t.Errorf("note has no %q: %v", k, note)
				}
			}
			if str(note, "_id") != str(note, "id") || str(note, "deal_id") != deal || str(note, "user_id") != a.sim.State().Users[0].ID {
				t.Errorf("note %v: want _id = id, the deal and the token's user", note)
			}
			a.must(want, "POST", "/activities", noteBody(deal, "Segunda nota"))
			a.must(want, "POST", "/activities", noteBody(other, "Nota de outro"))

			got := a.must(200, "GET", "/activities?deal_id="+deal, nil)
			items := list(got, "activities")
			if len(items) != 2 || got["total"] != float64(2) || got["has_more"] != false ||
				str(items[0].(map[string]any), "id") != str(note, "id") || str(items[1].(map[string]any), "text") != "Segunda nota" {
				t.Fatalf("listing %v: want this deal's 2 notes, oldest first", got)
			}
			page := a.must(200, "GET", "/activities?deal_id="+deal+"&limit=1&page=1", nil)
			if len(list(page, "activities")) != 1 || page["has_more"] != true {
				t.Errorf("page of 1: %v, want one note and has_more", page)
			}
			if n := a.sim.Notes(deal); len(n) != 2 || n[0].Text != "ERP rejected the order: sem estoque" {
				t.Errorf("Notes(deal) = %+v", n)
			}
			if n := len(a.sim.State().Notes); n != 3 {
				t.Errorf("State holds %d notes, want 3", n)
			}
		})
	}
}

func TestNotesErrors(t *testing.T) {
	a, _ := newAPI(t, Options{Switches: Switches{StrictBodies: true}})
	deal := str(a.must(200, "POST", "/deals", map[string]any{"deal": map[string]any{"name": "Pedido 11"}}), "id")
	const missing = "0123456789abcdef01234567"
	tests := []struct {
		name   string
		method string
		path   string
		body   any
		status int
		want   string
	}{
		{"unknown deal on create", "POST", "/activities", noteBody(missing, "Texto"), 404,
			`{"errors":{"error_type":"RESOURCE_NOT_FOUND","error_message":"Deal not found"}}`},
		{"unknown deal on list", "GET", "/activities?deal_id=" + missing, nil, 404,
			`{"errors":{"error_type":"RESOURCE_NOT_FOUND","error_message":"Deal not found"}}`},
		{"empty text", "POST", "/activities", noteBody(deal, ""), 422, `{"errors":{"text":["can't be blank"]}}`},
		{"one-character text", "POST", "/activities", noteBody(deal, "x"), 422,
			`{"errors":{"text":["is too short (minimum is 2 characters)"]}}`},
		{"no deal", "POST", "/activities", map[string]any{"activity": map[string]any{"text": "Texto"}}, 422,
			`{"errors":{"deal_id":["can't be blank"]}}`},
		{"unknown author", "POST", "/activities", map[string]any{"activity": map[string]any{"deal_id": deal, "text": "Texto", "user_id": missing}}, 422,
			`{"errors":{"user_id":["not found"]}}`},
		{"unwrapped body in strict mode", "POST", "/activities", map[string]any{"deal_id": deal, "text": "Texto"}, 400,
			`{"errors":"param is missing or the value is empty: activity"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := a.do(tt.method, tt.path, tt.body)
			if r.err != nil || r.status != tt.status {
				t.Fatalf("status %d (%v), want %d; body %s", r.status, r.err, tt.status, r.body)
			}
			jsonEq(t, r.body, tt.want)
		})
	}
	if n := len(a.sim.State().Notes); n != 0 {
		t.Errorf("%d notes stored by failed requests", n)
	}
	t.Run("token, counts and rate window apply", func(t *testing.T) {
		a, _ := newAPI(t, Options{RequestsPerMinute: 2})
		deal := str(a.must(200, "POST", "/deals", map[string]any{"deal": map[string]any{"name": "Pedido 12"}}), "id")
		a.must(200, "POST", "/activities", noteBody(deal, "Dentro do limite"))
		a.must(429, "GET", "/activities?deal_id="+deal, nil)
		a.token = "wrong"
		a.must(401, "POST", "/activities", noteBody(deal, "Sem token"))
		if c := a.sim.Counts(); c.ByRoute["POST /api/v1/activities"] != 2 || c.ByRoute["GET /api/v1/activities"] != 1 {
			t.Errorf("counts by route %v", c.ByRoute)
		}
		if n := len(a.sim.Notes(deal)); n != 1 {
			t.Errorf("deal has %d notes, want 1", n)
		}
	})
}

func TestNotesSeed(t *testing.T) {
	a, _ := newAPI(t, Options{})
	deal := str(a.must(200, "POST", "/deals", map[string]any{"deal": map[string]any{"name": "Pedido 13"}}), "id")
	const id = "aaaaaaaaaaaaaaaaaaaaaaaa"
	if err := a.sim.Seed(SeedData{Notes: []Note{{ID: id, DealID: deal, Text: "Semeada"}}}); err != nil {
		t.Fatal(err)
	}
	items := list(a.must(200, "GET", "/activities?deal_id="+deal, nil), "activities")
	if len(items) != 1 || str(items[0].(map[string]any), "id") != id || str(items[0].(map[string]any), "created_at") == "" {
		t.Fatalf("listing after seed: %v", items)
	}
	err := a.sim.Seed(SeedData{Notes: []Note{{ID: id, DealID: deal, Text: "De novo"}}})
	if err == nil || !strings.Contains(err.Error(), "already exists") {
		t.Fatalf("seeding a taken id: %v, want an error", err)
	}
}
