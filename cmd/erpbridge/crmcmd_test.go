package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/erpbridge/erpbridge/bridge/oauth"
	"github.com/erpbridge/erpbridge/bridge/store"
	crmv2 "github.com/erpbridge/erpbridge/rdstation/crm/v2"
	"github.com/erpbridge/erpbridge/rdstation/rdsim"
)

func writeV2Config(t *testing.T, dir, simURL, api, redirect string) string {
	t.Helper()
	text := fmt.Sprintf(`data_dir = "data"
[log]
level = "error"
[crm]
api = %q
v2_base_url = "%s/crm/v2"
client_id = %q
client_secret = %q
token_url = "%s/oauth2/token"
authorize_url = "%s/oauth/authorize"
redirect_uri = %q
requests_per_minute = -1
[erp]
driver = "sqlite"
dsn = "erp.db"
[streams.contacts]
filial = "01"
[streams.products]
price_table = "001"
`, api, simURL, rdsim.DefaultCRMv2ClientID, rdsim.DefaultCRMv2ClientSecret, simURL, simURL, redirect)
	path := filepath.Join(dir, "erpbridge.toml")
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// runAuthorize runs `erpbridge crm authorize` in the process; browser plays
// the admin with the address printed and returns what to type, if anything.
func runAuthorize(t *testing.T, cfg string, browser func(authURL string) string) (string, error) {
	t.Helper()
	outR, outW := io.Pipe()
	inR, inW := io.Pipe()
	cmd := newRootCmd()
	cmd.SetArgs([]string{"crm", "authorize", "-c", cfg})
	cmd.SetOut(outW)
	cmd.SetErr(outW)
	cmd.SetIn(inR)
	done := make(chan error, 1)
	go func() {
		err := cmd.ExecuteContext(context.Background())
		outW.Close()
		done <- err
	}()
	var out strings.Builder
	sc := bufio.NewScanner(outR)
	for sc.Scan() {
		line := sc.Text()
		out.WriteString(line + "\n")
		if u := strings.TrimSpace(line); strings.Contains(u, "/oauth/authorize?") {
			go func() {
				if typed := browser(u); typed != "" {
					_, _ = io.WriteString(inW, typed+"\n")
				}
			}()
		}
	}
	inW.Close()
	return out.String(), <-done
}

func loadGrant(t *testing.T, dir string) oauth.Token {
	t.Helper()
	st, err := store.Open(context.Background(), filepath.Join(dir, "data", "erpbridge.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	g, ok, err := oauth.Load(context.Background(), st, crmv2.GrantName)
	if err != nil || !ok {
		t.Fatalf("no grant stored: %v", err)
	}
	return g
}

// `erpbridge crm authorize` obtains the grant and keeps it in the
// checkpoint store: on a loopback redirect URI it receives the browser
// itself; otherwise the user pastes where the browser landed. The output
// never shows a token.
func TestCRMAuthorize(t *testing.T) {
	sim := rdsim.New(rdsim.Options{RequestsPerMinute: -1})
	srv := httptest.NewServer(sim)
	defer srv.Close()
	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

	t.Run("loopback", func(t *testing.T) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		port := ln.Addr().(*net.TCPAddr).Port
		ln.Close()
		dir := t.TempDir()
		cfg := writeV2Config(t, dir, srv.URL, "v2", fmt.Sprintf("http://127.0.0.1:%d/callback", port))
		out, err := runAuthorize(t, cfg, func(u string) string {
			res, err := http.Get(u) // follows the redirect to the command's listener
			if err != nil {
				t.Errorf("browser: %v", err)
				return ""
			}
			res.Body.Close()
			return ""
		})
		if err != nil {
			t.Fatalf("%v\n%s", err, out)
		}
		g := loadGrant(t, dir)
		if !strings.Contains(out, "the grant works") || strings.Contains(out, g.AccessToken) || strings.Contains(out, g.RefreshToken) {
			t.Fatalf("output:\n%s", out)
		}
	})
	t.Run("pasted", func(t *testing.T) {
		dir := t.TempDir()
		cfg := writeV2Config(t, dir, srv.URL, "v2", "https://bridge.example.com/callback")
		out, err := runAuthorize(t, cfg, func(u string) string {
			res, err := noFollow.Get(u)
			if err != nil {
				t.Errorf("browser: %v", err)
				return ""
			}
			res.Body.Close()
			return res.Header.Get("Location")
		})
		if err != nil {
			t.Fatalf("%v\n%s", err, out)
		}
		loadGrant(t, dir)
	})
	t.Run("pasted with another state", func(t *testing.T) {
		dir := t.TempDir()
		cfg := writeV2Config(t, dir, srv.URL, "v2", "https://bridge.example.com/callback")
		_, err := runAuthorize(t, cfg, func(string) string { return "https://bridge.example.com/callback?code=x&state=forged" })
		if err == nil || !strings.Contains(err.Error(), "state does not match") {
			t.Fatalf("forged state: %v", err)
		}
	})
	t.Run("api v1", func(t *testing.T) {
		dir := t.TempDir()
		cfg := writeV2Config(t, dir, srv.URL, "v1", "https://bridge.example.com/callback")
		if err := os.WriteFile(cfg, []byte(strings.Replace(mustRead(t, cfg), "[crm]\n", "[crm]\ntoken = \"t\"\n", 1)), 0o600); err != nil {
			t.Fatal(err)
		}
		_, err := runAuthorize(t, cfg, func(string) string { return "" })
		if err == nil || !strings.Contains(err.Error(), `set api = "v2"`) {
			t.Fatalf("api v1: %v", err)
		}
	})
}

func mustRead(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func osWriteFile(path string, b []byte) error { return os.WriteFile(path, b, 0o600) }
