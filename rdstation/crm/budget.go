package crm

import (
	"context"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/time/rate"

	"github.com/erpbridge/erpbridge/bridge/clock"
)

// Priority orders callers waiting for the rate budget.
type Priority int

const (
	// Bulk is the default priority: backfills and full passes.
	Bulk Priority = iota
	// Interactive callers (won-deal polling, order pushes, a person waiting)
	// are served before any waiting Bulk caller.
	Interactive
)

type priorityKey struct{}

// WithPriority returns a context whose requests wait for the budget at p.
func WithPriority(ctx context.Context, p Priority) context.Context {
	return context.WithValue(ctx, priorityKey{}, p)
}

// PriorityFrom returns the priority set by WithPriority, Bulk by default.
func PriorityFrom(ctx context.Context) Priority {
	if p, ok := ctx.Value(priorityKey{}).(Priority); ok {
		return p
	}
	return Bulk
}

// Default budget settings: 100 requests a minute with a burst of 10 stays
// within the account's 120 requests in any 60-second window.
const (
	DefaultRequestsPerMinute = 100
	DefaultBurst             = 10
	// rateWindow is the API's rate window; a 429 without Retry-After
	// pauses the account for this long plus jitter.
	rateWindow = time.Minute
	// windowJitter bounds the random extra pause after a 429.
	windowJitter = 5 * time.Second
	// minPause is the shortest pause after a 429 (a Retry-After of 0 must
	// not turn into a tight loop).
	minPause = time.Second
)

// BudgetConfig configures a Budget. Zero values take the defaults.
type BudgetConfig struct {
	// RequestsPerMinute is the sustained rate (default 100). Keep
	// RequestsPerMinute+Burst at or below the account's 120/min. Unlimited
	// (a negative value) is for simulators and benchmarks only: 429s still
	// pause every caller.
	RequestsPerMinute int
	// Burst is how many requests may go at once after a quiet spell (default 10).
	Burst int
	// Clock tells the time and sleeps (default clock.Real{}).
	Clock clock.Clock
}

// Budget is the request budget of one RD Station account: a token bucket
// every client of the account draws from, with two priorities and a pause
// that a 429 imposes on all of them. It is safe for concurrent use.
type Budget struct {
	clock clock.Clock
	lim   *rate.Limiter
	// rpm and burst are the settings lim has (normalised: 0 → default,
	// negative → Unlimited); guarded by mu.
	rpm, burst int

	// bulkGate serialises bulk reservations so at most one bulk caller holds
	// a reservation ahead of a newly arriving interactive caller.
	bulkGate chan struct{}

	mu          sync.Mutex
	interactive int           // interactive callers inside Wait
	idle        chan struct{} // closed while interactive == 0
	pausedUntil time.Time

	bulkWaiting atomic.Int64 // bulk callers inside Wait (for tests)
}

// NewBudget returns a budget for one account.
func NewBudget(cfg BudgetConfig) *Budget {
	rpm, burst, limit := budgetRate(cfg.RequestsPerMinute, cfg.Burst)
	if cfg.Clock == nil {
		cfg.Clock = clock.Real{}
	}
	idle := make(chan struct{})
	close(idle)
	return &Budget{
		clock:    cfg.Clock,
		lim:      rate.NewLimiter(limit, burst),
		rpm:      rpm,
		burst:    burst,
		bulkGate: make(chan struct{}, 1),
		idle:     idle,
	}
}

// budgetRate normalises BudgetConfig's rate and burst (zero: the defaults;
// a negative rate: unlimited) and returns the limiter's rate.
func budgetRate(requestsPerMinute, burst int) (rpm, b int, limit rate.Limit) {
	if requestsPerMinute == 0 {
		requestsPerMinute = DefaultRequestsPerMinute
	}
	limit = rate.Inf
	if requestsPerMinute > 0 {
		limit = rate.Limit(float64(requestsPerMinute) / 60)
	} else {
		requestsPerMinute = -1
	}
	if burst <= 0 {
		burst = DefaultBurst
	}
	return requestsPerMinute, burst, limit
}

