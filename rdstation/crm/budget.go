package crm

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/erpbridge/erpbridge/bridge/clock"
	"github.com/erpbridge/erpbridge/bridge/priority"
)

// Priority orders callers waiting for the rate budget: the levels of
// bridge/priority, one lane each.
type Priority = priority.Level

// The budget's lanes, lowest first.
const (
	// Bulk is the default priority: backfills and full passes.
	Bulk = priority.Backfill
	// Incremental callers (polls of what changed) go before Bulk ones.
	Incremental = priority.Incremental
	// Interactive callers (won-deal polling, order pushes, a person
	// waiting) are served before any waiting caller of a lower lane.
	Interactive = priority.Urgent
)

// WithPriority returns a context whose requests wait for the budget at p.
func WithPriority(ctx context.Context, p Priority) context.Context { return priority.With(ctx, p) }

// PriorityFrom returns the priority set by WithPriority, Bulk by default.
func PriorityFrom(ctx context.Context) Priority { return priority.From(ctx) }

// Default budget settings: 100 requests a minute with a burst of 10 stays
// within the account's 120 requests in any 60-second window and leaves 20
// a minute to the account's other integrations.
const (
	DefaultRequestsPerMinute = 100
	DefaultBurst             = 10
	// DefaultAccountLimit is RD Station CRM's documented limit per
	// account, all integrations together.
	DefaultAccountLimit = 120
)

// What a 429 does to the budget (see Budget).
const (
	// probeFirst is the pause after a 429 without Retry-After: a sliding
	// one-minute window full of requests frees a slot about every half
	// second, so the next request probes after a few seconds, not after
	// the window's whole minute.
	probeFirst = 2 * time.Second
	// probeMax bounds the pause after consecutive 429s without
	// Retry-After (2 s, 4 s, 8 s, 8 s …): the bridge is never silent for
	// long on a guess.
	probeMax = 8 * time.Second
	// probeJitter spreads the probes of several processes.
	probeJitter = time.Second
	// decreaseFactor is the multiplicative decrease of the rate on a 429:
	// someone else needs the account.
	decreaseFactor = 0.85
	// increasePerMinute is the additive increase: requests a minute the
	// rate gains back per minute without a 429.
	increasePerMinute = 6.0
	// minAdaptive is the lowest rate a decrease reaches (requests a
	// minute): one request every 10 s.
	minAdaptive = 6.0
	// cutEvery is the shortest time between two decreases: the 429s of
	// one crowded moment (concurrent callers, the probes after it) count
	// once.
	cutEvery = 10 * time.Second
)

// Window is a time of day during which the budget's rate is another (at
// night, when the account's other integrations are idle).
type Window struct {
	// From and To are times of day, in minutes after midnight, in
	// Location (nil: the machine's zone); the window is [From, To). A To at
	// or before From spans midnight; From == To is the whole day.
	From, To int
	Location *time.Location
	// RequestsPerMinute is the rate inside the window.
	RequestsPerMinute int
}

// Contains reports whether t falls inside the window.
func (w Window) Contains(t time.Time) bool {
	loc := w.Location
	if loc == nil {
		loc = time.Local
	}
	lt := t.In(loc)
	m := lt.Hour()*60 + lt.Minute()
	switch {
	case w.From == w.To:
		return true
	case w.From < w.To:
		return m >= w.From && m < w.To
	default:
		return m >= w.From || m < w.To
	}
}

// String shows the window as "20:00-06:00 America/Sao_Paulo 115/min".
func (w Window) String() string {
	loc := w.Location
	if loc == nil {
		loc = time.Local
	}
	return fmt.Sprintf("%02d:%02d-%02d:%02d %s %d/min", w.From/60, w.From%60, w.To/60, w.To%60, loc, w.RequestsPerMinute)
}

