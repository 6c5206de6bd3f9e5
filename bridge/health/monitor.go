package health

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/erpbridge/erpbridge/bridge"
	"github.com/erpbridge/erpbridge/bridge/store"
	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/zap"
)

// Options tune a Monitor. Zero values take the defaults.
type Options struct {
	// Now is the clock (default time.Now).
	Now func() time.Time
	// PingTimeout bounds the ERP ping and the store reads of one check or
	// scrape (default 3s).
	PingTimeout time.Duration
	// CRMTimeout bounds the CRM token check (default 5s).
	CRMTimeout time.Duration
	// CRMEvery is how long a CRM check result is reused: at most one CRM
	// call per CRMEvery, however often /readyz is asked (default 30s).
	CRMEvery time.Duration
	// Logger receives scrape errors (default nop).
	Logger *zap.Logger
	// Version and Commit label erpbridge_build_info.
	Version, Commit string
}

func (o Options) withDefaults() Options {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.PingTimeout <= 0 {
		o.PingTimeout = 3 * time.Second
	}
	if o.CRMTimeout <= 0 {
		o.CRMTimeout = 5 * time.Second
	}
	if o.CRMEvery <= 0 {
		o.CRMEvery = 30 * time.Second
	}
	if o.Logger == nil {
		o.Logger = zap.NewNop()
	}
	return o
}

// Monitor checks readiness and keeps the metrics of the bridge attached to
// it. It is safe for concurrent use.
type Monitor struct {
	o       Options
	metrics *metrics

	mu      sync.Mutex
	target  *Target
	crmBase Stats // counters of the CRM clients of earlier bridges
	// lastBudget is the CRM budget last read (kept across a Detach).
	lastBudget Budget
	hasBudget  bool

	crmMu  sync.Mutex // one CRM check at a time; guards crmAt, crmErr
	crmAt  time.Time  // when the cached CRM check ran (zero: none)
	crmErr error

	liveMu sync.Mutex
	live   map[string]*liveRun        // the running pass per stream
	lags   map[string][]time.Duration // recent freshness lead times per stream
}

// liveRun is a running pass as the monitor last heard of it: its progress,
// and the record counts already added to erpbridge_records_total.
type liveRun struct {
	p       bridge.Progress
	counted store.RunStats
}

var _ bridge.Observer = (*Monitor)(nil)

// NewMonitor returns a monitor with no bridge attached: /readyz answers 503
// until Attach.
func NewMonitor(o Options) *Monitor {
	m := &Monitor{o: o.withDefaults(), live: map[string]*liveRun{}, lags: map[string][]time.Duration{}}
	m.metrics = newMetrics(m)
	return m
}

// Registry returns the monitor's Prometheus registry (erpbridge_* metrics
// and the Go and process collectors).
func (m *Monitor) Registry() *prometheus.Registry { return m.metrics.reg }

// Attach makes t the bridge that is checked and measured, in place of any
// earlier one. The cached CRM check is dropped.
func (m *Monitor) Attach(t Target) {
	m.Detach()
	m.mu.Lock()
	m.target = &t
	m.mu.Unlock()
	m.crmMu.Lock()
	m.crmAt, m.crmErr = time.Time{}, nil
	m.crmMu.Unlock()
	m.metrics.initStreams(t.Streams)
}

// Detach forgets the attached bridge before it is closed; its CRM counters
// are kept so the exported counters never go backwards. Until the next
// Attach, /readyz answers 503.
func (m *Monitor) Detach() {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.target == nil {
		return
	}
	m.crmBase = addStats(m.crmBase, m.target.CRM.Stats())
	m.target = nil
}

// current returns the attached bridge and the CRM counters so far.
func (m *Monitor) current() (*Target, Stats) {
	m.mu.Lock()
	defer m.mu.Unlock()
	st := m.crmBase
	if m.target != nil {
		st = addStats(st, m.target.CRM.Stats())
	}
	return m.target, st
}

