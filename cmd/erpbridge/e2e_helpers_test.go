package main

import (
	"bufio"
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/erpbridge/erpbridge/erp"
	"github.com/erpbridge/erpbridge/erp/protheus/fixture"
	"github.com/erpbridge/erpbridge/rdstation/rdsim"
)

// e2eToken is the API token of the standalone simulators of these tests.
const e2eToken = "e2e-token-5f1c9a"

// builtBinary is the erpbridge binary built once for this test binary's
// tests (TestMain removes its folder).
var builtBinary struct {
	once sync.Once
	dir  string
	path string
	err  error
}

func TestMain(m *testing.M) {
	code := m.Run()
	if builtBinary.dir != "" {
		os.RemoveAll(builtBinary.dir)
	}
	os.Exit(code)
}

// erpbridgeBinary builds the command once (skipping under -short) and
// returns its path.
func erpbridgeBinary(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("end-to-end test of the built binary: skipped under -short")
	}
	b := &builtBinary
	b.once.Do(func() {
		if b.dir, b.err = os.MkdirTemp("", "erpbridge-e2e-"); b.err != nil {
			return
		}
		b.path = filepath.Join(b.dir, "erpbridge")
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		out, err := exec.CommandContext(ctx, "go", "build", "-o", b.path, ".").CombinedOutput()
		if err != nil {
			b.err = fmt.Errorf("building erpbridge: %w\n%s", err, out)
		}
	})
	if b.err != nil {
		t.Fatal(b.err)
	}
	return b.path
}

// standaloneSim is an `erpbridge sim` subprocess.
type standaloneSim struct {
	baseURL string // http://127.0.0.1:PORT/api/v1
	admin   string // http://127.0.0.1:PORT/_sim
}

// startSim starts `erpbridge sim` on a free loopback port, the CRM
// unthrottled, with the extra flags, waits for its "listening" line and
// kills it when the test ends.
func startSim(t *testing.T, bin string, extra ...string) standaloneSim {
	t.Helper()
	cmd := exec.Command(bin, append([]string{"sim", "--addr", "127.0.0.1:0", "--token", e2eToken, "--rpm", "-1", "--seed", "1"}, extra...)...)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting simulator: %v", err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	found := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		listening := false
		for sc.Scan() {
			line := sc.Text()
			listening = listening || strings.Contains(line, "listening")
			if url, ok := strings.CutPrefix(strings.TrimSpace(line), "base URL:"); ok && listening {
				found <- strings.TrimSpace(url)
			}
		}
		close(found)
		_, _ = io.Copy(io.Discard, stdout)
	}()
	select {
	case url, ok := <-found:
		if !ok {
			t.Fatalf("simulator exited before listening: %s", stderr.String())
		}
		return standaloneSim{baseURL: url, admin: strings.TrimSuffix(url, "/api/v1") + "/_sim"}
	case <-time.After(15 * time.Second):
		t.Fatalf("simulator did not print its listening line in 15s: %s", stderr.String())
	}
	return standaloneSim{}
}

// getJSON decodes the JSON answer of a GET on the simulator's admin surface.
func getJSON(t *testing.T, url string, v any) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s", url, resp.Status)
	}
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		t.Fatalf("GET %s: decoding: %v", url, err)
	}
}

// sendJSON sends v as JSON to the simulator's admin surface and decodes
// its answer into out (nil: read and dropped).
func sendJSON(t *testing.T, method, url string, v, out any) {
	t.Helper()
	body, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, method, url, bytes.NewReader(body))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("%s %s: %s: %s", method, url, resp.Status, b)
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			t.Fatalf("%s %s: decoding: %v", method, url, err)
		}
	}
}

// seed adds records to the simulator without API validation.
func (s standaloneSim) seed(t *testing.T, sd rdsim.SeedData) {
	t.Helper()
	sendJSON(t, http.MethodPost, s.admin+"/seed", sd, nil)
}

// setFaults replaces the simulator's faults (rdsim.Faults{} turns them off).
func (s standaloneSim) setFaults(t *testing.T, f rdsim.Faults) {
	t.Helper()
	sendJSON(t, http.MethodPut, s.admin+"/faults", f, nil)
}

// faults reads the simulator's faults: a script shrinks as it is consumed.
func (s standaloneSim) faults(t *testing.T) rdsim.Faults {
	t.Helper()
	var f rdsim.Faults
	getJSON(t, s.admin+"/faults", &f)
	return f
}

func (s standaloneSim) state(t *testing.T) rdsim.State {
	t.Helper()
	var st rdsim.State
	getJSON(t, s.admin+"/state", &st)
	return st
}

func (s standaloneSim) counts(t *testing.T) rdsim.RequestCounts {
	t.Helper()
	var c rdsim.RequestCounts
	getJSON(t, s.admin+"/requests", &c)
	return c
}

// runResult is how one erpbridge run ended.
type runResult struct {
	code           int
	stdout, stderr string
}

// runBinary runs erpbridge with args (bounded to a minute) and returns its
// exit code and output.
func runBinary(t *testing.T, bin string, args ...string) runResult {
	t.Helper()
	return runBinaryIn(t, bin, nil, args...)
}

// runBinaryIn is runBinary with stdin (nil: none).
func runBinaryIn(t *testing.T, bin string, stdin io.Reader, args ...string) runResult {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Stdin = stdin
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	r := runResult{stdout: stdout.String(), stderr: stderr.String()}
	var ee *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &ee):
		r.code = ee.ExitCode()
	default:
		t.Fatalf("running erpbridge %s: %v", strings.Join(args, " "), err)
	}
	if ctx.Err() != nil {
		t.Fatalf("erpbridge %s did not finish in a minute", strings.Join(args, " "))
	}
	return r
}

