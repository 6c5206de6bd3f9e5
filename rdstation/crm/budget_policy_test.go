package crm

import (
	"context"
	"math"
	"testing"
	"time"

	"github.com/erpbridge/erpbridge/bridge/clock"
)

// The adaptive policy of the budget, on a fake clock: what a 429 does to
// the rate and to the pause, and how the rate comes back.

func TestAdaptiveRateDropsOnA429AndClimbsBack(t *testing.T) {
	type step struct {
		after   time.Duration // fake time before the step
		limited bool          // a 429 (without Retry-After) at this step
		want    float64       // the adaptive rate after it
		burst   int           // the burst in force after it
	}
	tests := []struct {
		name  string
		rpm   int
		steps []step
	}{
		{name: "one 429: ×0.85, then +6/min back to the configured rate, no burst while climbing", rpm: 100, steps: []step{
			{want: 100, burst: 10},
			{limited: true, want: 85, burst: 1},
			{after: time.Minute, want: 91, burst: 1},
			{after: 90 * time.Second, want: 100, burst: 10},
			{after: time.Hour, want: 100, burst: 10},
		}},
		{name: "429s of one crowded moment count once", rpm: 100, steps: []step{
			{limited: true, want: 85, burst: 1},
			{after: 2 * time.Second, limited: true, want: 85.2, burst: 1},
			{after: 5 * time.Second, limited: true, want: 85.7, burst: 1},
			{after: 10 * time.Second, limited: true, want: 73.7, burst: 1}, // (85 + 17 s × 6/min) × 0.85
		}},
		{name: "a rate below the floor stays where it is configured", rpm: 4, steps: []step{
			{limited: true, want: 4, burst: 10},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fc := clock.NewFake(testStart)
			b := NewBudget(BudgetConfig{RequestsPerMinute: tt.rpm, Burst: 10, Clock: fc})
			for i, s := range tt.steps {
				fc.Advance(s.after)
				if s.limited {
					b.limited(fc.Now(), 0, false)
				}
				st := b.State()
				if math.Abs(st.CurrentPerMinute-s.want) > 0.11 {
					t.Errorf("step %d: rate %.1f/min, want %.1f", i, st.CurrentPerMinute, s.want)
				}
				if s.burst != 0 && st.Burst != s.burst {
					t.Errorf("step %d: burst %d, want %d", i, st.Burst, s.burst)
				}
				if st.ConfiguredPerMinute != tt.rpm {
					t.Errorf("step %d: configured %d, want %d", i, st.ConfiguredPerMinute, tt.rpm)
				}
			}
		})
	}
}

func TestPauseAfterA429(t *testing.T) {
	type hit struct {
		retryAfter time.Duration
		sent       bool
		answered   bool // an answer other than 429 came before this 429
		min, max   time.Duration
	}
	tests := []struct {
		name string
		hits []hit
	}{
		{name: "Retry-After is honoured exactly", hits: []hit{
			{retryAfter: 7 * time.Second, sent: true, min: 7 * time.Second, max: 7 * time.Second},
			{retryAfter: 0, sent: true, min: 0, max: 0},
			{retryAfter: 90 * time.Second, sent: true, min: 90 * time.Second, max: 90 * time.Second},
		}},
		{name: "without Retry-After: probes after 2, 4, 8, 8 s", hits: []hit{
			{min: probeFirst, max: probeFirst + probeJitter},
			{min: 2 * probeFirst, max: 2*probeFirst + probeJitter},
			{min: probeMax, max: probeMax + probeJitter},
			{min: probeMax, max: probeMax + probeJitter},
		}},
		{name: "an answer in between starts the probes over", hits: []hit{
			{min: probeFirst, max: probeFirst + probeJitter},
			{min: 2 * probeFirst, max: 2*probeFirst + probeJitter},
			{answered: true, min: probeFirst, max: probeFirst + probeJitter},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fc := clock.NewFake(testStart)
			b := NewBudget(BudgetConfig{Clock: fc})
			for i, h := range tt.hits {
				fc.Advance(time.Hour) // past any earlier pause
				if h.answered {
					b.answered()
				}
				now := fc.Now()
				until := b.limited(now, h.retryAfter, h.sent)
				if got := until.Sub(now); got < h.min || got > h.max {
					t.Errorf("429 %d paused the account for %v, want %v..%v", i, got, h.min, h.max)
				}
			}
		})
	}
}

