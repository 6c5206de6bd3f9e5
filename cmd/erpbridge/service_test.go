package main

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/erpbridge/erpbridge/erp/protheus/fixture"
	"github.com/erpbridge/erpbridge/installer/layout"
)

func TestDefaultConfigPath(t *testing.T) {
	linux := layout.For("linux", func(string) string { return "" })
	windows := layout.For("windows", func(string) string { return `C:\ProgramData` })
	tests := []struct {
		name   string
		env    string
		exists bool
		l      layout.Layout
		want   string
	}{
		{"environment first", "/srv/erp.toml", true, linux, "/srv/erp.toml"},
		{"./erpbridge.toml when it exists", "", true, linux, "erpbridge.toml"},
		{"else the installed one on Linux", "", false, linux, "/etc/erpbridge/erpbridge.toml"},
		{"else the installed one on Windows", "", false, windows, `C:\ProgramData\erpbridge\erpbridge.toml`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			getenv := func(k string) string {
				if k == "ERPBRIDGE_CONFIG" {
					return tt.env
				}
				return ""
			}
			exists := func(p string) bool { return tt.exists && p == "erpbridge.toml" }
			if got := defaultConfigPath(getenv, exists, tt.l); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

// TestServiceEntryPointReportsABadConfigAndFailsTheStart: what the service
// manager starts with a config path that does not exist says so (on the
// console here, in the Event Log or the system log under the manager) and
// exits 2, which the systemd unit does not restart.
func TestServiceEntryPointReportsABadConfigAndFailsTheStart(t *testing.T) {
	bin := erpbridgeBinary(t)
	missing := filepath.Join(t.TempDir(), "nowhere", "erpbridge.toml")
	r := runBinary(t, bin, "service", "run", "--config", missing)
	if r.code != ExitUsage {
		t.Errorf("exit code %d, want %d\n%s", r.code, ExitUsage, r.stderr)
	}
	if !strings.Contains(r.stderr, "erpbridge service could not start: reading config: open "+missing) {
		t.Errorf("stderr does not report the startup error:\n%s", r.stderr)
	}
}

// TestServiceInstallChecksTheConfigFirst: nothing is registered for a
// config that cannot be read.
func TestServiceInstallChecksTheConfigFirst(t *testing.T) {
	bin := erpbridgeBinary(t)
	missing := filepath.Join(t.TempDir(), "erpbridge.toml")
	r := runBinary(t, bin, "service", "install", "--config", missing)
	if r.code != ExitUsage || !strings.Contains(r.stderr, "checking the configuration before installing: reading config") {
		t.Errorf("exit %d:\n%s", r.code, r.stderr)
	}
}

// TestServiceEntryPointRunsTheBridgeAndStopsGracefully runs what the service
// manager starts: it syncs like "erpbridge run", logs to log.file, and on
// SIGTERM (systemd's stop) exits 0 within the stop timeout.
func TestServiceEntryPointRunsTheBridgeAndStopsGracefully(t *testing.T) {
	bin := erpbridgeBinary(t)
	sim := startSim(t, bin)
	dir := t.TempDir()
	_, _, dsn := createFixture(t, fixture.SQLite, dir)
	cfg := writeConfig(t, dir, "sqlite", dsn, sim, "")
	text, _ := os.ReadFile(cfg)
	text = bytes.Replace(text, []byte("[log]\nlevel = \"error\""), []byte("[log]\nlevel = \"info\"\nfile = \"logs/erpbridge.log\""), 1)
	// The CRM token is a secret, in no process's environment.
	text = bytes.Replace(text, []byte(fmt.Sprintf("token = %q", e2eToken)), []byte(`token = "${secret:CRM_TOKEN}"`), 1)
	if err := os.WriteFile(cfg, text, 0o600); err != nil {
		t.Fatal(err)
	}
	setSecret(t, bin, cfg, "CRM_TOKEN", e2eToken)
	logFile := filepath.Join(dir, "logs", "erpbridge.log")

	// The service never depends on its working folder.
	cmd, stderr, exited := startBridge(t, bin, t.TempDir(), "service", "run", "--config", cfg)
	waitFor(t, 40*time.Second, "the first sync of every stream", func() bool {
		n := finishedRuns(logLines(t, logFile))
		return n["customers"] > 0 && n["contacts"] > 0 && n["products"] > 0
	})
	if environ, err := os.ReadFile(fmt.Sprintf("/proc/%d/environ", cmd.Process.Pid)); err == nil && bytes.Contains(environ, []byte(e2eToken)) {
		t.Error("the CRM token is in the service's environment")
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-exited:
		if err != nil {
			t.Fatalf("exit: %v\n%s", err, stderr.String())
		}
	case <-time.After(serviceStopTimeout + 5*time.Second):
		t.Fatalf("did not stop within %s\n%s", serviceStopTimeout, stderr.String())
	}
	for _, want := range []string{"erpbridge service started", "erpbridge service stopped"} {
		if !strings.Contains(stderr.String(), want) {
			t.Errorf("lifecycle %q not reported:\n%s", want, stderr.String())
		}
	}
}

// TestInstallToleratesSecretsOnlyTheServiceHas: a ${NAME} the installing
// shell lacks is reported, not fatal, and the paths come out absolute.
func TestInstallToleratesSecretsOnlyTheServiceHas(t *testing.T) {
	example, err := os.ReadFile(filepath.Join("..", "..", "config.example.toml"))
	if err != nil {
		t.Fatal(err)
	}
	text := strings.Replace(string(example), `token = "sim-token"`, `token = "${ERPBRIDGE_TEST_UNSET_TOKEN}"`, 1)
	dir := t.TempDir()
	path := filepath.Join(dir, "erpbridge.toml")
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, missing, err := loadServiceConfig(path)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(missing, ",") != "${ERPBRIDGE_TEST_UNSET_TOKEN}" {
		t.Errorf("missing = %q", missing)
	}
	if cfg.DataDir != filepath.Join(dir, "erpbridge-data") {
		t.Errorf("data_dir = %q, want it absolute next to the config", cfg.DataDir)
	}
}

// TestServiceStatusNamesOnlyAConfigItRead: the config status shows comes
// from the installed command line, or says where it comes from instead.
func TestServiceStatusNamesOnlyAConfigItRead(t *testing.T) {
	const flag = "/etc/erpbridge/erpbridge.toml"
	tests := []struct {
		name      string
		installed bool
		line      string
		lineErr   error
		want      string
		wantNote  string
	}{
		{"installed, read", true, "/usr/bin/erpbridge service run --config /srv/erp.toml", nil, "/srv/erp.toml", ""},
		{"not installed", false, "", errors.New("no unit"), flag, "--config: no service is installed"},
		{"installed, unreadable", true, "", errors.New("Invalid level."), flag,
			"--config: the installed service's command line could not be read: Invalid level."},
		{"installed by hand without --config", true, "/usr/bin/erpbridge run", nil, flag,
			"--config: the installed command line has no --config: /usr/bin/erpbridge run"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, note := installedConfig(tt.installed, tt.line, tt.lineErr, flag)
			if got != tt.want || note != tt.wantNote {
				t.Errorf("got %q (%q), want %q (%q)", got, note, tt.want, tt.wantNote)
			}
		})
	}
}
