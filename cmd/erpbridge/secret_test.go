package main

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// setSecret stores value as the secret name of the config at cfg, through
// `erpbridge secret set` with the value on stdin.
func setSecret(t *testing.T, bin, cfg, name, value string) {
	t.Helper()
	args := []string{"secret", "set", name, "-c", cfg}
	if os.Geteuid() == 0 {
		args = append(args, "--user", "root") // the test's service user
	}
	r := runBinaryIn(t, bin, strings.NewReader(value+"\n"), args...)
	if r.code != 0 || !strings.Contains(r.stdout, "stored secret "+name) {
		t.Fatalf("secret set %s: exit %d\n%s%s", name, r.code, r.stdout, r.stderr)
	}
}

func TestSecretSetStoresWhatTheConfigReads(t *testing.T) {
	bin := erpbridgeBinary(t)
	dir := t.TempDir()
	cfg := filepath.Join(dir, "erpbridge.toml")
	text := "[crm]\ntoken = \"${secret:CRM_TOKEN}\"\n[erp]\ndriver = \"sqlite\"\ndsn = \"erp.db\"\n"
	if err := os.WriteFile(cfg, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}

	r := runBinary(t, bin, "validate", "-c", cfg)
	if r.code != ExitUsage || !strings.Contains(r.stderr, `line 2: key "crm.token": secret CRM_TOKEN: not set`) ||
		!strings.Contains(r.stderr, "erpbridge secret set CRM_TOKEN -c "+cfg) {
		t.Fatalf("validate without the secret: exit %d\n%s", r.code, r.stderr)
	}
	setSecret(t, bin, cfg, "CRM_TOKEN", "tok-s3cret")
	file := filepath.Join(dir, "secrets", "CRM_TOKEN")
	fi, err := os.Stat(file)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("%s has mode %v, want 0600", file, fi.Mode().Perm())
	}
	if b, _ := os.ReadFile(file); string(b) != "tok-s3cret" {
		t.Errorf("stored %q: the final line break of stdin is not part of the value", b)
	}
	if r := runBinary(t, bin, "validate", "-c", cfg); r.code != 0 {
		t.Errorf("validate with the secret: exit %d\n%s", r.code, r.stderr)
	}
	if r := runBinary(t, bin, "secret", "list", "-c", cfg); r.code != 0 || !strings.Contains(r.stdout, "CRM_TOKEN") || strings.Contains(r.stdout, "tok-s3cret") {
		t.Errorf("secret list: exit %d\n%s", r.code, r.stdout)
	}
	if r := runBinary(t, bin, "secret", "delete", "CRM_TOKEN", "-c", cfg); r.code != 0 {
		t.Errorf("secret delete: exit %d\n%s", r.code, r.stderr)
	}
	if _, err := os.Stat(file); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("after delete: %v", err)
	}
}

func TestSecretSetRefusesAValueOnTheCommandLine(t *testing.T) {
	bin := erpbridgeBinary(t)
	cfg := filepath.Join(t.TempDir(), "erpbridge.toml")
	tests := []struct {
		name  string
		args  []string
		stdin string
		want  string
	}{
		{"value as an argument", []string{"secret", "set", "CRM_TOKEN", "tok-s3cret"}, "", "never from the command line"},
		{"a name that is no ${secret:NAME}", []string{"secret", "set", "crm-token"}, "x\n", "use letters, digits and _"},
		{"empty stdin", []string{"secret", "set", "CRM_TOKEN"}, "\n", "standard input is empty"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := append(tt.args, "-c", cfg)
			if os.Geteuid() == 0 {
				args = append(args, "--user", "root")
			}
			r := runBinaryIn(t, bin, strings.NewReader(tt.stdin), args...)
			if r.code != ExitUsage || !strings.Contains(r.stderr, tt.want) {
				t.Errorf("exit %d, want %d and %q:\n%s", r.code, ExitUsage, tt.want, r.stderr)
			}
			if strings.Contains(r.stdout+r.stderr, "tok-s3cret") {
				t.Errorf("the value is echoed:\n%s%s", r.stdout, r.stderr)
			}
			if _, err := os.Stat(filepath.Join(filepath.Dir(cfg), "secrets", "CRM_TOKEN")); err == nil {
				t.Error("a secret was stored")
			}
		})
	}
}
