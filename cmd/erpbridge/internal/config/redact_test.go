package config

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/pelletier/go-toml/v2"
)

// TestRedacted: the config a support bundle carries has no secret left —
// not a literal token or password, not a DSN's password, not a URL's, not
// what a comment holds — keeps the references that name secrets, and
// keeps every line where it was.
func TestRedacted(t *testing.T) {
	text := `# erpbridge for ACME — old token: tok-in-a-comment-41d2
data_dir = "data"
[crm]
token = "crm-token-literal-8e1b"   # pasted from the CRM
[erp]
driver = "postgres"
dsn = "postgres://erpbridge:dsn-pass-literal-77aa@db:5432/protheus?sslmode=disable"
[erp.rest]
password = "${secret:ERP_REST_PASSWORD}"
[http]
token = "${ERPBRIDGE_HTTP_TOKEN}"
[won_deals]
enabled = true
sink = "rest"
filial = "01"
pipelines = [ # pipelines, and a secret-in-an-array-c1
  "Funil de Vendas", # secret-after-a-value-c2
  # secret-in-a-run-c3
  # secret-in-a-run-c4
]
[won_deals.rest]
url = "https://erpbridge:url-pass-literal-19cc@app:8080/rest/orders"
password = """multi-line-pass-5b"""
[streams.customers.mapping.custom_fields]
"Segmento" = "A1_XSEGMEN" # the segment
`
	path := filepath.Join(t.TempDir(), "erpbridge.toml")
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	got, err := Redacted(path)
	if err != nil {
		t.Fatal(err)
	}
	out := string(got)
	for _, secret := range []string{"tok-in-a-comment-41d2", "crm-token-literal-8e1b", "dsn-pass-literal-77aa", "url-pass-literal-19cc", "multi-line-pass-5b", "pasted from", "the segment",
		"secret-in-an-array-c1", "secret-after-a-value-c2", "secret-in-a-run-c3", "secret-in-a-run-c4"} {
		if strings.Contains(out, secret) {
			t.Errorf("the redacted config holds %q:\n%s", secret, out)
		}
	}
	for _, kept := range []string{`password = "${secret:ERP_REST_PASSWORD}"`, `token = "${ERPBRIDGE_HTTP_TOKEN}"`, `token = "REDACTED"`,
		`dsn = "postgres://erpbridge:xxxxx@db:5432/protheus?sslmode=disable"`, `"Segmento" = "A1_XSEGMEN"`} {
		if !strings.Contains(out, kept) {
			t.Errorf("the redacted config lacks %s:\n%s", kept, out)
		}
	}
	if a, b := strings.Count(text, "\n"), strings.Count(out, "\n"); a != b {
		t.Errorf("%d lines became %d", a, b)
	}
	if !strings.HasPrefix(strings.Split(out, "\n")[6], "dsn = ") {
		t.Errorf("line 7 is no longer the DSN:\n%s", out)
	}
	var m map[string]any
	if err := toml.Unmarshal(got, &m); err != nil {
		t.Errorf("the redacted config is not TOML: %v\n%s", err, out)
	}
}

// TestSecretValues: the secrets a loaded config holds are every resolved
// ${secret:NAME} (wherever it is used), token and password, and the
// password a DSN or any other URL holds; not what is no secret.
func TestSecretValues(t *testing.T) {
	creds := t.TempDir()
	t.Setenv("CREDENTIALS_DIRECTORY", creds)
	for name, value := range map[string]string{"ERP_DB_PASSWORD": "secret-file-pass-3f9d", "REST_BASE": "https://secret-base-url-61ab"} {
		if err := os.WriteFile(filepath.Join(creds, name), []byte(value), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	path := filepath.Join(t.TempDir(), "erpbridge.toml")
	if err := os.WriteFile(path, []byte(`[crm]
token = "${CRM_TOKEN}"
base_url = "${secret:REST_BASE}/api/v1"
[erp]
driver = "postgres"
dsn = "postgres://erpbridge:${secret:ERP_DB_PASSWORD}@db:5432/protheus"
[won_deals.rest]
url = "${REST_URL}"
user = "erpbridge"
password = "rest-pass-literal-2c4e"
`), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := LoadWithEnv(path, env(map[string]string{"CRM_TOKEN": "env-token-value-0a7f", "REST_URL": "https://erpbridge:url-pass-env-4d1b@app:8080/rest/orders"}))
	if err != nil {
		t.Fatal(err)
	}
	got := cfg.SecretValues()
	for _, want := range []string{"secret-file-pass-3f9d", "https://secret-base-url-61ab", "env-token-value-0a7f", "rest-pass-literal-2c4e", "url-pass-env-4d1b"} {
		if !slices.Contains(got, want) {
			t.Errorf("SecretValues lacks %q: %q", want, got)
		}
	}
	for _, not := range []string{"erpbridge", "postgres", "db"} {
		if slices.Contains(got, not) {
			t.Errorf("SecretValues holds %q, no secret", not)
		}
	}
}
