package main

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/erpbridge/erpbridge/bridge"
	"github.com/erpbridge/erpbridge/bridge/health"
	"github.com/erpbridge/erpbridge/bridge/store"
	"github.com/erpbridge/erpbridge/cmd/erpbridge/internal/config"
	"github.com/erpbridge/erpbridge/cmd/erpbridge/internal/wiring"
	"github.com/erpbridge/erpbridge/erp/protheus/fixture"
	"github.com/erpbridge/erpbridge/rdstation/crm/target"
	"github.com/erpbridge/erpbridge/rdstation/rdsim"
)

// healthEnv is a real bridge (the SQLite Protheus fixture and an in-process
// simulator) with a monitor and a health server on 127.0.0.1.
type healthEnv struct {
	t   *testing.T
	erp fixture.ERP
	b   *wiring.Bridge
	m   *health.Monitor
	srv *health.Server
	url string // http://127.0.0.1:PORT
}

func newHealthEnv(t *testing.T, o health.Options) *healthEnv {
	t.Helper()
	return newObservedHealthEnv(t, o, nil)
}

// newObservedHealthEnv is newHealthEnv with one more observer of the runs,
// told after the monitor.
func newObservedHealthEnv(t *testing.T, o health.Options, also bridge.Observer) *healthEnv {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	dbPath := filepath.Join(dir, "erp.db")
	erpDB, _, err := fixture.CreateSQLite(ctx, dbPath, fixture.Options{Customers: 40})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { erpDB.DB.Close() })
	sim := httptest.NewServer(rdsim.New(rdsim.Options{Tokens: []string{"sim-token"}, RequestsPerMinute: -1}))
	t.Cleanup(sim.Close)
	cfg, err := config.Parse([]byte(`
data_dir = "`+filepath.ToSlash(filepath.Join(dir, "data"))+`"
[crm]
base_url = "`+sim.URL+`/api/v1"
token = "sim-token"
requests_per_minute = -1
[erp]
driver = "sqlite"
dsn = "`+filepath.ToSlash(dbPath)+`"
[streams.contacts]
filial = "`+fixture.ContactFilial+`"
[streams.products]
price_table = "`+fixture.PriceTable+`"
`), func(string) (string, bool) { return "", false })
	if err != nil {
		t.Fatal(err)
	}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	m := health.NewMonitor(o)
	b, err := wiring.Open(ctx, cfg, wiring.Options{Observer: bridge.Observers(m, also), ObserveRequest: m.ObserveRequest})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	m.Attach(b.Health())
	srv, err := health.Listen("127.0.0.1:0", "", m, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Shutdown(context.Background()) })
	return &healthEnv{t: t, erp: erpDB, b: b, m: m, srv: srv, url: "http://" + srv.Addr()}
}

// sync runs one stream; the monitor observes it, as in `run`.
func (e *healthEnv) sync(stream string) bridge.Report {
	e.t.Helper()
	rep, err := e.b.Engine.Sync(context.Background(), stream, bridge.SyncOptions{})
	if err != nil {
		e.t.Fatalf("sync %s: %v", stream, err)
	}
	return rep
}

// progressFunc is an observer of progress only.
type progressFunc func(bridge.Progress)

func (f progressFunc) Progress(p bridge.Progress) { f(p) }
func (progressFunc) Finished(bridge.Report)       {}
func (progressFunc) Wrote(bridge.Write)           {}

