package main

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/erpbridge/erpbridge/bridge/alert"
	"github.com/erpbridge/erpbridge/bridge/health"
	"github.com/erpbridge/erpbridge/bridge/store"
	"go.uber.org/zap"
)

// hook is a webhook receiver on 127.0.0.1 that hands each body to the test.
func hook(t *testing.T, status int) (string, <-chan string) {
	t.Helper()
	got := make(chan string, 16)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		got <- string(b)
		w.WriteHeader(status)
	}))
	t.Cleanup(srv.Close)
	return srv.URL + "/hooks/secret", got
}

func receive(t *testing.T, got <-chan string) string {
	t.Helper()
	select {
	case b := <-got:
		return b
	case <-time.After(10 * time.Second):
		t.Fatal("the webhook received nothing in 10 s")
	}
	return ""
}

// `erpbridge alert test` sends a sample in the configured format; a
// refusing webhook is an error; a config without a webhook says so.
func TestAlertTestSendsASample(t *testing.T) {
	dir := t.TempDir()
	url, got := hook(t, http.StatusOK)
	cfg := writeConfig(t, dir, "sqlite", filepath.Join(dir, "erp.db"), standaloneSim{baseURL: "http://127.0.0.1:1/api/v1"},
		"[alerts]\nwebhook = \""+url+"\"\nwebhook_format = \"slack\"\n")
	out, err := runCLI(t, "alert", "test", "-c", cfg)
	if err != nil || !strings.Contains(out, "sent a test alert to webhook 127.0.0.1") || strings.Contains(out, "secret") {
		t.Fatalf("alert test = %v\n%s", err, out)
	}
	if b := receive(t, got); !strings.HasPrefix(b, `{"text":"[erpbridge] test alert from erpbridge alert test`) {
		t.Errorf("the Slack body = %s", b)
	}

	refused, _ := hook(t, http.StatusInternalServerError)
	cfg = writeConfig(t, dir, "sqlite", filepath.Join(dir, "erp.db"), standaloneSim{baseURL: "http://127.0.0.1:1/api/v1"},
		"[alerts]\nwebhook = \""+refused+"\"\n")
	if out, err := runCLI(t, "alert", "test", "-c", cfg); err == nil || !strings.Contains(err.Error(), "500") {
		t.Errorf("a refusing webhook: %v\n%s", err, out)
	}
	cfg = writeConfig(t, dir, "sqlite", filepath.Join(dir, "erp.db"), standaloneSim{baseURL: "http://127.0.0.1:1/api/v1"}, "")
	if _, err := runCLI(t, "alert", "test", "-c", cfg); err == nil || !strings.Contains(err.Error(), "alerts.webhook is not set") {
		t.Errorf("no webhook: %v", err)
	}
	cfg = writeConfig(t, dir, "sqlite", filepath.Join(dir, "erp.db"), standaloneSim{baseURL: "http://127.0.0.1:1/api/v1"},
		"[alerts]\nwebhook = \"ftp://x\"\nwebhook_format = \"pager\"\n")
	if _, err := runCLI(t, "validate", "-c", cfg); err == nil || !strings.Contains(err.Error(), "alerts.webhook") || !strings.Contains(err.Error(), "alerts.webhook_format") {
		t.Errorf("a bad [alerts] section validates: %v", err)
	}
}

// `run`'s alert watcher sends a parked record's alert once, as JSON, with
// the stream; when the record is retried it sends "resolved".
func TestWatchAlertsSendsOnceAndResolved(t *testing.T) {
	e := newHealthEnv(t, health.Options{})
	ctx, cancel := context.WithCancel(context.Background())
	if _, err := e.erp.AddMessyRecords(ctx); err != nil {
		t.Fatal(err)
	}
	e.sync("customers")
	url, got := hook(t, http.StatusOK)
	e.b.Config.Alerts.Webhook = url
	done := make(chan struct{})
	go func() {
		defer close(done)
		watchAlerts(ctx, e.b, &alert.Tracker{Remind: time.Hour}, zap.NewNop(), 20*time.Millisecond)
	}()
	defer func() { cancel(); <-done }()
	b := receive(t, got)
	if !strings.Contains(b, `"kind":"parked"`) || !strings.Contains(b, `"state":"firing"`) || !strings.Contains(b, `"stream":"customers"`) {
		t.Fatalf("first alert = %s, want the customers' parked records firing", b)
	}
	// (Once, not at every evaluation: TestTrackerSendsOnceRemindsAndResolves.)
	if _, err := e.b.Store.RetryParked(ctx, store.OutboxFilter{Stream: "customers"}); err != nil {
		t.Fatal(err)
	}
	if b := receive(t, got); !strings.Contains(b, `"state":"resolved"`) || !strings.Contains(b, `"kind":"parked"`) {
		t.Fatalf("after the retry = %s, want the parked alert resolved", b)
	}
}
