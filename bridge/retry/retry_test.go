package retry

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/erpbridge/erpbridge/bridge/clock"
)

// sleeps is a fake clock that records every wait; cancel, when set, is
// called on the wait numbered cancelAt (from 1) instead of waiting.
type sleeps struct {
	*clock.Fake
	waits    []time.Duration
	cancel   context.CancelFunc
	cancelAt int
}

func (s *sleeps) Sleep(ctx context.Context, d time.Duration) error {
	s.waits = append(s.waits, d)
	if s.cancel != nil && len(s.waits) == s.cancelAt {
		s.cancel()
	}
	return s.Fake.Sleep(ctx, d)
}

func newSleeps() *sleeps {
	return &sleeps{Fake: clock.NewFake(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))}
}

var errBusy = errors.New("busy")

// failing is an op that fails with err every time, counting its tries.
func failing(err error, tries *int) func() (string, error) {
	return func() (string, error) { *tries++; return "", err }
}

func always(error) bool { return true }

func TestDoWaitsTheDelaysUntilTheAttemptsAreSpent(t *testing.T) {
	ms := time.Millisecond
	for _, tc := range []struct {
		name  string
		p     Policy
		waits []time.Duration
	}{
		{"doubling, no cap (the REST routes: 3 retries from 250ms)", Policy{First: 250 * ms, Attempts: 4},
			[]time.Duration{250 * ms, 500 * ms, 1000 * ms}},
		{"capped", Policy{First: 300 * ms, Max: time.Second, Attempts: 6},
			[]time.Duration{300 * ms, 600 * ms, time.Second, time.Second, time.Second}},
		{"a first wait over the cap is the cap", Policy{First: 2 * time.Second, Max: time.Second, Attempts: 3},
			[]time.Duration{time.Second, time.Second}},
		{"one attempt: no wait", Policy{First: ms, Attempts: 1}, nil},
		{"no attempts set: one try", Policy{First: ms}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			clk := newSleeps()
			tc.p.Clock = clk
			tries := 0
			_, err := Do(context.Background(), tc.p, always, failing(errBusy, &tries))
			if !errors.Is(err, errBusy) {
				t.Fatalf("Do = %v, want the op's error", err)
			}
			if want := max(tc.p.Attempts, 1); tries != want {
				t.Errorf("tries = %d, want %d", tries, want)
			}
			if !slices.Equal(clk.waits, tc.waits) {
				t.Errorf("waits = %v, want %v", clk.waits, tc.waits)
			}
		})
	}
}

func TestDoJittersWithinBounds(t *testing.T) {
	clk := newSleeps()
	p := Policy{First: 20 * time.Millisecond, Max: time.Second, Jitter: 0.5, Attempts: 10, Clock: clk}
	tries := 0
	_, _ = Do(context.Background(), p, always, failing(errBusy, &tries))
	if len(clk.waits) != 9 {
		t.Fatalf("waits = %v, want 9", clk.waits)
	}
	w := p.First
	for i, d := range clk.waits {
		if lo, hi := w/2, w+w/2+1; d < lo || d > hi {
			t.Errorf("wait %d = %v, want within [%v, %v]", i+1, d, lo, hi)
		}
		w = min(2*w, p.Max)
	}
}

func TestDoReturnsAtOnce(t *testing.T) {
	errBad := errors.New("refused")
	t.Run("on success, with the op's value", func(t *testing.T) {
		clk := newSleeps()
		tries := 0
		v, err := Do(context.Background(), Policy{First: time.Second, Attempts: 5, Clock: clk}, always, func() (string, error) {
			if tries++; tries < 3 {
				return "", errBusy
			}
			return "ok", nil
		})
		if v != "ok" || err != nil || tries != 3 || len(clk.waits) != 2 {
			t.Errorf("Do = %q, %v after %d tries and waits %v; want ok after 3 tries, 2 waits", v, err, tries, clk.waits)
		}
	})
	t.Run("on an error that is not retryable", func(t *testing.T) {
		clk := newSleeps()
		tries := 0
		_, err := Do(context.Background(), Policy{First: time.Second, Attempts: 5, Clock: clk},
			func(err error) bool { return err == errBusy }, failing(errBad, &tries))
		if !errors.Is(err, errBad) || tries != 1 || len(clk.waits) != 0 {
			t.Errorf("Do = %v after %d tries and waits %v; want the error after one try, no wait", err, tries, clk.waits)
		}
	})
}

func TestDoStopsWhenTheContextIsDone(t *testing.T) {
	t.Run("while waiting: no further try, the op's error", func(t *testing.T) {
		clk := newSleeps()
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		clk.cancel, clk.cancelAt = cancel, 2
		tries := 0
		_, err := Do(ctx, Policy{First: time.Second, Attempts: 10, Clock: clk}, always, failing(errBusy, &tries))
		if !errors.Is(err, errBusy) || tries != 2 || len(clk.waits) != 2 {
			t.Errorf("Do = %v after %d tries and waits %v; want the op's error after 2 tries, 2 waits", err, tries, clk.waits)
		}
	})
	t.Run("during a try: no wait", func(t *testing.T) {
		clk := newSleeps()
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		tries := 0
		_, err := Do(ctx, Policy{First: time.Second, Attempts: 10, Clock: clk}, always, func() (string, error) {
			tries++
			cancel()
			return "", errBusy
		})
		if !errors.Is(err, errBusy) || tries != 1 || len(clk.waits) != 0 {
			t.Errorf("Do = %v after %d tries and waits %v; want the op's error after one try, no wait", err, tries, clk.waits)
		}
	})
}

func TestDoStopsAtTheElapsedBound(t *testing.T) {
	clk := newSleeps()
	tries := 0
	// Waits 1s, 2s, 4s end at 1s, 3s, 7s; the next (8s) would end at 15s.
	_, err := Do(context.Background(), Policy{First: time.Second, Attempts: 100, Elapsed: 10 * time.Second, Clock: clk},
		always, failing(errBusy, &tries))
	if want := []time.Duration{time.Second, 2 * time.Second, 4 * time.Second}; !errors.Is(err, errBusy) || tries != 4 || !slices.Equal(clk.waits, want) {
		t.Errorf("Do = %v after %d tries and waits %v; want the op's error after 4 tries, waits %v", err, tries, clk.waits, want)
	}
}

// TestDelay: the won-deal writebacks' schedule (a lost answer waits a
// minute, doubling, at most an hour) is Do's waits, counted by attempt.
func TestDelay(t *testing.T) {
	p := Policy{First: time.Minute, Max: time.Hour}
	for n, want := range map[int]time.Duration{
		0: time.Minute, 1: time.Minute, 2: 2 * time.Minute, 3: 4 * time.Minute, 6: 32 * time.Minute,
		7: time.Hour, 8: time.Hour, 1_000_000: time.Hour,
	} {
		if got := p.Delay(n); got != want {
			t.Errorf("Delay(%d) = %v, want %v", n, got, want)
		}
	}
	if got := (Policy{First: 2 * time.Hour, Max: time.Hour}).Delay(1); got != time.Hour {
		t.Errorf("Delay(1) with a first wait over the cap = %v, want the cap", got)
	}
	if got := (Policy{First: time.Millisecond}).Delay(80); got <= 0 {
		t.Errorf("Delay(80) without a cap = %v, want a positive wait", got)
	}
}
