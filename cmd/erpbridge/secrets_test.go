package main

import (
	"net/url"
	"os"
	"strings"
	"testing"

	"github.com/erpbridge/erpbridge/erp/protheus/fixture"
)

// withToken rewrites the crm.token line writeConfig wrote.
func withToken(t *testing.T, cfg, line string) {
	t.Helper()
	text, err := os.ReadFile(cfg)
	if err != nil {
		t.Fatal(err)
	}
	out := strings.Replace(string(text), "token = \""+e2eToken+"\"", line, 1)
	if out == string(text) {
		t.Fatal("test bug: no crm.token line to replace")
	}
	if err := os.WriteFile(cfg, []byte(out), 0o600); err != nil {
		t.Fatal(err)
	}
}

// TestRefusedTokenNamesCrmToken: when RD Station CRM refuses the token,
// check, sync and run say that crm.token was refused, whether it looks
// unexpanded, and how to check it, and never show it.
func TestRefusedTokenNamesCrmToken(t *testing.T) {
	bin := erpbridgeBinary(t)
	sim := startSim(t, bin)
	for _, tc := range []struct {
		name, line, env, secret, why string
	}{
		{"wrong token", `token = "e2e-WRONG-9d4f1a"`, "", "e2e-WRONG-9d4f1a", "it is wrong, was regenerated"},
		{"variable holding cmd.exe's reference", `token = "${CRM_TOKEN_E2E}"`, "%RDSTATION_TOKEN_X%", "RDSTATION_TOKEN_X", "not expanded"},
		{"variable with a Windows line end", `token = "${CRM_TOKEN_E2E}"`, e2eToken + "\r", e2eToken, "line break"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			_, _, dsn := createFixture(t, fixture.SQLite, dir)
			cfg := writeConfig(t, dir, "sqlite", dsn, sim, "")
			withToken(t, cfg, tc.line)
			if tc.env != "" {
				t.Setenv("CRM_TOKEN_E2E", tc.env)
			}
			for _, args := range [][]string{{"check"}, {"sync"}, {"run"}} {
				r := runBinary(t, bin, append(args, "-c", cfg)...)
				out := r.stdout + r.stderr
				if r.code == 0 {
					t.Errorf("%s exited 0 with a refused token\n%s", args[0], out)
				}
				for _, want := range []string{"unauthorized", "crm.token was refused", tc.why, "erpbridge check", "Perfil"} {
					if !strings.Contains(out, want) {
						t.Errorf("%s output lacks %q:\n%s", args[0], want, out)
					}
				}
				if strings.Contains(out, tc.secret) {
					t.Errorf("%s output shows the token:\n%s", args[0], out)
				}
			}
		})
	}
}

// TestDSNPasswordNeverInCommandOutput plants a password holding % # @ : /
// in the DSN: validate, check and sync say what is wrong (a DSN their driver
// would misread, or a database that does not answer) without any piece of it.
func TestDSNPasswordNeverInCommandOutput(t *testing.T) {
	bin := erpbridgeBinary(t)
	sim := startSim(t, bin)
	const pw = "Kq9vXw%Ht7Rb#Zp4Ns@Jr2Tm:Mb8Qd/Lc5Wy"
	encoded := url.UserPassword("erp", pw).String()
	for _, tc := range []struct {
		name, driver, dsn string
		want              []string // in every command's output
	}{
		{"oracle, raw", "oracle", "oracle://erp:" + pw + "@127.0.0.1:1/ORCL", []string{"erp.dsn", `has a "#"`, "%23"}},
		{"sqlserver, raw", "sqlserver", "sqlserver://erp:" + pw + "@127.0.0.1:1?database=PROTHEUS", []string{"erp.dsn", `has a "#"`}},
		{"postgres, encoded, nobody listening", "postgres", "postgres://" + encoded + "@127.0.0.1:1/protheus?sslmode=disable&connect_timeout=5", []string{"connection refused"}},
		{"sqlserver ADO, nobody listening", "sqlserver", "server=127.0.0.1;port=1;user id=erp;password=" + pw + ";database=PROTHEUS;dial timeout=5", []string{"connection refused"}},
		{"oracle, encoded, nobody listening", "oracle", "oracle://" + encoded + "@127.0.0.1:1/ORCL", []string{"connection refused"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			cfg := writeConfig(t, dir, tc.driver, tc.dsn, sim, "")
			for _, cmd := range []string{"validate", "check", "sync"} {
				r := runBinary(t, bin, cmd, "-c", cfg)
				out := r.stdout + r.stderr
				malformed := tc.want[0] == "erp.dsn"
				if !malformed && cmd == "validate" {
					if r.code != 0 {
						t.Errorf("validate exited %d for a well-formed DSN:\n%s", r.code, out)
					}
					continue
				}
				if r.code == 0 {
					t.Errorf("%s exited 0\n%s", cmd, out)
				}
				for _, want := range tc.want {
					if !strings.Contains(out, want) {
						t.Errorf("%s output lacks %q:\n%s", cmd, want, out)
					}
				}
				for _, piece := range []string{"Kq9vXw", "Ht7Rb", "Zp4Ns", "Jr2Tm", "Mb8Qd", "Lc5Wy"} {
					if strings.Contains(out, piece) {
						t.Errorf("%s output shows %q of the password:\n%s", cmd, piece, out)
					}
				}
			}
		})
	}
}
