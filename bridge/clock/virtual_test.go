package clock

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"
)

// TestVirtualPartiesOverlap: two parties sleeping at once share the time
// (3 × 3 s beside 2 × 5 s ends at 10 s, not 19 s), and a party that is done
// no longer holds the others back.
func TestVirtualPartiesOverlap(t *testing.T) {
	start := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	v := NewVirtual(start, 2)
	ctx := context.Background()
	woke := make([][]time.Duration, 2)
	var wg sync.WaitGroup
	for p, sleeps := range [][]time.Duration{{3 * time.Second, 3 * time.Second, 3 * time.Second}, {5 * time.Second, 5 * time.Second}} {
		wg.Go(func() {
			defer v.Done()
			for _, d := range sleeps {
				if err := v.Sleep(ctx, d); err != nil {
					t.Error(err)
					return
				}
				woke[p] = append(woke[p], v.Now().Sub(start))
			}
		})
	}
	wg.Wait()
	want := [][]time.Duration{{3 * time.Second, 6 * time.Second, 9 * time.Second}, {5 * time.Second, 10 * time.Second}}
	for p := range want {
		if !slices.Equal(woke[p], want[p]) {
			t.Errorf("party %d woke at %v, want %v", p, woke[p], want[p])
		}
	}
	if got := v.Now().Sub(start); got != 10*time.Second {
		t.Errorf("the clock ended at %v, want 10s", got)
	}
}

// TestVirtualSleepHonoursContext: a sleep whose context ends returns its
// error and leaves the time where it was.
func TestVirtualSleepHonoursContext(t *testing.T) {
	start := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	v := NewVirtual(start, 2) // the other party never sleeps: the time stands
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- v.Sleep(ctx, time.Hour) }()
	cancel()
	if err := <-done; err != context.Canceled {
		t.Fatalf("Sleep returned %v, want context.Canceled", err)
	}
	if got := v.Now(); !got.Equal(start) {
		t.Fatalf("a cancelled Sleep moved the clock to %v", got)
	}
}
