// Package mktest opens RD Station Marketing over the simulator for tests:
// the grant authorized as an admin would (the code flow against rdsim),
// committed in the test's checkpoint store, and the target system.
package mktest

import (
	"context"
	"net/http"

	"github.com/erpbridge/erpbridge/bridge/clock"
	"github.com/erpbridge/erpbridge/bridge/component"
	"github.com/erpbridge/erpbridge/bridge/oauth"
	"github.com/erpbridge/erpbridge/bridge/store"
	"github.com/erpbridge/erpbridge/rdstation/marketing"
	"github.com/erpbridge/erpbridge/rdstation/marketing/target"
	"github.com/erpbridge/erpbridge/rdstation/rdsim"
)

// T is what the helpers need of a test (a *testing.T): no production
// package imports testing.
type T interface {
	Helper()
	Fatal(args ...any)
}

// Config is [marketing] for the simulator at baseURL: enabled, the
// simulator's app, no budget (the simulator's 120/min still answers 429s),
// legitimate interest as the legal basis.
func Config(baseURL string) *target.Config {
	c := target.Default()
	c.On, c.BaseURL = true, baseURL
	c.ClientID, c.ClientSecret = rdsim.DefaultMarketingClientID, rdsim.DefaultMarketingClientSecret
	c.RequestsPerMinute, c.MaxRetries = -1, -1
	c.LegalBases = []marketing.LegalBase{{Category: "communications", Type: "legitimate_interest", Status: "granted"}}
	return c
}

// Authorize walks the code flow against the simulator and commits the
// grant in st.
func Authorize(t T, sim *rdsim.Sim, cfg *target.Config, st *store.Store, clk clock.Clock) {
	t.Helper()
	ctx := context.Background()
	code, err := sim.AuthorizeMarketing(cfg.ClientID, "https://example.com/cb")
	if err != nil {
		t.Fatal(err)
	}
	c, err := cfg.NewClient(nil, component.OpenOptions{Clock: clk})
	if err != nil {
		t.Fatal(err)
	}
	tok, err := c.ExchangeCode(ctx, code)
	if err != nil {
		t.Fatal(err)
	}
	if err := oauth.Save(ctx, st, target.Name, tok); err != nil {
		t.Fatal(err)
	}
}

// Open authorizes and opens the Marketing target system of cfg over st.
func Open(t T, sim *rdsim.Sim, cfg *target.Config, st *store.Store, clk clock.Clock, hc *http.Client) *target.System {
	t.Helper()
	Authorize(t, sim, cfg, st, clk)
	sys, err := cfg.OpenTarget(context.Background(), component.OpenOptions{Clock: clk, Store: st, HTTPClient: hc})
	if err != nil {
		t.Fatal(err)
	}
	return sys.(*target.System)
}
