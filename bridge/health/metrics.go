package health

import (
	"cmp"
	"context"
	"maps"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/erpbridge/erpbridge/bridge"
	"github.com/erpbridge/erpbridge/bridge/store"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"go.uber.org/zap"
)

// Outcomes are the values of the outcome label of erpbridge_records_total.
var outcomes = []string{"created", "updated", "unchanged", "skipped", "failed", "deleted"}

// openStates are the outbox states erpbridge_outbox_items reports for every
// stream, 0 when the stream has none.
var openStates = []store.State{store.StatePending, store.StateInflight, store.StateFailed, store.StateParked}

// metrics are the monitor's Prometheus metrics. The record counters move
// as a run goes (bridge.Observer), the histograms are fed from run reports; the CRM counters, the outbox depth and the
// cursor lag are read when scraped (stateCollector).
type metrics struct {
	reg         *prometheus.Registry
	records     *prometheus.CounterVec
	runDuration *prometheus.HistogramVec
	lastRunTime *prometheus.GaugeVec
	lastRunOK   *prometheus.GaugeVec
	// rowsRead and rowsChanged compare, per stream and run kind, the ERP
	// rows the runs read with those that changed something in the target:
	// polls reading far more than they change read more than they need (a
	// table without S_T_A_M_P_ read whole, stamps moved without a change).
	rowsRead, rowsChanged *prometheus.CounterVec
	// requestDuration is every HTTP attempt to the target system, by
	// stream, method and status class (its _count: requests per stream).
	requestDuration *prometheus.HistogramVec
	// freshness is the lead time ERP change → CRM write, by stream.
	freshness *prometheus.HistogramVec
}

func newMetrics(m *Monitor) *metrics {
	x := &metrics{
		reg: prometheus.NewRegistry(),
		records: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "erpbridge_records_total",
			Help: "ERP records handled by the runs of this process, by stream and outcome.",
		}, []string{"stream", "outcome"}),
		runDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "erpbridge_run_duration_seconds",
			Help:    "Duration of the finished runs of this process, by stream.",
			Buckets: prometheus.ExponentialBuckets(0.25, 2, 16), // 0.25 s … ~2.3 h
		}, []string{"stream"}),
		lastRunTime: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "erpbridge_last_run_timestamp_seconds",
			Help: "Unix time the stream's last run of this process finished.",
		}, []string{"stream"}),
		lastRunOK: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "erpbridge_last_run_success",
			Help: "1 if the stream's last run of this process succeeded, 0 if it failed.",
		}, []string{"stream"}),
		rowsRead: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "erpbridge_poll_rows_read_total",
			Help: "ERP rows the runs of this process read, by stream and kind (incremental polls, full passes).",
		}, []string{"stream", "kind"}),
		rowsChanged: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "erpbridge_poll_rows_changed_total",
			Help: "ERP rows whose run created, updated or deleted a target record, by stream and kind: compare with erpbridge_poll_rows_read_total.",
		}, []string{"stream", "kind"}),
	}
	x.requestDuration = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "erpbridge_crm_request_duration_seconds",
		Help:    "HTTP attempts to the CRM (retries included), by stream, method and status class (2xx…5xx, error: no answer).",
		Buckets: []float64{0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30},
	}, []string{"stream", "method", "code"})
	x.freshness = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name: "erpbridge_erp_to_crm_seconds",
		Help: "Lead time from a record's ERP change (its S_T_A_M_P_, UTC) to the CRM confirming its write, by stream.",
		// 1 s … ~9 h: a poll every 5 minutes, a backlog, a night.
		Buckets: prometheus.ExponentialBuckets(1, 2, 16),
	}, []string{"stream"})
	buildInfo := prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "erpbridge_build_info",
		Help: "Always 1; the labels say which erpbridge this is.",
	}, []string{"version", "commit", "goversion"})
	buildInfo.WithLabelValues(cmp.Or(m.o.Version, "dev"), cmp.Or(m.o.Commit, "unknown"), runtime.Version()).Set(1)
	x.reg.MustRegister(x.records, x.runDuration, x.lastRunTime, x.lastRunOK, x.rowsRead, x.rowsChanged,
		x.requestDuration, x.freshness, buildInfo,
		&stateCollector{m: m},
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	)
	return x
}