func TestBudgetWindowsFollowTheirZone(t *testing.T) {
	sp, err := time.LoadLocation("America/Sao_Paulo")
	if err != nil {
		t.Fatal(err)
	}
	night := Window{From: 20 * 60, To: 6 * 60, Location: sp, RequestsPerMinute: 115}
	tests := []struct {
		name       string
		at         time.Time
		configured int
		burst      int
		reserved   int
		window     string
	}{
		{name: "midday in São Paulo: the base rate", at: time.Date(2026, 3, 2, 15, 0, 0, 0, time.UTC),
			configured: 100, burst: 10, reserved: 20},
		{name: "19:59 in São Paulo (22:59 UTC)", at: time.Date(2026, 3, 2, 22, 59, 0, 0, time.UTC),
			configured: 100, burst: 10, reserved: 20},
		{name: "20:00 in São Paulo: the night window, burst cut to 120-115", at: time.Date(2026, 3, 2, 23, 0, 0, 0, time.UTC),
			configured: 115, burst: 5, reserved: 5, window: "20:00-06:00 America/Sao_Paulo 115/min"},
		{name: "05:59 in São Paulo, past midnight", at: time.Date(2026, 3, 3, 8, 59, 0, 0, time.UTC),
			configured: 115, burst: 5, reserved: 5, window: "20:00-06:00 America/Sao_Paulo 115/min"},
		{name: "06:00 in São Paulo", at: time.Date(2026, 3, 3, 9, 0, 0, 0, time.UTC),
			configured: 100, burst: 10, reserved: 20},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fc := clock.NewFake(tt.at)
			b := NewBudget(BudgetConfig{RequestsPerMinute: 100, Burst: 10, Windows: []Window{night}, Clock: fc})
			st := b.State()
			if st.ConfiguredPerMinute != tt.configured || st.Burst != tt.burst || st.ReservedPerMinute != tt.reserved ||
				st.Window != tt.window || st.CurrentPerMinute != float64(tt.configured) {
				t.Errorf("state = %+v, want %d/min burst %d reserved %d window %q", st, tt.configured, tt.burst, tt.reserved, tt.window)
			}
		})
	}
}

func TestAdaptiveRateNeverBelowOneRequestEvery10s(t *testing.T) {
	fc := clock.NewFake(testStart)
	b := NewBudget(BudgetConfig{RequestsPerMinute: 100, Clock: fc})
	low := 100.0
	for range 60 { // a 429 every 10 s for 10 minutes
		b.limited(fc.Now(), 0, false)
		low = min(low, b.State().CurrentPerMinute)
		fc.Advance(cutEvery)
	}
	if low < minAdaptive || low > minAdaptive+1 {
		t.Errorf("the rate went down to %.1f/min, want it to stop at %v/min", low, minAdaptive)
	}
}

func TestBudgetWindowBeginsAndEndsWhileRunning(t *testing.T) {
	night := Window{From: 20 * 60, To: 6 * 60, Location: time.UTC, RequestsPerMinute: 115}
	fc := clock.NewFake(time.Date(2026, 3, 2, 19, 59, 0, 0, time.UTC))
	b := NewBudget(BudgetConfig{RequestsPerMinute: 100, Burst: 10, Windows: []Window{night}, Clock: fc})
	ctx := context.Background()
	eight := time.Date(2026, 3, 2, 20, 0, 0, 0, time.UTC)
	for range 200 { // the last minute before 20:00 at 100/min
		if !fc.Now().Before(eight) {
			break
		}
		if err := b.Wait(ctx); err != nil {
			t.Fatal(err)
		}
	}
	start := fc.Now()
	for range 115 {
		if err := b.Wait(ctx); err != nil {
			t.Fatal(err)
		}
	}
	// From 20:00 the window's rate applies without a restart.
	if got := fc.Now().Sub(start); got < 59*time.Second || got > 61*time.Second {
		t.Errorf("115 requests after 20:00 took %v, want a minute at the window's 115/min", got)
	}
	if st := b.State(); st.ConfiguredPerMinute != 115 || st.CurrentPerMinute != 115 || st.Burst != 5 {
		t.Errorf("after 20:00: %+v, want the window's 115/min with a burst of 5", st)
	}
	fc.Advance(10 * time.Hour) // 06:00 and after
	if st := b.State(); st.ConfiguredPerMinute != 100 || st.CurrentPerMinute != 100 || st.Window != "" || st.Burst != 10 {
		t.Errorf("after 06:00: %+v, want the base 100/min", st)
	}
}

func TestBudgetStateCountsUseWaitsAndPauses(t *testing.T) {
	fc := clock.NewFake(testStart)
	b := NewBudget(BudgetConfig{RequestsPerMinute: 60, Burst: 1, Clock: fc})
	ctx := context.Background()
	for range 31 { // 30 s at 60/min
		if err := b.Wait(WithPriority(ctx, Incremental)); err != nil {
			t.Fatal(err)
		}
	}
	b.limited(fc.Now(), 5*time.Second, true)
	if err := b.Wait(ctx); err != nil {
		t.Fatal(err)
	}
	st := b.State()
	if st.UsedLastMinute != 32 {
		t.Errorf("used %d in the last minute, want 32", st.UsedLastMinute)
	}
	if st.Waited["incremental"] != 30*time.Second || st.Waited["backfill"] < 5*time.Second {
		t.Errorf("waited %v, want 30s incremental and the 5 s pause for backfill", st.Waited)
	}
	if st.Paused != 5*time.Second || st.RateLimited != 1 {
		t.Errorf("paused %v after %d 429s, want 5s after 1", st.Paused, st.RateLimited)
	}
	if st.ReservedPerMinute != 60 || st.ConfiguredPerMinute != 60 || st.AccountLimit != 120 {
		t.Errorf("state = %+v, want 60/min configured, 60 reserved of 120", st)
	}
	fc.Advance(2 * time.Minute)
	if st := b.State(); st.UsedLastMinute != 0 {
		t.Errorf("used %d in the last minute after two idle minutes", st.UsedLastMinute)
	}
}