// A backfill's creates show in /metrics while it runs, and the monitor
// knows where the pass is (N of M); at its end the counter holds every
// create once.
func TestRecordCountersMoveDuringARun(t *testing.T) {
	var e *healthEnv
	var seen bool
	var live bridge.Progress
	probe := progressFunc(func(p bridge.Progress) {
		if p.Stream != "customers" || p.Stats.Created != 5 || seen {
			return
		}
		seen = true
		_, body := get(t, e.url+"/metrics", "")
		if got, _ := metric(body, "erpbridge_records_total", map[string]string{"stream": "customers", "outcome": "created"}); got != 5 {
			t.Errorf("records_total{customers,created} = %v while the run had created 5", got)
		}
		live = e.m.Running()["customers"]
	})
	e = newObservedHealthEnv(t, health.Options{}, probe)
	rep := e.sync("customers")
	if !seen {
		t.Fatalf("the run never had 5 creates to look at: %+v", rep.Stats)
	}
	if live.RunID != rep.RunID || live.Total != rep.Stats.Read || live.Done == 0 || live.Done >= live.Total {
		t.Errorf("the running pass as the monitor knew it = %+v, want run %d, some of the %d rows done", live, rep.RunID, rep.Stats.Read)
	}
	_, body := get(t, e.url+"/metrics", "")
	if got, _ := metric(body, "erpbridge_records_total", map[string]string{"stream": "customers", "outcome": "created"}); int64(got) != rep.Stats.Created {
		t.Errorf("after the run records_total{customers,created} = %v, want %d (each create once)", got, rep.Stats.Created)
	}
	if _, ok := e.m.Running()["customers"]; ok {
		t.Error("the finished pass is still shown as running")
	}
}

// get fetches url with an optional bearer token and returns the status and body.
func get(t *testing.T, url, token string) (int, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(body)
}

func readiness(t *testing.T, url string) (int, health.Readiness) {
	t.Helper()
	code, body := get(t, url+"/readyz", "")
	var r health.Readiness
	if err := json.Unmarshal([]byte(body), &r); err != nil {
		t.Fatalf("/readyz body is not JSON: %v\n%s", err, body)
	}
	return code, r
}

// metric returns the value of the sample name{labels} in a Prometheus text
// exposition; false if there is none.
func metric(body, name string, labels map[string]string) (float64, bool) {
	for line := range strings.Lines(body) {
		rest, ok := strings.CutPrefix(line, name)
		if !ok || (rest[0] != '{' && rest[0] != ' ') {
			continue
		}
		got := map[string]string{}
		if rest[0] == '{' {
			end := strings.IndexByte(rest, '}')
			for pair := range strings.SplitSeq(rest[1:end], ",") {
				k, v, _ := strings.Cut(pair, "=")
				got[k] = strings.Trim(v, `"`)
			}
			rest = rest[end+1:]
		}
		match := len(got) == len(labels)
		for k, v := range labels {
			match = match && got[k] == v
		}
		if match {
			v, err := strconv.ParseFloat(strings.TrimSpace(rest), 64)
			return v, err == nil
		}
	}
	return 0, false
}

