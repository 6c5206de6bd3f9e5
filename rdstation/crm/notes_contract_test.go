package crm_test

import (
	"fmt"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/erpbridge/erpbridge/rdstation/crm"
	"github.com/erpbridge/erpbridge/rdstation/rdsim"
)

// noteTexts lists the texts of notes.
func noteTexts(notes []crm.Note) []string {
	out := make([]string, len(notes))
	for i, n := range notes {
		out[i] = n.Text
	}
	return out
}

func TestContractDealNotes(t *testing.T) {
	for _, status := range []int{http.StatusOK, http.StatusCreated} {
		t.Run(fmt.Sprintf("create answers %d", status), func(t *testing.T) {
			h := newHarness(t, withSwitches(rdsim.Switches{StrictBodies: true, NoteCreateStatus: status}))
			ctx := ctxFor(t)
			deal := try(h.c.CreateDeal(ctx, crm.DealCreate{Deal: crm.DealInput{Name: "Pedido rejeitado"}})).must(t)
			other := try(h.c.CreateDeal(ctx, crm.DealCreate{Deal: crm.DealInput{Name: "Outro pedido"}})).must(t)
			admin := try(h.c.FindUserByEmail(ctx, rdsim.DefaultAdminEmail)).must(t)

			texts := []string{"ERP rejected the order: CNPJ inválido", "ERP rejected the order: sem estoque"}
			h.sim.ResetCounts()
			var created []crm.Note
			for _, text := range texts {
				created = append(created, try(h.c.CreateDealNote(ctx, deal.ID, text)).must(t))
			}
			try(h.c.CreateDealNote(ctx, other.ID, "Nota de outro negócio")).must(t)
			if c := h.sim.Counts(); c.ByStatus[status] != 3 || c.ByRoute["POST /api/v1/activities"] != 3 {
				t.Fatalf("simulator counts %+v: want 3 note creates answered %d", c, status)
			}
			n := created[0]
			if n.ID == "" || n.DealID != deal.ID || n.Text != texts[0] || n.UserID != admin.ID || n.CreatedAt == "" {
				t.Errorf("CreateDealNote = %+v, want id, deal %s, the text, author %s and a timestamp", n, deal.ID, admin.ID)
			}
			if want := `{"activity":{"deal_id":"` + deal.ID + `","text":"` + texts[0] + `"}}`; string(h.rec.matching("POST", "/activities")[0].Body) != want {
				t.Errorf("POST body %s, want %s", h.rec.matching("POST", "/activities")[0].Body, want)
			}

			listed := try(h.c.DealNotes(ctx, deal.ID)).must(t)
			if !slices.Equal(noteTexts(listed), texts) {
				t.Fatalf("DealNotes = %q, want %q (this deal's notes only, oldest first)", noteTexts(listed), texts)
			}
			for i := range listed {
				if listed[i] != created[i] {
					t.Errorf("listed note %d = %+v, created %+v", i, listed[i], created[i])
				}
			}
			if sim := h.sim.Notes(deal.ID); len(sim) != 2 || sim[1].Text != texts[1] || sim[1].ID != created[1].ID {
				t.Errorf("simulator holds %+v", sim)
			}
		})
	}
}

