package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/erpbridge/erpbridge/erp/protheus/fixture"
)

func TestBinarySyncAgainstStandaloneSimulatorSQLite(t *testing.T) {
	testBinarySync(t, fixture.SQLite)
}

func TestBinarySyncPostgresIntegration(t *testing.T) {
	testBinarySync(t, fixture.Postgres)
}

// testBinarySync: `erpbridge sync --once` against a standalone simulator
// creates every record once, the fixture's bad values left out and listed
// by key as warnings (not failures: exit 0); a second run writes nothing.
func testBinarySync(t *testing.T, kind fixture.Kind) {
	bin := erpbridgeBinary(t)
	dir := t.TempDir()
	fx, _, dsn := createFixture(t, kind, dir)
	sim := startSim(t, bin)
	cfg := writeConfig(t, dir, string(kind), dsn, sim, "")

	r := runBinary(t, bin, "sync", "--once", "-c", cfg)
	t.Logf("first sync: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	if r.code != ExitOK || !strings.Contains(r.stdout, "contacts: 1 records synced without an invalid field") {
		t.Fatalf("first sync: exit %d, want %d and the contact synced without its bad e-mail reported (a warning is no failure)", r.code, ExitOK)
	}
	w := expectedCRM(t, fx.DB, wantOptions{})
	assertCRMMatches(t, sim.state(t), w)

	writes := sim.counts(t).Writes
	r = runBinary(t, bin, "sync", "--once", "-c", cfg)
	t.Logf("second sync: exit %d\n%s", r.code, r.stdout)
	if r.code != ExitOK { // nothing failed in this run: the bad rows wait for the ERP to change
		t.Fatalf("second sync: exit %d, want %d: %s", r.code, ExitOK, r.stderr)
	}
	if got := sim.counts(t).Writes - writes; got != 0 {
		t.Errorf("second sync: the simulator received %d writes, want 0", got)
	}

	st := readStatus(t, bin, cfg)
	for _, s := range st.Streams {
		if s.Outbox["pending"]+s.Outbox["inflight"] != 0 {
			t.Errorf("status: %s has %d pending and %d inflight writes after two syncs", s.Stream, s.Outbox["pending"], s.Outbox["inflight"])
		}
		if s.Stream == "customers" && s.InCRM != int64(len(w.orgs)) {
			t.Errorf("status: customers has %d records in the CRM, want %d", s.InCRM, len(w.orgs))
		}
	}
	// The contact with an e-mail without '@' is in the CRM without it, and
	// the contacts of blocked customers are not; each is listed as a warning
	// naming the column.
	if len(w.warned) < 3 {
		t.Errorf("the fixture calls for %d warnings, want at least 3: %v", len(w.warned), w.warned)
	}
	assertListed(t, readErrors(t, bin, cfg), w)
	if r := runBinary(t, bin, "errors", "list", "--level", "error", "-c", cfg); r.code != 0 || !strings.Contains(r.stdout, "no errors") {
		t.Errorf("errors list --level error: exit %d, %q; want no errors (a warning is level skip)", r.code, r.stdout)
	}
}

// TestKillDuringSyncConvergesWithoutDuplicates kills at least minKills
// syncs, starting at most maxKillIterations.
const (
	minKills          = 20
	maxKillIterations = 120
)

