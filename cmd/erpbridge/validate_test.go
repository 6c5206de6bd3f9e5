package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestValidateCompare: `erpbridge validate --compare` prints the settings
// two files set differently, with their lines, and nothing of the DSNs
// and secrets, which differ by design.
func TestValidateCompare(t *testing.T) {
	dir := t.TempDir()
	write := func(name, text string) string {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
		return path
	}
	homolog := write("homolog.toml", "[crm]\ntoken = \"homolog-token-7f3a\"\n[erp]\ndriver = \"sqlite\"\ndsn = \"homolog.db\"\n[streams.contacts]\nfilial = \"01\"\n")
	producao := write("producao.toml", "[crm]\ntoken = \"prod-token-9c2e\"\nrequests_per_minute = 60\n[erp]\ndriver = \"sqlite\"\ndsn = \"producao.db\"\n[streams.contacts]\nfilial = \"02\"\n")
	var out bytes.Buffer
	cmd := newRootCmd()
	cmd.SetOut(&out)
	cmd.SetErr(&out)
	cmd.SetArgs([]string{"validate", "-c", homolog, "--compare", producao})
	if err := cmd.Execute(); err != nil {
		t.Fatalf("validate --compare: %v\n%s", err, &out)
	}
	got := out.String()
	for _, want := range []string{
		"is valid\n2 setting(s) differ from " + producao + " (DSNs and secrets left out):",
		"crm.requests_per_minute   100  (default)   60  (line 3)",
		`streams.contacts.filial   "01"  (line 7)   "02"  (line 8)`,
	} {
		if !strings.Contains(got, want) {
			t.Errorf("output lacks %q:\n%s", want, got)
		}
	}
	for _, secret := range []string{"homolog-token-7f3a", "prod-token-9c2e", "homolog.db", "producao.db"} {
		if strings.Contains(got, secret) {
			t.Errorf("output shows %q:\n%s", secret, got)
		}
	}
}