// Progress implements bridge.Observer: the running pass's records are
// counted in erpbridge_records_total as they are handled, and its progress
// is kept for the status page. Dry runs are ignored.
func (m *Monitor) Progress(p bridge.Progress) {
	if p.Kind == store.RunDry || p.Stream == "" {
		return
	}
	m.liveMu.Lock()
	defer m.liveMu.Unlock()
	l := m.live[p.Stream]
	if l == nil || l.p.RunID != p.RunID {
		l = &liveRun{}
		m.live[p.Stream] = l
	}
	m.metrics.addRecords(p.Stream, p.Stats, l.counted)
	l.p, l.counted = p, p.Stats
}

// Wrote implements bridge.Observer: the freshness lead time (ERP change →
// CRM write) goes to erpbridge_erp_to_crm_seconds and to the status page.
func (m *Monitor) Wrote(w bridge.Write) {
	if w.Stream == "" || w.ERPChangedAt.IsZero() {
		return
	}
	lag := w.Lag()
	m.metrics.freshness.WithLabelValues(w.Stream).Observe(lag.Seconds())
	m.liveMu.Lock()
	defer m.liveMu.Unlock()
	r := m.lags[w.Stream]
	r = append(r, lag)
	if len(r) > recentLags {
		r = r[len(r)-recentLags:]
	}
	m.lags[w.Stream] = r
}

// recentLags is how many lead times per stream the status page summarises.
const recentLags = 500

// LeadTime summarises the recent freshness lead times of one stream.
type LeadTime struct {
	Stream           string
	N                int
	Median, P95, Max time.Duration
}

// LeadTimes returns the recent freshness lead times per stream, by name.
func (m *Monitor) LeadTimes() []LeadTime {
	m.liveMu.Lock()
	defer m.liveMu.Unlock()
	var out []LeadTime
	for s, r := range m.lags {
		sorted := slices.Clone(r)
		slices.Sort(sorted)
		n := len(sorted)
		out = append(out, LeadTime{Stream: s, N: n, Median: sorted[n/2], P95: sorted[min(n*95/100, n-1)], Max: sorted[n-1]})
	}
	slices.SortFunc(out, func(a, b LeadTime) int { return strings.Compare(a.Stream, b.Stream) })
	return out
}

// Finished implements bridge.Observer (see Observe).
func (m *Monitor) Finished(rep bridge.Report) { m.Observe(rep) }

// Observe records the outcome of one stream's run: its records by outcome
// (those Progress has not counted yet), its duration, and the time and
// success of the stream's last run. Dry runs are ignored; a run cut short
// by a stop or a reload counts its records but is neither a success nor a
// failure.
func (m *Monitor) Observe(rep bridge.Report) {
	if rep.Kind == store.RunDry || rep.Stream == "" {
		return
	}
	var counted store.RunStats
	m.liveMu.Lock()
	if l := m.live[rep.Stream]; l != nil && rep.RunID != 0 && l.p.RunID == rep.RunID {
		counted = l.counted
		delete(m.live, rep.Stream)
	}
	m.liveMu.Unlock()
	m.metrics.observe(rep, counted, m.o.Now())
}

// ObserveRequest records one HTTP attempt to the target system in
// erpbridge_crm_request_duration_seconds, under the stream of ctx
// (bridge.WithStream; "none" for checks outside a run); status 0 means no
// answer came.
func (m *Monitor) ObserveRequest(ctx context.Context, method string, status int, took time.Duration) {
	stream := bridge.StreamOf(ctx)
	if stream == "" {
		stream = "none"
	}
	code := "error"
	if status >= 100 && status < 600 {
		code = fmt.Sprintf("%dxx", status/100)
	}
	m.metrics.requestDuration.WithLabelValues(stream, method, code).Observe(took.Seconds())
}

// Running returns the passes under way, by stream: where each is.
func (m *Monitor) Running() map[string]bridge.Progress {
	m.liveMu.Lock()
	defer m.liveMu.Unlock()
	out := make(map[string]bridge.Progress, len(m.live))
	for s, l := range m.live {
		out[s] = l.p
	}
	return out
}

// Check is the outcome of one readiness check.
type Check struct {
	Name  string `json:"name"` // erp | crm | bridge | last_run:STREAM | store
	OK    bool   `json:"ok"`
	Error string `json:"error,omitempty"`
}

// Readiness is what /readyz answers.
type Readiness struct {
	Ready  bool     `json:"ready"`
	Failed []string `json:"failed,omitempty"` // names of the failed checks
	Checks []Check  `json:"checks"`
}