func TestHealthyBridge(t *testing.T) {
	e := newHealthEnv(t, health.Options{})
	if code, body := get(t, e.url+"/healthz", ""); code != http.StatusOK {
		t.Errorf("/healthz = %d %q, want 200", code, body)
	}
	// Bad rows (a keyless customer among them) leave items in the outbox.
	if _, err := e.erp.AddMessyRecords(context.Background()); err != nil {
		t.Fatal(err)
	}
	rep := e.sync("customers")
	if rep.Stats.Created == 0 {
		t.Fatalf("the first sync created nothing: %+v", rep.Stats)
	}
	code, r := readiness(t, e.url)
	if code != http.StatusOK || !r.Ready || len(r.Failed) != 0 {
		t.Fatalf("/readyz = %d %+v, want 200 and ready", code, r)
	}
	names := map[string]bool{}
	for _, c := range r.Checks {
		names[c.Name] = true
	}
	for _, want := range []string{"erp", "crm", "last_run:customers", "last_run:contacts", "last_run:products"} {
		if !names[want] {
			t.Errorf("/readyz does not report the %s check: %+v", want, r.Checks)
		}
	}

	code, body := get(t, e.url+"/metrics", "")
	if code != http.StatusOK {
		t.Fatalf("/metrics = %d", code)
	}
	for outcome, want := range map[string]int64{"created": rep.Stats.Created, "skipped": rep.Stats.Skipped,
		"failed": rep.Stats.Failed, "updated": rep.Stats.Updated} {
		got, ok := metric(body, "erpbridge_records_total", map[string]string{"stream": "customers", "outcome": outcome})
		if !ok || int64(got) != want {
			t.Errorf("erpbridge_records_total{customers,%s} = %v (present %v), want %d", outcome, got, ok, want)
		}
	}
	if got, ok := metric(body, "erpbridge_records_total", map[string]string{"stream": "products", "outcome": "created"}); !ok || got != 0 {
		t.Errorf("products created = %v (present %v), want a 0 series before its first run", got, ok)
	}
	counts, err := e.b.Store.Count(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(counts) == 0 {
		t.Fatal("the fixture's bad rows left nothing in the outbox; the depth check would prove nothing")
	}
	for _, c := range counts {
		got, ok := metric(body, "erpbridge_outbox_items", map[string]string{"stream": c.Stream, "state": string(c.State)})
		if !ok || int64(got) != c.N {
			t.Errorf("erpbridge_outbox_items{%s,%s} = %v (present %v), want %d", c.Stream, c.State, got, ok, c.N)
		}
	}
	if got, ok := metric(body, "erpbridge_outbox_items", map[string]string{"stream": "products", "state": "pending"}); !ok || got != 0 {
		t.Errorf("products pending = %v (present %v), want 0", got, ok)
	}
	if got, ok := metric(body, "erpbridge_crm_requests_total", map[string]string{"method": "POST"}); !ok || got < float64(rep.Stats.Created) {
		t.Errorf("erpbridge_crm_requests_total{POST} = %v, want at least the %d creates", got, rep.Stats.Created)
	}
	if got, ok := metric(body, "erpbridge_run_duration_seconds_count", map[string]string{"stream": "customers"}); !ok || got != 1 {
		t.Errorf("run duration count = %v (present %v), want 1", got, ok)
	}
	if got, ok := metric(body, "erpbridge_last_run_success", map[string]string{"stream": "customers"}); !ok || got != 1 {
		t.Errorf("last run success = %v (present %v), want 1", got, ok)
	}
	if got, ok := metric(body, "erpbridge_last_run_timestamp_seconds", map[string]string{"stream": "customers"}); !ok || time.Since(time.Unix(int64(got), 0)) > time.Minute {
		t.Errorf("last run timestamp = %v (present %v), want about now", got, ok)
	}
	if got, ok := metric(body, "erpbridge_cursor_lag_seconds", map[string]string{"stream": "customers"}); !ok || got < 0 || got > 60 {
		t.Errorf("cursor lag = %v (present %v), want a few seconds", got, ok)
	}
	for _, name := range []string{"erpbridge_crm_rate_limited_total", "erpbridge_crm_retries_total", "erpbridge_crm_outcome_unknown_total", "go_goroutines", "process_start_time_seconds"} {
		if !strings.Contains(body, "\n"+name+" ") {
			t.Errorf("/metrics lacks %s", name)
		}
	}
}

func TestReadyzNamesTheFailedCheck(t *testing.T) {
	tests := []struct {
		name    string
		breakIt func(e *healthEnv)
		failed  string
		says    string
	}{
		{"ERP database closed", func(e *healthEnv) { e.b.ERP.Close() }, "erp", "database is closed"},
		{"last run failed", func(e *healthEnv) {
			ctx := context.Background()
			id, err := e.b.Store.StartRun(ctx, "customers", store.RunIncremental)
			if err != nil {
				t.Fatal(err)
			}
			if err := e.b.Store.FinishRun(ctx, id, store.RunStats{Err: "reading changes: SA1010 is locked"}); err != nil {
				t.Fatal(err)
			}
		}, "last_run:customers", "SA1010 is locked"},
		{"bridge detached for a reload", func(e *healthEnv) { e.m.Detach() }, "bridge", "reloading"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newHealthEnv(t, health.Options{})
			if code, _ := readiness(t, e.url); code != http.StatusOK {
				t.Fatalf("/readyz = %d before breaking anything", code)
			}
			tt.breakIt(e)
			code, r := readiness(t, e.url)
			if code != http.StatusServiceUnavailable || r.Ready {
				t.Fatalf("/readyz = %d %+v, want 503", code, r)
			}
			if len(r.Failed) != 1 || r.Failed[0] != tt.failed {
				t.Errorf("failed = %v, want [%s]", r.Failed, tt.failed)
			}
			for _, c := range r.Checks {
				if c.Name == tt.failed && !strings.Contains(c.Error, tt.says) {
					t.Errorf("%s check says %q, want it to mention %q", c.Name, c.Error, tt.says)
				}
			}
			if code, _ := get(t, e.url+"/healthz", ""); code != http.StatusOK {
				t.Errorf("/healthz = %d, want 200 while alive", code)
			}
		})
	}
}

