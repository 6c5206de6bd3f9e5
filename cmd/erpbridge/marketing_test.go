package main

import (
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/erpbridge/erpbridge/erp/protheus/fixture"
	"github.com/erpbridge/erpbridge/rdstation/rdsim"
)

const marketingCallback = "https://example.com/erpbridge/callback"

// marketingConfig is the [marketing] table and both Marketing streams for
// the standalone simulator.
func marketingConfig(sim standaloneSim) string {
	return `[marketing]
enabled = true
base_url = "` + strings.TrimSuffix(sim.baseURL, "/api/v1") + `"
client_id = "` + rdsim.DefaultMarketingClientID + `"
client_secret = "` + rdsim.DefaultMarketingClientSecret + `"
redirect_uri = "` + marketingCallback + `"
requests_per_minute = -1
legal_bases = [{ category = "communications", type = "legitimate_interest", status = "granted" }]
[streams.marketing_contacts]
enabled = true
[streams.marketing_sales]
enabled = true
since = "20240101"
`
}

// TestMarketingCommands: check says Marketing is not authorized and how to
// fix it; `marketing authorize` stores the grant from the pasted callback
// address, after which check reads the account and says what
// marketing.events resolved to; the dry run counts the new Marketing
// contacts; `marketing forget` and `errors resolve` check what they are given.
func TestMarketingCommands(t *testing.T) {
	bin := erpbridgeBinary(t)
	sim := startSim(t, bin)
	dir := t.TempDir()
	_, _, dsn := createFixture(t, fixture.SQLite, dir)
	cfg := writeConfig(t, dir, "sqlite", dsn, sim, marketingConfig(sim))

	r := runBinary(t, bin, "check", "-c", cfg)
	if out := r.stdout + r.stderr; r.code == 0 || !strings.Contains(out, "not authorized") || !strings.Contains(out, "erpbridge marketing authorize") {
		t.Fatalf("check before authorizing exited %d:\n%s", r.code, out)
	}

	var answer struct{ Code string }
	sendJSON(t, "POST", sim.admin+"/marketing/authorize?"+url.Values{"client_id": {rdsim.DefaultMarketingClientID},
		"redirect_uri": {marketingCallback}}.Encode(), nil, &answer)
	r = runBinaryIn(t, bin, strings.NewReader(marketingCallback+"?code="+answer.Code+"\n"), "marketing", "authorize", "-c", cfg)
	if r.code != 0 || !strings.Contains(r.stdout, "/auth/dialog?client_id=") || !strings.Contains(r.stdout, "is authorized") {
		t.Fatalf("marketing authorize exited %d:\n%s%s", r.code, r.stdout, r.stderr)
	}
	r = runBinary(t, bin, "check", "-c", cfg)
	out := r.stdout + r.stderr
	for _, want := range []string{"authorized; the account has", "events: sales_and_lost", "none of the CRM's"} {
		if !strings.Contains(out, want) {
			t.Errorf("check after authorizing lacks %q (exit %d):\n%s", want, r.code, out)
		}
	}

	r = runBinary(t, bin, "sync", "--dry-run", "--stream", "marketing_contacts", "-c", cfg)
	if r.code != 0 {
		t.Fatalf("dry run exited %d:\n%s%s", r.code, r.stdout, r.stderr)
	}
	m := regexp.MustCompile(`marketing_contacts\s+dry-run\s+\d+\s+(\d+)`).FindStringSubmatch(r.stdout)
	if m == nil || m[1] == "0" {
		t.Fatalf("the dry run does not say how many new Marketing contacts the run creates:\n%s", r.stdout)
	}
	if want := "the next run creates " + m[1] + " new Marketing contacts"; !strings.Contains(out, want) {
		t.Fatalf("check does not say %q (the dry run's count):\n%s", want, out)
	}
	if r = runBinary(t, bin, "sync", "--stream", "marketing_contacts", "-c", cfg); r.code != 0 && r.code != ExitPartial {
		t.Fatalf("sync exited %d:\n%s%s", r.code, r.stdout, r.stderr)
	}
	if r = runBinary(t, bin, "check", "-c", cfg); !strings.Contains(r.stdout, "the next run creates 0 new Marketing contacts") {
		t.Fatalf("check after the run:\n%s%s", r.stdout, r.stderr)
	}

	if r = runBinary(t, bin, "marketing", "forget", "Fulano@Example.com", "-c", cfg); r.code != 0 || !strings.Contains(r.stdout, "will not be sent") {
		t.Fatalf("marketing forget exited %d:\n%s%s", r.code, r.stdout, r.stderr)
	}
	if r = runBinary(t, bin, "marketing", "forget", "not an address", "-c", cfg); r.code != ExitUsage {
		t.Fatalf("marketing forget of no e-mail exited %d:\n%s%s", r.code, r.stdout, r.stderr)
	}
	if r = runBinary(t, bin, "errors", "resolve", "--stream", "marketing_sales", "--key", "01|999999", "--sent", "-c", cfg); r.code == 0 ||
		!strings.Contains(r.stderr, "no parked write") {
		t.Fatalf("errors resolve of nothing exited %d:\n%s%s", r.code, r.stdout, r.stderr)
	}
	if r = runBinary(t, bin, "errors", "resolve", "--stream", "marketing_sales", "--key", "01|000004", "-c", cfg); r.code != ExitUsage {
		t.Fatalf("errors resolve without --sent or --resend exited %d", r.code)
	}
}