// BudgetConfig configures a Budget. Zero values take the defaults.
type BudgetConfig struct {
	// RequestsPerMinute is the sustained rate (default 100). Keep
	// RequestsPerMinute+Burst at or below the account's 120/min. Unlimited
	// (a negative value) is for simulators and benchmarks only: 429s still
	// pause every caller.
	RequestsPerMinute int
	// Burst is how many requests may go at once after a quiet spell
	// (default 10); inside a window it is cut so the window's rate plus the
	// burst stays within AccountLimit.
	Burst int
	// Windows are times of day with another rate; the first that contains
	// the time applies.
	Windows []Window
	// AccountLimit is the account's limit, all integrations together
	// (default 120): what the budget leaves to others is shown against it.
	AccountLimit int
	// Clock tells the time and sleeps (default clock.Real{}).
	Clock clock.Clock
}

// Budget is the request budget of one RD Station account: a token bucket
// (golang.org/x/time/rate) every client of the account draws from, in
// lanes by priority, with an adaptive rate and a pause that a 429 imposes
// on every caller.
//
// The rate in force is the configured one (requests_per_minute, or the
// window's at that time of day). A 429 means another integration of the
// account needs it: the rate drops by decreaseFactor (at most once per
// cutEvery) and climbs back by increasePerMinute a minute, in single
// requests (no burst) until it is the configured rate again, so the
// bridge uses what the others leave without starving them. A 429 also
// pauses every caller: until Retry-After when the CRM sends one, else for a
// few seconds (probeFirst, doubling per consecutive 429 up to probeMax),
// never the window's whole minute.
//
// Lanes: a caller waits while any caller of a higher lane waits, and each
// lane but the highest holds at most one reservation at a time, so a won
// deal's request goes right after the one already on its way. It is safe
// for concurrent use.
type Budget struct {
	clock clock.Clock
	lim   *rate.Limiter

	mu sync.Mutex
	// rpm and burst are the configured base (normalised: 0 → default,
	// negative → -1, unlimited); windows and accountLimit as configured.
	rpm, burst   int
	windows      []Window
	accountLimit int
	// ceiling is the configured rate in force (-1 unlimited), window the
	// index of the window that set it (-1 none).
	ceiling float64
	window  int
	// cur is the adaptive rate (≤ ceiling), grownAt when it last grew,
	// cutAt when it last dropped.
	cur     float64
	grownAt time.Time
	cutAt   time.Time
	// pausedUntil: no caller goes before; strikes counts 429s since the
	// last answer that was not one.
	pausedUntil time.Time
	strikes     int

	lanes [priority.Levels]lane

	// counters for State
	rateLimited int64
	waited      [priority.Levels]time.Duration
	paused      time.Duration
	sent        [60]secondCount
}

// lane is one priority level's callers inside Wait.
type lane struct {
	waiting int
	idle    chan struct{} // closed while waiting == 0
	gate    chan struct{} // one reservation at a time (every lane but the top)
}

// secondCount counts the requests let through in one second.
type secondCount struct {
	sec int64
	n   int
}

const topLane = priority.Levels - 1

// NewBudget returns a budget for one account.
func NewBudget(cfg BudgetConfig) *Budget {
	if cfg.Clock == nil {
		cfg.Clock = clock.Real{}
	}
	rpm, burst := normalise(cfg.RequestsPerMinute, cfg.Burst)
	b := &Budget{clock: cfg.Clock, rpm: rpm, burst: burst, windows: append([]Window(nil), cfg.Windows...),
		accountLimit: cfg.AccountLimit, ceiling: -2, window: -1}
	if b.accountLimit <= 0 {
		b.accountLimit = DefaultAccountLimit
	}
	for i := range b.lanes {
		b.lanes[i].idle = make(chan struct{})
		close(b.lanes[i].idle)
		b.lanes[i].gate = make(chan struct{}, 1)
	}
	b.lim = rate.NewLimiter(rate.Inf, burst)
	b.mu.Lock()
	b.adjustLocked(b.clock.Now())
	b.mu.Unlock()
	return b
}

