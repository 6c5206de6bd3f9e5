package rdsim

import (
	"sync"
	"time"
)

// rateWindow is the account-wide request window of one minute.
type rateWindow struct {
	mu    sync.Mutex
	limit int // <0: unlimited
	hits  []time.Time
	// fixed-window state
	fixedStart time.Time
	fixedCount int
}

// RateWindowFixed selects a fixed per-minute window in Switches.RateWindow.
const RateWindowFixed = "fixed"

const ratePeriod = time.Minute

func newRateWindow(limit int) *rateWindow { return &rateWindow{limit: limit} }

func (w *rateWindow) reset() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.hits = nil
	w.fixedStart = time.Time{}
	w.fixedCount = 0
}

// allow admits one request at now, or reports how long until one would be.
func (w *rateWindow) allow(now time.Time, kind string) (bool, time.Duration) {
	if w.limit < 0 {
		return true, 0
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if kind == RateWindowFixed {
		start := now.Truncate(ratePeriod)
		if !start.Equal(w.fixedStart) {
			w.fixedStart, w.fixedCount = start, 0
		}
		if w.fixedCount >= w.limit {
			return false, start.Add(ratePeriod).Sub(now)
		}
		w.fixedCount++
		return true, 0
	}
	w.expire(now)
	if len(w.hits) >= w.limit {
		return false, w.hits[0].Add(ratePeriod).Sub(now)
	}
	w.hits = append(w.hits, now)
	return true, 0
}

// expire forgets hits that left the sliding window. Callers hold w.mu.
func (w *rateWindow) expire(now time.Time) {
	i := 0
	for i < len(w.hits) && !w.hits[i].Add(ratePeriod).After(now) {
		i++
	}
	if i > 0 {
		w.hits = append(w.hits[:0], w.hits[i:]...)
	}
}

// retryAfter is how long until the oldest counted request leaves the
// sliding window (at least one second), used for injected 429s.
func (w *rateWindow) retryAfter(now time.Time) time.Duration {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.expire(now)
	if len(w.hits) == 0 {
		return time.Second
	}
	return w.hits[0].Add(ratePeriod).Sub(now)
}
