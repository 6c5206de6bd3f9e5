package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/erpbridge/erpbridge/erp/protheus/fixture"
)

// logLines reads the JSON log file, one map per line.
func logLines(t *testing.T, path string) []map[string]any {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		return nil
	}
	defer f.Close()
	var out []map[string]any
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("log line is not JSON: %q", sc.Text())
		}
		out = append(out, m)
	}
	return out
}

// waitFor polls cond every 100 ms for at most d.
func waitFor(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		if cond() {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("waited %s for %s", d, what)
}

func finishedRuns(lines []map[string]any) map[string]int {
	n := map[string]int{}
	for _, l := range lines {
		if l["msg"] == "run finished" {
			n[l["stream"].(string)]++
		}
	}
	return n
}

// TestRunPollsOnScheduleAndStopsGracefully runs `erpbridge run` as a
// service manager would: it syncs at start, picks up an ERP change on its
// schedule, logs JSON with the stream and run id, and on SIGTERM in the middle
// of a slow sync finishes the record in flight, persists it and exits 0
// within 10 seconds.
func TestRunPollsOnScheduleAndStopsGracefully(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the erpbridge binary and a simulator process (skipped under -short)")
	}
	bin := erpbridgeBinary(t)
	sim := startSim(t, bin)
	dir := t.TempDir()
	erpDB, _, dsn := createFixture(t, fixture.SQLite, dir)
	logFile := filepath.Join(dir, "logs", "erpbridge.log")
	cfg := writeConfig(t, dir, "sqlite", dsn, sim, "")
	text, _ := os.ReadFile(cfg)
	text = bytes.Replace(text, []byte("[log]\nlevel = \"error\""), []byte("[log]\nlevel = \"info\"\nfile = \"logs/erpbridge.log\"\n[schedule]\nincremental = \"@every 1s\""), 1)
	if err := os.WriteFile(cfg, text, 0o600); err != nil {
		t.Fatal(err)
	}

	cmd, stderr, exited := startBridge(t, bin, "", "run", "-c", cfg)

	// The sync at start covers every stream.
	waitFor(t, 40*time.Second, "the first sync of every stream", func() bool {
		n := finishedRuns(logLines(t, logFile))
		return n["customers"] > 0 && n["contacts"] > 0 && n["products"] > 0
	})
	for _, l := range logLines(t, logFile) {
		if l["msg"] == "run finished" && (l["run_id"] == nil || l["stream"] == nil) {
			t.Fatalf("a run line lacks stream or run_id: %v", l)
		}
		if strings.Contains(toJSON(l), e2eToken) {
			t.Fatalf("the token appears in the log: %v", l)
		}
	}

	// An ERP change is picked up by the schedule, with no restart.
	if err := erpDB.RenameCustomer(t.Context(), "000010", "01", "RENOMEADA PELO ERP LTDA"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 20*time.Second, "the scheduled poll to rename the organization", func() bool {
		for _, o := range sim.state(t).Organizations {
			if strings.HasPrefix(o.Name, "RENOMEADA PELO ERP LTDA") {
				return true
			}
		}
		return false
	})

	// Make the CRM slow, give the bridge work, and stop it mid-sync.
	put(t, sim.admin+"/faults", `{"slow":1,"slow_delay":"300ms"}`)
	for i := 20; i < 40; i++ {
		cod := "0000" + string(rune('0'+i/10)) + string(rune('0'+i%10))
		if err := erpDB.RenameCustomer(t.Context(), cod, "01", "NOME NOVO "+cod+" LTDA"); err != nil {
			t.Fatal(err)
		}
	}
	before := sim.counts(t).Writes
	waitFor(t, 20*time.Second, "the slow sync to start writing", func() bool { return sim.counts(t).Writes > before })
	stopAt := time.Now()
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-exited:
		took := time.Since(stopAt)
		if took > 10*time.Second {
			t.Fatalf("stopping took %s, want under 10s", took)
		}
		t.Logf("stopped %s after SIGTERM", took.Round(time.Millisecond))
		if err != nil {
			t.Fatalf("erpbridge run exited with %v after SIGTERM\n%s", err, stderr.String())
		}
	case <-time.After(12 * time.Second):
		t.Fatalf("erpbridge run did not stop within 12s of SIGTERM\n%s", stderr.String())
	}
	put(t, sim.admin+"/faults", `{}`)

	// A stop is not a failure: the run it cut short reads as interrupted,
	// and nothing about it is logged as an error.
	for _, l := range logLines(t, logFile) {
		if l["level"] == "error" {
			t.Errorf("an ERROR line for a clean stop: %v", l)
		}
	}
	// Nothing was left in flight, and every organization the CRM has is
	// known to the store: the record in flight was finished and persisted.
	st := readStatus(t, bin, cfg)
	for _, s := range st.Streams {
		if s.Stream == "customers" && (s.LastRun == nil || s.LastRun.Status != "interrupted" || s.LastRun.Error != "") {
			t.Errorf("customers' last run after SIGTERM mid-sync: %+v, want interrupted without an error", s.LastRun)
		}
		if s.Outbox["inflight"] != 0 {
			t.Errorf("%s: %d writes left in flight", s.Stream, s.Outbox["inflight"])
		}
		if s.Stream == "customers" && s.InCRM != int64(len(sim.state(t).Organizations)) {
			t.Errorf("the store knows %d organizations, the CRM has %d", s.InCRM, len(sim.state(t).Organizations))
		}
	}
	// The next run finishes the job without a duplicate.
	if r := runBinary(t, bin, "sync", "--once", "-c", cfg); r.code != 0 && r.code != ExitPartial {
		t.Fatalf("sync after stop: exit %d: %s", r.code, r.stderr)
	}
	names := map[string]int{}
	for _, o := range sim.state(t).Organizations {
		names[o.Name]++
		if names[o.Name] > 1 {
			t.Errorf("organization %q exists twice", o.Name)
		}
	}
	if names["NOME NOVO 000039 LTDA (000039/01)"] != 1 {
		t.Errorf("the last rename did not reach the CRM after the restart")
	}
}

func toJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

func put(t *testing.T, url, body string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPut, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode >= 300 {
		t.Fatalf("PUT %s: %s", url, resp.Status)
	}
}

// TestDryRunLeavesNoTrace: a dry run on a fresh install creates no
// checkpoint store, writes nothing to the CRM and exits 0 even when it
// predicts failures.
func TestDryRunLeavesNoTrace(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the erpbridge binary and a simulator process (skipped under -short)")
	}
	bin := erpbridgeBinary(t)
	sim := startSim(t, bin)
	dir := t.TempDir()
	_, _, dsn := createFixture(t, fixture.SQLite, dir)
	cfg := writeConfig(t, dir, "sqlite", dsn, sim, "")
	r := runBinary(t, bin, "sync", "--once", "--dry-run", "-c", cfg)
	if r.code != 0 {
		t.Fatalf("dry run exit %d: %s", r.code, r.stderr)
	}
	if !strings.Contains(r.stdout, "dry run") || !strings.Contains(r.stdout, "customers create") {
		t.Errorf("dry run output lacks the table or samples:\n%s", r.stdout)
	}
	if _, err := os.Stat(filepath.Join(dir, "erpbridge-data")); !os.IsNotExist(err) {
		t.Errorf("dry run created the data folder (err %v)", err)
	}
	if c := sim.counts(t); c.Writes != 0 {
		t.Errorf("dry run wrote %d times to the CRM", c.Writes)
	}
}