// A run cut short by a stop or a reload is not a failed run.
func TestReadyzIgnoresAStoppedRun(t *testing.T) {
	e := newHealthEnv(t, health.Options{})
	ctx := context.Background()
	id, err := e.b.Store.StartRun(ctx, "customers", store.RunIncremental)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.b.Store.FinishRun(ctx, id, store.RunStats{Err: "reading changes: " + context.Canceled.Error()}); err != nil {
		t.Fatal(err)
	}
	if code, r := readiness(t, e.url); code != http.StatusOK {
		t.Fatalf("/readyz = %d %+v after a stopped run, want 200", code, r)
	}
}

func TestCRMIsCalledAtMostOncePerInterval(t *testing.T) {
	var mu sync.Mutex
	now := time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	e := newHealthEnv(t, health.Options{Now: clock})
	calls := func() int64 { return e.b.CRM.(*target.System).C.Stats().ByMethod[http.MethodGet] }
	before := calls()
	for range 5 {
		if code, r := readiness(t, e.url); code != http.StatusOK {
			t.Fatalf("/readyz = %d %+v", code, r)
		}
	}
	if n := calls() - before; n != 1 {
		t.Errorf("5 readiness checks within 30s made %d CRM calls, want 1", n)
	}
	mu.Lock()
	now = now.Add(31 * time.Second)
	mu.Unlock()
	readiness(t, e.url)
	if n := calls() - before; n != 2 {
		t.Errorf("after 31s: %d CRM calls in all, want 2", n)
	}
}