func TestContractDealNoteErrors(t *testing.T) {
	h := newHarness(t)
	ctx := ctxFor(t)
	deal := try(h.c.CreateDeal(ctx, crm.DealCreate{Deal: crm.DealInput{Name: "Sem notas"}})).must(t)
	const missing = "0123456789abcdef01234567"
	tests := []struct {
		name  string
		call  func() error
		kind  error
		field string // the 422's field
	}{
		{"create on unknown deal", func() error { _, err := h.c.CreateDealNote(ctx, missing, "Texto válido"); return err }, crm.ErrNotFound, ""},
		{"list of unknown deal", func() error { _, err := h.c.DealNotes(ctx, missing); return err }, crm.ErrNotFound, ""},
		{"empty text", func() error { _, err := h.c.CreateDealNote(ctx, deal.ID, ""); return err }, crm.ErrValidation, "text"},
		{"blank text", func() error { _, err := h.c.CreateDealNote(ctx, deal.ID, "   "); return err }, crm.ErrValidation, "text"},
		{"one-character text", func() error { _, err := h.c.CreateDealNote(ctx, deal.ID, "x"); return err }, crm.ErrValidation, "text"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := apiError(t, tt.call(), tt.kind)
			switch {
			case tt.field != "" && len(e.Fields[tt.field]) == 0:
				t.Errorf("422 fields %v, want a message for %q", e.Fields, tt.field)
			case tt.field == "" && (e.Status != http.StatusNotFound || e.Message == ""):
				t.Errorf("status %d message %q, want 404 with the API's message", e.Status, e.Message)
			}
		})
	}
	if n := len(h.state().Notes); n != 0 {
		t.Errorf("%d notes stored after failed creates", n)
	}
	t.Run("empty deal id is refused before sending", func(t *testing.T) {
		before := h.c.Stats().Requests
		_, err := h.c.CreateDealNote(ctx, " ", "Texto válido")
		apiError(t, err, crm.ErrBadRequest)
		_, err = h.c.DealNotes(ctx, "")
		apiError(t, err, crm.ErrBadRequest)
		if h.c.Stats().Requests != before {
			t.Error("a request was sent for an empty deal id")
		}
	})
}

// A note create is a POST: after a lost answer or a 5xx it is never resent,
// so the deal never gets the same rejection twice.
func TestContractDealNoteIsNeverResent(t *testing.T) {
	tests := []struct {
		fault     rdsim.FaultKind
		wantNotes int // what the simulator holds afterwards
	}{
		{rdsim.FaultLostResponse, 1},
		{rdsim.FaultServerError, 0},
	}
	for _, tt := range tests {
		t.Run(tt.fault.String(), func(t *testing.T) {
			h := newHarness(t)
			ctx := ctxFor(t)
			deal := try(h.c.CreateDeal(ctx, crm.DealCreate{Deal: crm.DealInput{Name: "Falha na nota"}})).must(t)
			h.sim.SetFaults(rdsim.Faults{Script: []rdsim.FaultKind{tt.fault}, Methods: []string{"POST"}, PathPrefix: "/activities"})
			_, err := h.c.CreateDealNote(ctx, deal.ID, "ERP rejected the order: timeout")
			apiError(t, err, crm.ErrOutcomeUnknown)
			if c := h.sim.Counts(); c.ByRoute["POST /api/v1/activities"] != 1 {
				t.Errorf("note POSTs %d, want 1", c.ByRoute["POST /api/v1/activities"])
			}
			if s := h.c.Stats(); s.Retries != 0 || s.OutcomeUnknown != 1 {
				t.Errorf("stats %+v: want no retry and one unknown outcome", s)
			}
			// The caller resolves the outcome by reading the deal's notes.
			if got := try(h.c.DealNotes(ctx, deal.ID)).must(t); len(got) != tt.wantNotes {
				t.Errorf("deal has %d notes, want %d", len(got), tt.wantNotes)
			}
		})
	}
}

func TestContractDealNotesPaging(t *testing.T) {
	h := newHarness(t)
	ctx := ctxFor(t)
	deal := try(h.c.CreateDeal(ctx, crm.DealCreate{Deal: crm.DealInput{Name: "Muitas notas"}})).must(t)
	const n = 250
	notes := make([]rdsim.Note, n)
	for i := range notes {
		notes[i] = rdsim.Note{DealID: deal.ID, Text: fmt.Sprintf("nota %03d", i), CreatedAt: contractStart.Add(time.Duration(i) * time.Second)}
	}
	if err := h.sim.Seed(rdsim.SeedData{Notes: notes}); err != nil {
		t.Fatal(err)
	}
	h.rec.reset()
	got := try(h.c.DealNotes(ctx, deal.ID)).must(t)
	if len(got) != n || got[0].Text != "nota 000" || got[n-1].Text != "nota 249" {
		t.Fatalf("DealNotes returned %d notes (%q … ), want all %d in order", len(got), noteTexts(got[:min(len(got), 1)]), n)
	}
	if calls := len(h.rec.matching("GET", "/activities")); calls != 2 {
		t.Errorf("%d listing calls, want 2 pages of 200", calls)
	}
}