// writeConfig writes an erpbridge.toml for the ERP and the simulator into
// dir and returns its path; extra is appended (its [streams.customers]
// table, if any) and contacts are keys of [streams.contacts].
func writeConfig(t *testing.T, dir, driver, dsn string, sim standaloneSim, extra string, contacts ...string) string {
	t.Helper()
	text := fmt.Sprintf(`data_dir = "erpbridge-data"
[http]
addr = "127.0.0.1:0"
[log]
level = "error"
[crm]
base_url = %q
token = %q
requests_per_minute = -1
timeout = "5s"
[erp]
driver = %q
dsn = %q
[streams.contacts]
filial = %q
%s
[streams.products]
price_table = %q
%s`, sim.baseURL, e2eToken, driver, dsn, fixture.ContactFilial, strings.Join(contacts, "\n"), fixture.PriceTable, extra)
	path := filepath.Join(dir, "erpbridge.toml")
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// createFixture writes the Protheus fixture to SQLite (in dir) or to a
// fresh PostgreSQL database dropped when the test ends.
func createFixture(t *testing.T, kind fixture.Kind, dir string) (fixture.ERP, fixture.Expect, string) {
	t.Helper()
	ctx := context.Background()
	if kind == fixture.SQLite {
		path := filepath.Join(dir, "erp.db")
		fx, exp, err := fixture.CreateSQLite(ctx, path, fixture.Options{})
		if err != nil {
			t.Fatalf("creating SQLite fixture: %v", err)
		}
		t.Cleanup(func() { fx.DB.Close() })
		return fx, exp, path
	}
	fx, dsn := fixture.NewPostgres(t)
	exp, err := fx.Load(ctx, fixture.Options{})
	if err != nil {
		t.Fatalf("loading PostgreSQL fixture: %v", err)
	}
	return fx, exp, dsn
}

func customerKey(cod, loja string) string { return erp.JoinKey(fixture.SharedFilial, cod, loja) }
func contactKey(cod string) string        { return erp.JoinKey(fixture.ContactFilial, cod) }

// rows reads every row of query as right-trimmed strings.
func rows(t *testing.T, db *sql.DB, query string) [][]string {
	t.Helper()
	rs, err := db.QueryContext(context.Background(), query)
	if err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	defer rs.Close()
	cols, _ := rs.Columns()
	var out [][]string
	for rs.Next() {
		vals, ptrs := make([]any, len(cols)), make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rs.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		row := make([]string, len(cols))
		for i, v := range vals {
			if b, ok := v.([]byte); ok {
				v = string(b)
			}
			if v != nil {
				row[i] = strings.TrimRight(fmt.Sprint(v), " ")
			}
		}
		out = append(out, row)
	}
	if err := rs.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// latin1 decodes text that is not UTF-8 as ISO-8859-1 (the fixture's bytes).
func latin1(s string) string {
	if utf8.ValidString(s) {
		return s
	}
	r := make([]rune, len(s))
	for i := 0; i < len(s); i++ {
		r[i] = rune(s[i])
	}
	return string(r)
}

// statusJSON is the part of `erpbridge status --json` these tests read.
type statusJSON struct {
	Streams []struct {
		Stream  string         `json:"stream"`
		Records int64          `json:"records"`
		InCRM   int64          `json:"records_in_crm"`
		Outbox  map[string]int `json:"outbox"`
		LastRun *struct {
			Status string `json:"status"`
			Error  string `json:"error"`
		} `json:"last_run"`
	} `json:"streams"`
}

// errorRow is one row of `erpbridge errors list --json`.
type errorRow struct {
	Stream string `json:"stream"`
	ERPKey string `json:"erp_key"`
	CRMID  string `json:"crm_id"`
	State  string `json:"state"`
	Level  string `json:"level"`
	Error  string `json:"error"`
}

func readStatus(t *testing.T, bin, cfg string) statusJSON {
	t.Helper()
	r := runBinary(t, bin, "status", "--json", "-c", cfg)
	if r.code != 0 {
		t.Fatalf("erpbridge status --json: exit %d: %s", r.code, r.stderr)
	}
	var s statusJSON
	if err := json.Unmarshal([]byte(r.stdout), &s); err != nil {
		t.Fatalf("decoding status --json: %v\n%s", err, r.stdout)
	}
	return s
}

func readErrors(t *testing.T, bin, cfg string) []errorRow {
	t.Helper()
	r := runBinary(t, bin, "errors", "list", "--json", "-c", cfg)
	if r.code != 0 {
		t.Fatalf("erpbridge errors list --json: exit %d: %s", r.code, r.stderr)
	}
	var rows []errorRow
	if err := json.Unmarshal([]byte(r.stdout), &rows); err != nil {
		t.Fatalf("decoding errors list --json: %v\n%s", err, r.stdout)
	}
	return rows
}

// syncBuffer is a bytes.Buffer that a process writes while the test reads.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// startBridge starts a long-running `erpbridge args…` (run, service run)
// in dir ("" = the test's working folder), its stdout and stderr in out;
// exited receives its exit once. It is killed when the test ends.
func startBridge(t *testing.T, bin, dir string, args ...string) (cmd *exec.Cmd, out *syncBuffer, exited <-chan error) {
	t.Helper()
	cmd = exec.Command(bin, args...)
	cmd.Dir = dir
	out = &syncBuffer{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done, waited := make(chan error, 1), make(chan struct{})
	go func() {
		done <- cmd.Wait()
		close(waited) // the test may have taken the exit from done
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		select {
		case <-waited:
		case <-time.After(5 * time.Second):
		}
	})
	return cmd, out, done
}
