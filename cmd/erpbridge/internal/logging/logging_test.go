package logging

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"
)

func TestConsoleIsTextAndFileIsJSON(t *testing.T) {
	var console bytes.Buffer
	file := filepath.Join(t.TempDir(), "logs", "erpbridge.log")
	log, closeLog, err := New(Options{Level: "info", Console: &console, File: file, MaxSizeMB: 1})
	if err != nil {
		t.Fatal(err)
	}
	log.Debug("hidden at info")
	log.Info("record rejected", zap.String("stream", "customers"), zap.String("erp_key", "|000001|01"))
	closeLog()

	if !strings.Contains(console.String(), "record rejected") || strings.HasPrefix(strings.TrimSpace(console.String()), "{") {
		t.Fatalf("console is not readable text: %q", console.String())
	}
	raw, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(raw)), "\n")
	if len(lines) != 1 {
		t.Fatalf("log file has %d lines, want 1 (debug hidden at info): %q", len(lines), raw)
	}
	var m map[string]any
	if err := json.Unmarshal([]byte(lines[0]), &m); err != nil {
		t.Fatalf("log file line is not JSON: %v", err)
	}
	if m["stream"] != "customers" || m["erp_key"] != "|000001|01" || m["msg"] != "record rejected" {
		t.Fatalf("log line lacks its fields: %v", m)
	}
}

func TestBadLevelIsAnError(t *testing.T) {
	if _, _, err := New(Options{Level: "loud"}); err == nil {
		t.Fatal("level \"loud\" accepted")
	}
}

// TestJournalLinesCarryTheirPriority: under systemd each console line starts
// with its sd-daemon priority, so journalctl -p warning shows warnings and
// errors; elsewhere the console is plain.
func TestJournalLinesCarryTheirPriority(t *testing.T) {
	for _, journal := range []bool{true, false} {
		var console bytes.Buffer
		log, closeLog, err := New(Options{Level: "debug", Console: &console, Journal: journal})
		if err != nil {
			t.Fatal(err)
		}
		log.Debug("d")
		log.Info("i")
		log.Warn("record rejected", zap.String("erp_key", "|1|01"))
		log.Error("run finished")
		closeLog()
		lines := strings.Split(strings.TrimSpace(console.String()), "\n")
		if len(lines) != 4 {
			t.Fatalf("journal %v: %d lines: %q", journal, len(lines), console.String())
		}
		for i, p := range []string{"<7>", "<6>", "<4>", "<3>"} {
			if got := strings.HasPrefix(lines[i], p); got != journal {
				t.Errorf("journal %v: line %q starts with %s: %v", journal, lines[i], p, got)
			}
		}
	}
}

// TestSystemCoreGetsTheEntries: the Windows Event Log core sees what the
// console and the file see.
func TestSystemCoreGetsTheEntries(t *testing.T) {
	core, seen := observer.New(zapcore.WarnLevel)
	log, closeLog, err := New(Options{Level: "info", File: filepath.Join(t.TempDir(), "x.log"), System: core})
	if err != nil {
		t.Fatal(err)
	}
	log.Info("not for the Event Log")
	log.Warn("record rejected")
	closeLog()
	if got := seen.All(); len(got) != 1 || got[0].Message != "record rejected" {
		t.Errorf("system core saw %v", got)
	}
}
