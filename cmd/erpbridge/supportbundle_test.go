package main

import (
	"archive/zip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/erpbridge/erpbridge/erp/protheus/fixture"
	"github.com/erpbridge/erpbridge/rdstation/rdsim"
)

// TestSupportBundlePostgresIntegration: a bundle made after a sync holds
// every part (the redacted config, validate, check, doctor, status, runs,
// errors, the log's tail, the versions), and none of its files holds any
// of the secrets planted in the config — the CRM token and a REST
// password written out, the DSN's password, a ${secret:…} file and an
// ${ENV} variable — not even where the log quotes them, nor the CRM
// users check names.
func TestSupportBundlePostgresIntegration(t *testing.T) {
	dir := t.TempDir()
	_, _, dsn := createFixture(t, fixture.Postgres, dir)
	const (
		crmToken   = "crm-token-4b7a9e"
		dsnPass    = "dsn-pass-6d0e31"
		restPass   = "rest-pass-8f2c5a"
		fileSecret = "secret-file-token-1a9d"
		envSecret  = "env-http-token-3c7e"
	)
	secrets := []string{crmToken, dsnPass, restPass, fileSecret, envSecret}
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	u.User = url.UserPassword(u.User.Username(), dsnPass) // the test server trusts 127.0.0.1: any password does
	creds := t.TempDir()
	t.Setenv("CREDENTIALS_DIRECTORY", creds)
	if err := os.WriteFile(filepath.Join(creds, "REST_TOKEN"), []byte(fileSecret), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("BUNDLE_TEST_HTTP_TOKEN", envSecret)
	sim := httptest.NewServer(rdsim.New(rdsim.Options{Tokens: []string{crmToken}, RequestsPerMinute: -1}))
	t.Cleanup(sim.Close)
	logFile := filepath.Join(dir, "erpbridge.log")
	cfgPath := filepath.Join(dir, "erpbridge.toml")
	if err := os.WriteFile(cfgPath, []byte(fmt.Sprintf(`data_dir = %q
[log]
level = "info"
file = %q
[http]
addr = "127.0.0.1:0"
token = "${BUNDLE_TEST_HTTP_TOKEN}"
[crm]
base_url = %q
token = %q # the CRM's token: %s
requests_per_minute = -1
[erp]
driver = "postgres"
dsn = %q
[streams.contacts]
filial = %q
[streams.products]
price_table = %q
[won_deals.rest]
url = "http://127.0.0.1:9/rest/erpbridge/orders"
user = "erpbridge"
password = %q
token = "${secret:REST_TOKEN}"
`, filepath.Join(dir, "data"), logFile, sim.URL+"/api/v1", crmToken, crmToken, u.String(), fixture.ContactFilial, fixture.PriceTable, restPass)), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if out := runInProcess(ctx, "sync", "--config", cfgPath); !strings.Contains(string(out), "$ erpbridge sync") || strings.Contains(string(out), "exit status") {
		t.Fatalf("sync failed:\n%s", out)
	}
	// A log that quotes secrets, as a careless message would.
	lf, err := os.OpenFile(logFile, os.O_APPEND|os.O_WRONLY|os.O_CREATE, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range secrets {
		b, _ := json.Marshal(map[string]string{"level": "error", "msg": "connecting with " + s})
		fmt.Fprintf(lf, "%s\n", b)
	}
	if err := lf.Close(); err != nil {
		t.Fatal(err)
	}

	zipPath := filepath.Join(dir, "bundle.zip")
	if err := writeSupportBundle(ctx, cfgPath, zipPath, 1000, true); err != nil {
		t.Fatal(err)
	}
	files := readZip(t, zipPath)
	var names []string
	for name, text := range files {
		names = append(names, name)
		for _, s := range secrets {
			if strings.Contains(text, s) {
				t.Errorf("%s holds the secret %q:\n%s", name, s, text)
			}
		}
		// check names the token's owner and the CRM's users: people.
		if strings.Contains(text, "@sim.example") {
			t.Errorf("%s names a CRM user:\n%s", name, text)
		}
	}
	slices.Sort(names)
	want := []string{"README.txt", "check.txt", "config.toml", "doctor.txt", "errors.json", "log.txt", "runs.json", "status.json", "validate.txt", "versions.txt"}
	if !slices.Equal(names, want) {
		t.Errorf("the bundle holds %q, want %q", names, want)
	}
	for name, wants := range map[string][]string{
		"config.toml":  {`token = "REDACTED"`, `token = "${BUNDLE_TEST_HTTP_TOKEN}"`, `token = "${secret:REST_TOKEN}"`, `password = "REDACTED"`, "postgres://postgres:xxxxx@"},
		"validate.txt": {"is valid"},
		"check.txt":    {"$ erpbridge check", "  ok   (left out: it names a person)", "all checks passed"},
		"doctor.txt":   {"customers table SA1010", "S_T_A_M_P_"},
		"versions.txt": {"bridge:   erpbridge ", "database: PostgreSQL "},
		"status.json":  {`"stream": "customers"`},
		"runs.json":    {`"kind": "`},
		"log.txt":      {`"msg":"connecting with REDACTED"`},
	} {
		for _, w := range wants {
			if !strings.Contains(files[name], w) {
				t.Errorf("%s lacks %q:\n%s", name, w, files[name])
			}
		}
	}
	for _, name := range []string{"status.json", "runs.json", "errors.json"} {
		body := files[name][strings.Index(files[name], "\n")+1:] // after the command line
		if name == "runs.json" {
			body = files[name]
		}
		if !json.Valid([]byte(body)) {
			t.Errorf("%s is not JSON:\n%s", name, files[name])
		}
	}
	if err := writeSupportBundle(ctx, cfgPath, zipPath, 10, false); err == nil || !strings.Contains(err.Error(), "exists") {
		t.Errorf("a second bundle over the first: %v, want an error saying the file exists", err)
	}
}

// readZip returns the files of the zip at path by name.
func readZip(t *testing.T, path string) map[string]string {
	t.Helper()
	zr, err := zip.OpenReader(path)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	out := map[string]string{}
	for _, f := range zr.File {
		r, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(r)
		r.Close()
		if err != nil {
			t.Fatal(err)
		}
		out[f.Name] = string(b)
	}
	return out
}

// TestSupportBundleOfABrokenConfig: a config that does not load still
// gives a bundle — the redacted file, validate's message naming the key
// and line, the versions — and runs nothing else.
func TestSupportBundleOfABrokenConfig(t *testing.T) {
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "erpbridge.toml")
	if err := os.WriteFile(cfgPath, []byte("[crm]\ntoken = \"crm-token-literal-5e2d\"\ntokn = \"typo\"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	zipPath := filepath.Join(dir, "bundle.zip")
	if err := writeSupportBundle(context.Background(), cfgPath, zipPath, 10, true); err != nil {
		t.Fatal(err)
	}
	files := readZip(t, zipPath)
	var names []string
	for name, text := range files {
		names = append(names, name)
		if strings.Contains(text, "crm-token-literal-5e2d") {
			t.Errorf("%s holds the token:\n%s", name, text)
		}
	}
	slices.Sort(names)
	if want := []string{"README.txt", "config.toml", "validate.txt", "versions.txt"}; !slices.Equal(names, want) {
		t.Errorf("the bundle holds %q, want %q", names, want)
	}
	for name, w := range map[string]string{"validate.txt": "tokn", "README.txt": "does not load", "config.toml": `token = "REDACTED"`} {
		if !strings.Contains(files[name], w) {
			t.Errorf("%s lacks %q:\n%s", name, w, files[name])
		}
	}
}