// SetRate changes the budget's rate and burst (as BudgetConfig reads them)
// from now on, for every caller of the account, and reports whether they
// changed. Callers already waiting keep the reservation they hold.
func (b *Budget) SetRate(requestsPerMinute, burst int) bool {
	rpm, burst, limit := budgetRate(requestsPerMinute, burst)
	b.mu.Lock()
	defer b.mu.Unlock()
	if rpm == b.rpm && burst == b.burst {
		return false
	}
	now := b.clock.Now()
	b.lim.SetLimitAt(now, limit)
	b.lim.SetBurstAt(now, burst)
	b.rpm, b.burst = rpm, burst
	return true
}

// Rate returns the budget's requests per minute (-1: unlimited) and burst.
func (b *Budget) Rate() (requestsPerMinute, burst int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.rpm, b.burst
}

// budgets is the process-wide registry behind SharedBudget: the one
// package-level state the client keeps.
var budgets = struct {
	sync.Mutex
	m map[string]*Budget
}{m: map[string]*Budget{}}

// SharedBudget returns the process-wide budget of the account identified by
// key (pass a hash of the token, never the token), creating it from cfg on
// first use. Later calls with the same key return the same budget and
// ignore cfg: call SetRate to change its rate (a reloaded configuration).
func SharedBudget(key string, cfg BudgetConfig) *Budget {
	budgets.Lock()
	defer budgets.Unlock()
	if b, ok := budgets.m[key]; ok {
		return b
	}
	b := NewBudget(cfg)
	budgets.m[key] = b
	return b
}

// Wait blocks until the caller may send one request, honouring the
// context's priority and any pause imposed by a 429.
func (b *Budget) Wait(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if PriorityFrom(ctx) == Interactive {
		b.mu.Lock()
		if b.interactive == 0 {
			b.idle = make(chan struct{})
		}
		b.interactive++
		b.mu.Unlock()
		defer func() {
			b.mu.Lock()
			b.interactive--
			if b.interactive == 0 {
				close(b.idle)
			}
			b.mu.Unlock()
		}()
	} else {
		b.bulkWaiting.Add(1)
		defer b.bulkWaiting.Add(-1)
		select {
		case b.bulkGate <- struct{}{}:
		case <-ctx.Done():
			return ctx.Err()
		}
		defer func() { <-b.bulkGate }()
		if err := b.waitNoInteractive(ctx); err != nil {
			return err
		}
	}
	if err := b.waitPause(ctx); err != nil {
		return err
	}
	now := b.clock.Now()
	r := b.lim.ReserveN(now, 1)
	if d := r.DelayFrom(now); d > 0 {
		if err := b.clock.Sleep(ctx, d); err != nil {
			r.CancelAt(b.clock.Now())
			return err
		}
	}
	// A 429 seen by another caller while we slept pauses us too.
	return b.waitPause(ctx)
}

func (b *Budget) waitNoInteractive(ctx context.Context) error {
	for {
		b.mu.Lock()
		n, idle := b.interactive, b.idle
		b.mu.Unlock()
		if n == 0 {
			return nil
		}
		select {
		case <-idle:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

func (b *Budget) waitPause(ctx context.Context) error {
	for range 100 { // a pause can be extended by later 429s; bounded anyway
		b.mu.Lock()
		until := b.pausedUntil
		b.mu.Unlock()
		d := until.Sub(b.clock.Now())
		if d <= 0 {
			return nil
		}
		if err := b.clock.Sleep(ctx, d); err != nil {
			return err
		}
	}
	return nil
}

// PauseUntil stops every caller of the account until t (a 429 was seen).
// An earlier t than a pause already in force changes nothing.
func (b *Budget) PauseUntil(t time.Time) {
	b.mu.Lock()
	if t.After(b.pausedUntil) {
		b.pausedUntil = t
	}
	b.mu.Unlock()
}

// pauseAfter429 pauses the account after a 429 seen at now: until
// retryAfter when the server sent one, else for the rest of the rate window
// plus jitter. It returns the end of the pause.
func (b *Budget) pauseAfter429(now time.Time, retryAfter time.Duration, sent bool) time.Time {
	wait := max(retryAfter, minPause)
	if !sent {
		wait = rateWindow + rand.N(windowJitter)
	}
	until := now.Add(wait)
	b.PauseUntil(until)
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.pausedUntil
}
