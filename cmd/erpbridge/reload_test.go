//go:build linux

package main

import (
	"bytes"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/erpbridge/erpbridge/erp/protheus/fixture"
)

// logged reports whether a line of the JSON log has msg and every field.
func logged(lines []map[string]any, msg string, fields map[string]string) bool {
	for _, l := range lines {
		if l["msg"] != msg {
			continue
		}
		ok := true
		for k, v := range fields {
			ok = ok && l[k] == v
		}
		if ok {
			return true
		}
	}
	return false
}

// healthAddr returns the address the health server logged, "" before it did.
func healthAddr(lines []map[string]any) string {
	for _, l := range lines {
		if l["msg"] == "health server listening" {
			addr, _ := l["addr"].(string)
			return addr
		}
	}
	return ""
}

func httpStatus(t *testing.T, url string) int {
	t.Helper()
	c := http.Client{Timeout: 10 * time.Second}
	resp, err := c.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// TestSIGHUPReloadsTheConfig runs `erpbridge run`, changes its schedule in
// the config file and sends SIGHUP: the new schedule is logged and runs,
// and the process goes on. An invalid edit and SIGHUP are logged and the
// process goes on with the schedule it had. The health server answers
// throughout, and SIGTERM still stops the process cleanly.
func TestSIGHUPReloadsTheConfig(t *testing.T) {
	bin := erpbridgeBinary(t)
	sim := startSim(t, bin)
	dir := t.TempDir()
	_, _, dsn := createFixture(t, fixture.SQLite, dir)
	logFile := filepath.Join(dir, "logs", "erpbridge.log")
	cfg := writeConfig(t, dir, "sqlite", dsn, sim, "") // writeConfig sets http.addr = 127.0.0.1:0
	base, _ := os.ReadFile(cfg)
	withSchedule := func(spec string) {
		t.Helper()
		text := bytes.Replace(base, []byte("[log]\nlevel = \"error\""),
			[]byte("[log]\nlevel = \"info\"\nfile = \"logs/erpbridge.log\"\n[schedule]\nincremental = \""+spec+"\""), 1)
		if err := os.WriteFile(cfg, text, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	withSchedule("@every 1h")

	cmd, stderr, exited := startBridge(t, bin, "", "run", "-c", cfg)
	alive := func(when string) {
		t.Helper()
		select {
		case err := <-exited:
			t.Fatalf("erpbridge run exited %s: %v\n%s", when, err, stderr.String())
		default:
		}
	}
	lines := func() []map[string]any { return logLines(t, logFile) }

	waitFor(t, 40*time.Second, "the first sync of every stream", func() bool {
		n := finishedRuns(lines())
		return n["customers"] > 0 && n["contacts"] > 0 && n["products"] > 0
	})
	addr := healthAddr(lines())
	if addr == "" {
		t.Fatalf("no \"health server listening\" line in the log\n%s", stderr.String())
	}
	if code := httpStatus(t, "http://"+addr+"/healthz"); code != http.StatusOK {
		t.Errorf("/healthz = %d, want 200", code)
	}
	if code := httpStatus(t, "http://"+addr+"/readyz"); code != http.StatusOK {
		t.Errorf("/readyz = %d after a good first sync, want 200", code)
	}
	if !logged(lines(), "scheduled", map[string]string{"cron": "@every 1h"}) {
		t.Fatal("the first schedule was not logged")
	}

	// A valid edit: the new schedule is logged and runs.
	withSchedule("@every 1s")
	if err := cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 30*time.Second, "the new schedule to be logged", func() bool {
		return logged(lines(), "scheduled", map[string]string{"cron": "@every 1s"})
	})
	before := finishedRuns(lines())["customers"]
	waitFor(t, 30*time.Second, "runs on the new schedule", func() bool {
		return finishedRuns(lines())["customers"] >= before+2
	})
	alive("after a valid reload")
	if got := healthAddr(lines()); got != addr {
		t.Errorf("the health server moved from %s to %s on a reload that kept http.addr", addr, got)
	}
	if code := httpStatus(t, "http://"+addr+"/healthz"); code != http.StatusOK {
		t.Errorf("/healthz = %d after the reload, want 200", code)
	}

	// An invalid edit: logged, and the process goes on with the running schedule.
	withSchedule("every now and then")
	if err := cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 30*time.Second, "the invalid config to be logged", func() bool {
		for _, l := range lines() {
			if l["msg"] == "reload: the configuration is not valid; going on with the running one" {
				return strings.Contains(toJSON(l), "schedule.incremental")
			}
		}
		return false
	})
	before = finishedRuns(lines())["customers"]
	waitFor(t, 30*time.Second, "runs to go on on the running schedule", func() bool {
		return finishedRuns(lines())["customers"] >= before+2
	})
	alive("after an invalid reload")
	if code := httpStatus(t, "http://"+addr+"/healthz"); code != http.StatusOK {
		t.Errorf("/healthz = %d after the invalid reload, want 200", code)
	}

	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-exited:
		if err != nil {
			t.Fatalf("erpbridge run exited with %v after SIGTERM\n%s", err, stderr.String())
		}
	case <-time.After(15 * time.Second):
		t.Fatalf("erpbridge run did not stop within 15s of SIGTERM\n%s", stderr.String())
	}
}
