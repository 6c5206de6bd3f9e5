package crm_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/erpbridge/erpbridge/bridge/clock"
	"github.com/erpbridge/erpbridge/rdstation/crm"
	"github.com/erpbridge/erpbridge/rdstation/rdsim"
)

// contractToken is distinctive so that finding it in an error string
// cannot be a coincidence.
const contractToken = "tok-CONTRACT-9f2e71c4"

var contractStart = time.Date(2026, 3, 2, 12, 0, 0, 0, time.UTC)

// accountZone is the simulated account's offset; deal period bounds are
// given in it.
var accountZone = time.FixedZone("-03", -3*60*60)

// harness is a simulator on an httptest server and a client sharing its
// fake clock.
type harness struct {
	t   *testing.T
	sim *rdsim.Sim
	srv *httptest.Server
	clk *clock.Fake
	c   *crm.Client
	rec *recorder
}

type harnessConfig struct {
	sim    rdsim.Options
	client []func(*crm.Config)
}

type harnessOption func(*harnessConfig)

// withSwitches replaces the simulator's switches (the harness default is
// StrictBodies, so a body in the wrong shape fails).
func withSwitches(sw rdsim.Switches) harnessOption {
	return func(c *harnessConfig) { c.sim.Switches = sw }
}

// withTokens sets the simulator's tokens (the first is the client's).
func withTokens(tokens ...string) harnessOption {
	return func(c *harnessConfig) { c.sim.Tokens = tokens }
}

// withClient changes the client's configuration.
func withClient(f func(*crm.Config)) harnessOption {
	return func(c *harnessConfig) { c.client = append(c.client, f) }
}

// newHarness starts a simulator (120/min, strict bodies) and a client with
// the default budget, both on one fake clock.
func newHarness(t *testing.T, opts ...harnessOption) *harness {
	t.Helper()
	clk := clock.NewFake(contractStart)
	cfg := harnessConfig{sim: rdsim.Options{
		Tokens:   []string{contractToken},
		Clock:    clk,
		Seed:     1,
		Switches: rdsim.Switches{StrictBodies: true},
	}}
	for _, o := range opts {
		o(&cfg)
	}
	sim := rdsim.New(cfg.sim)
	rec := &recorder{next: sim}
	srv := httptest.NewServer(rec)
	t.Cleanup(srv.Close)
	h := &harness{t: t, sim: sim, srv: srv, clk: clk, rec: rec}
	h.c = h.newClient(crm.NewBudget(crm.BudgetConfig{Clock: clk}), cfg.client...)
	return h
}

// newClient returns another client of the harness's account drawing from
// budget.
func (h *harness) newClient(budget *crm.Budget, mods ...func(*crm.Config)) *crm.Client {
	h.t.Helper()
	cfg := crm.Config{
		BaseURL: h.srv.URL + "/api/v1",
		Token:   contractToken,
		Clock:   h.clk,
		Budget:  budget,
		Timeout: 10 * time.Second,
	}
	for _, m := range mods {
		m(&cfg)
	}
	c, err := crm.New(cfg)
	if err != nil {
		h.t.Fatalf("creating client: %v", err)
	}
	return c
}

// elapsed is how far the fake clock moved since the start.
func (h *harness) elapsed() time.Duration { return h.clk.Now().Sub(contractStart) }

// raw sends one request straight to the simulator with the harness token,
// bypassing the client, and returns the status and decoded JSON body.
func (h *harness) raw(method, path string, body any) (int, map[string]any) {
	h.t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			h.t.Fatal(err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, h.srv.URL+"/api/v1"+path+"?token="+url.QueryEscape(contractToken), rd)
	if err != nil {
		h.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		h.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	var out map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, out
}

// state is the simulator's state.
func (h *harness) state() rdsim.State { return h.sim.State() }

// pipeline returns the seeded pipeline named name and its stages by order.
func (h *harness) pipeline(name string) (rdsim.Pipeline, []rdsim.Stage) {
	h.t.Helper()
	st := h.state()
	i := slices.IndexFunc(st.Pipelines, func(p rdsim.Pipeline) bool { return p.Name == name })
	if i < 0 {
		h.t.Fatalf("no pipeline %q in the simulator", name)
	}
	var stages []rdsim.Stage
	for _, s := range st.Stages {
		if s.PipelineID == st.Pipelines[i].ID {
			stages = append(stages, s)
		}
	}
	slices.SortFunc(stages, func(a, b rdsim.Stage) int { return a.Order - b.Order })
	return st.Pipelines[i], stages
}

// named returns the id of the record called name among recs.
func named(t *testing.T, recs []rdsim.Named, name string) string {
	t.Helper()
	for _, r := range recs {
		if r.Name == name {
			return r.ID
		}
	}
	t.Fatalf("no record named %q", name)
	return ""
}

// simDeal returns the simulator's copy of deal id.
func (h *harness) simDeal(id string) rdsim.Deal {
	h.t.Helper()
	for _, d := range h.state().Deals {
		if d.ID == id {
			return d
		}
	}
	h.t.Fatalf("deal %s is not in the simulator", id)
	return rdsim.Deal{}
}

// orgsNamed counts the simulator's organizations called name.
func (h *harness) orgsNamed(name string) []rdsim.Organization {
	var out []rdsim.Organization
	for _, o := range h.state().Organizations {
		if o.Name == name {
			out = append(out, o)
		}
	}
	return out
}

// recorded is one API request as the simulator received it.
type recorded struct {
	Method, Path string // Path without the /api/v1 prefix
	Query        url.Values
	Body         []byte
}

// object decodes the request body as a JSON object.
func (r recorded) object(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.Body, &m); err != nil {
		t.Fatalf("%s %s body %q is not a JSON object: %v", r.Method, r.Path, r.Body, err)
	}
	return m
}

