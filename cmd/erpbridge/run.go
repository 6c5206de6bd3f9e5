package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/erpbridge/erpbridge/bridge"
	"github.com/erpbridge/erpbridge/cmd/erpbridge/internal/config"
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
and persisted, and the process exits within 10 seconds.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			b, log, closeAll, err := openBridge(cmd.Context(), path, cmd.ErrOrStderr(), false)
			if err != nil {
				return err
			}
			defer closeAll()
			log.Info("erpbridge starting", zap.String("version", version), zap.String("config", b.Config.Path()),
				zap.String("store", b.Store.Path()), zap.Strings("streams", b.Engine.Streams()))
			return schedule(cmd.Context(), b.Config, b.Engine, log)
		},
	}
	configFlag(cmd, &path)
	return cmd
}

// schedule runs the engine on cron until ctx is done, then stops gracefully.
func schedule(ctx context.Context, cfg *config.Config, e *bridge.Engine, log *zap.Logger) error {
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
	own := map[string]string{
		"customers": cfg.Streams.Customers.Schedule,
		"contacts":  cfg.Streams.Contacts.Schedule,
		"products":  cfg.Streams.Products.Schedule,
	}
	var shared []string
	for _, name := range e.Streams() {
		if spec := own[name]; spec != "" {
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
	if _, err := c.AddFunc(cfg.Schedule.FullPass, sync("", bridge.SyncOptions{Full: true})); err != nil {
		return fmt.Errorf("scheduling schedule.full_pass: %w", err)
	}
	log.Info("scheduled full pass", zap.String("cron", cfg.Schedule.FullPass))

	first := make(chan struct{})
	go func() { defer close(first); sync("", bridge.SyncOptions{})() }()
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

// cronLogger adapts zap to cron's logger.
type cronLogger struct{ l *zap.Logger }

func (c cronLogger) Info(msg string, kv ...any) { c.l.Debug("cron: "+msg, zap.Any("details", kv)) }
func (c cronLogger) Error(err error, msg string, kv ...any) {
	c.l.Error("cron: "+msg, zap.Error(err), zap.Any("details", kv))
}