// initStreams creates every stream's record series at 0, so a rate() sees
// the first run's records.
func (x *metrics) initStreams(streams []string) {
	for _, s := range streams {
		for _, o := range outcomes {
			x.records.WithLabelValues(s, o)
		}
		for _, k := range []store.RunKind{store.RunIncremental, store.RunFull} {
			x.rowsRead.WithLabelValues(s, string(k))
			x.rowsChanged.WithLabelValues(s, string(k))
		}
	}
}

// addRecords adds the records of st not in counted (what an earlier call
// for the same run added already).
func (x *metrics) addRecords(stream string, st, counted store.RunStats) {
	now := []int64{st.Created, st.Updated, st.Unchanged, st.Skipped, st.Failed, st.Deleted}
	before := []int64{counted.Created, counted.Updated, counted.Unchanged, counted.Skipped, counted.Failed, counted.Deleted}
	for i, n := range now {
		if d := n - before[i]; d > 0 {
			x.records.WithLabelValues(stream, outcomes[i]).Add(float64(d))
		}
	}
}

// observe adds a finished run: its records not counted yet, its duration
// and its outcome.
func (x *metrics) observe(rep bridge.Report, counted store.RunStats, now time.Time) {
	x.addRecords(rep.Stream, rep.Stats, counted)
	if rep.Kind != "" {
		kind, st := string(rep.Kind), rep.Stats
		x.rowsRead.WithLabelValues(rep.Stream, kind).Add(float64(st.Read))
		x.rowsChanged.WithLabelValues(rep.Stream, kind).Add(float64(st.Created + st.Updated + st.Deleted))
	}
	if cancelled(rep.Err) {
		return
	}
	x.runDuration.WithLabelValues(rep.Stream).Observe(rep.Duration.Seconds())
	x.lastRunTime.WithLabelValues(rep.Stream).Set(float64(now.UnixNano()) / 1e9)
	ok := 0.0
	if rep.Err == nil {
		ok = 1
	}
	x.lastRunOK.WithLabelValues(rep.Stream).Set(ok)
}

var (
	descRequests = prometheus.NewDesc("erpbridge_crm_requests_total",
		"HTTP requests sent to the CRM (retries included), by method.", []string{"method"}, nil)
	descRateLimited = prometheus.NewDesc("erpbridge_crm_rate_limited_total",
		"CRM answers 429 Too Many Requests.", nil, nil)
	descRetries = prometheus.NewDesc("erpbridge_crm_retries_total",
		"CRM requests repeated after a 5xx or a network failure.", nil, nil)
	descOutcomeUnknown = prometheus.NewDesc("erpbridge_crm_outcome_unknown_total",
		"CRM writes sent without an answer (resolved later without duplicates).", nil, nil)
	descOutbox = prometheus.NewDesc("erpbridge_outbox_items",
		"Open outbox items (writes not yet confirmed), by stream and state.", []string{"stream", "state"}, nil)
	descCursorLag = prometheus.NewDesc("erpbridge_cursor_lag_seconds",
		"Seconds since the stream's incremental cursor last moved (last ERP change read).", []string{"stream"}, nil)
)

// The CRM budget's metrics (see Budget); the rates are absent when the
// budget is unlimited.
var (
	descBudgetConfigured = prometheus.NewDesc("erpbridge_crm_budget_configured_per_minute",
		"CRM requests a minute the bridge is configured to use now (a time window's when one applies).", nil, nil)
	descBudgetReserved = prometheus.NewDesc("erpbridge_crm_budget_reserved_per_minute",
		"CRM requests a minute the configured rate leaves to the account's other integrations.", nil, nil)
	descBudgetCurrent = prometheus.NewDesc("erpbridge_crm_budget_current_per_minute",
		"The bridge's adaptive CRM rate: below the configured one after 429s, climbing back.", nil, nil)
	descBudgetUsed = prometheus.NewDesc("erpbridge_crm_budget_used_last_minute",
		"CRM requests the bridge sent in the last 60 seconds.", nil, nil)
	descBudgetWaited = prometheus.NewDesc("erpbridge_crm_budget_wait_seconds_total",
		"Time requests spent waiting for the CRM budget, by priority (backfill, incremental, urgent).", []string{"priority"}, nil)
	descBudgetPaused = prometheus.NewDesc("erpbridge_crm_budget_paused_seconds_total",
		"Time the bridge's CRM requests were paused by 429 answers.", nil, nil)
)

