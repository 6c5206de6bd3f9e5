package logging

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"go.uber.org/zap"
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
