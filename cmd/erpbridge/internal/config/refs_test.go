package config

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/erpbridge/erpbridge/cmd/erpbridge/internal/components"

	"github.com/erpbridge/erpbridge/cmd/erpbridge/internal/secrets"
)

// writeConfig writes text as erpbridge.toml in a new folder, with secrets
// stored beside it.
func writeConfig(t *testing.T, text string, stored map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, v := range stored {
		if _, err := secrets.Write(filepath.Join(dir, "secrets"), name, []byte(v), secrets.Owner{UID: -1, GID: -1}); err != nil {
			t.Fatal(err)
		}
	}
	path := filepath.Join(dir, "erpbridge.toml")
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestSecretReferences(t *testing.T) {
	t.Setenv("CREDENTIALS_DIRECTORY", "")
	const doc = "# a comment\n[crm]\ntoken = \"${secret:CRM_TOKEN}\"\n[erp]\ndriver = \"sqlserver\"\ndsn = \"sqlserver://erp:${secret:ERP_PW}@db:1433?database=P\"\n"
	tests := []struct {
		name    string
		stored  map[string]string
		wantErr string
	}{
		{"both stored", map[string]string{"CRM_TOKEN": "tok-123", "ERP_PW": "p@ss;word"}, ""},
		{"one missing: key, line, name and how to set it", map[string]string{"CRM_TOKEN": "tok-123"},
			`line 6: key "erp.dsn": secret ERP_PW: not set: no ERP_PW in `},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := writeConfig(t, doc, tt.stored)
			cfg, err := Load(path)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) ||
					!strings.Contains(err.Error(), "(store it with: erpbridge secret set ERP_PW -c "+path+")") {
					t.Fatalf("err = %v, want %q and the command that stores it", err, tt.wantErr)
				}
				for _, v := range tt.stored {
					if strings.Contains(err.Error(), v) {
						t.Errorf("the error shows a secret's value: %v", err)
					}
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if components.CRM(cfg).Token != "tok-123" || components.ERP(cfg).DSN != "sqlserver://erp:p@ss;word@db:1433?database=P" {
				t.Errorf("token %q, dsn %q", components.CRM(cfg).Token, components.ERP(cfg).DSN)
			}
		})
	}
}

func TestSecretReferenceReadsSystemdCredentials(t *testing.T) {
	creds := t.TempDir()
	if err := os.WriteFile(filepath.Join(creds, "CRM_TOKEN"), []byte("from-systemd\n"), 0o400); err != nil {
		t.Fatal(err)
	}
	t.Setenv("CREDENTIALS_DIRECTORY", creds)
	path := writeConfig(t, "[crm]\ntoken = \"${secret:CRM_TOKEN}\"\n", nil)
	cfg, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if components.CRM(cfg).Token != "from-systemd" {
		t.Errorf("token = %q, want the credential", components.CRM(cfg).Token)
	}
}

// TestUnsetReferencesCanBeKept: service install checks a config whose
// secrets only the service has; what is not set is reported, not fatal.
func TestUnsetReferencesCanBeKept(t *testing.T) {
	t.Setenv("CREDENTIALS_DIRECTORY", "")
	path := writeConfig(t, "[crm]\ntoken = \"${secret:CRM_TOKEN}\"\n[erp]\ndsn = \"${ERPBRIDGE_TEST_UNSET}\"\n", nil)
	var refs []string
	cfg, err := LoadWith(path, func(string) (string, bool) { return "", false }, func(ref string) (string, bool) {
		refs = append(refs, ref)
		return "${" + ref + "}", true
	})
	if err != nil {
		t.Fatal(err)
	}
	if slices.Sort(refs); strings.Join(refs, ",") != "ERPBRIDGE_TEST_UNSET,secret:CRM_TOKEN" || components.CRM(cfg).Token != "${secret:CRM_TOKEN}" {
		t.Errorf("unset refs %q, token %q", refs, components.CRM(cfg).Token)
	}
}

func TestSecretInTextWithoutAFile(t *testing.T) {
	t.Setenv("CREDENTIALS_DIRECTORY", "")
	_, err := Parse([]byte("[crm]\ntoken = \"${secret:CRM_TOKEN}\"\n"), env(nil))
	if err == nil || !strings.Contains(err.Error(), `line 2: key "crm.token": secret CRM_TOKEN: not set (no config file, so no secrets folder)`) {
		t.Errorf("err = %v", err)
	}
}