func TestTokenIsRequiredOffTheLoopback(t *testing.T) {
	m := health.NewMonitor(health.Options{})
	if _, err := health.Listen("0.0.0.0:0", "", m, nil); !errors.Is(err, health.ErrTokenRequired) {
		t.Fatalf("health.Listen on 0.0.0.0 without a token: %v, want health.ErrTokenRequired", err)
	}
	const token = "s3cret-token-0123456789"
	srv, err := health.Listen("0.0.0.0:0", token, m, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Shutdown(context.Background())
	_, port, _ := strings.Cut(srv.Addr(), "]:")
	if port == "" {
		_, port, _ = strings.Cut(srv.Addr(), ":")
	}
	url := "http://127.0.0.1:" + port
	for _, tt := range []struct {
		name, token string
		want        int
	}{
		{"no token", "", http.StatusUnauthorized},
		{"wrong token", "s3cret-token-0123456780", http.StatusUnauthorized},
		{"token prefix", "s3cret", http.StatusUnauthorized},
		{"right token", token, http.StatusOK},
	} {
		for _, path := range []string{"/healthz", "/metrics"} {
			if code, _ := get(t, url+path, tt.token); code != tt.want {
				t.Errorf("%s %s = %d, want %d", tt.name, path, code, tt.want)
			}
		}
	}
}

func TestPortInUseNamesTheAddressAndKey(t *testing.T) {
	m := health.NewMonitor(health.Options{})
	first, err := health.Listen("127.0.0.1:0", "", m, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer first.Shutdown(context.Background())
	_, err = health.Listen(first.Addr(), "", m, nil)
	if err == nil {
		t.Fatal("a second server bound the same address")
	}
	for _, want := range []string{first.Addr(), "http.addr"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not name %q", err, want)
		}
	}
}

func TestShutdownStopsServing(t *testing.T) {
	srv, err := health.Listen("127.0.0.1:0", "", health.NewMonitor(health.Options{}), nil)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if err := srv.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d > health.ShutdownTimeout {
		t.Errorf("shutdown took %s", d)
	}
	if _, err := http.Get("http://" + srv.Addr() + "/healthz"); err == nil {
		t.Error("the server still answers after Shutdown")
	}
}

// fakeHealthCRM is a CRM client with fixed counters.
type fakeHealthCRM struct{ st health.Stats }

func (f fakeHealthCRM) Stats() health.Stats        { return f.st }
func (f fakeHealthCRM) Ping(context.Context) error { return nil }

// CRM counters keep growing across a reload, whose new client starts at 0.
func TestCRMCountersSurviveAReload(t *testing.T) {
	e := newHealthEnv(t, health.Options{})
	e.m.Attach(health.Target{Store: e.b.Store, ERP: e.b.Health().ERP, CRM: fakeHealthCRM{health.Stats{Requests: 7, RateLimited: 2, ByMethod: map[string]int64{"GET": 7}}}})
	before, _ := metric(scrape(t, e.url), "erpbridge_crm_requests_total", map[string]string{"method": "GET"})
	e.m.Attach(health.Target{Store: e.b.Store, ERP: e.b.Health().ERP, CRM: fakeHealthCRM{health.Stats{Requests: 1, RateLimited: 1, ByMethod: map[string]int64{"GET": 1}}}})
	body := scrape(t, e.url)
	if got, _ := metric(body, "erpbridge_crm_requests_total", map[string]string{"method": "GET"}); got != before+1 {
		t.Errorf("GET requests after the reload = %v, want %v", got, before+1)
	}
	if got, _ := metric(body, "erpbridge_crm_rate_limited_total", nil); got != 3 {
		t.Errorf("429s after the reload = %v, want 3", got)
	}
}

func scrape(t *testing.T, url string) string {
	t.Helper()
	code, body := get(t, url+"/metrics", "")
	if code != http.StatusOK {
		t.Fatalf("/metrics = %d", code)
	}
	return body
}

// An ERP read through REST routes has no database: readiness must not
// ping a nil one (it used to panic the whole service).
func TestReadinessWithoutAnERPDatabase(t *testing.T) {
	e := newHealthEnv(t, health.Options{})
	e.m.Attach(health.Target{Store: e.b.Store, CRM: fakeHealthCRM{}})
	resp, err := http.Get(e.url + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var r health.Readiness
	if err := json.NewDecoder(resp.Body).Decode(&r); err != nil {
		t.Fatal(err)
	}
	if len(r.Checks) == 0 {
		t.Fatal("readiness has no checks")
	}
	for _, c := range r.Checks {
		if c.Name == "erp" && !c.OK {
			t.Errorf("erp check without a database: %+v", c)
		}
	}
}

// TestPollRowsMetrics: /metrics compares, per stream and run kind, the ERP
// rows the runs read with those that changed something in the CRM; a poll
// that reads customers whose stamp moved without a change (invoicing
// rewriting SA1 statistics) reads more than it changes.
func TestPollRowsMetrics(t *testing.T) {
	e := newHealthEnv(t, health.Options{})
	first := e.sync("customers")
	ctx := context.Background()
	for _, cod := range []string{"000003", "000004", "000005"} {
		if err := e.erp.TouchCustomer(ctx, cod, "01"); err != nil {
			t.Fatal(err)
		}
	}
	if err := e.erp.RenameCustomer(ctx, "000006", "01", "RENOMEADA PELO ERP LTDA"); err != nil {
		t.Fatal(err)
	}
	poll := e.sync("customers")
	if first.Kind != store.RunFull || poll.Kind != store.RunIncremental || poll.Stats.Read < 4 || poll.Stats.Updated != 1 {
		t.Fatalf("runs %s %+v, %s %+v: want a full pass, then a poll reading the 4 rows and updating 1", first.Kind, first.Stats, poll.Kind, poll.Stats)
	}
	_, body := get(t, e.url+"/metrics", "")
	for _, m := range []struct {
		name, kind string
		want       int64
	}{
		{"erpbridge_poll_rows_read_total", "full", first.Stats.Read},
		{"erpbridge_poll_rows_changed_total", "full", first.Stats.Created + first.Stats.Updated + first.Stats.Deleted},
		{"erpbridge_poll_rows_read_total", "incremental", poll.Stats.Read},
		{"erpbridge_poll_rows_changed_total", "incremental", 1},
	} {
		got, ok := metric(body, m.name, map[string]string{"stream": "customers", "kind": m.kind})
		if !ok || int64(got) != m.want {
			t.Errorf("%s{customers,%s} = %v (present %v), want %d", m.name, m.kind, got, ok, m.want)
		}
	}
	if got, ok := metric(body, "erpbridge_poll_rows_read_total", map[string]string{"stream": "products", "kind": "incremental"}); !ok || got != 0 {
		t.Errorf("products rows read = %v (present %v), want a 0 series before its first run", got, ok)
	}
}

// What a Grafana user expects: which build this is, and every CRM request's
// latency by stream, method and status class.
func TestBuildInfoAndRequestLatencyByStream(t *testing.T) {
	e := newHealthEnv(t, health.Options{Version: "v9.9.9", Commit: "abc123"})
	rep := e.sync("customers")
	_, body := get(t, e.url+"/metrics", "")
	if got, ok := metric(body, "erpbridge_build_info", map[string]string{"version": "v9.9.9", "commit": "abc123", "goversion": runtime.Version()}); !ok || got != 1 {
		t.Errorf("erpbridge_build_info = %v (present %v), want 1 with the version and commit", got, ok)
	}
	posts, ok := metric(body, "erpbridge_crm_request_duration_seconds_count", map[string]string{"stream": "customers", "method": "POST", "code": "2xx"})
	if !ok || int64(posts) < rep.Stats.Created {
		t.Errorf("customers POST 2xx latency count = %v (present %v), want at least the %d creates", posts, ok, rep.Stats.Created)
	}
	// One lead time per create of a row with a stamp (a few fixture rows
	// have none).
	lead, ok := metric(body, "erpbridge_erp_to_crm_seconds_count", map[string]string{"stream": "customers"})
	if !ok || lead == 0 || int64(lead) > rep.Stats.Created || int64(lead) < rep.Stats.Created-5 {
		t.Errorf("ERP change → CRM write lead times counted = %v (present %v), want about one per create (%d)", lead, ok, rep.Stats.Created)
	}
	if _, page := get(t, e.url+"/", ""); !strings.Contains(page, `<tr class="leadtime" data-stream="customers"><td>customers</td><td>`+strconv.FormatInt(int64(lead), 10)+`</td>`) {
		t.Errorf("the page does not show the customers lead times over %v writes", lead)
	}
	all, _ := metric(body, "erpbridge_crm_requests_total", map[string]string{"method": "POST"})
	if posts > all {
		t.Errorf("%v POSTs timed under customers, but only %v POSTs sent", posts, all)
	}
}