// recorder keeps every /api/v1 request before handing it to next.
type recorder struct {
	next http.Handler
	mu   sync.Mutex
	got  []recorded
}

func (r *recorder) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	if strings.HasPrefix(req.URL.Path, "/api/v1/") {
		body, _ := io.ReadAll(req.Body)
		req.Body = io.NopCloser(bytes.NewReader(body))
		r.mu.Lock()
		r.got = append(r.got, recorded{Method: req.Method, Path: strings.TrimPrefix(req.URL.Path, "/api/v1"),
			Query: req.URL.Query(), Body: body})
		r.mu.Unlock()
	}
	r.next.ServeHTTP(w, req)
}

// matching returns the requests with method whose path matches pattern, in
// which "*" stands for one path segment.
func (r *recorder) matching(method, pattern string) []recorded {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []recorded
	for _, g := range r.got {
		if g.Method == method && pathMatches(pattern, g.Path) {
			out = append(out, g)
		}
	}
	return out
}

// last returns the latest request with method matching pattern.
func (r *recorder) last(t *testing.T, method, pattern string) recorded {
	t.Helper()
	m := r.matching(method, pattern)
	if len(m) == 0 {
		t.Fatalf("no %s %s request was sent", method, pattern)
	}
	return m[len(m)-1]
}

func (r *recorder) reset() {
	r.mu.Lock()
	r.got = nil
	r.mu.Unlock()
}

func pathMatches(pattern, path string) bool {
	ps, xs := strings.Split(pattern, "/"), strings.Split(path, "/")
	if len(ps) != len(xs) {
		return false
	}
	for i := range ps {
		if ps[i] != "*" && ps[i] != xs[i] {
			return false
		}
	}
	return true
}

// ctxFor returns a context bounded well within the test's budget.
func ctxFor(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// result is a call's two results, so that try(c.Get(ctx, id)).must(t)
// reads as one expression.
type result[T any] struct {
	v   T
	err error
}

// try captures a call's results.
func try[T any](v T, err error) result[T] { return result[T]{v, err} }

// must fails the test on an error and returns the value.
func (r result[T]) must(t *testing.T) T {
	t.Helper()
	if r.err != nil {
		t.Fatalf("unexpected error: %v", r.err)
	}
	return r.v
}

// apiError asserts err is a *crm.Error matching kind and returns it.
func apiError(t *testing.T, err, kind error) *crm.Error {
	t.Helper()
	if err == nil {
		t.Fatalf("got no error, want %v", kind)
	}
	assertNoToken(t, err)
	if !errors.Is(err, kind) {
		t.Fatalf("error %q does not match %v", err, kind)
	}
	var e *crm.Error
	if !errors.As(err, &e) {
		t.Fatalf("error %q (%T) is not a *crm.Error", err, err)
	}
	return e
}

// assertNoToken fails when the token appears in any rendering of err.
func assertNoToken(t *testing.T, err error) {
	t.Helper()
	if err == nil {
		return
	}
	for _, s := range []string{err.Error(), fmt.Sprintf("%v", err), fmt.Sprintf("%+v", err), fmt.Sprintf("%#v", err)} {
		if strings.Contains(s, contractToken) || strings.Contains(s, url.QueryEscape(contractToken)) {
			t.Fatalf("the token leaked into an error: %s", s)
		}
	}
	var e *crm.Error
	if errors.As(err, &e) && e.Err != nil {
		assertNoToken(t, e.Err)
	}
}

// dec parses a decimal literal.
func dec(t *testing.T, s string) decimal.Decimal {
	t.Helper()
	d, err := decimal.NewFromString(s)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// money returns a *crm.Decimal for an input field.
func money(t *testing.T, s string) *crm.Decimal {
	t.Helper()
	return crm.DecimalPtr(dec(t, s))
}

// decEqual fails unless got equals want exactly (as decimals).
func decEqual(t *testing.T, what string, got crm.Decimal, want decimal.Decimal) {
	t.Helper()
	if !got.Equal(want) {
		t.Errorf("%s = %s, want exactly %s", what, got.String(), want.String())
	}
}

// dealNames collects the names of the deals q selects, sorted.
func dealNames(ctx context.Context, t *testing.T, c *crm.Client, q crm.DealQuery) []string {
	t.Helper()
	var out []string
	for d, err := range c.Deals(ctx, q) {
		if err != nil {
			t.Fatalf("listing deals: %v", err)
		}
		out = append(out, d.Name)
	}
	slices.Sort(out)
	return out
}
