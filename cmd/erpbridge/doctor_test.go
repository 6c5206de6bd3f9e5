package main

import (
	"bytes"
	"context"
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"go.uber.org/zap"

	"github.com/erpbridge/erpbridge/bridge/clock"
	"github.com/erpbridge/erpbridge/bridge/component"
	"github.com/erpbridge/erpbridge/cmd/erpbridge/internal/wiring"
	"github.com/erpbridge/erpbridge/erp/protheus/fixture"
)

var updateGolden = flag.Bool("update", false, "rewrite golden files")

// noCRM is where the doctor's configs point the CRM: the doctor never
// contacts it.
var noCRM = standaloneSim{baseURL: "http://127.0.0.1:9/api/v1"}

// doctorConfig writes a config reading the fixture with the orders stream
// on (its SC5, SC6 and SA3 too).
func doctorConfig(t *testing.T, dir, driver, dsn string) string {
	t.Helper()
	return writeConfig(t, dir, driver, dsn, noCRM, "[streams.orders]\nenabled = true\nfilial = \"01\"\n")
}

// doctor runs `erpbridge doctor` in-process and returns its output with
// what changes from run to run (the server's version and time zone, the
// measured clock skew and poll times) masked, and its problem count.
func doctor(t *testing.T, cfgPath string) (string, int) {
	t.Helper()
	cfg, err := loadConfig(cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	n := runDoctor(context.Background(), &out, cfg)
	s := out.String()
	for _, m := range []struct{ re, with string }{
		{`(?m)^  ok   (PostgreSQL|SQLite) .*$`, "  ok   $1 <version>"},
		{`(?m)^       TimeZone: .*$`, "       TimeZone: <zone>"},
		{`(?m)^  (ok  |WARN|FAIL) clock: .*(\n       fix: .*)?$`, "  ..   clock: <skew>"},
		{`(?m)^  (ok  |WARN) poll: (\d+) rows in .*(\n       fix: .*)?$`, "  ..   poll: $2 rows in <duration>"},
	} {
		s = regexp.MustCompile(m.re).ReplaceAllString(s, m.with)
	}
	return s, n
}

// checkDoctorGolden compares out with testdata/doctor/name.golden, or
// rewrites it under -update.
func checkDoctorGolden(t *testing.T, name, out string) {
	t.Helper()
	path := filepath.Join("testdata", "doctor", name+".golden")
	if *updateGolden {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(out), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("reading golden file (go test ./cmd/erpbridge -run TestDoctor -update writes it): %v", err)
	}
	if diff := cmp.Diff(string(want), out); diff != "" {
		t.Errorf("doctor output differs from %s (-want +got):\n%s", path, diff)
	}
}

// TestDoctorSQLite: the doctor on the SQLite fixture as it is made, with
// no planner statistics: every stamp index exists, but SQLite's planner
// prefers the filial index without them, which the doctor says with the
// ANALYZE that fixes it.
// Regenerate with: go test ./cmd/erpbridge -run TestDoctor -update
func TestDoctorSQLite(t *testing.T) {
	dir := t.TempDir()
	_, _, dsn := createFixture(t, fixture.SQLite, dir)
	cfg := doctorConfig(t, dir, "sqlite", dsn)
	out, n := doctor(t, cfg)
	if n != 0 {
		t.Errorf("%d problems:\n%s", n, out)
	}
	checkDoctorGolden(t, "sqlite", out)
	// check warns only about a missing index, not about statistics.
	if got := checkERP(t, cfg); strings.Contains(got, "S_T_A_M_P_ serves") {
		t.Errorf("check warns about stamp indexes the tables have:\n%s", got)
	}
}

// TestDoctorPostgresIntegration: the doctor on the PostgreSQL fixture once
// its tables are analysed (as autovacuum does): every poll's plan seeks
// S_T_A_M_P_ in its ERPBRIDGE_<table>_STAMP index. Then the customers'
// index is dropped, as an ERP upgrade that rebuilds SA1010 does: the
// doctor fails SA1010 by its poll's plan, naming the table, the scan and
// the CREATE INDEX that fixes it, and `erpbridge check` warns the same.
func TestDoctorPostgresIntegration(t *testing.T) {
	dir := t.TempDir()
	fx, _, dsn := createFixture(t, fixture.Postgres, dir)
	if _, err := fx.DB.Exec("ANALYZE"); err != nil {
		t.Fatal(err)
	}
	cfg := doctorConfig(t, dir, "postgres", dsn)
	out, n := doctor(t, cfg)
	if n != 0 || strings.Contains(out, "WARN") {
		t.Errorf("%d problems, or warnings, on the analysed fixture:\n%s", n, out)
	}
	checkDoctorGolden(t, "postgres", out)

	if _, err := fx.DB.Exec("DROP INDEX erpbridge_sa1010_stamp"); err != nil {
		t.Fatal(err)
	}
	if _, err := fx.DB.Exec("ANALYZE sa1010"); err != nil {
		t.Fatal(err)
	}
	out, n = doctor(t, cfg)
	if n != 1 {
		t.Errorf("%d problems without SA1010's stamp index, want 1:\n%s", n, out)
	}
	for _, want := range []string{
		"  FAIL SA1010: no index on S_T_A_M_P_ serves the incremental poll: its plan reads Seq Scan on sa1010, so every poll reads the whole table",
		"       fix: CREATE INDEX erpbridge_sa1010_stamp ON sa1010 (s_t_a_m_p_, r_e_c_n_o_)",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("doctor output lacks %q:\n%s", want, out)
		}
	}
	checkDoctorGolden(t, "postgres_no_stamp_index", out)

	// check's ERP part warns about it too (the bridge runs, every poll
	// reading SA1010 whole), with the same fix, and about no other table.
	got := checkERP(t, cfg)
	for _, want := range []string{
		"  WARN SA1010: no index on S_T_A_M_P_ serves the incremental poll: its plan reads Seq Scan on sa1010",
		"       fix: CREATE INDEX erpbridge_sa1010_stamp ON sa1010 (s_t_a_m_p_, r_e_c_n_o_)",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("check output lacks %q:\n%s", want, got)
		}
	}
	if n := strings.Count(got, "no index on S_T_A_M_P_"); n != 1 {
		t.Errorf("check names %d tables without a stamp index, want 1:\n%s", n, got)
	}
}

// checkERP runs the ERP component's part of `erpbridge check` (the CRM's
// is left out: these configs have none to reach) and returns its lines.
func checkERP(t *testing.T, cfgPath string) string {
	t.Helper()
	cfg, err := loadConfig(cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	erp, err := wiring.OpenERP(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer erp.Close()
	env := &component.Env{ERP: erp, Configs: cfg.Components(), Log: zap.NewNop(), Clock: clock.Real{}}
	s, _ := cfg.Component("erp")
	var b strings.Builder
	for _, f := range s.(component.Checker).Check(ctx, env) {
		b.WriteString(f.String() + "\n")
	}
	return b.String()
}
