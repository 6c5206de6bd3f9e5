package rdsim

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

const rateLimitedBody = `{"errors":{"error_type":"RATE_LIMIT_EXCEDDED","error_message":"API usage limit exceeded"}}`

func TestRateLimit(t *testing.T) {
	tests := []struct {
		name string
		sw   Switches
	}{
		{"sliding", Switches{}},
		{"fixed", Switches{RateWindow: RateWindowFixed}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, fake := newAPI(t, Options{RequestsPerMinute: 120, Switches: tt.sw})
			for i := range 120 {
				if r := a.do("GET", "/deal_sources", nil); r.status != 200 {
					t.Fatalf("request %d: status %d", i+1, r.status)
				}
			}
			r := a.do("POST", "/organizations", map[string]any{"organization": map[string]any{"name": "Acme Ltda"}})
			if r.status != 429 {
				t.Fatalf("121st request: status %d, want 429", r.status)
			}
			jsonEq(t, r.body, rateLimitedBody)
			if r.header.Get("Retry-After") != "" {
				t.Fatal("Retry-After sent although v1 does not document it")
			}
			if n := len(a.sim.State().Organizations); n != 0 {
				t.Fatal("a rate-limited write was applied")
			}
			a.token = "unknown"
			if r := a.do("GET", "/deal_sources", nil); r.status != 401 {
				t.Fatalf("bad token while limited: status %d, want 401", r.status)
			}
			a.token = DefaultToken
			fake.Advance(60 * time.Second)
			a.must(200, "POST", "/organizations", map[string]any{"organization": map[string]any{"name": "Acme Ltda"}})
			c := a.sim.Counts()
			if c.ByStatus[429] != 1 || c.ByStatus[200] != 121 || c.AppliedWrites != 1 {
				t.Fatalf("counts %+v: want one 429, 121 OK, one applied write", c)
			}
		})
	}
	t.Run("sliding window frees slots as they age", func(t *testing.T) {
		a, fake := newAPI(t, Options{RequestsPerMinute: 2, Switches: Switches{RetryAfterHeader: true}})
		a.must(200, "GET", "/users", nil)
		fake.Advance(30 * time.Second)
		a.must(200, "GET", "/users", nil)
		r := a.do("GET", "/users", nil)
		if r.status != 429 || r.header.Get("Retry-After") != "30" {
			t.Fatalf("status %d Retry-After %q, want 429 and 30", r.status, r.header.Get("Retry-After"))
		}
		fake.Advance(30 * time.Second)
		a.must(200, "GET", "/users", nil)
		a.must(429, "GET", "/users", nil)
	})
	t.Run("admin routes are never limited", func(t *testing.T) {
		a, _ := newAPI(t, Options{RequestsPerMinute: 1})
		a.must(200, "GET", "/users", nil)
		a.must(429, "GET", "/users", nil)
		for range 3 {
			a.must(200, "GET", "/_sim/requests", nil)
		}
	})
}

func TestFaultKinds(t *testing.T) {
	orgBody := map[string]any{"organization": map[string]any{"name": "Acme Ltda"}}
	tests := []struct {
		kind        FaultKind
		status      int // 0: connection closed
		applied     bool
		advanced    time.Duration
		contentType string
	}{
		{FaultNone, 200, true, 0, "application/json"},
		{FaultRateLimited, 429, false, 0, "application/json"},
		{FaultServerError, 500, false, 0, "text/html"},
		{FaultSlow, 200, true, 3 * time.Second, "application/json"},
		{FaultDrop, 0, false, 0, ""},
		{FaultLostResponse, 0, true, 0, ""},
	}
	for _, tt := range tests {
		t.Run(tt.kind.String(), func(t *testing.T) {
			a, fake := newAPI(t, Options{RequestsPerMinute: 120})
			a.sim.SetFaults(Faults{Script: []FaultKind{tt.kind}, SlowDelay: 3 * time.Second})
			r := a.do("POST", "/organizations", orgBody)
			if tt.status == 0 {
				if r.err == nil {
					t.Fatalf("got status %d, want the connection closed", r.status)
				}
			} else if r.err != nil || r.status != tt.status || !strings.HasPrefix(r.header.Get("Content-Type"), tt.contentType) {
				t.Fatalf("got %d %q (%v), want %d %s", r.status, r.header.Get("Content-Type"), r.err, tt.status, tt.contentType)
			}
			if tt.kind == FaultRateLimited {
				jsonEq(t, r.body, rateLimitedBody)
			}
			if tt.kind == FaultServerError && !strings.Contains(string(r.body), "<html>") {
				t.Fatalf("500 body %q, want an HTML page", r.body)
			}
			if got := len(a.sim.State().Organizations) == 1; got != tt.applied {
				t.Fatalf("applied=%v, want %v", got, tt.applied)
			}
			if got := fake.Now().Sub(testStart); got != tt.advanced {
				t.Fatalf("clock moved %v, want %v", got, tt.advanced)
			}
			// The script is used up: the next request is served normally,
			// and an injected 429 did not consume the real window.
			a.must(200, "GET", "/organizations", nil)
			c := a.sim.Counts()
			if tt.kind != FaultNone && c.Faults[tt.kind.String()] != 1 {
				t.Fatalf("fault counts %v, want one %s", c.Faults, tt.kind)
			}
		})
	}
}