// collectBudget sends the CRM budget's metrics, when the CRM has one.
func (c *stateCollector) collectBudget(ch chan<- prometheus.Metric) {
	b, ok := c.m.Budget()
	if !ok {
		return
	}
	if !b.Unlimited {
		ch <- prometheus.MustNewConstMetric(descBudgetConfigured, prometheus.GaugeValue, float64(b.ConfiguredPerMinute))
		ch <- prometheus.MustNewConstMetric(descBudgetReserved, prometheus.GaugeValue, float64(b.ReservedPerMinute))
		ch <- prometheus.MustNewConstMetric(descBudgetCurrent, prometheus.GaugeValue, b.CurrentPerMinute)
	}
	ch <- prometheus.MustNewConstMetric(descBudgetUsed, prometheus.GaugeValue, float64(b.UsedLastMinute))
	for _, p := range slices.Sorted(maps.Keys(b.WaitedSeconds)) {
		ch <- prometheus.MustNewConstMetric(descBudgetWaited, prometheus.CounterValue, b.WaitedSeconds[p], p)
	}
	ch <- prometheus.MustNewConstMetric(descBudgetPaused, prometheus.CounterValue, b.PausedSeconds)
}

// stateCollector reads the CRM client's counters and the checkpoint store
// at scrape time.
type stateCollector struct{ m *Monitor }

var _ prometheus.Collector = (*stateCollector)(nil)

// Describe sends every descriptor the collector uses.
func (c *stateCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descRequests, descRateLimited, descRetries, descOutcomeUnknown, descOutbox, descCursorLag,
		descBudgetConfigured, descBudgetReserved, descBudgetCurrent, descBudgetUsed, descBudgetWaited, descBudgetPaused} {
		ch <- d
	}
}

// Collect sends the current values.
func (c *stateCollector) Collect(ch chan<- prometheus.Metric) {
	t, st := c.m.current()
	methods := []string{"GET", "POST", "PUT", "PATCH", "DELETE"}
	for m := range st.ByMethod {
		if !slices.Contains(methods, m) {
			methods = append(methods, m)
		}
	}
	for _, m := range methods {
		ch <- prometheus.MustNewConstMetric(descRequests, prometheus.CounterValue, float64(st.ByMethod[m]), m)
	}
	ch <- prometheus.MustNewConstMetric(descRateLimited, prometheus.CounterValue, float64(st.RateLimited))
	ch <- prometheus.MustNewConstMetric(descRetries, prometheus.CounterValue, float64(st.Retries))
	ch <- prometheus.MustNewConstMetric(descOutcomeUnknown, prometheus.CounterValue, float64(st.OutcomeUnknown))
	c.collectBudget(ch)
	if t == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), c.m.o.PingTimeout)
	defer cancel()
	c.collectOutbox(ctx, ch, t)
	c.collectCursors(ctx, ch, t)
}

func (c *stateCollector) collectOutbox(ctx context.Context, ch chan<- prometheus.Metric, t *Target) {
	counts, err := t.Store.Count(ctx)
	if err != nil {
		c.m.o.Logger.Warn("metrics: reading the outbox depth", zap.Error(err))
		ch <- prometheus.NewInvalidMetric(descOutbox, err)
		return
	}
	depth := map[[2]string]int64{}
	for _, s := range t.Streams {
		for _, st := range openStates {
			depth[[2]string{s, string(st)}] = 0
		}
	}
	for _, n := range counts {
		depth[[2]string{n.Stream, string(n.State)}] += n.N
	}
	for k, n := range depth {
		ch <- prometheus.MustNewConstMetric(descOutbox, prometheus.GaugeValue, float64(n), k[0], k[1])
	}
}

// collectCursors reports, per stream of the engine, the seconds since its
// incremental cursor was last written (the full-pass progress cursors,
// "STREAM#full", are not streams). A stream without a cursor yet has no
// series.
func (c *stateCollector) collectCursors(ctx context.Context, ch chan<- prometheus.Metric, t *Target) {
	cursors, err := t.Store.Cursors(ctx)
	if err != nil {
		c.m.o.Logger.Warn("metrics: reading the cursors", zap.Error(err))
		ch <- prometheus.NewInvalidMetric(descCursorLag, err)
		return
	}
	now := c.m.o.Now()
	for _, cur := range cursors {
		if strings.Contains(cur.Stream, "#") || !slices.Contains(t.Streams, cur.Stream) || cur.UpdatedAt.IsZero() {
			continue
		}
		lag := max(now.Sub(cur.UpdatedAt), 0)
		ch <- prometheus.MustNewConstMetric(descCursorLag, prometheus.GaugeValue, lag.Seconds(), cur.Stream)
	}
}
