package crm

import (
	"context"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/erpbridge/erpbridge/bridge/clock"
)

func TestBudgetSpendsTheRightFakeTime(t *testing.T) {
	tests := []struct {
		name        string
		rpm, burst  int
		calls       int
		wantElapsed time.Duration
	}{
		{name: "defaults: burst then 100/min", calls: 110, wantElapsed: time.Minute},
		{name: "60/min no burst", rpm: 60, burst: 1, calls: 31, wantElapsed: 30 * time.Second},
		{name: "within the burst costs nothing", rpm: 100, burst: 10, calls: 10, wantElapsed: 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fc := clock.NewFake(testStart)
			b := NewBudget(BudgetConfig{RequestsPerMinute: tt.rpm, Burst: tt.burst, Clock: fc})
			for range tt.calls {
				if err := b.Wait(context.Background()); err != nil {
					t.Fatal(err)
				}
			}
			got := fc.Now().Sub(testStart)
			if d := got - tt.wantElapsed; d < -10*time.Millisecond || d > 10*time.Millisecond {
				t.Errorf("%d calls took %v of fake time, want %v", tt.calls, got, tt.wantElapsed)
			}
		})
	}
}

func TestClientCallsDrawFromTheBudget(t *testing.T) {
	a := newTestAPI(t, func(w http.ResponseWriter, r *http.Request, n int) { reply(w, 200, `{"id":"u"}`) })
	c, fc := newTestClient(t, a) // default budget: 100/min, burst 10
	for range 40 {
		if _, err := c.GetUser(context.Background(), "u"); err != nil {
			t.Fatal(err)
		}
	}
	if got, want := fc.Now().Sub(testStart), 18*time.Second; got < want-time.Second || got > want+time.Second {
		t.Errorf("40 calls took %v, want about %v (30 beyond the burst at 100/min)", got, want)
	}
	if s := c.Stats(); s.Requests != 40 || s.ByMethod[http.MethodGet] != 40 {
		t.Errorf("stats = %+v", s)
	}
}

func TestSharedBudgetIsOnePerKey(t *testing.T) {
	a := SharedBudget("test-shared-key-1", BudgetConfig{})
	if SharedBudget("test-shared-key-1", BudgetConfig{RequestsPerMinute: 5}) != a {
		t.Error("same key gave two budgets")
	}
	if SharedBudget("test-shared-key-2", BudgetConfig{}) == a {
		t.Error("different keys share a budget")
	}
}

// stepClock only moves when the test says so; Sleep blocks until then.
type stepClock struct {
	mu      sync.Mutex
	now     time.Time
	waiters []stepWaiter
}

type stepWaiter struct {
	until time.Time
	ch    chan struct{}
}

var _ clock.Clock = (*stepClock)(nil)

func (s *stepClock) Now() time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.now
}

func (s *stepClock) Sleep(ctx context.Context, d time.Duration) error {
	s.mu.Lock()
	w := stepWaiter{until: s.now.Add(d), ch: make(chan struct{})}
	s.waiters = append(s.waiters, w)
	s.mu.Unlock()
	select {
	case <-w.ch:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (s *stepClock) sleepers() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.waiters)
}

func (s *stepClock) advance(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.now = s.now.Add(d)
	kept := s.waiters[:0]
	for _, w := range s.waiters {
		if !w.until.After(s.now) {
			close(w.ch)
		} else {
			kept = append(kept, w)
		}
	}
	s.waiters = kept
}

// waitUntil polls cond for up to two seconds of real time.
func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for range 400 {
		if cond() {
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatalf("timed out waiting for %s", what)
}

func TestInteractiveCallersOvertakeWaitingBulk(t *testing.T) {
	sc := &stepClock{now: testStart}
	b := NewBudget(BudgetConfig{RequestsPerMinute: 60, Burst: 1, Clock: sc})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if err := b.Wait(ctx); err != nil { // spends the burst
		t.Fatal(err)
	}
	order := make(chan string, 4)
	var wg sync.WaitGroup
	start := func(name string, p Priority) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := b.Wait(WithPriority(ctx, p)); err == nil {
				order <- name
			}
		}()
	}
	start("bulk-1", Bulk)
	waitUntil(t, "bulk-1 to sleep for its token", func() bool { return sc.sleepers() == 1 })
	start("bulk-2", Bulk)
	start("bulk-3", Bulk)
	waitUntil(t, "bulk-2 and bulk-3 to queue", func() bool { return b.bulkWaiting.Load() == 3 })
	start("interactive", Interactive)
	waitUntil(t, "the interactive caller to sleep for its token", func() bool { return sc.sleepers() == 2 })

	var got []string
	for range 200 {
		if len(got) == 4 {
			break
		}
		sc.advance(time.Second)
		select {
		case name := <-order:
			got = append(got, name)
		case <-time.After(10 * time.Millisecond):
		}
	}
	cancel()
	wg.Wait()
	want := []string{"bulk-1", "interactive", "bulk-2", "bulk-3"}
	if len(got) != 4 || got[0] != want[0] || got[1] != want[1] {
		t.Fatalf("served in order %v, want the interactive caller right after the bulk one already holding a token: %v", got, want)
	}
}
