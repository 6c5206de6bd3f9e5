package main

import (
	"context"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/erpbridge/erpbridge/erp/protheus/fixture"
)

// chromium returns the Chromium to drive; without one the test skips,
// except in CI (.ci/run installs Debian's chromium).
func chromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CI") != "" {
		t.Fatal("no chromium on PATH; .ci/run installs it")
	}
	t.Skip("no chromium on PATH (apt-get install chromium)")
	return ""
}

// freePort returns a loopback address free a moment ago.
func freePort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

var progressCount = regexp.MustCompile(`^(\d+) of (\d+)$`)

// TestStatusPageInBrowserIntegration opens the status page of a running
// `erpbridge run` (the demo's Protheus data, the simulator slowed to a
// CRM's pace) in headless Chromium and checks what a person sees: the
// stream rows, the backfill's bar moving as the page reloads itself, the
// error row of a bad record, and the record lookup. With
// ERPBRIDGE_SCREENSHOTS=DIR it saves the page's screenshot there (docs/).
func TestStatusPageInBrowserIntegration(t *testing.T) {
	if testing.Short() {
		t.Skip("runs erpbridge, a simulator and Chromium (skipped under -short)")
	}
	browser := chromium(t)
	bin := erpbridgeBinary(t)
	sim := startSim(t, bin)
	dir := t.TempDir()
	dsn := filepath.Join(dir, "erp.db")
	erpDB, _, err := fixture.CreateSQLite(t.Context(), dsn, fixture.Options{Customers: 60})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { erpDB.DB.Close() })
	if _, err := erpDB.AddMessyRecords(t.Context()); err != nil {
		t.Fatal(err)
	}
	put(t, sim.admin+"/faults", `{"slow":1,"slow_delay":"120ms"}`)
	addr := freePort(t)
	cfg := writeConfig(t, dir, "sqlite", dsn, sim, "")
	text, _ := os.ReadFile(cfg)
	text = []byte(strings.Replace(string(text), `addr = "127.0.0.1:0"`, `addr = "`+addr+`"`, 1))
	if err := os.WriteFile(cfg, text, 0o600); err != nil {
		t.Fatal(err)
	}
	// The browser first, so the page is open while the backfill runs.
	actx, cancel := chromedp.NewExecAllocator(t.Context(), append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(browser), chromedp.NoSandbox, chromedp.WindowSize(1400, 1000))...)
	defer cancel()
	ctx, cancel := chromedp.NewContext(actx)
	defer cancel()
	ctx, cancel = context.WithTimeout(ctx, 90*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, chromedp.Navigate("about:blank")); err != nil {
		t.Fatalf("starting %s: %v", browser, err)
	}

	_, out, _ := startBridge(t, bin, "", "run", "-c", cfg)
	base := "http://" + addr
	waitFor(t, 20*time.Second, "the status page to answer", func() bool {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			c.Close()
		}
		return err == nil
	})

	// The backfill's bar, read as the page reloads itself (no navigation).
	const count = chromedp.CSS(`tr[data-stream="customers"] td.progress span.count`)
	if err := chromedp.Do(ctx, chromedp.Navigate(base+"/"),
		chromedp.WaitVisible(chromedp.CSS(`tr[data-stream="products"]`)),
		chromedp.WaitVisible(count)); err != nil {
		t.Fatalf("the page showed no customers progress: %v\n%s", err, out.String())
	}
	first, err := chromedp.Run(ctx, chromedp.Text(count))
	if err != nil {
		t.Fatal(err)
	}
	m := progressCount.FindStringSubmatch(strings.TrimSpace(first))
	if m == nil {
		t.Fatalf("customers progress reads %q, want N of M", first)
	}
	moved := false
	for i := 0; i < 6 && !moved; i++ { // the page reloads every 5 s
		if err := chromedp.Do(ctx, chromedp.Sleep(2*time.Second)); err != nil {
			t.Fatal(err)
		}
		later, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(`tr[data-stream="customers"]`)))
		if err != nil {
			t.Fatal(err)
		}
		if lm := progressCount.FindStringSubmatch(strings.TrimSpace(countOf(later))); lm != nil {
			a, _ := strconv.Atoi(m[1])
			b, _ := strconv.Atoi(lm[1])
			moved = b > a
		} else {
			moved = strings.Contains(later, "idle") // finished between two reloads
		}
	}
	if !moved {
		t.Fatalf("the customers bar did not move from %q", first)
	}

	// When the backfill is done: the error row of the keyless customer,
	// and the screenshot.
	if err := chromedp.Do(ctx,
		chromedp.WaitVisible(chromedp.CSS(`tr.stream.state-idle[data-stream="customers"]`)),
		chromedp.WaitVisible(chromedp.CSS(`tr.error[data-stream="customers"]`))); err != nil {
		t.Fatalf("no error row for customers: %v", err)
	}
	errRow, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(`tr.error[data-stream="customers"]`)))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(errRow, "blank key") {
		t.Errorf("the customers error row reads %q, want the keyless record's reason", errRow)
	}
	if dir := os.Getenv("ERPBRIDGE_SCREENSHOTS"); dir != "" {
		png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "status-page.png"), png, 0o644); err != nil {
			t.Fatal(err)
		}
	}

	// The record lookup, as a person types it.
	key := fixture.StoreKey(customerKey("000010", "01")) // as the page lists it: company first
	history := chromedp.CSS(`article.history[data-stream="customers"]`)
	if err := chromedp.Do(ctx,
		chromedp.SendKeys(chromedp.CSS(`#lookup`), key),
		chromedp.Submit(chromedp.CSS(`#lookup`)),
		chromedp.WaitVisible(history)); err != nil {
		t.Fatalf("the lookup of %s showed no history: %v", key, err)
	}
	seen, err := chromedp.Run(ctx, chromedp.Text(history))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(seen, key) || !strings.Contains(seen, "create") || !strings.Contains(seen, "done") {
		t.Errorf("the history of %s reads %q, want its key and its confirmed create", key, seen)
	}

	// The data-flow map, linked from the page.
	if err := chromedp.Do(ctx, chromedp.Navigate(base+"/"), chromedp.Click(chromedp.CSS(`a[href="/map"]`)),
		chromedp.WaitVisible(chromedp.CSS(`svg`))); err != nil {
		t.Fatalf("the map did not open from the page: %v", err)
	}
	body, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(`body`)))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"SA1010 (customers)", "CRM organization", "customers: organization (ERP → CRM)"} {
		if !strings.Contains(body, want) {
			t.Errorf("the map page lacks %q", want)
		}
	}
	if dir := os.Getenv("ERPBRIDGE_SCREENSHOTS"); dir != "" {
		png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "data-flow-map.png"), png, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// countOf picks "N of M" out of a stream row's text.
func countOf(row string) string {
	return regexp.MustCompile(`\d+ of \d+`).FindString(row)
}
