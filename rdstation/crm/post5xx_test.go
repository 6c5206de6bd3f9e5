package crm

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
)

// A gateway 504 after the backend applied the create: the client POSTs again.
func TestPOSTIsNotResentAfterA5xx(t *testing.T) {
	var posts atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost {
			if posts.Add(1) == 1 {
				w.WriteHeader(http.StatusGatewayTimeout) // backend created it; proxy timed out
				return
			}
			w.Header().Set("Content-Type", "application/json")
			w.Write([]byte(`{"_id":"c2","id":"c2","name":"x"}`))
			return
		}
		w.WriteHeader(404)
	}))
	defer srv.Close()
	c, err := New(Config{BaseURL: srv.URL + "/api/v1", Token: "t"})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.CreateContact(context.Background(), ContactInput{Name: "x"})
	if posts.Load() != 1 {
		t.Errorf("non-idempotent POST sent %d times after a 5xx", posts.Load())
	}
	if !errors.Is(err, ErrOutcomeUnknown) || !errors.Is(err, ErrServer) {
		t.Errorf("err = %v, want outcome unknown and a server error", err)
	}
}