// normalise reads BudgetConfig's rate and burst: zero takes the default, a
// negative rate is unlimited (-1).
func normalise(requestsPerMinute, burst int) (rpm, b int) {
	switch {
	case requestsPerMinute == 0:
		requestsPerMinute = DefaultRequestsPerMinute
	case requestsPerMinute < 0:
		requestsPerMinute = -1
	}
	if burst <= 0 {
		burst = DefaultBurst
	}
	return requestsPerMinute, burst
}

// SetRate changes the budget's base rate and burst (as BudgetConfig reads
// them) from now on, for every caller of the account, and reports whether
// they changed. Callers already waiting keep the reservation they hold.
func (b *Budget) SetRate(requestsPerMinute, burst int) bool {
	rpm, burst := normalise(requestsPerMinute, burst)
	b.mu.Lock()
	defer b.mu.Unlock()
	if rpm == b.rpm && burst == b.burst {
		return false
	}
	b.rpm, b.burst = rpm, burst
	b.adjustLocked(b.clock.Now())
	return true
}

// SetWindows replaces the budget's time windows and reports whether they
// changed.
func (b *Budget) SetWindows(ws []Window) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if sameWindows(b.windows, ws) {
		return false
	}
	b.windows = append([]Window(nil), ws...)
	b.adjustLocked(b.clock.Now())
	return true
}

func sameWindows(a, b []Window) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].From != b[i].From || a[i].To != b[i].To || a[i].RequestsPerMinute != b[i].RequestsPerMinute ||
			a[i].Location.String() != b[i].Location.String() {
			return false
		}
	}
	return true
}

// Rate returns the budget's base requests per minute (-1: unlimited) and
// burst.
func (b *Budget) Rate() (requestsPerMinute, burst int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.rpm, b.burst
}

// ceilingAt is the configured rate at now and the window that sets it.
// Callers hold b.mu.
func (b *Budget) ceilingAt(now time.Time) (float64, int) {
	if b.rpm < 0 {
		return -1, -1
	}
	for i, w := range b.windows {
		if w.Contains(now) {
			return float64(w.RequestsPerMinute), i
		}
	}
	return float64(b.rpm), -1
}

// burstAt is the burst in force under ceiling: the configured one, cut so
// the rate plus the burst stays within the account's limit, and 1 while
// the adaptive rate climbs back. Callers hold b.mu.
func (b *Budget) burstAt() int {
	if b.ceiling < 0 {
		return b.burst
	}
	if b.cur < b.ceiling {
		return 1
	}
	return max(1, min(b.burst, b.accountLimit-int(b.ceiling)))
}

