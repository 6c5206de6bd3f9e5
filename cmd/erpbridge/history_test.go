package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/erpbridge/erpbridge/erp/protheus/fixture"
	"github.com/erpbridge/erpbridge/rdstation/rdsim"
)

// runCLI runs erpbridge in-process with args and returns its output and error.
func runCLI(t *testing.T, args ...string) (string, error) {
	t.Helper()
	root := newRootCmd()
	var out bytes.Buffer
	root.SetOut(&out)
	root.SetErr(&out)
	root.SetArgs(args)
	err := root.ExecuteContext(t.Context())
	return out.String(), err
}

// `erpbridge runs` lists the store's runs (filtered by stream and since),
// and `erpbridge history` shows a record's writes with their runs, found by
// ERP key or CRM id, as text and JSON.
func TestRunsAndHistory(t *testing.T) {
	dir := t.TempDir()
	dsn := filepath.Join(dir, "erp.db")
	erpDB, _, err := fixture.CreateSQLite(t.Context(), dsn, fixture.Options{Customers: 40})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { erpDB.DB.Close() })
	sim := httptest.NewServer(rdsim.New(rdsim.Options{Tokens: []string{e2eToken}, RequestsPerMinute: -1}))
	t.Cleanup(sim.Close)
	cfg := writeConfig(t, dir, "sqlite", dsn, standaloneSim{baseURL: sim.URL + "/api/v1"}, "")
	if out, err := runCLI(t, "sync", "--once", "--stream", "customers", "-c", cfg); err != nil {
		var ee *exitError
		if !errors.As(err, &ee) || ee.code != ExitPartial {
			t.Fatalf("sync: %v\n%s", err, out)
		}
	}

	out, err := runCLI(t, "runs", "--json", "-c", cfg)
	if err != nil {
		t.Fatalf("runs: %v\n%s", err, out)
	}
	var runs struct {
		Runs []struct {
			ID      int64  `json:"id"`
			Stream  string `json:"stream"`
			Status  string `json:"status"`
			Created int64  `json:"created"`
		} `json:"runs"`
	}
	if err := json.Unmarshal([]byte(out), &runs); err != nil {
		t.Fatalf("runs --json is not JSON: %v\n%s", err, out)
	}
	if len(runs.Runs) != 1 || runs.Runs[0].Stream != "customers" || runs.Runs[0].Created == 0 || runs.Runs[0].Status != "ok" {
		t.Fatalf("runs = %+v, want the one customers run with its creates", runs.Runs)
	}
	run := runs.Runs[0].ID
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"runs"}, "customers"},
		{[]string{"runs", "--stream", "products"}, "no runs"},
		{[]string{"runs", "--since", "1h"}, "customers"},
		{[]string{"runs", "--since", time.Now().Add(48 * time.Hour).Format("2006-01-02")}, "no runs"},
	} {
		out, err := runCLI(t, append(tt.args, "-c", cfg)...)
		if err != nil || !strings.Contains(out, tt.want) {
			t.Errorf("%v = %v\n%s\nwant %q", tt.args, err, out, tt.want)
		}
	}
	for _, bad := range [][]string{{"runs", "--since", "yesterday"}, {"runs", "--stream", "nope"}, {"history", "nope", "x"}} {
		if _, err := runCLI(t, append(bad, "-c", cfg)...); err == nil {
			t.Errorf("%v: no error", bad)
		}
	}

	key := fixture.StoreKey(customerKey("000010", "01")) // as `errors list` shows it: company first
	out, err = runCLI(t, "history", "customers", key, "--json", "-c", cfg)
	if err != nil {
		t.Fatalf("history: %v\n%s", err, out)
	}
	var hist struct {
		Records []struct {
			ERPKey string `json:"erp_key"`
			CRMID  string `json:"crm_id"`
			Writes []struct {
				RunID   int64           `json:"run_id"`
				Op      string          `json:"op"`
				State   string          `json:"state"`
				Payload json.RawMessage `json:"payload"`
			} `json:"writes"`
		} `json:"records"`
	}
	if err := json.Unmarshal([]byte(out), &hist); err != nil {
		t.Fatalf("history --json is not JSON: %v\n%s", err, out)
	}
	if len(hist.Records) != 1 || hist.Records[0].CRMID == "" || len(hist.Records[0].Writes) != 1 {
		t.Fatalf("history of %s = %s, want one record with its CRM id and its create", key, out)
	}
	w := hist.Records[0].Writes[0]
	if w.RunID != run || w.Op != "create" || w.State != "done" || !bytes.Contains(w.Payload, []byte(`"name"`)) {
		t.Errorf("the create of %s = %+v (payload %s), want done in run %d with its payload", key, w, w.Payload, run)
	}
	crmID := hist.Records[0].CRMID
	out, err = runCLI(t, "history", "customers", crmID, "-c", cfg)
	if err != nil || !strings.Contains(out, key) || !strings.Contains(out, "CRM id "+crmID) || !strings.Contains(out, "create") {
		t.Errorf("history by CRM id %s = %v\n%s", crmID, err, out)
	}
	if out, err := runCLI(t, "history", "customers", "NOPE", "-c", cfg); err == nil || !strings.Contains(err.Error(), "no record") {
		t.Errorf("history of an unknown key = %v\n%s, want it to say there is no such record", err, out)
	}
}
