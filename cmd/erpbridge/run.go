package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/erpbridge/erpbridge/bridge"
	"github.com/erpbridge/erpbridge/bridge/alert"
	"github.com/erpbridge/erpbridge/bridge/health"
	"github.com/erpbridge/erpbridge/bridge/inbound"
	"github.com/erpbridge/erpbridge/bridge/store"
	"github.com/erpbridge/erpbridge/cmd/erpbridge/internal/config"
	"github.com/erpbridge/erpbridge/cmd/erpbridge/internal/wiring"
	"github.com/robfig/cron/v3"
	"github.com/spf13/cobra"
	"go.uber.org/zap"
)

// stopTimeout bounds a graceful stop: the in-flight record finishes (the
// engine gives its CRM call a few seconds of grace) and the store is flushed.
const stopTimeout = 10 * time.Second

func newRunCmd() *cobra.Command {
	var path string
	cmd := &cobra.Command{
		Use:   "run",
		Short: "Run the bridge in the foreground on its schedule",
		Long: `Run every enabled stream on its schedule (schedule.incremental, or the
stream's own) and the full pass on schedule.full_pass, until interrupted.
One sync runs at start. On SIGINT/SIGTERM the record in flight is finished
and persisted, and the process exits within 10 seconds.

The status page (/), /healthz, /readyz and /metrics (Prometheus) are
served on http.addr (default 127.0.0.1:8095; "" turns them off). On SIGHUP (Linux) the
configuration is read again: a valid one takes over once the record in
flight is finished; an invalid one is logged and the running one goes on.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := loadConfig(path)
			if err != nil {
				return err
			}
			log, closeLog, err := newLogger(cfg, cmd.ErrOrStderr())
			if err != nil {
				return usageError(err)
			}
			defer closeLog()
			return runBridge(cmd.Context(), cfg, log)
		},
	}
	configFlag(cmd, &path)
	return cmd
}

// runBridge opens the bridge for cfg and runs it on its schedule until ctx
// is done: the body of "erpbridge run", shared with the service entry point
// ("erpbridge service run"). It serves /healthz, /readyz and /metrics on
// http.addr, and on a reload signal (SIGHUP; none on Windows, where the
// service is restarted) re-reads the config file: a valid one replaces the
// running bridge once the record in flight is finished, an invalid one is
// logged and the running bridge goes on.
func runBridge(ctx context.Context, cfg *config.Config, log *zap.Logger) error {
	reloads, stopReloads := reloadSignals()
	defer stopReloads()
	rev, _ := buildCommit()
	mon := health.NewMonitor(health.Options{Logger: log, Version: version, Commit: rev})
	srv, err := startHealth(cfg.HTTP, mon, log)
	if err != nil {
		return err
	}
	defer func() { stopHealth(srv, log) }()

	alerts := &alert.Tracker{} // across reloads: an alert is not sent again because the config was re-read
	var prev *config.Config    // the config to go back to when the new one fails to open
	for {
		// The monitor counts records as they go and keeps each running
		// pass for the status page; the log gets a progress line per
		// stream every 30 s.
		budget := &budgetRecorder{ctx: ctx, log: log}
		b, err := wiring.Open(ctx, cfg, wiring.Options{Logger: log, ObserveRequest: mon.ObserveRequest,
			Observer: bridge.Observers(mon, bridge.LogProgress(log, bridge.ProgressEvery), budget)})
		if err != nil {
			if ctx.Err() != nil {
				// A stop request while the bridge opened (at start or on a
				// reload): a graceful stop, not a failure.
				log.Info("stopped while opening the bridge")
				return nil
			}
			if prev == nil {
				return err
			}
			log.Error("reload: opening the bridge with the new configuration failed; going back to the previous one", zap.Error(err))
			srv = moveHealth(srv, cfg.HTTP, prev.HTTP, mon, log)
			cfg, prev = prev, nil
			continue
		}
		prev = nil
		budget.b = b // before any run: the engine's runs start in runUntilReload
		t := b.Health()
		t.Map = func(w io.Writer) error {
			m, err := buildMap(b.Config)
			if err != nil {
				return err
			}
			return m.writeHTML(w)
		}
		mon.Attach(t)
		log.Info("erpbridge starting", zap.String("version", version), zap.String("config", b.Config.Path()),
			zap.String("store", b.Store.Path()), zap.Strings("streams", b.Engine.Streams()))
		alerts.Remind = b.Config.Alerts.Remind.D()
		next, err := runUntilReload(ctx, b, mon, log, reloads, &srv, alerts)
		mon.Detach()
		if cerr := b.Close(); cerr != nil {
			log.Warn("closing the bridge", zap.Error(cerr))
		}
		if err != nil || next == nil {
			return err
		}
		if next.Log != cfg.Log {
			log.Warn("reload: [log] changes take effect at the next start")
		}
		prev, cfg = cfg, next
		log.Info("reload: reopening the bridge with the new configuration", zap.String("config", cfg.Path()))
	}
}

// runUntilReload runs b on its schedule until ctx is done (it returns nil,
// nil) or a reload brings a valid config (it returns that config once the
// scheduler has stopped gracefully). An invalid config is logged and
// ignored. srv follows a changed [http] section.
func runUntilReload(ctx context.Context, b *wiring.Bridge, mon *health.Monitor, log *zap.Logger,
	reloads <-chan os.Signal, srv **health.Server, alerts *alert.Tracker) (*config.Config, error) {
	sctx, stop := context.WithCancel(ctx)
	defer stop()
	watching := make(chan struct{})
	go func() {
		defer close(watching)
		watchAlerts(sctx, b, alerts, log, AlertEvery)
	}()
	defer func() { stop(); <-watching }()
	done := make(chan error, 1)
	nightly := func(ctx context.Context) {
		warnStampIndexes(ctx, b, log)
		writes, runs, err := b.Prune(ctx, wiring.KeepDoneWrites, wiring.KeepRuns)
		if err != nil {
			log.Error("pruning the checkpoint store's history", zap.Error(err))
			return
		}
		log.Info("pruned the checkpoint store's history", zap.Int64("confirmed_writes", writes), zap.Int64("runs", runs))
	}
	// The engine's runs reach mon (and the budget recorder) as its
	// observers; the won-deal polls come through schedule.
	observe := func(rep bridge.Report) {
		mon.Observe(rep)
		recordBudget(sctx, b, log)
	}
	go func() { done <- schedule(sctx, b.Config, b.Engine, b.WonDeals, nightly, log, observe) }()
	for {
		select {
		case err := <-done:
			return nil, err
		case <-reloads:
			log.Info("reload: reading the configuration", zap.String("config", b.Config.Path()))
			next, err := loadConfig(b.Config.Path())
			if err != nil {
				log.Error("reload: the configuration is not valid; going on with the running one", zap.Error(err))
				continue
			}
			if next.HTTP.Addr != b.Config.HTTP.Addr {
				moved, err := startHealth(next.HTTP, mon, log)
				if err != nil {
					log.Error("reload: going on with the running configuration", zap.Error(err))
					continue
				}
				stopHealth(*srv, log)
				*srv = moved
			} else if *srv != nil {
				(*srv).SetToken(next.HTTP.Token)
			}
			stop()
			if err := <-done; err != nil {
				return nil, err
			}
			return next, nil
		}
	}
}

// warnStampIndexes logs, once, each table whose incremental poll no index
// on the change stamp serves any more (an ERP upgrade that rebuilt the
// table dropped it), with the fix: the nightly pass calls it, never a poll.
func warnStampIndexes(ctx context.Context, b *wiring.Bridge, log *zap.Logger) {
	for _, f := range b.VerifyStampIndexes(ctx) {
		log.Warn(f.Text, zap.String("fix", f.Fix))
	}
}

// startHealth starts the health server when h.Addr is set (nil otherwise).
func startHealth(h config.HTTP, mon *health.Monitor, log *zap.Logger) (*health.Server, error) {
	if !h.Enabled() {
		return nil, nil
	}
	srv, err := health.Listen(h.Addr, h.Token, mon, log)
	if err != nil {
		return nil, err
	}
	log.Info("health server listening", zap.String("addr", srv.Addr()),
		zap.String("endpoints", "/ (status page) /healthz /readyz /metrics"), zap.Bool("token", h.Token != ""))
	return srv, nil
}

// moveHealth moves the health server from the from section to the to
// section (going back after a failed reload); on failure it logs and keeps
// srv.
func moveHealth(srv *health.Server, from, to config.HTTP, mon *health.Monitor, log *zap.Logger) *health.Server {
	if from.Addr == to.Addr {
		if srv != nil {
			srv.SetToken(to.Token)
		}
		return srv
	}
	stopHealth(srv, log)
	moved, err := startHealth(to, mon, log)
	if err != nil {
		log.Error("reload: the health server could not go back to its address", zap.Error(err))
	}
	return moved
}

// stopHealth shuts the health server down, bounded by health.ShutdownTimeout.
func stopHealth(srv *health.Server, log *zap.Logger) {
	if srv == nil {
		return
	}
	if err := srv.Shutdown(context.Background()); err != nil {
		log.Warn("stopping the health server", zap.Error(err))
	}
}

// schedule runs the engine on cron until ctx is done, then stops gracefully.
// observe, when not nil, receives the report of every won-deal poll (the
// engine's own runs reach their observer through bridge.Options.Observer);
// nightly, when not nil, runs after each full pass (the stamp indexes
// verified, the store pruned).
func schedule(ctx context.Context, cfg *config.Config, e *bridge.Engine, won *inbound.Poller, nightly func(context.Context),
	log *zap.Logger, observe func(bridge.Report)) error {
	if observe == nil {
		observe = func(bridge.Report) {}
	}
	c := cron.New(cron.WithParser(config.CronParser), cron.WithChain(cron.SkipIfStillRunning(cronLogger{log})))
	sync := func(name string, so bridge.SyncOptions) func() {
		return func() {
			if ctx.Err() != nil {
				return
			}
			if name == "" {
				_, _ = e.SyncAll(ctx, so) // each run logs its own outcome
				return
			}
			_, _ = e.Sync(ctx, name, so)
		}
	}
	var shared []string
	for _, name := range e.Streams() {
		if spec := cfg.OwnSchedule(name); spec != "" {
			if _, err := c.AddFunc(spec, sync(name, bridge.SyncOptions{})); err != nil {
				return fmt.Errorf("scheduling %s: %w", name, err)
			}
			log.Info("scheduled", zap.String("stream", name), zap.String("cron", spec))
			continue
		}
		shared = append(shared, name)
	}
	if len(shared) > 0 {
		names := shared
		if _, err := c.AddFunc(cfg.Schedule.Incremental, func() {
			for _, n := range names {
				sync(n, bridge.SyncOptions{})()
			}
		}); err != nil {
			return fmt.Errorf("scheduling schedule.incremental: %w", err)
		}
		log.Info("scheduled", zap.Strings("streams", shared), zap.String("cron", cfg.Schedule.Incremental))
	}
	full := sync("", bridge.SyncOptions{Full: true})
	if nightly != nil {
		// The nightly pass also verifies the stamp indexes and prunes the
		// store's history.
		syncFull := full
		full = func() {
			syncFull()
			if ctx.Err() == nil {
				nightly(ctx)
			}
		}
	}
	if won != nil {
		// The nightly pass also sweeps the last 30 days of won deals for any
		// a poll missed.
		engineFull := full
		full = func() {
			engineFull()
			if ctx.Err() != nil {
				return
			}
			if rep, err := won.Sweep(ctx); err != nil {
				log.Error("won deals: sweep failed", zap.String("stream", inbound.Stream), zap.Error(err))
			} else {
				log.Info("won deals: sweep finished", zap.String("stream", inbound.Stream), zap.Int("listed", rep.Listed), zap.Int("sent", rep.Sent))
			}
		}
	}
	if _, err := c.AddFunc(cfg.Schedule.FullPass, full); err != nil {
		return fmt.Errorf("scheduling schedule.full_pass: %w", err)
	}
	log.Info("scheduled full pass", zap.String("cron", cfg.Schedule.FullPass))
	if won != nil {
		spec := cfg.OwnSchedule(inbound.Stream)
		if spec == "" {
			spec = cfg.Schedule.Incremental
		}
		if _, err := c.AddFunc(spec, func() { runWonDeals(ctx, won, log, observe) }); err != nil {
			return fmt.Errorf("scheduling won_deals.schedule: %w", err)
		}
		log.Info("scheduled", zap.String("stream", inbound.Stream), zap.String("cron", spec))
	}

	first := make(chan struct{})
	go func() {
		defer close(first)
		sync("", bridge.SyncOptions{})()
		if won != nil {
			runWonDeals(ctx, won, log, observe)
		}
	}()
	c.Start()
	<-ctx.Done()
	log.Info("stopping: finishing the record in flight")
	stopped := c.Stop()
	deadline := time.NewTimer(stopTimeout)
	defer deadline.Stop()
	for _, done := range []<-chan struct{}{stopped.Done(), first} {
		select {
		case <-done:
		case <-deadline.C:
			return errors.New("stopping: a sync did not finish within 10s")
		}
	}
	log.Info("stopped")
	return nil
}

// runWonDeals runs the won-deal poll once and logs its outcome.
func runWonDeals(ctx context.Context, won *inbound.Poller, log *zap.Logger, observe func(bridge.Report)) {
	if ctx.Err() != nil {
		return
	}
	start := time.Now()
	rep, err := won.Run(bridge.WithStream(ctx, inbound.Stream))
	fields := []zap.Field{zap.String("stream", inbound.Stream), zap.Duration("took", time.Since(start)),
		zap.Int("listed", rep.Listed), zap.Int("sent", rep.Sent), zap.Int("ordered", rep.Ordered),
		zap.Int("waiting", rep.Waiting), zap.Int("rejected", rep.Rejected), zap.Int("invalid", rep.Invalid), zap.Int("lost", rep.Lost),
		zap.Int("other_pipeline", rep.OtherPipeline)}
	// The health monitor and metrics see the poll like a stream's run.
	observe(bridge.Report{Stream: inbound.Stream, Kind: store.RunIncremental, Duration: time.Since(start), Err: err, Stats: rep.Stats()})
	if err != nil && ctx.Err() != nil && errors.Is(err, ctx.Err()) {
		log.Info("won deals: run interrupted by a stop request", fields...)
		return
	}
	if err != nil {
		log.Error("won deals: run failed", append(fields, zap.Error(err))...)
		return
	}
	log.Info("won deals: run finished", fields...)
}

// cronLogger adapts zap to cron's logger.
type cronLogger struct{ l *zap.Logger }

func (c cronLogger) Info(msg string, kv ...any) { c.l.Debug("cron: "+msg, zap.Any("details", kv)) }
func (c cronLogger) Error(err error, msg string, kv ...any) {
	c.l.Error("cron: "+msg, zap.Error(err), zap.Any("details", kv))
}

// budgetRecorder records the CRM budget in the store after every engine
// run, for `erpbridge status` (which connects to nothing).
type budgetRecorder struct {
	ctx context.Context
	log *zap.Logger
	b   *wiring.Bridge
}

func (r *budgetRecorder) Progress(bridge.Progress) {}
func (r *budgetRecorder) Wrote(bridge.Write)       {}
func (r *budgetRecorder) Finished(bridge.Report)   { recordBudget(r.ctx, r.b, r.log) }

// recordBudget keeps the CRM budget's figures in the store for status.
func recordBudget(ctx context.Context, b *wiring.Bridge, log *zap.Logger) {
	if b == nil {
		return
	}
	if err := b.RecordBudget(ctx); err != nil {
		log.Warn("recording the CRM budget for erpbridge status", zap.Error(err))
	}
}
