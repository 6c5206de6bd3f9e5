package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/erpbridge/erpbridge/bridge"
	"github.com/erpbridge/erpbridge/bridge/clock"
	"github.com/erpbridge/erpbridge/bridge/health"
	"github.com/erpbridge/erpbridge/cmd/erpbridge/internal/config"
	"github.com/erpbridge/erpbridge/cmd/erpbridge/internal/wiring"
	"github.com/erpbridge/erpbridge/erp/protheus/fixture"
	"github.com/erpbridge/erpbridge/rdstation/rdsim"
)

// TestBudgetIsShown: the status page, the metrics and `erpbridge status`
// show the CRM budget — configured (here a time window's 60/min over the
// base 100), reserved for the account's other integrations, the adaptive
// rate, what was used and the time spent waiting — after a sync that had
// to wait for it (the bridge and the simulator on one fake clock).
func TestBudgetIsShown(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	dbPath := filepath.Join(dir, "erp.db")
	erpDB, _, err := fixture.CreateSQLite(ctx, dbPath, fixture.Options{Customers: 40})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { erpDB.DB.Close() })
	clk := clock.NewFake(time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC))
	// A token of its own: the account's budget is shared process-wide by
	// token, and this one must be on this test's clock.
	const token = "budget-shown-token"
	sim := httptest.NewServer(rdsim.New(rdsim.Options{Tokens: []string{token}, Clock: clk}))
	t.Cleanup(sim.Close)
	path := filepath.Join(dir, "erpbridge.toml")
	if err := os.WriteFile(path, []byte(`
data_dir = "`+filepath.ToSlash(filepath.Join(dir, "data"))+`"
[crm]
base_url = "`+sim.URL+`/api/v1"
token = "`+token+`"
[crm.budget]
time_zone = "UTC"
windows = [{ from = "08:00", to = "10:00", requests_per_minute = 60 }]
[erp]
driver = "sqlite"
dsn = "`+filepath.ToSlash(dbPath)+`"
[streams.contacts]
enabled = false
[streams.products]
enabled = false
`), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	b, err := wiring.Open(ctx, cfg, wiring.Options{Clock: clk})
	if err != nil {
		t.Fatal(err)
	}
	m := health.NewMonitor(health.Options{Now: clk.Now})
	m.Attach(b.Health())
	srv, err := health.Listen("127.0.0.1:0", "", m, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Shutdown(context.Background()) })
	rep, err := b.Engine.Sync(ctx, "customers", bridge.SyncOptions{})
	if err != nil || rep.Stats.Created < 30 {
		t.Fatalf("sync: %v %+v, want the fixture's customers created", err, rep.Stats)
	}

	check := func(where string, got health.Budget) {
		t.Helper()
		var waited float64
		for _, s := range got.WaitedSeconds {
			waited += s
		}
		if got.ConfiguredPerMinute != 60 || got.ReservedPerMinute != 60 || got.AccountLimit != 120 ||
			got.CurrentPerMinute != 60 || !strings.HasPrefix(got.Window, "08:00-10:00 UTC 60/min") {
			t.Errorf("%s: %+v, want 60/min configured by the window, 60 reserved of 120, the rate at 60", where, got)
		}
		if got.UsedLastMinute < 30 || got.UsedLastMinute > 60+10 || waited < 10 {
			t.Errorf("%s: used %d in the last minute, waited %.1f s; want the sync's %d+ requests, at most 60 + the burst, and the wait for them",
				where, got.UsedLastMinute, waited, rep.Stats.Created)
		}
	}

	url := "http://" + srv.Addr()
	code, body := get(t, url+"/status", "")
	var page health.Status
	if err := json.Unmarshal([]byte(body), &page); code != http.StatusOK || err != nil || page.CRMBudget == nil {
		t.Fatalf("/status = %d %v %s, want 200 with crm_budget", code, err, body)
	}
	check("/status", *page.CRMBudget)

	_, body = get(t, url+"/metrics", "")
	for name, want := range map[string]float64{"erpbridge_crm_budget_configured_per_minute": 60,
		"erpbridge_crm_budget_reserved_per_minute": 60, "erpbridge_crm_budget_current_per_minute": 60,
		"erpbridge_crm_budget_paused_seconds_total": 0} {
		if got, ok := metric(body, name, nil); !ok || got != want {
			t.Errorf("%s = %v (present %v), want %v", name, got, ok, want)
		}
	}
	if got, ok := metric(body, "erpbridge_crm_budget_used_last_minute", nil); !ok || got < 30 {
		t.Errorf("erpbridge_crm_budget_used_last_minute = %v (present %v), want the sync's requests", got, ok)
	}
	var waited float64
	for _, p := range []string{"backfill", "incremental", "urgent"} {
		got, ok := metric(body, "erpbridge_crm_budget_wait_seconds_total", map[string]string{"priority": p})
		if !ok {
			t.Errorf("erpbridge_crm_budget_wait_seconds_total{priority=%q} is missing", p)
		}
		waited += got
	}
	if waited < 10 {
		t.Errorf("erpbridge_crm_budget_wait_seconds_total sums to %v s, want the sync's wait", waited)
	}

	// Closing the bridge records the budget; status reads it from the store.
	m.Detach()
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	for _, asJSON := range []bool{false, true} {
		cmd := newStatusCmd()
		var out bytes.Buffer
		cmd.SetOut(&out)
		args := []string{"-c", path}
		if asJSON {
			args = append(args, "--json")
		}
		cmd.SetArgs(args)
		if err := cmd.ExecuteContext(ctx); err != nil {
			t.Fatalf("status %v: %v", args, err)
		}
		if !asJSON {
			for _, want := range []string{"CRM budget at 2026-11-02", "60/min configured (window 08:00-10:00 UTC 60/min)",
				"60/min reserved for the account's other integrations (of 120/min), now 60.0/min;", "0 429s; waited "} {
				if !strings.Contains(out.String(), want) {
					t.Errorf("status lacks %q:\n%s", want, out.String())
				}
			}
			continue
		}
		var doc struct {
			Budget *health.Budget `json:"crm_budget"`
		}
		if err := json.Unmarshal(out.Bytes(), &doc); err != nil || doc.Budget == nil {
			t.Fatalf("status --json: %v, crm_budget %v\n%s", err, doc.Budget, out.String())
		}
		check("status --json", *doc.Budget)
	}
}
