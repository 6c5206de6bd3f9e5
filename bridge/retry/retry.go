// Package retry is erpbridge's one retry-delay policy, for the loops that
// only need delays between tries: the ERP REST routes' reads and order
// POSTs (erp/resterp), the staging sink's lost races (erp/sqlerp) and the
// won-deal writebacks' next attempts (bridge/inbound). The delays are
// github.com/cenkalti/backoff/v5's ExponentialBackOff, doubling from a
// first wait up to a cap, optionally jittered; Do bounds the tries by count
// and elapsed time and stops when its context is done. The CRM client's
// 429 handling and the outbox schedule (bridge.Options.Backoff) keep their
// own.
//
// Like bridge/clock, it is a leaf: it imports nothing of erpbridge but the
// clock, so the ERP and CRM packages may use it.
package retry

import (
	"context"
	"math"
	"time"

	"github.com/cenkalti/backoff/v5"

	"github.com/erpbridge/erpbridge/bridge/clock"
)

// Policy is when to try again.
type Policy struct {
	// First is the first wait; each next one is twice the last, up to Max.
	First time.Duration
	// Max caps a wait before jitter (0: no cap).
	Max time.Duration
	// Jitter spreads each wait w over [w·(1−Jitter), w·(1+Jitter)] (0:
	// exact), so racing writers do not try again in step.
	Jitter float64
	// Attempts is how many tries Do makes in all, the first included (below
	// 1: one).
	Attempts int
	// Elapsed, when positive, bounds the time from the first try: a wait
	// that would end past it is not started.
	Elapsed time.Duration
	// Clock tells the time and waits (nil: the wall clock). Tests give a
	// fake one.
	Clock clock.Clock
}

// backOff is the policy's delays, from the first.
func (p Policy) backOff() *backoff.ExponentialBackOff {
	capped := p.Max
	if capped <= 0 {
		capped = math.MaxInt64
	}
	b := &backoff.ExponentialBackOff{InitialInterval: min(p.First, capped), RandomizationFactor: p.Jitter,
		Multiplier: 2, MaxInterval: capped}
	b.Reset()
	return b
}

// doublings is how many doublings reach any cap from any first wait of at
// least a nanosecond: after as many, every wait is Max.
const doublings = 64

// Delay is the wait after try n (n ≥ 1; below, the first wait): the n-th
// wait Do would make. It is for a loop that records when to try again
// instead of waiting (the won-deal writebacks).
func (p Policy) Delay(n int) time.Duration {
	b := p.backOff()
	d := b.NextBackOff()
	for i := 1; i < min(n, doublings); i++ {
		d = b.NextBackOff()
	}
	return d
}

// Do runs op until it succeeds, fails with an error retryable refuses,
// the attempts or the elapsed time are spent, or ctx is done, waiting the
// policy's delays between tries. It returns op's last result and error: a
// context done while waiting does not replace op's error, which says what
// failed. (Not backoff.Retry: its timer cannot be faked, and a cancelled
// context replaces the last error.)
func Do[T any](ctx context.Context, p Policy, retryable func(error) bool, op func() (T, error)) (T, error) {
	clk := p.Clock
	if clk == nil {
		clk = clock.Real{}
	}
	b := p.backOff()
	start := clk.Now()
	for try := 1; ; try++ {
		v, err := op()
		if err == nil || !retryable(err) || try >= p.Attempts || ctx.Err() != nil {
			return v, err
		}
		wait := b.NextBackOff()
		if p.Elapsed > 0 && clk.Now().Sub(start)+wait > p.Elapsed {
			return v, err
		}
		if clk.Sleep(ctx, wait) != nil {
			return v, err
		}
	}
}
