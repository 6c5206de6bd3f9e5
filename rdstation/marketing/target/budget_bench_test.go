package target_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/erpbridge/erpbridge/bridge/clock"
	"github.com/erpbridge/erpbridge/bridge/component"
	"github.com/erpbridge/erpbridge/bridge/store"
	"github.com/erpbridge/erpbridge/rdstation/marketing"
	"github.com/erpbridge/erpbridge/rdstation/marketing/mktest"
	"github.com/erpbridge/erpbridge/rdstation/marketing/target"
	"github.com/erpbridge/erpbridge/rdstation/rdsim"
)

// BenchmarkMarketingBudget measures how much of its Marketing budget the
// bridge's client uses when it always has work: the client as the target
// system opens it (marketing.requests_per_minute and burst at their
// defaults, 100 and 10; the grant in a checkpoint store) against the
// simulator with the documented limits (120/min per account for the
// contacts API and, apart, for the events API; 24 PATCH per contact a
// day), both on one virtual clock (clock.Virtual): ten minutes pass in
// well under a second. The client does what the retroactive load does,
// back to back: PATCH a new contact, then send it a SALE.
//
// It reports, over the minutes after the first (the initial burst left
// out):
//
//   - rpm: the requests answered 2xx a minute;
//
//   - use-%: rpm against marketing.requests_per_minute (target ≥ 95);
//
//   - longest-silence-s: the longest time between two requests;
//
//   - 429s: the 429s the client got (the whole run).
//
//     go test -run '^$' -bench MarketingBudget -benchtime 5x ./rdstation/marketing/target/
//
// docs/benchmarks.md has the figures.
func BenchmarkMarketingBudget(b *testing.B) {
	var rpm, silence float64
	var limited int
	for b.Loop() {
		r := runMarketingBudget(b, 10*time.Minute)
		rpm += r.rpm
		silence += r.longestSilence.Seconds()
		limited += r.limited
	}
	n := float64(b.N)
	b.ReportMetric(rpm/n, "rpm")
	b.ReportMetric(100*rpm/n/float64(target.Default().RequestsPerMinute), "use-%")
	b.ReportMetric(silence/n, "longest-silence-s")
	b.ReportMetric(float64(limited)/n, "429s")
}

type budgetResult struct {
	rpm            float64
	longestSilence time.Duration
	limited        int
}

// stamped is one request the client sent: when, and the status it got.
type stamped struct {
	at     time.Time
	status int
}

// requestLog records the requests of an HTTP client on clk.
type requestLog struct {
	clk  clock.Clock
	next http.RoundTripper
	mu   sync.Mutex
	log  []stamped
}

func (l *requestLog) RoundTrip(r *http.Request) (*http.Response, error) {
	at := l.clk.Now()
	resp, err := l.next.RoundTrip(r)
	status := 0
	if err == nil {
		status = resp.StatusCode
	}
	l.mu.Lock()
	l.log = append(l.log, stamped{at: at, status: status})
	l.mu.Unlock()
	return resp, err
}

// runMarketingBudget runs the client for d of virtual time.
func runMarketingBudget(b *testing.B, d time.Duration) budgetResult {
	b.Helper()
	ctx := context.Background()
	start := time.Date(2026, 12, 8, 9, 0, 0, 0, time.UTC)
	vc := clock.NewVirtual(start, 1)
	sim := rdsim.New(rdsim.Options{Clock: vc, Seed: 1})
	srv := httptest.NewServer(sim)
	defer srv.Close()
	st, err := store.Open(ctx, filepath.Join(b.TempDir(), "erpbridge.db"), store.WithNow(vc.Now))
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	cfg := target.Default()
	cfg.On, cfg.BaseURL = true, srv.URL
	cfg.ClientID, cfg.ClientSecret = rdsim.DefaultMarketingClientID, rdsim.DefaultMarketingClientSecret
	mktest.Authorize(b, sim, cfg, st, vc)
	log := &requestLog{clk: vc, next: http.DefaultTransport}
	c, err := cfg.NewClient(st, component.OpenOptions{Clock: vc, HTTPClient: &http.Client{Transport: log}})
	if err != nil {
		b.Fatal(err)
	}
	end := start.Add(d)
	for i := 0; vc.Now().Before(end); i++ {
		email := fmt.Sprintf("cliente%06d@exemplo.com.br", i)
		if _, err := c.UpsertContact(ctx, email, map[string]any{"name": fmt.Sprintf("Cliente %d", i)}); err != nil {
			b.Fatalf("PATCH %s: %v", email, err)
		}
		if _, err := c.SendEvent(ctx, marketing.Event{Type: marketing.EventSale,
			Payload: map[string]any{"email": email, "value": 123.45}}); err != nil {
			b.Fatalf("SALE for %s: %v", email, err)
		}
	}
	vc.Done()

	from := start.Add(time.Minute)
	var r budgetResult
	answered := 0
	prev := start
	for _, s := range log.log {
		r.longestSilence = max(r.longestSilence, s.at.Sub(prev))
		prev = s.at
		switch {
		case s.status == http.StatusTooManyRequests:
			r.limited++
		case s.status/100 == 2 && !s.at.Before(from) && s.at.Before(end):
			answered++
		}
	}
	r.rpm = float64(answered) / end.Sub(from).Minutes()
	return r
}
