package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/url"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/erpbridge/erpbridge/erp/protheus"
	"github.com/erpbridge/erpbridge/erp/protheus/fixture"
	"github.com/erpbridge/erpbridge/rdstation/rdsim"
)

// The Marketing kill loop's bounds.
const (
	mkKills         = 30 // SIGKILLs at most, and the iterations
	mkFirstOrders   = 20 // invoiced orders before the loop
	mkOrdersPerIter = 3  // invoiced orders added between syncs
)

// mkSaleCustomers are fixture customers whose primary contact has an
// e-mail Marketing takes: every invoiced order of theirs is a SALE.
var mkSaleCustomers = []string{"000004", "000006", "000008", "000011", "000012", "000013", "000014", "000015", "000016"}

// TestKillLoopMarketingSalesPostgresIntegration (issue 14, "Done when"):
// the built binary loads both Marketing streams from a PostgreSQL
// Protheus database into the standalone simulator while Marketing loses
// answers (the request applied, the connection dropped) of events,
// PATCHes and funnel PUTs, and the test SIGKILLs `erpbridge sync --once`
// at random moments, up to mkKills times, adding invoiced orders between
// syncs. Then the faults stop and syncs run until nothing is pending or
// in flight. Every order carries a value no other has, so each SALE names
// its order: no order may have two SALEs, and every invoiced order
// without one must be in `erpbridge errors list` (an event whose outcome
// is unknown is parked, never sent again blindly).
func TestKillLoopMarketingSalesPostgresIntegration(t *testing.T) {
	bin := erpbridgeBinary(t)
	dir := t.TempDir()
	fx, _, dsn := createFixture(t, fixture.Postgres, dir)
	ctx := context.Background()
	if _, err := fx.AddMarketingContacts(ctx); err != nil {
		t.Fatal(err)
	}
	sim := startSim(t, bin, "--marketing-rpm", "-1") // at 120/min the retroactive load alone takes minutes
	// The CRM streams off: only Marketing is under test.
	cfg := writeConfig(t, dir, "postgres", dsn, sim,
		"enabled = false\n[streams.customers]\nenabled = false\n"+marketingConfig(sim), "enabled = false")
	var answer struct{ Code string }
	sendJSON(t, http.MethodPost, sim.admin+"/marketing/authorize?"+url.Values{"client_id": {rdsim.DefaultMarketingClientID},
		"redirect_uri": {marketingCallback}}.Encode(), nil, &answer)
	if r := runBinaryIn(t, bin, strings.NewReader(marketingCallback+"?code="+answer.Code+"\n"), "marketing", "authorize", "-c", cfg); r.code != 0 {
		t.Fatalf("marketing authorize exited %d:\n%s%s", r.code, r.stdout, r.stderr)
	}

	seed := killSeed(t)
	rng := rand.New(rand.NewPCG(seed, 0x6d6b746b))
	// orders maps each invoiced order the test added to its value.
	orders := map[string]decimal.Decimal{}
	addOrders := func(n int) {
		t.Helper()
		for range n {
			i := len(orders)
			price := decimal.New(int64(100000+i*1013), -2) // 1000.00, 1010.13, …: one value per order
			num, err := fx.AddOrder(ctx, fixture.NewOrder{Customer: mkSaleCustomers[i%len(mkSaleCustomers)], Loja: "01", Seller: "000001",
				Items: []fixture.NewOrderItem{{Product: "PA0001", TES: "501", Qty: decimal.NewFromInt(1), Price: price}}})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := fx.InvoiceOrder(ctx, num); err != nil {
				t.Fatal(err)
			}
			orders[num] = price
		}
	}
	addOrders(mkFirstOrders)
	sendJSON(t, http.MethodPut, sim.admin+"/marketing/faults",
		rdsim.Faults{LostResponse: 0.15, Methods: []string{"POST", "PATCH", "PUT"}, PathPrefix: "/platform"}, nil)

	kills, finished := 0, 0
	for i := range mkKills {
		if i > 0 {
			addOrders(mkOrdersPerIter)
		}
		cmd := exec.Command(bin, "sync", "--once", "-c", cfg)
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		exited := make(chan error, 1)
		go func() { exited <- cmd.Wait() }()
		delay := time.Duration(100+rng.IntN(900)) * time.Millisecond
		select {
		case err := <-exited:
			finished++
			t.Logf("iteration %d: finished before the kill at %v: %v", i, delay, err)
		case <-time.After(delay):
			_ = cmd.Process.Kill() // SIGKILL: no defer, no grace
			<-exited
			kills++
			t.Logf("iteration %d: killed after %v", i, delay)
		}
		if i == 0 {
			// The killed first sync left most contacts to send: one sync
			// to completion (faults on), so the loop's syncs are the
			// incremental ones a running bridge makes, mostly events.
			r := runBinary(t, bin, "sync", "--once", "-c", cfg)
			t.Logf("catching up: exit %d", r.code)
		}
	}

	// Faults off: `errors retry` (what failed is due at once: an event
	// whose answer was lost is tried again, which must park it, not send
	// it) and syncs to completion until no event is pending, in flight or
	// failed (a parked event stays parked: that is the rule under test)
	// and no contact is in flight. A contact may stay pending: one whose
	// PATCHes reached the daily 24 in the loop (a killed run's writes in
	// flight are sent again) is deferred to the window Marketing names.
	sendJSON(t, http.MethodPut, sim.admin+"/marketing/faults", rdsim.Faults{}, nil)
	settled := false
	for run := 1; run <= 6 && !settled; run++ {
		if r := runBinary(t, bin, "errors", "retry", "-c", cfg); r.code != 0 {
			t.Fatalf("errors retry: exit %d: %s", r.code, r.stderr)
		}
		r := runBinary(t, bin, "sync", "--once", "-c", cfg)
		if r.code != ExitOK && r.code != ExitPartial {
			t.Fatalf("sync to completion %d: exit %d\n%s%s", run, r.code, r.stdout, r.stderr)
		}
		settled = true
		for _, s := range readStatus(t, bin, cfg).Streams {
			n := s.Outbox["inflight"]
			if s.Stream == "marketing_sales" {
				n += s.Outbox["pending"] + s.Outbox["failed"]
			}
			if n > 0 {
				settled = false
				t.Logf("after sync %d: %s has %v in its outbox", run, s.Stream, s.Outbox)
			}
		}
	}
	if !settled {
		r := runBinary(t, bin, "status", "-c", cfg)
		t.Logf("status:\n%s\nerrors list: %+v", r.stdout, readErrors(t, bin, cfg))
		t.Fatal("events still pending or failed, or writes in flight, after 6 syncs to completion")
	}

	var st rdsim.MarketingState
	getJSON(t, sim.admin+"/marketing/state", &st)
	sales := map[string]int{} // by value
	for _, ev := range st.Events {
		if ev.Type == "SALE" {
			v, err := decimal.NewFromString(fmt.Sprint(ev.Payload["value"]))
			if err != nil {
				t.Fatalf("a SALE for %s has value %v", ev.Email, ev.Payload["value"])
			}
			sales[v.StringFixed(2)]++
		}
	}
	listed := map[string][]errorRow{} // by order number
	for _, e := range readErrors(t, bin, cfg) {
		if e.Stream != "marketing_sales" {
			continue
		}
		k := e.ERPKey
		if _, tk, ok := protheus.SplitEstateKey(k); ok {
			k = tk
		}
		num := k[strings.LastIndex(k, "|")+1:]
		listed[num] = append(listed[num], e)
	}
	// Every order: at most one SALE; without one, a record in errors
	// list that says why. An event parked because its outcome is unknown
	// (sent, or killed before it left) says how to settle it; one waiting
	// for its contact (deferred by the contact's daily PATCH limit) says so.
	var sent, sentParked, unsentParked, waiting int
	for num, price := range orders {
		n, es := sales[price.StringFixed(2)], listed[num]
		unknown := len(es) > 0 && es[0].State == "parked" && strings.Contains(es[0].Error, "errors resolve")
		switch {
		case n > 1:
			t.Errorf("order %s (value %s): %d SALE events, want at most 1", num, price.StringFixed(2), n)
		case n == 1 && unknown:
			sentParked++
		case n == 1:
			sent++
		case len(es) == 0:
			t.Errorf("order %s (value %s): no SALE and not in errors list: a sale lost without a record", num, price.StringFixed(2))
		case unknown:
			unsentParked++
		case es[0].State == "failed" && strings.Contains(es[0].Error, "waiting for contact"):
			waiting++
		default:
			t.Errorf("order %s has no SALE and its record does not say why or what to do: %+v", num, es)
		}
	}
	if sentParked+unsentParked == 0 {
		t.Errorf("no SALE lost its answer or was cut by a kill (seed %d): the loop tested nothing of the rule", seed)
	}
	c := sim.counts(t)
	var mc rdsim.RequestCounts
	getJSON(t, sim.admin+"/marketing/requests", &mc)
	t.Logf("seed %d: %d kills, %d syncs finished first; %d invoiced orders: %d with one SALE and no record, %d with one SALE parked as unknown (to resolve --sent), %d without a SALE parked as unknown (to resolve --resend), %d waiting for a deferred contact; %d lost Marketing answers; %d CRM requests",
		seed, kills, finished, len(orders), sent, sentParked, unsentParked, waiting, mc.Faults["lost_response"], c.Total)
}
