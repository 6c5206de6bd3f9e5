package installer

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// unitValues returns every key=value line of a unit, keyed by key.
func unitValues(unit string) map[string][]string {
	out := map[string][]string{}
	for _, line := range strings.Split(unit, "\n") {
		if k, v, ok := strings.Cut(line, "="); ok {
			out[k] = append(out[k], v)
		}
	}
	return out
}

func TestSystemdUnitRestartsOnFailureAfterTheNetworkAndIsHardened(t *testing.T) {
	unit, err := SystemdUnit(linuxSpec())
	if err != nil {
		t.Fatal(err)
	}
	got := unitValues(unit)
	want := map[string]string{
		"ExecStart":                "/usr/bin/erpbridge service run --config /etc/erpbridge/erpbridge.toml",
		"After":                    "network-online.target",
		"Wants":                    "network-online.target",
		"User":                     "erpbridge",
		"Group":                    "erpbridge",
		"ExecReload":               "/bin/kill -HUP $MAINPID",
		"Restart":                  "on-failure",
		"RestartPreventExitStatus": "2",
		"NoNewPrivileges":          "yes",
		"ProtectSystem":            "strict",
		"ReadWritePaths":           "/var/lib/erpbridge /var/log/erpbridge",
		"ProtectHome":              "yes",
		"PrivateTmp":               "yes",
		"WantedBy":                 "multi-user.target",
	}
	for k, v := range want {
		if len(got[k]) != 1 || got[k][0] != v {
			t.Errorf("%s = %q, want %q", k, got[k], v)
		}
	}
}

func TestSystemdUnitPaths(t *testing.T) {
	tests := []struct {
		name                string
		modify              func(*Spec)
		execStart, rw, home string
		user                []string
	}{
		{"spaces and specifiers quoted",
			func(s *Spec) { s.Executable = "/opt/erp bridge/erpbridge"; s.ConfigFile = "/etc/erpbridge/100%.toml" },
			`"/opt/erp bridge/erpbridge" service run --config /etc/erpbridge/100%%.toml`, "/var/lib/erpbridge /var/log/erpbridge", "yes", []string{"erpbridge"}},
		{"log folder inside the data folder listed once",
			func(s *Spec) { s.LogDir = "/var/lib/erpbridge/logs" },
			"/usr/bin/erpbridge service run --config /etc/erpbridge/erpbridge.toml", "/var/lib/erpbridge", "yes", []string{"erpbridge"}},
		{"console-only logging",
			func(s *Spec) { s.LogDir = "" },
			"/usr/bin/erpbridge service run --config /etc/erpbridge/erpbridge.toml", "/var/lib/erpbridge", "yes", []string{"erpbridge"}},
		{"data under /home keeps it reachable",
			func(s *Spec) { s.DataDir = "/home/erp/data" },
			"/usr/bin/erpbridge service run --config /etc/erpbridge/erpbridge.toml", "/home/erp/data /var/log/erpbridge", "read-only", []string{"erpbridge"}},
		{"root runs without User=",
			func(s *Spec) { s.User = "root" },
			"/usr/bin/erpbridge service run --config /etc/erpbridge/erpbridge.toml", "/var/lib/erpbridge /var/log/erpbridge", "yes", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := linuxSpec()
			tt.modify(&s)
			unit, err := SystemdUnit(s)
			if err != nil {
				t.Fatal(err)
			}
			got := unitValues(unit)
			if got["ExecStart"][0] != tt.execStart {
				t.Errorf("ExecStart = %q, want %q", got["ExecStart"][0], tt.execStart)
			}
			if got["ReadWritePaths"][0] != tt.rw {
				t.Errorf("ReadWritePaths = %q, want %q", got["ReadWritePaths"][0], tt.rw)
			}
			if got["ProtectHome"][0] != tt.home {
				t.Errorf("ProtectHome = %q, want %q", got["ProtectHome"][0], tt.home)
			}
			if strings.Join(got["User"], ",") != strings.Join(tt.user, ",") {
				t.Errorf("User = %q, want %q", got["User"], tt.user)
			}
		})
	}
}

func TestSystemdUnitRefusesTemplateBraces(t *testing.T) {
	s := linuxSpec()
	s.ConfigFile = "/etc/{{x}}/erpbridge.toml"
	if _, err := SystemdUnit(s); err == nil {
		t.Fatal("a path with {{ would be read as a kardianos template action")
	}
}

// TestSystemdUnitPassesSystemdAnalyzeVerify checks the unit as systemd reads
// it. systemd-analyze is optional outside CI.
func TestSystemdUnitPassesSystemdAnalyzeVerify(t *testing.T) {
	tool, err := exec.LookPath("systemd-analyze")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("systemd-analyze is required under CI=true (apt-get install systemd)")
		}
		t.Skip("systemd-analyze not installed (apt-get install systemd): the unit text is still checked by the other tests")
	}
	dir := t.TempDir()
	exe := filepath.Join(dir, "bin dir", "erpbridge") // ExecStart must name an executable file
	if err := os.MkdirAll(filepath.Dir(exe), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(exe, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, s := range []Spec{linuxSpec(), {GOOS: "linux", Executable: exe, ConfigFile: "/etc/erp bridge/erp%bridge.toml",
		DataDir: "/home/erp/data dir", LogDir: "/var/log/erpbridge", User: "root"}} {
		s.Executable = exe
		unit, err := SystemdUnit(s)
		if err != nil {
			t.Fatal(err)
		}
		file := filepath.Join(dir, "erpbridge.service")
		if err := os.WriteFile(file, []byte(unit), 0o644); err != nil {
			t.Fatal(err)
		}
		out, err := exec.CommandContext(t.Context(), tool, "verify", file).CombinedOutput()
		// verify exits 0 on many problems it only warns about: any line
		// about the unit file is a failure.
		if err != nil || strings.Contains(string(out), file) {
			t.Errorf("systemd-analyze verify: %v\n%s\nunit:\n%s", err, out, unit)
		}
	}
}