func TestKillDuringSyncConvergesWithoutDuplicates(t *testing.T) {
	bin := erpbridgeBinary(t)
	start := time.Now()
	dir := t.TempDir()
	fx, _, dsn := createFixture(t, fixture.SQLite, dir)
	sim := startSim(t, bin)
	const prefix = "[EXCLUIDO] "
	cfg := writeConfig(t, dir, "sqlite", dsn, sim, `[streams.customers]
deletes = "mark"
delete_mark.name_prefix = "`+prefix+`"
`)
	seed := uint64(time.Now().UnixNano())
	if s := os.Getenv("ERPBRIDGE_KILL_SEED"); s != "" {
		n, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			t.Fatalf("ERPBRIDGE_KILL_SEED: %v", err)
		}
		seed = n
	}
	t.Logf("seed %d (ERPBRIDGE_KILL_SEED=%d reruns these kill delays and ERP changes)", seed, seed)
	rng := rand.New(rand.NewPCG(seed, 0x6b696c6c))
	ctx := context.Background()

	// Customers 61… have no contacts, so renaming and deleting them keeps
	// every contact's organization unambiguous.
	var candidates []string
	for i := 61; i <= 240; i++ {
		if i%25 != 0 {
			candidates = append(candidates, fmt.Sprintf("%06d", i))
		}
	}
	added := 0
	// mutate makes a batch of ERP changes, and sometimes forgets every
	// customer fingerprint (erpbridge resync), so each killed sync has
	// creates, updates and marks in flight.
	mutate := func(i int) string {
		var did []string
		for range 2 {
			switch rng.IntN(3) {
			case 0:
				for range 8 {
					cod := candidates[rng.IntN(len(candidates))]
					if err := fx.RenameCustomer(ctx, cod, "01", fmt.Sprintf("RENOMEADA %02d-%s COMERCIO LTDA", i, cod)); err != nil {
						t.Fatal(err)
					}
				}
				did = append(did, "8 renames")
			case 1:
				for range 8 {
					added++
					cod := fmt.Sprintf("8%05d", added)
					if _, err := fx.AddCustomer(ctx, fixture.NewCustomer{Cod: cod, Loja: "01", Name: "CLIENTE NOVO " + cod + " LTDA"}); err != nil {
						t.Fatal(err)
					}
				}
				did = append(did, "8 new")
			case 2:
				for range 3 {
					k := rng.IntN(len(candidates))
					if err := fx.DeleteCustomer(ctx, candidates[k], "01"); err != nil {
						t.Fatal(err)
					}
					candidates = slices.Delete(candidates, k, k+1)
				}
				did = append(did, "3 deletes")
			}
		}
		if rng.IntN(3) != 0 {
			if r := runBinary(t, bin, "resync", "customers", "-c", cfg); r.code != 0 {
				t.Fatalf("resync customers: exit %d: %s", r.code, r.stderr)
			}
			did = append(did, "resync customers")
		}
		return strings.Join(did, ", ")
	}

	kills, finished := 0, 0
	for i := 0; i < maxKillIterations && kills < minKills; i++ {
		change := "initial sync"
		if i > 0 {
			change = mutate(i)
		}
		// A sync takes ~50–300 ms here (start-up included): kill within that.
		delay := time.Duration(5+rng.IntN(200)) * time.Millisecond
		cmd := exec.Command(bin, "sync", "--once", "-c", cfg)
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case err := <-done:
			finished++
			t.Logf("iteration %d (%s): finished before the kill at %v: %v", i, change, delay, err)
		case <-time.After(delay):
			_ = cmd.Process.Kill() // SIGKILL: no defer, no grace
			<-done
			kills++
			t.Logf("iteration %d (%s): killed after %v", i, change, delay)
		}
	}
	if kills < minKills {
		t.Errorf("only %d of %d syncs were killed (%d finished first), want at least %d", kills, kills+finished, finished, minKills)
	}

	// Now let syncs run to completion until the outbox holds only what bad
	// data leaves there.
	w := expectedCRM(t, fx.DB, wantOptions{deletePrefix: prefix})
	settled := false
	for run := 1; run <= 6 && !settled; run++ {
		r := runBinary(t, bin, "sync", "--once", "-c", cfg)
		if r.code != ExitOK && r.code != ExitPartial {
			t.Fatalf("sync to completion %d: exit %d\n%s%s", run, r.code, r.stdout, r.stderr)
		}
		settled = true
		for _, s := range readStatus(t, bin, cfg).Streams {
			if n := s.Outbox["pending"] + s.Outbox["inflight"]; n > 0 {
				settled = false
				t.Logf("after sync %d: %s has %d pending/inflight writes", run, s.Stream, n)
			}
		}
		for _, e := range readErrors(t, bin, cfg) {
			if e.State == "failed" && !w.deferred[e.ERPKey] {
				settled = false
				t.Logf("after sync %d: %s %s failed: %s", run, e.Stream, e.ERPKey, e.Error)
			}
		}
	}
	if !settled {
		t.Fatal("the outbox still has pending, inflight or failed writes after 6 syncs to completion")
	}
	assertCRMMatches(t, sim.state(t), w)
	t.Logf("%d kills, %d syncs finished first, %d organizations, took %v", kills, finished, len(w.orgs), time.Since(start).Round(time.Millisecond))
}
