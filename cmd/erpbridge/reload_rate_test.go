//go:build linux

package main

import (
	"bytes"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/erpbridge/erpbridge/erp/protheus/fixture"
)

// TestSIGHUPAppliesTheNewRequestRate: a reload that changes
// crm.requests_per_minute and crm.burst applies them to the account's
// shared request budget at once, and the log says so.
func TestSIGHUPAppliesTheNewRequestRate(t *testing.T) {
	bin := erpbridgeBinary(t)
	sim := startSim(t, bin)
	dir := t.TempDir()
	_, _, dsn := createFixture(t, fixture.SQLite, dir)
	logFile := filepath.Join(dir, "logs", "erpbridge.log")
	cfg := writeConfig(t, dir, "sqlite", dsn, sim, "")
	base, _ := os.ReadFile(cfg)
	withRate := func(rate string) {
		t.Helper()
		text := bytes.Replace(base, []byte("[log]\nlevel = \"error\""), []byte("[log]\nlevel = \"info\"\nfile = \"logs/erpbridge.log\""), 1)
		text = bytes.Replace(text, []byte("requests_per_minute = -1"), []byte(rate), 1)
		if err := os.WriteFile(cfg, text, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	withRate("requests_per_minute = -1")
	cmd, out, exited := startBridge(t, bin, "", "run", "-c", cfg)
	lines := func() []map[string]any { return logLines(t, logFile) }
	waitFor(t, 40*time.Second, "the first sync of every stream", func() bool {
		n := finishedRuns(lines())
		return n["customers"] > 0 && n["contacts"] > 0 && n["products"] > 0
	})

	withRate("requests_per_minute = 90\nburst = 20")
	if err := cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	const msg = "crm: the account's request budget now follows the new configuration"
	waitFor(t, 30*time.Second, "the new rate to be logged", func() bool {
		for _, l := range lines() {
			if l["msg"] == msg {
				if l["requests_per_minute"] != 90.0 || l["burst"] != 20.0 || l["was_requests_per_minute"] != -1.0 || l["was_burst"] != 10.0 {
					t.Fatalf("logged %v, want 90/min burst 20, was unlimited burst 10", l)
				}
				return true
			}
		}
		return false
	})

	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-exited:
		if err != nil {
			t.Fatalf("erpbridge run exited with %v after SIGTERM\n%s", err, out.String())
		}
	case <-time.After(15 * time.Second):
		t.Fatalf("erpbridge run did not stop within 15s of SIGTERM\n%s", out.String())
	}
}
