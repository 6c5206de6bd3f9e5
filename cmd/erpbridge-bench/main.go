package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"time"

	"github.com/erpbridge/erpbridge/erp/protheus/fixture"
)

// options are the command's flags.
type options struct {
	rows     int
	pgDSN    string
	bin      string
	changes  int
	pageSize int
	keep     bool
	crm      string
}

func main() {
	if len(os.Args) == 3 && os.Args[1] == "crm-sink" {
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
		defer stop()
		if err := serveSink(ctx, os.Args[2]); err != nil {
			fmt.Fprintln(os.Stderr, "erpbridge-bench:", err)
			os.Exit(1)
		}
		return
	}
	var o options
	flag.IntVar(&o.rows, "rows", 1_000_000, "SA1 rows to generate and sync")
	flag.StringVar(&o.pgDSN, "pg", os.Getenv("ERPBRIDGE_TEST_PG_DSN"), "admin DSN of a PostgreSQL server (a database is created and dropped); default $ERPBRIDGE_TEST_PG_DSN")
	flag.StringVar(&o.bin, "erpbridge", "", "erpbridge binary to run (default: go build ./cmd/erpbridge into a temporary folder)")
	flag.IntVar(&o.changes, "changes", 100, "rows changed before the incremental poll")
	flag.IntVar(&o.pageSize, "page-size", 500, "erp.page_size of the bridge")
	flag.StringVar(&o.crm, "crm", "sim", "CRM to sync into, in its own process: sim (erpbridge sim, rdsim, the full contract) or sink (a minimal stand-in answering only what a customers sync calls)")
	flag.BoolVar(&o.keep, "keep", false, "keep the temporary folder (config, checkpoint store) and the database")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, o, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "erpbridge-bench:", err)
		os.Exit(1)
	}
}

// results are the figures the table reports.
type results struct {
	rows, blocked int
	crm           string
	fill          time.Duration
	backfill      syncResult
	unchanged     syncResult
	changed       int64
	overlap       int64
	poll          syncResult
	simPeak       int64
}

func run(ctx context.Context, o options, out, progress io.Writer) error {
	if o.pgDSN == "" {
		return fmt.Errorf("no PostgreSQL: pass -pg or set ERPBRIDGE_TEST_PG_DSN")
	}
	if o.rows < 1 || o.changes < 1 || o.pageSize < 1 {
		return fmt.Errorf("-rows, -changes and -page-size must be positive")
	}
	say := func(format string, args ...any) {
		fmt.Fprintf(progress, "%s "+format+"\n", append([]any{time.Now().Format("15:04:05")}, args...)...)
	}
	dir, err := os.MkdirTemp("", "erpbridge-bench-")
	if err != nil {
		return fmt.Errorf("creating a temporary folder: %w", err)
	}
	if o.keep {
		say("keeping %s", dir)
	} else {
		defer os.RemoveAll(dir)
	}
	bin := o.bin
	if bin == "" {
		bin = filepath.Join(dir, "erpbridge")
		say("building erpbridge")
		build := exec.CommandContext(ctx, "go", "build", "-o", bin, "github.com/erpbridge/erpbridge/cmd/erpbridge")
		build.Stdout, build.Stderr = progress, progress
		if err := build.Run(); err != nil {
			return fmt.Errorf("building erpbridge: %w", err)
		}
	}

	dsn, drop, err := fixture.CreatePostgresDatabase(ctx, o.pgDSN)
	if err != nil {
		return err
	}
	if o.keep {
		say("keeping database %s", dsn)
	} else {
		defer func() {
			if err := drop(context.WithoutCancel(ctx)); err != nil {
				fmt.Fprintln(progress, err)
			}
		}()
	}
	erpDB, err := fixture.OpenPostgres(dsn)
	if err != nil {
		return err
	}
	defer erpDB.DB.Close()
	// The fixture's DDL (padded CHARs, indexes, stamp trigger) with its few
	// rows; SA1 is then refilled at scale.
	if _, err := erpDB.Load(ctx, fixture.Options{Customers: 40}); err != nil {
		return err
	}
	res := results{rows: o.rows, blocked: blocked(o.rows), crm: o.crm}
	say("filling %s with %d rows", sa1, o.rows)
	start := time.Now()
	if err := fill(ctx, erpDB.DB, o.rows); err != nil {
		return err
	}
	res.fill = time.Since(start)
	say("filled in %s", res.fill.Round(time.Millisecond))

	sim, err := startCRM(ctx, o.crm, bin)
	if err != nil {
		return err
	}
	defer sim.stop()
	cfg := filepath.Join(dir, "erpbridge.toml")
	if err := writeConfig(cfg, filepath.Join(dir, "data"), sim.BaseURL, dsn, o.pageSize); err != nil {
		return err
	}

	say("(a) backfill: erpbridge sync --once (every row is new to the CRM)")
	if res.backfill, err = runSync(ctx, bin, cfg); err != nil {
		return err
	}
	say("    %s", oneLine(res.backfill))
	say("(b) unchanged full pass: erpbridge sync --once --full")
	if res.unchanged, err = runSync(ctx, bin, cfg, "--full"); err != nil {
		return err
	}
	say("    %s", oneLine(res.unchanged))

	if err := erpDB.DB.QueryRowContext(ctx, "SELECT count(*) FROM "+sa1+" WHERE S_T_A_M_P_ >= (SELECT max(S_T_A_M_P_) FROM "+sa1+") - interval '2 minutes'").Scan(&res.overlap); err != nil {
		return fmt.Errorf("counting the overlap window: %w", err)
	}
	if res.changed, err = changeRows(ctx, erpDB.DB, o.rows, o.changes); err != nil {
		return err
	}
	say("(c) incremental poll after %d changes: erpbridge sync --once", res.changed)
	if res.poll, err = runSync(ctx, bin, cfg); err != nil {
		return err
	}
	say("    %s", oneLine(res.poll))
	res.simPeak = sim.peakRSS()
	printTable(out, res)
	return nil
}

func oneLine(r syncResult) string {
	return fmt.Sprintf("read %d, created %d, updated %d, unchanged %d, skipped %d, failed %d, API calls %d; run %s, process %s, peak RSS %.1f MB",
		r.Read, r.Created, r.Updated, r.Unchanged, r.Skipped, r.Failed, r.APICalls, r.RunTime, r.Wall.Round(time.Millisecond), mb(r.PeakRSS))
}

// writeConfig writes the bridge's configuration: customers only, the
// client-side request budget off, logs at warn.
func writeConfig(path, dataDir, baseURL, dsn string, pageSize int) error {
	cfg := fmt.Sprintf(`data_dir = %q
[log]
level = "warn"
[crm]
base_url = %q
token = "sim-token"
requests_per_minute = -1
[erp]
driver = "postgres"
dsn = %q
page_size = %d
[streams.contacts]
enabled = false
[streams.products]
enabled = false
`, dataDir, baseURL, dsn, pageSize)
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		return fmt.Errorf("writing the bridge config: %w", err)
	}
	return nil
}
