package target_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/erpbridge/erpbridge/bridge"
	"github.com/erpbridge/erpbridge/bridge/clock"
	"github.com/erpbridge/erpbridge/bridge/component"
	"github.com/erpbridge/erpbridge/bridge/store"
	crmtarget "github.com/erpbridge/erpbridge/rdstation/crm/target"
	"github.com/erpbridge/erpbridge/rdstation/marketing/mktest"
	"github.com/erpbridge/erpbridge/rdstation/marketing/target"
	"github.com/erpbridge/erpbridge/rdstation/rdsim"
)

// TestEventsMode: marketing.events = "auto" sends no events when the CRM
// has deals from RD Station's own CRM⇄Marketing integration (both would
// count each sale), and sales_and_lost when it has none; a set value is
// kept whatever the CRM holds.
func TestEventsMode(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name, events string
		native       bool
		want, why    string
	}{
		{"auto, native on", target.EventsAuto, true, target.EventsOff, "from_rdsm_integration"},
		{"auto, native off", target.EventsAuto, false, target.EventsSalesAndLost, "none of the CRM's"},
		{"sales, native on", target.EventsSales, true, target.EventsSales, `marketing.events = "sales"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sim := rdsim.New(rdsim.Options{})
			srv := httptest.NewServer(sim)
			defer srv.Close()
			if tc.native {
				st := sim.State()
				if len(st.Stages) == 0 || len(st.Users) == 0 {
					t.Fatal("the simulator's default account has no stage or user")
				}
				if err := sim.Seed(rdsim.SeedData{Deals: []rdsim.Deal{{Name: "Marcado como Oportunidade no RD Station Marketing",
					StageID: st.Stages[0].ID, UserID: st.Users[0].ID, FromRDSM: true}}}); err != nil {
					t.Fatal(err)
				}
			}
			crmCfg := crmtarget.Default()
			crmCfg.BaseURL, crmCfg.Token, crmCfg.RequestsPerMinute = srv.URL+"/api/v1", rdsim.DefaultToken, crmtarget.Unlimited
			crm, err := crmCfg.OpenTarget(ctx, component.OpenOptions{})
			if err != nil {
				t.Fatal(err)
			}
			cfg := mktest.Config(srv.URL)
			cfg.Events = tc.events
			mode, why, err := target.EventsMode(ctx, cfg, crm)
			if err != nil || mode != tc.want || !strings.Contains(why, tc.why) {
				t.Fatalf("%s (%s), %v; want %s saying %q", mode, why, err, tc.want, tc.why)
			}
		})
	}
}

// TestEventForUnknownContact: a SALE for an e-mail Marketing has no
// contact for (refused with 404 by default) goes after the documented
// CONVERSION, which creates the contact with its name and legal basis; the
// SALE is recorded once.
func TestEventForUnknownContact(t *testing.T) {
	ctx := context.Background()
	clk := clock.NewFake(time.Date(2024, 6, 3, 10, 0, 0, 0, time.UTC))
	sim := rdsim.New(rdsim.Options{Clock: clk})
	srv := httptest.NewServer(sim)
	defer srv.Close()
	st, err := store.Open(ctx, filepath.Join(t.TempDir(), "erpbridge.db"), store.WithNow(clk.Now))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	cfg := mktest.Config(srv.URL)
	sys := mktest.Open(t, sim, cfg, st, clk, nil)
	ev, err := sys.Target(target.EntityEvent, component.TargetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	id, err := ev.Create(ctx, bridge.Payload{"event_type": "SALE", "email": " Novo@Cliente.com.br", "name": "Novo Cliente",
		"sale": "01|000123", "value": "1234.50"})
	if err != nil || !strings.HasPrefix(id, "event:") {
		t.Fatalf("%q, %v", id, err)
	}
	state := sim.MarketingState()
	if len(state.Contacts) != 1 || state.Contacts[0].Email != "novo@cliente.com.br" || state.Contacts[0].Conversions != 1 ||
		state.Contacts[0].Name != "Novo Cliente" || len(state.Contacts[0].LegalBases) != 1 {
		t.Fatalf("contacts: %+v", state.Contacts)
	}
	var sales []rdsim.MarketingEvent
	for _, e := range state.Events {
		if e.Type == "SALE" {
			sales = append(sales, e)
		}
	}
	if len(sales) != 1 || sales[0].NoContact || fmt.Sprint(sales[0].Payload["value"]) != "1234.5" {
		t.Fatalf("SALE events: %+v", sales)
	}
}
