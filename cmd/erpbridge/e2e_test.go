package main

import (
	"strings"
	"testing"

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