// adjustLocked brings the rate to now: the configured rate in force (a
// window may have begun or ended), the additive increase since the last
// adjustment, and the limiter's limit and burst. Callers hold b.mu.
func (b *Budget) adjustLocked(now time.Time) {
	ceil, win := b.ceilingAt(now)
	if ceil != b.ceiling {
		// Not adapting (or unlimited before): the new rate at once; else
		// the adaptive rate stays, within the new ceiling.
		if b.ceiling < 0 || b.cur >= b.ceiling || b.cur > ceil {
			b.cur = ceil
		}
		b.ceiling, b.window = ceil, win
	}
	if b.ceiling >= 0 && b.cur < b.ceiling && !b.grownAt.IsZero() && now.After(b.grownAt) {
		b.cur = min(b.ceiling, b.cur+increasePerMinute*now.Sub(b.grownAt).Minutes())
	}
	b.grownAt = now
	limit := rate.Inf
	if b.ceiling >= 0 {
		limit = rate.Limit(b.cur / 60)
	}
	if b.lim.Limit() != limit {
		b.lim.SetLimitAt(now, limit)
	}
	if burst := b.burstAt(); b.lim.Burst() != burst {
		b.lim.SetBurstAt(now, burst)
	}
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
// ignore cfg: call SetRate and SetWindows to change it (a reloaded
// configuration).
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

// maxRounds bounds the rounds of one Wait (each round waits out a pause
// or a reservation).
const maxRounds = 1000

// Wait blocks until the caller may send one request, honouring the
// context's priority and any pause imposed by a 429.
func (b *Budget) Wait(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	l := PriorityFrom(ctx)
	start := b.clock.Now()
	b.enter(l)
	defer func() { b.leave(l, b.clock.Now().Sub(start)) }()
	if l < topLane {
		select {
		case b.lanes[l].gate <- struct{}{}:
		case <-ctx.Done():
			return ctx.Err()
		}
		defer func() { <-b.lanes[l].gate }()
	}
	for range maxRounds {
		if err := b.waitPause(ctx); err != nil {
			return err
		}
		if err := b.waitHigher(ctx, l); err != nil {
			return err
		}
		now := b.clock.Now()
		b.mu.Lock()
		if now.Before(b.pausedUntil) {
			b.mu.Unlock()
			continue
		}
		b.adjustLocked(now)
		r := b.lim.ReserveN(now, 1)
		b.mu.Unlock()
		if d := r.DelayFrom(now); d > 0 {
			if err := b.clock.Sleep(ctx, d); err != nil {
				r.CancelAt(b.clock.Now())
				return err
			}
		}
		// A 429 seen by another caller while we slept pauses us too: the
		// token is spent, and another is taken after the pause.
		now = b.clock.Now()
		b.mu.Lock()
		if now.Before(b.pausedUntil) {
			b.mu.Unlock()
			continue
		}
		b.countLocked(now)
		b.mu.Unlock()
		return nil
	}
	return fmt.Errorf("waiting for the rate budget: still paused after %d rounds", maxRounds)
}

// enter counts a caller of lane l as waiting.
func (b *Budget) enter(l Priority) {
	b.mu.Lock()
	defer b.mu.Unlock()
	ln := &b.lanes[l]
	if ln.waiting == 0 {
		ln.idle = make(chan struct{})
	}
	ln.waiting++
}

// leave counts a caller of lane l out, with the time it waited.
func (b *Budget) leave(l Priority, waited time.Duration) {
	b.mu.Lock()
	defer b.mu.Unlock()
	ln := &b.lanes[l]
	ln.waiting--
	if ln.waiting == 0 {
		close(ln.idle)
	}
	b.waited[l] += max(waited, 0)
}

// waitHigher waits until no caller of a lane above l waits.
func (b *Budget) waitHigher(ctx context.Context, l Priority) error {
	for {
		b.mu.Lock()
		var busy chan struct{}
		for h := l + 1; h <= topLane; h++ {
			if b.lanes[h].waiting > 0 {
				busy = b.lanes[h].idle
				break
			}
		}
		b.mu.Unlock()
		if busy == nil {
			return nil
		}
		select {
		case <-busy:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

func (b *Budget) waitPause(ctx context.Context) error {
	for range maxRounds { // a pause can be extended by later 429s; bounded anyway
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

// countLocked counts one request let through at now. Callers hold b.mu.
func (b *Budget) countLocked(now time.Time) {
	sec := now.Unix()
	s := &b.sent[sec%60]
	if s.sec != sec {
		s.sec, s.n = sec, 0
	}
	s.n++
}

// PauseUntil stops every caller of the account until t (a 429 was seen).
// An earlier t than a pause already in force changes nothing.
func (b *Budget) PauseUntil(t time.Time) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.pauseLocked(b.clock.Now(), t)
}

func (b *Budget) pauseLocked(now, until time.Time) {
	if !until.After(b.pausedUntil) {
		return
	}
	from := now
	if b.pausedUntil.After(from) {
		from = b.pausedUntil
	}
	if until.After(from) {
		b.paused += until.Sub(from)
	}
	b.pausedUntil = until
}

// limited records a 429 seen at now: the rate drops (at most once per
// cutEvery), and every caller pauses until retryAfter when the CRM sent
// one, else for a few seconds that double with each consecutive 429. It
// returns the end of the pause.
func (b *Budget) limited(now time.Time, retryAfter time.Duration, sent bool) time.Time {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.rateLimited++
	b.strikes++
	b.adjustLocked(now)
	if b.ceiling >= 0 && (b.cutAt.IsZero() || now.Sub(b.cutAt) >= cutEvery) {
		b.cur = max(min(minAdaptive, b.ceiling), b.cur*decreaseFactor)
		b.cutAt = now
		b.adjustLocked(now)
	}
	wait := max(retryAfter, 0)
	if !sent {
		wait = min(probeFirst<<min(b.strikes-1, 8), probeMax) + rand.N(probeJitter)
	}
	b.pauseLocked(now, now.Add(wait))
	return b.pausedUntil
}

// answered records an answer that was not a 429: the next 429 pauses
// for the shortest probe again.
func (b *Budget) answered() {
	b.mu.Lock()
	b.strikes = 0
	b.mu.Unlock()
}

// BudgetState is a snapshot of a Budget: what `erpbridge status`, the
// metrics and the status page show.
type BudgetState struct {
	// At is when the snapshot was taken.
	At time.Time `json:"at"`
	// AccountLimit is the account's limit, all integrations together.
	AccountLimit int `json:"account_limit"`
	// Unlimited: no client-side limit (simulators and benchmarks).
	Unlimited bool `json:"unlimited,omitempty"`
	// BasePerMinute is requests_per_minute; ConfiguredPerMinute the rate
	// configured now (a window's, when one applies: Window).
	BasePerMinute       int    `json:"base_per_minute"`
	ConfiguredPerMinute int    `json:"configured_per_minute"`
	Window              string `json:"window,omitempty"`
	Burst               int    `json:"burst"`
	// ReservedPerMinute is what the configured rate leaves to the
	// account's other integrations.
	ReservedPerMinute int `json:"reserved_per_minute"`
	// CurrentPerMinute is the adaptive rate: below ConfiguredPerMinute
	// after 429s, climbing back.
	CurrentPerMinute float64 `json:"current_per_minute"`
	// UsedLastMinute counts the requests let through in the last 60 s.
	UsedLastMinute int `json:"used_last_minute"`
	// PausedUntil is the end of the pause a 429 imposed (zero: none).
	PausedUntil time.Time `json:"paused_until,omitzero"`
	// RateLimited counts the 429s the budget has seen.
	RateLimited int64 `json:"rate_limited"`
	// Waited is the time callers spent waiting for the budget, by lane
	// ("backfill", "incremental", "urgent"); Paused the time the account
	// was paused by 429s.
	Waited map[string]time.Duration `json:"waited"`
	Paused time.Duration            `json:"paused"`
}

// State returns a snapshot of the budget.
func (b *Budget) State() BudgetState {
	b.mu.Lock()
	defer b.mu.Unlock()
	now := b.clock.Now()
	b.adjustLocked(now)
	s := BudgetState{At: now, AccountLimit: b.accountLimit, BasePerMinute: b.rpm, Burst: b.lim.Burst(),
		RateLimited: b.rateLimited, Paused: b.paused, Waited: map[string]time.Duration{}}
	if b.ceiling < 0 {
		s.Unlimited, s.ConfiguredPerMinute, s.CurrentPerMinute = true, -1, -1
	} else {
		s.ConfiguredPerMinute = int(b.ceiling)
		s.ReservedPerMinute = max(0, b.accountLimit-int(b.ceiling))
		s.CurrentPerMinute = float64(int(b.cur*10+0.5)) / 10
	}
	if b.window >= 0 {
		s.Window = b.windows[b.window].String()
	}
	if now.Before(b.pausedUntil) {
		s.PausedUntil = b.pausedUntil
	}
	for _, c := range b.sent {
		if c.sec > now.Unix()-60 && c.sec <= now.Unix() {
			s.UsedLastMinute += c.n
		}
	}
	for l := range priority.Levels {
		s.Waited[priority.Level(l).String()] = b.waited[l]
	}
	return s
}
