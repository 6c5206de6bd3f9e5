package crm

import (
	"context"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync/atomic"
	"testing"
)

// The listing's shape and the create's status are unconfirmed: the client
// takes every plausible answer.
func TestDealNotesAnswerShapes(t *testing.T) {
	tests := []struct {
		name       string
		status     int
		createBody string
		listBody   string
		wantTexts  []string
	}{
		{"200, bare note, envelope", 200,
			`{"_id":"n1","id":"n1","deal_id":"d1","text":"um","user_id":"u1","date":"2026-03-02T09:00:00.000-03:00","created_at":"2026-03-02T09:00:00.000-03:00"}`,
			`{"activities":[{"_id":"n1","deal_id":"d1","text":"um"},{"_id":"n2","deal_id":"d1","text":"dois"}],"total":2,"has_more":false}`,
			[]string{"um", "dois"}},
		{"201, wrapped note, bare array", 201,
			`{"activity":{"_id":"n1","deal_id":"d1","text":"um","user_id":null,"date":"2026-03-02T09:00:00.000-03:00"}}`,
			`[{"id":"n1","deal_id":"d1","text":"um"}]`,
			[]string{"um"}},
		{"envelope with odd extras", 201,
			`{"id":"n1","deal_id":"d1","text":"um","created_at":"2026-03-02T09:00:00.000-03:00"}`,
			`{"activities":[{"id":"n1","deal_id":"d1","text":"um"}],"total":"1","has_more":null}`,
			[]string{"um"}},
		{"empty envelope", 200,
			`{"id":"n1","deal_id":"d1","text":"um","created_at":"2026-03-02T09:00:00.000-03:00"}`,
			`{"activities":[],"total":0,"has_more":false}`,
			[]string{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var gets atomic.Int32
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				if r.Method == http.MethodPost {
					w.WriteHeader(tt.status)
					w.Write([]byte(tt.createBody))
					return
				}
				gets.Add(1)
				w.Write([]byte(tt.listBody))
			}))
			defer srv.Close()
			c, err := New(Config{BaseURL: srv.URL + "/api/v1", Token: "t"})
			if err != nil {
				t.Fatal(err)
			}
			ctx := context.Background()
			n, err := c.CreateDealNote(ctx, "d1", "um")
			if err != nil {
				t.Fatalf("CreateDealNote: %v", err)
			}
			if n.ID != "n1" || n.DealID != "d1" || n.Text != "um" || n.CreatedAt != "2026-03-02T09:00:00.000-03:00" {
				t.Errorf("CreateDealNote = %+v", n)
			}
			notes, err := c.DealNotes(ctx, "d1")
			if err != nil {
				t.Fatalf("DealNotes: %v", err)
			}
			got := []string{}
			for _, n := range notes {
				got = append(got, n.Text)
			}
			if !slices.Equal(got, tt.wantTexts) || gets.Load() != 1 {
				t.Errorf("DealNotes texts %q in %d calls, want %q in 1", got, gets.Load(), tt.wantTexts)
			}
		})
	}
}