func TestFaultSelection(t *testing.T) {
	a, _ := newAPI(t, Options{Seed: 7})
	a.sim.SetFaults(Faults{ServerError: 1, Methods: []string{"POST"}, PathPrefix: "/products"})
	a.must(200, "GET", "/products", nil)
	a.must(200, "POST", "/organizations", map[string]any{"organization": map[string]any{"name": "Acme Ltda"}})
	a.must(500, "POST", "/products", map[string]any{"product": map[string]any{"name": "Widget"}})

	draw := func(seed int64) string {
		b, _ := newAPI(t, Options{Seed: seed})
		b.sim.SetFaults(Faults{ServerError: 0.5})
		var out strings.Builder
		for range 20 {
			fmt.Fprintf(&out, "%d ", b.do("GET", "/users", nil).status)
		}
		return out.String()
	}
	first, again := draw(42), draw(42)
	if first != again || !strings.Contains(first, "500") || !strings.Contains(first, "200") {
		t.Fatalf("seeded draws %q then %q: want the same mix of 200 and 500", first, again)
	}
}

func TestAdminEndpoints(t *testing.T) {
	a, fake := newAPI(t, Options{RequestsPerMinute: 1})
	seed := `{"organizations":[{"name":"Seeded SA"}],"users":[{"name":"Extra","email":"x@sim.example","active":true,"token":"extra-token"}]}`
	a.must(200, "POST", "/_sim/seed", seed)
	var st State
	if err := json.Unmarshal(a.do("GET", "/_sim/state", nil).body, &st); err != nil || len(st.Organizations) != 1 || len(st.Users) != 2 {
		t.Fatalf("state after seed: %+v (%v)", st, err)
	}
	a.must(422, "POST", "/_sim/seed", `{"organizations":[{"id":"`+st.Organizations[0].ID+`","name":"Dup"}]}`)
	a.token = "extra-token"
	a.must(200, "GET", "/token/check", nil)
	a.must(429, "GET", "/token/check", nil)
	a.must(200, "POST", "/_sim/clock/advance?by=60s", nil)
	if got := fake.Now().Sub(testStart); got != time.Minute {
		t.Fatalf("clock advanced %v, want 1m", got)
	}
	a.must(200, "GET", "/token/check", nil)
	a.must(400, "POST", "/_sim/clock/advance?by=soon", nil)

	a.must(200, "PUT", "/_sim/switches", map[string]any{"retry_after_header": true, "create_status": 201})
	if sw := a.sim.Switches(); !sw.RetryAfterHeader || sw.CreateStatus != 201 {
		t.Fatalf("switches %+v", sw)
	}
	a.must(200, "PUT", "/_sim/faults", `{"script":["server_error","drop"],"slow_delay":"1.5s","methods":["GET"]}`)
	if f := a.sim.Faults(); len(f.Script) != 2 || f.Script[1] != FaultDrop || f.SlowDelay != 1500*time.Millisecond {
		t.Fatalf("faults %+v", f)
	}
	got := a.must(200, "GET", "/_sim/requests", nil)
	if got["total"] != float64(3) {
		t.Fatalf("request counts %v, want 3 API requests (admin ones not counted)", got)
	}
	var counts RequestCounts
	_ = json.Unmarshal(a.do("GET", "/_sim/requests", nil).body, &counts)
	if counts.ByRoute["GET /api/v1/token/check"] != 3 || counts.ByStatus[429] != 1 || counts.Writes != 0 {
		t.Fatalf("counts %+v", counts)
	}
	a.must(200, "DELETE", "/_sim/requests", nil)
	if c := a.sim.Counts(); c.Total != 0 {
		t.Fatalf("counts after reset %+v", c)
	}
	a.must(200, "POST", "/_sim/reset", nil)
	if st := a.sim.State(); len(st.Organizations) != 0 || len(st.Users) != 1 || len(st.Pipelines) != 2 {
		t.Fatalf("state after reset: %d orgs %d users %d pipelines", len(st.Organizations), len(st.Users), len(st.Pipelines))
	}
	a.token = "extra-token"
	if r := a.do("POST", "/deals", map[string]any{}); r.status != 401 {
		t.Fatalf("seeded token after reset: status %d, want 401", r.status)
	}

	t.Run("clock advance needs a fake clock", func(t *testing.T) {
		b, _ := newAPI(t, Options{Clock: realClock()})
		b.must(409, "POST", "/_sim/clock/advance?by=60s", nil)
	})
}

