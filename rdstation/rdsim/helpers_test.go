package rdsim

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/erpbridge/erpbridge/bridge/clock"
)

var testStart = time.Date(2026, 3, 10, 12, 0, 30, 0, time.UTC)

// api is a minimal test client for the simulator.
type api struct {
	t     *testing.T
	sim   *Sim
	base  string
	token string
	hc    *http.Client
}

// newAPI starts a simulator on an httptest server with a fake clock and no
// rate limit unless opts say otherwise.
func newAPI(t *testing.T, opts Options) (*api, *clock.Fake) {
	t.Helper()
	fake := clock.NewFake(testStart)
	if opts.Clock == nil {
		opts.Clock = fake
	}
	if opts.RequestsPerMinute == 0 {
		opts.RequestsPerMinute = -1
	}
	sim := New(opts)
	srv := httptest.NewServer(sim)
	t.Cleanup(srv.Close)
	// Fresh connections: a dropped GET on a reused connection would be
	// retried transparently by net/http.
	hc := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}, Timeout: 10 * time.Second}
	return &api{t: t, sim: sim, base: srv.URL, token: DefaultToken, hc: hc}, fake
}

type resp struct {
	status int
	header http.Header
	body   []byte
	err    error
}

// do sends method path (relative to /api/v1 unless it starts with /_sim)
// with body (string = raw, else JSON) and the api's token.
func (a *api) do(method, path string, body any) resp {
	a.t.Helper()
	url := a.base + path
	if !strings.HasPrefix(path, "/_sim") {
		url = a.base + "/api/v1" + path
		sep := "?"
		if strings.Contains(path, "?") {
			sep = "&"
		}
		if a.token != "" {
			url += sep + "token=" + a.token
		}
	}
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	default:
		raw, err := json.Marshal(b)
		if err != nil {
			a.t.Fatal(err)
		}
		rd = bytes.NewReader(raw)
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		a.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	res, err := a.hc.Do(req)
	if err != nil {
		return resp{err: err}
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	return resp{status: res.StatusCode, header: res.Header, body: raw, err: err}
}

// must sends and fails the test unless the status is want; it returns the decoded body.
func (a *api) must(want int, method, path string, body any) map[string]any {
	a.t.Helper()
	r := a.do(method, path, body)
	if r.err != nil {
		a.t.Fatalf("%s %s: %v", method, path, r.err)
	}
	if r.status != want {
		a.t.Fatalf("%s %s: status %d, want %d; body %s", method, path, r.status, want, r.body)
	}
	var m map[string]any
	if len(r.body) > 0 && r.body[0] == '{' {
		if err := json.Unmarshal(r.body, &m); err != nil {
			a.t.Fatalf("%s %s: decoding %s: %v", method, path, r.body, err)
		}
	}
	return m
}

// jsonEq compares a body to the expected JSON text.
func jsonEq(t *testing.T, got []byte, want string) {
	t.Helper()
	var g, w any
	if err := json.Unmarshal(got, &g); err != nil {
		t.Fatalf("body %q is not JSON: %v", got, err)
	}
	if err := json.Unmarshal([]byte(want), &w); err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(g) != fmt.Sprint(w) {
		t.Fatalf("body %s, want %s", got, want)
	}
}

func str(m map[string]any, k string) string {
	s, _ := m[k].(string)
	return s
}

func list(m map[string]any, k string) []any {
	l, _ := m[k].([]any)
	return l
}

func realClock() clock.Clock { return clock.Real{} }
