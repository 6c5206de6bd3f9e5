package clock

import (
	"context"
	"sync"
	"time"
)

// Virtual is a clock for simulations of several parties that run at once
// (a client and another integration on the same rate-limited account):
// unlike Fake, where every Sleep moves the time for everyone, a Sleep on
// Virtual blocks until the time reaches its end, and the time jumps to the
// earliest end only when every party is asleep. Work done between sleeps
// (an HTTP request to a simulator on the same clock) takes no virtual time,
// so minutes pass in milliseconds while the parties overlap as they would
// on the wall clock.
//
// The number of parties is fixed at creation; each calls Done when it
// stops sleeping for good, or the others would wait for it forever.
type Virtual struct {
	mu       sync.Mutex
	now      time.Time
	parties  int
	sleepers []*sleeper
}

type sleeper struct {
	until time.Time
	wake  chan struct{}
}

var _ Clock = (*Virtual)(nil)

// NewVirtual returns a virtual clock at start for the given number of
// parties.
func NewVirtual(start time.Time, parties int) *Virtual {
	return &Virtual{now: start, parties: parties}
}

// Now returns the virtual time.
func (v *Virtual) Now() time.Time {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.now
}

// Sleep blocks until the virtual time has moved by d, or ctx is done.
func (v *Virtual) Sleep(ctx context.Context, d time.Duration) error {
	if err := ctx.Err(); err != nil || d <= 0 {
		return err
	}
	v.mu.Lock()
	s := &sleeper{until: v.now.Add(d), wake: make(chan struct{})}
	v.sleepers = append(v.sleepers, s)
	v.advanceLocked()
	v.mu.Unlock()
	select {
	case <-s.wake:
		return nil
	case <-ctx.Done():
		v.mu.Lock()
		defer v.mu.Unlock()
		for i, o := range v.sleepers {
			if o == s {
				v.sleepers = append(v.sleepers[:i], v.sleepers[i+1:]...)
				return ctx.Err()
			}
		}
		return nil // woken meanwhile
	}
}

// Done tells the clock one party has stopped: the others no longer wait
// for it to sleep.
func (v *Virtual) Done() {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.parties--
	v.advanceLocked()
}

// advanceLocked moves the time to the earliest end of a sleep when every
// party sleeps, and wakes the sleepers whose end it reached. Callers hold
// v.mu.
func (v *Virtual) advanceLocked() {
	if len(v.sleepers) == 0 || len(v.sleepers) < v.parties {
		return
	}
	next := v.sleepers[0].until
	for _, s := range v.sleepers[1:] {
		if s.until.Before(next) {
			next = s.until
		}
	}
	if next.After(v.now) {
		v.now = next
	}
	kept := v.sleepers[:0]
	for _, s := range v.sleepers {
		if s.until.After(v.now) {
			kept = append(kept, s)
			continue
		}
		close(s.wake)
	}
	v.sleepers = kept
}
