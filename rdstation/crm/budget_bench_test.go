package crm_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/erpbridge/erpbridge/bridge/clock"
	"github.com/erpbridge/erpbridge/rdstation/crm"
	"github.com/erpbridge/erpbridge/rdstation/rdsim"
)

// BenchmarkSharedAccount measures how the bridge's client uses an RD
// Station account it shares: the simulator with its real limit (120
// requests in any 60 s, all tokens together), the client with the default
// budget (100/min, burst 10) sending requests back to back, and, beside
// it, another integration on another token that sends one request every
// 1.5 s (40/min) and never retries a 429 (its request is lost). Both run on
// one virtual clock (clock.Virtual): ten minutes pass in well under a
// second and the two parties overlap as on the wall clock.
//
// It reports, over the minutes after the first (the budget's initial burst
// left out):
//
//   - bridge-rpm: the bridge's requests answered a minute;
//
//   - use-%: bridge-rpm against min(budget, 120 − the other's rate);
//
//   - longest-silence-s: the longest time between two requests the bridge
//     sent (it always has work waiting);
//
//   - other-answered-%: the other integration's requests answered;
//
//   - bridge-429s: the 429s the bridge got.
//
//     go test -run '^$' -bench SharedAccount -benchtime 5x ./rdstation/crm/
//
// docs/benchmarks.md has the figures and the targets.
func BenchmarkSharedAccount(b *testing.B) {
	cases := []struct {
		name       string
		otherRPM   int // 0: the bridge alone
		retryAfter bool
	}{
		{"alone", 0, false},
		{"beside 40 per min, no Retry-After", 40, false},
		{"beside 40 per min, Retry-After", 40, true},
	}
	for _, tc := range cases {
		b.Run(tc.name, func(b *testing.B) {
			var sum sharedResult
			runs := 0
			for b.Loop() {
				r := runSharedAccount(b, tc.otherRPM, tc.retryAfter, 10*time.Minute)
				sum.add(r)
				runs++
			}
			left := float64(crm.DefaultRequestsPerMinute)
			if tc.otherRPM > 0 {
				left = min(left, float64(crm.DefaultAccountLimit-tc.otherRPM))
			}
			n := float64(runs)
			b.ReportMetric(sum.bridgeRPM/n, "bridge-rpm")
			b.ReportMetric(100*sum.bridgeRPM/n/left, "use-%")
			b.ReportMetric(sum.longestSilence.Seconds()/n, "longest-silence-s")
			b.ReportMetric(float64(sum.bridge429)/n, "bridge-429s")
			if tc.otherRPM > 0 {
				b.ReportMetric(100*sum.otherAnswered/n, "other-answered-%")
			}
		})
	}
}

// sharedResult is one run of the shared-account scenario (sums over runs
// in the benchmark).
type sharedResult struct {
	bridgeRPM      float64
	longestSilence time.Duration
	bridge429      int
	otherAnswered  float64 // share of the other's requests answered, 0–1
}

func (s *sharedResult) add(r sharedResult) {
	s.bridgeRPM += r.bridgeRPM
	s.longestSilence += r.longestSilence
	s.bridge429 += r.bridge429
	s.otherAnswered += r.otherAnswered
}

// sent is one request as a party sent it: when, and the status it got.
type sent struct {
	at     time.Time
	status int
}

// sentLog records the requests of one party's HTTP client.
type sentLog struct {
	clk  clock.Clock
	next http.RoundTripper
	mu   sync.Mutex
	log  []sent
}

func (l *sentLog) RoundTrip(r *http.Request) (*http.Response, error) {
	at := l.clk.Now()
	resp, err := l.next.RoundTrip(r)
	status := 0
	if err == nil {
		status = resp.StatusCode
	}
	l.mu.Lock()
	l.log = append(l.log, sent{at: at, status: status})
	l.mu.Unlock()
	return resp, err
}

// runSharedAccount runs the bridge's client (and the other integration at
// otherRPM, when not 0) for d of virtual time.
func runSharedAccount(b *testing.B, otherRPM int, retryAfter bool, d time.Duration) sharedResult {
	b.Helper()
	start := time.Date(2026, 12, 7, 9, 0, 0, 0, time.UTC)
	parties := 1
	if otherRPM > 0 {
		parties = 2
	}
	vc := clock.NewVirtual(start, parties)
	sim := rdsim.New(rdsim.Options{Tokens: []string{"bridge-token", "other-token"}, Clock: vc, Seed: 1,
		Switches: rdsim.Switches{RetryAfterHeader: retryAfter}})
	srv := httptest.NewServer(sim)
	defer srv.Close()
	end := start.Add(d)
	ctx := context.Background()

	bridgeLog := &sentLog{clk: vc, next: http.DefaultTransport}
	c, err := crm.New(crm.Config{BaseURL: srv.URL + "/api/v1", Token: "bridge-token", Clock: vc,
		Budget:     crm.NewBudget(crm.BudgetConfig{Clock: vc}),
		HTTPClient: &http.Client{Transport: bridgeLog}})
	if err != nil {
		b.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 2)
	wg.Go(func() {
		defer vc.Done()
		for vc.Now().Before(end) {
			if _, err := c.CheckToken(ctx); err != nil {
				errs <- fmt.Errorf("the bridge's request: %w", err)
				return
			}
		}
	})
	otherLog := &sentLog{clk: vc, next: http.DefaultTransport}
	if otherRPM > 0 {
		hc := &http.Client{Transport: otherLog}
		every := time.Minute / time.Duration(otherRPM)
		wg.Go(func() {
			defer vc.Done()
			for vc.Now().Before(end) {
				resp, err := hc.Get(srv.URL + "/api/v1/token/check?token=other-token")
				if err != nil {
					errs <- fmt.Errorf("the other integration's request: %w", err)
					return
				}
				resp.Body.Close()
				if err := vc.Sleep(ctx, every); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		b.Fatal(err)
	}

	from := start.Add(time.Minute)
	var r sharedResult
	var answered int
	prev := start
	for _, s := range bridgeLog.log {
		r.longestSilence = max(r.longestSilence, s.at.Sub(prev))
		prev = s.at
		switch {
		case s.status == http.StatusTooManyRequests:
			r.bridge429++
		case s.status == http.StatusOK && !s.at.Before(from) && s.at.Before(end):
			answered++
		}
	}
	r.bridgeRPM = float64(answered) / end.Sub(from).Minutes()
	if n := len(otherLog.log); n > 0 {
		ok := 0
		for _, s := range otherLog.log {
			if s.status == http.StatusOK {
				ok++
			}
		}
		r.otherAnswered = float64(ok) / float64(n)
	}
	return r
}
