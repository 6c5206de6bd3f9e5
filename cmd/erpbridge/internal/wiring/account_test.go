package wiring

import (
	"errors"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/erpbridge/erpbridge/cmd/erpbridge/internal/components"

	"github.com/erpbridge/erpbridge/bridge"
	"github.com/erpbridge/erpbridge/rdstation/rdsim"
)

// TestAnotherCRMStopsTheBridge: a data_dir whose store was filled from one
// CRM, pointed at another (a fresh simulator here: same account name, same
// token, none of the records), must not sync as if everything were there:
// Open stops with what to do, and after `resync --new-account` (ForgetCRM)
// the next sync fills the new CRM exactly.
func TestAnotherCRMStopsTheBridge(t *testing.T) {
	h := newHarness(t, sqliteBackend, harnessOptions{})
	h.mustSync("first sync")
	h.bridge.Close()

	fresh := rdsim.New(rdsim.Options{Tokens: []string{simToken}, Clock: h.clk, RequestsPerMinute: -1, Seed: 7})
	srv := httptest.NewServer(fresh)
	t.Cleanup(srv.Close)
	cfg := h.cfg.Clone()
	components.CRM(cfg).BaseURL = srv.URL + "/api/v1"
	_, err := Open(h.ctx, cfg, Options{Clock: h.clk})
	if !errors.Is(err, bridge.ErrAccountChanged) || !strings.Contains(err.Error(), "resync --new-account") ||
		!strings.Contains(err.Error(), "data_dir") {
		t.Fatalf("opening the bridge on another CRM: %v; want ErrAccountChanged saying what to do", err)
	}
	if n := fresh.Counts().Writes; n != 0 {
		t.Fatalf("the refused bridge wrote %d times to the other CRM", n)
	}

	st, err := OpenStore(h.ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.ForgetCRM(h.ctx); err != nil {
		t.Fatal(err)
	}
	st.Close()
	h.sim = fresh
	if h.bridge, err = Open(h.ctx, cfg, Options{Clock: h.clk}); err != nil {
		t.Fatalf("opening after forgetting the old CRM: %v", err)
	}
	t.Cleanup(func() { h.bridge.Close() })
	want := expectCRM(h.ctx, t, h.erp.DB, defaultRules(h.exp, false))
	h.syncUntilSettled(want)
	checkCRM(t, fresh.State(), want)
}

// TestAnotherCRMAccountIsNamed: a token of another account is refused by
// the account it reaches, before any record is looked up.
func TestAnotherCRMAccountIsNamed(t *testing.T) {
	h := newHarness(t, sqliteBackend, harnessOptions{})
	h.mustSync("first sync")
	h.bridge.Close()
	other := rdsim.New(rdsim.Options{Tokens: []string{simToken}, Clock: h.clk, RequestsPerMinute: -1, Seed: 8})
	srv := httptest.NewServer(other)
	t.Cleanup(srv.Close)
	cfg := h.cfg.Clone()
	components.CRM(cfg).BaseURL = srv.URL + "/api/v1"
	_, err := Open(h.ctx, cfg, Options{Clock: h.clk})
	if !errors.Is(err, bridge.ErrAccountChanged) || !strings.Contains(err.Error(), "filled from CRM account") {
		t.Fatalf("opening the bridge with another account's token: %v; want ErrAccountChanged naming both accounts", err)
	}
	if c := other.Counts(); c.Total != 1 {
		t.Errorf("the refused bridge made %d requests to the other account, want 1 (GET /token/check)", c.Total)
	}
}
