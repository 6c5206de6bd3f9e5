package main

import (
	"context"
	"io"
	"os"
	"strconv"

	"github.com/erpbridge/erpbridge/bridge"
	"github.com/erpbridge/erpbridge/bridge/store"
	"github.com/erpbridge/erpbridge/cmd/erpbridge/internal/config"
	"github.com/erpbridge/erpbridge/cmd/erpbridge/internal/logging"
	"github.com/erpbridge/erpbridge/cmd/erpbridge/internal/wiring"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
)

// newLogger builds the logger for cfg: readable text on console (stderr by
// default; with priority prefixes when it is the systemd journal), JSON in
// log.file when set.
func newLogger(cfg *config.Config, console io.Writer) (*zap.Logger, func(), error) {
	return newLoggerWith(cfg, console, nil)
}

// newLoggerWith is newLogger with a system core (the Windows Event Log)
// receiving the entries too.
func newLoggerWith(cfg *config.Config, console io.Writer, system zapcore.Core) (*zap.Logger, func(), error) {
	if console == nil {
		console = os.Stderr
	}
	f, _ := console.(*os.File)
	return logging.New(logging.Options{
		Level: cfg.Log.Level, Console: console, File: cfg.Log.File,
		MaxSizeMB: cfg.Log.MaxSizeMB, MaxAgeDays: cfg.Log.MaxAgeDays, MaxBackups: cfg.Log.MaxBackups,
		Journal: logging.JournalStream(f), System: system,
	})
}

// openStore loads the config and opens only the checkpoint store: for the
// commands that read or tend it (status, errors, resync) next to a running
// service. Close the store when done.
func openStore(ctx context.Context, path string) (*config.Config, *store.Store, error) {
	cfg, err := loadConfig(path)
	if err != nil {
		return nil, nil, err
	}
	st, err := wiring.OpenStore(ctx, cfg)
	if err != nil {
		return nil, nil, err
	}
	return cfg, st, nil
}

// FailpointEnv names a crash point for the kill tests. With
// ERPBRIDGE_FAILPOINT=won_deals.after_submit the process exits at once
// (no deferred writes, like a SIGKILL) right after the ERP answered a won
// deal's order and before the checkpoint store recorded the answer: the
// narrowest window for a duplicate order. ERPBRIDGE_FAILPOINT_SKIP lets
// that many answers through first. Never set them in production.
const FailpointEnv = "ERPBRIDGE_FAILPOINT"

func failpoint() func() {
	if os.Getenv(FailpointEnv) != "won_deals.after_submit" {
		return nil
	}
	skip, _ := strconv.Atoi(os.Getenv(FailpointEnv + "_SKIP"))
	n := 0
	return func() {
		if n == skip {
			os.Exit(137)
		}
		n++
	}
}

// openBridge loads the config, builds the logger and opens the bridge.
// The returned function closes everything.
// With dryRun, a checkpoint store that does not exist yet is not created:
// the dry run works on a throwaway one. progress, when not nil, makes the
// observer of the runs from the console and the logger.
func openBridge(ctx context.Context, path string, console io.Writer, dryRun bool,
	progress func(io.Writer, *zap.Logger) bridge.Observer) (*wiring.Bridge, *zap.Logger, func(), error) {
	cfg, err := loadConfig(path)
	if err != nil {
		return nil, nil, nil, err
	}
	log, closeLog, err := newLogger(cfg, console)
	if err != nil {
		return nil, nil, nil, usageError(err)
	}
	var obs bridge.Observer
	if progress != nil {
		obs = progress(console, log)
	}
	b, err := wiring.Open(ctx, cfg, wiring.Options{Logger: log, DryRun: dryRun, AfterOrderSubmit: failpoint(), Observer: obs})
	if err != nil {
		closeLog()
		return nil, nil, nil, err
	}
	return b, log, func() { _ = b.Close(); closeLog() }, nil
}
