package crm

import (
	"bytes"
	"encoding/json"
	"io"
	"iter"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/erpbridge/erpbridge/bridge/clock"
)

const testToken = "tok-SECRET-5f3a9c"

var testStart = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

// recorded is one request the test server saw.
type recorded struct {
	Method, Path string
	Query        url.Values
	Body         string
}

// testAPI is an httptest server whose handler gets the request number
// (1-based) and records every request.
type testAPI struct {
	srv *httptest.Server
	mu  sync.Mutex
	got []recorded
}

func (a *testAPI) requests() []recorded {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]recorded(nil), a.got...)
}

func newTestAPI(t *testing.T, h func(w http.ResponseWriter, r *http.Request, n int)) *testAPI {
	t.Helper()
	a := &testAPI{}
	a.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		r.Body = io.NopCloser(bytes.NewReader(body))
		a.mu.Lock()
		a.got = append(a.got, recorded{Method: r.Method, Path: strings.TrimPrefix(r.URL.Path, "/api/v1"), Query: r.URL.Query(), Body: string(body)})
		n := len(a.got)
		a.mu.Unlock()
		if r.URL.Query().Get("token") != testToken {
			w.WriteHeader(http.StatusUnauthorized)
			io.WriteString(w, `{"error":"Permission denied."}`)
			return
		}
		h(w, r, n)
	}))
	t.Cleanup(a.srv.Close)
	return a
}

// newTestClient returns a client for a on a fake clock with its own budget.
func newTestClient(t *testing.T, a *testAPI, mods ...func(*Config)) (*Client, *clock.Fake) {
	t.Helper()
	fc := clock.NewFake(testStart)
	cfg := Config{
		BaseURL: a.srv.URL + "/api/v1",
		Token:   testToken,
		Clock:   fc,
		Budget:  NewBudget(BudgetConfig{Clock: fc}),
		Timeout: 5 * time.Second,
	}
	for _, m := range mods {
		m(&cfg)
	}
	c, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c, fc
}

func reply(w http.ResponseWriter, status int, body string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	io.WriteString(w, body)
}

// dropConnection closes the connection without answering.
func dropConnection(w http.ResponseWriter) {
	conn, _, err := w.(http.Hijacker).Hijack()
	if err == nil {
		conn.Close()
	}
}

// jsonEqual fails the test when got and want are different JSON documents.
func jsonEqual(t *testing.T, got, want string) {
	t.Helper()
	var g, w any
	if err := json.Unmarshal([]byte(got), &g); err != nil {
		t.Fatalf("body %q is not JSON: %v", got, err)
	}
	if err := json.Unmarshal([]byte(want), &w); err != nil {
		t.Fatalf("want %q is not JSON: %v", want, err)
	}
	if d := cmp.Diff(w, g); d != "" {
		t.Errorf("body mismatch (-want +got):\n%s\ngot: %s", d, got)
	}
}

// collect drains an iterator into a slice, keeping the items read before
// an error.
func collect[T any](seq iter.Seq2[T, error]) ([]T, error) {
	var out []T
	for v, err := range seq {
		if err != nil {
			return out, err
		}
		out = append(out, v)
	}
	return out, nil
}