func TestDefaultSeedIsDeterministic(t *testing.T) {
	a, _ := newAPI(t, Options{Seed: 3})
	b, _ := newAPI(t, Options{Seed: 3})
	sa, sb := a.sim.State(), b.sim.State()
	if sa.Pipelines[0].ID != sb.Pipelines[0].ID || sa.Users[0].Name != DefaultAdminName || sa.Users[0].Email != DefaultAdminEmail {
		t.Fatalf("default seeds differ or lack the admin: %+v vs %+v", sa.Pipelines[0], sb.Pipelines[0])
	}
	if len(sa.LostReasons) < 2 || len(sa.DealSources) != 1 || len(sa.Campaigns) != 1 || len(sa.CustomFields) != 0 {
		t.Fatalf("default seed: %d lost reasons, %d sources, %d campaigns, %d custom fields",
			len(sa.LostReasons), len(sa.DealSources), len(sa.Campaigns), len(sa.CustomFields))
	}
}

func TestConcurrentClients(t *testing.T) {
	a, _ := newAPI(t, Options{Tokens: []string{"t1", "t2"}})
	a.token = "t2"
	var wg sync.WaitGroup
	errs := make(chan error, 80)
	for w := range 8 {
		wg.Go(func() {
			for i := range 5 {
				r := a.do("POST", "/organizations", map[string]any{"organization": map[string]any{"name": fmt.Sprintf("Org %d-%d", w, i)}})
				if r.err != nil || r.status != 200 {
					errs <- fmt.Errorf("worker %d: %d %v", w, r.status, r.err)
				}
				if r := a.do("GET", "/organizations?limit=5", nil); r.status != 200 {
					errs <- fmt.Errorf("worker %d list: %d", w, r.status)
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if n := len(a.sim.State().Organizations); n != 40 {
		t.Fatalf("%d organizations, want 40", n)
	}
	if c := a.sim.Counts(); c.ByRoute["POST /api/v1/organizations"] != 40 || c.ByRoute["GET /api/v1/organizations"] != 40 {
		t.Fatalf("route counts %v", c.ByRoute)
	}
}

func TestServeShutsDownOnCancel(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	urls := make(chan string, 1)
	done := make(chan error, 1)
	go func() {
		done <- Serve(ctx, "127.0.0.1:0", Options{Tokens: []string{"t"}}, func(u string) { urls <- u })
	}()
	var base string
	select {
	case base = <-urls:
		if !strings.HasSuffix(base, "/api/v1") {
			t.Fatalf("ready got %q, want the API base URL", base)
		}
	case err := <-done:
		t.Fatalf("Serve returned early: %v", err)
	case <-time.After(5 * time.Second):
		t.Fatal("Serve never became ready")
	}
	res, err := http.Get(base + "/token/check?token=t")
	if err != nil || res.StatusCode != 200 {
		t.Fatalf("token check against Serve: %v %v", res, err)
	}
	res.Body.Close()
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Serve returned %v after cancel, want nil", err)
		}
	case <-time.After(6 * time.Second):
		t.Fatal("Serve did not return after cancel")
	}
	if _, err := http.Get(base + "/token/check?token=t"); err == nil {
		t.Fatal("still serving after shutdown")
	}
	if err := Serve(context.Background(), "256.0.0.1:1", Options{}, nil); err == nil {
		t.Fatal("Serve on a bad address did not fail")
	}
}