// Ready runs the readiness checks: the ERP answers a ping, the CRM answers
// (cached, see Options.CRMEvery), and no stream's last run failed.
func (m *Monitor) Ready(ctx context.Context) Readiness {
	t, _ := m.current()
	if t == nil {
		return finish([]Check{{Name: "bridge", Error: "not open (starting or reloading the configuration)"}})
	}
	var checks [2]Check
	var wg sync.WaitGroup
	wg.Go(func() { checks[0] = m.checkERP(ctx, t.ERP) })
	wg.Go(func() { checks[1] = m.checkCRM(ctx, t.CRM) })
	wg.Wait()
	return finish(append(checks[:], m.checkRuns(ctx, t)...))
}

func finish(checks []Check) Readiness {
	r := Readiness{Ready: true, Checks: checks}
	for _, c := range checks {
		if !c.OK {
			r.Ready = false
			r.Failed = append(r.Failed, c.Name)
		}
	}
	return r
}

func result(name string, err error) Check {
	if err != nil {
		return Check{Name: name, Error: err.Error()}
	}
	return Check{Name: name, OK: true}
}

func (m *Monitor) checkERP(ctx context.Context, db ERP) Check {
	if db == nil {
		// Read through REST routes: no database to ping; a failing route
		// shows in the streams' last runs.
		return result("erp", nil)
	}
	ctx, cancel := context.WithTimeout(ctx, m.o.PingTimeout)
	defer cancel()
	if err := db.PingContext(ctx); err != nil {
		return result("erp", fmt.Errorf("pinging the ERP database: %w", err))
	}
	return result("erp", nil)
}

// checkCRM calls the CRM at most once per CRMEvery; callers in between (and
// callers waiting while a call is under way) get the cached result.
func (m *Monitor) checkCRM(ctx context.Context, c CRM) Check {
	m.crmMu.Lock()
	defer m.crmMu.Unlock()
	now := m.o.Now()
	if m.crmAt.IsZero() || now.Sub(m.crmAt) >= m.o.CRMEvery {
		// The check outlives a caller that gives up, so its result can
		// be cached; CRMTimeout bounds it.
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), m.o.CRMTimeout)
		err := c.Ping(cctx)
		cancel()
		if err != nil {
			err = fmt.Errorf("checking the CRM token: %w", err)
		}
		m.crmAt, m.crmErr = now, err
	}
	return result("crm", m.crmErr)
}

// checkRuns fails a stream whose newest run failed. A run cut short by a
// stop or a reload (its error is a cancellation) has not failed.
func (m *Monitor) checkRuns(ctx context.Context, t *Target) []Check {
	ctx, cancel := context.WithTimeout(ctx, m.o.PingTimeout)
	defer cancel()
	var out []Check
	for _, s := range t.Streams {
		name := "last_run:" + s
		run, ok, err := t.Store.LastRun(ctx, s)
		switch {
		case err != nil:
			out = append(out, result(name, fmt.Errorf("reading the checkpoint store: %w", err)))
		case ok && failed(run):
			out = append(out, result(name, fmt.Errorf("run %d (%s) failed at %s: %s",
				run.ID, run.Kind, run.FinishedAt.Format(time.RFC3339), run.Stats.Err)))
		default:
			out = append(out, result(name, nil))
		}
	}
	return out
}

func failed(run store.Run) bool {
	return run.Status == store.RunFailed && !strings.HasSuffix(run.Stats.Err, context.Canceled.Error())
}

func cancelled(err error) bool { return errors.Is(err, context.Canceled) }

func addStats(a, b Stats) Stats {
	out := Stats{
		Requests:       a.Requests + b.Requests,
		RateLimited:    a.RateLimited + b.RateLimited,
		Retries:        a.Retries + b.Retries,
		OutcomeUnknown: a.OutcomeUnknown + b.OutcomeUnknown,
		ByMethod:       make(map[string]int64, len(a.ByMethod)+len(b.ByMethod)),
	}
	for k, v := range a.ByMethod {
		out.ByMethod[k] += v
	}
	for k, v := range b.ByMethod {
		out.ByMethod[k] += v
	}
	return out
}
