package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/erpbridge/erpbridge/bridge/alert"
	"github.com/erpbridge/erpbridge/cmd/erpbridge/internal/wiring"
	"github.com/spf13/cobra"
	"go.uber.org/zap"
)

// AlertEvery is how often `erpbridge run` evaluates the alert conditions.
const AlertEvery = time.Minute

// watchAlerts evaluates b's alert conditions every `every` until ctx is
// done and sends what tr says to every configured channel (webhook,
// e-mail). Failures to read or to send are logged.
func watchAlerts(ctx context.Context, b *wiring.Bridge, tr *alert.Tracker, log *zap.Logger, every time.Duration) {
	a := b.Config.Alerts
	if !a.Enabled() {
		return
	}
	t := b.Health()
	e := &alert.Evaluator{Store: b.Store, Streams: t.Streams, Inbound: t.Inbound, Thresholds: a.Thresholds()}
	if t.CRM != nil {
		e.RateLimited = func() int64 { return t.CRM.Stats().RateLimited }
	}
	senders := a.Senders()
	tick := time.NewTicker(every)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		conds, err := e.Evaluate(ctx, time.Now())
		if err != nil {
			log.Warn("alerts: reading the conditions", zap.Error(err))
			continue
		}
		for _, al := range tr.Update(time.Now(), conds) {
			for _, s := range senders {
				if err := s.Send(ctx, al); err != nil {
					log.Error("alerts: sending", zap.String("alert", al.Key), zap.String("state", al.State), zap.String("to", s.Describe()), zap.Error(err))
					continue
				}
				log.Info("alerts: sent", zap.String("alert", al.Key), zap.String("state", al.State), zap.String("stream", al.Stream), zap.String("to", s.Describe()))
			}
		}
	}
}

func newAlertCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "alert",
		Short: "Alerts: send a sample to the configured channel",
	}
	var path string
	test := &cobra.Command{
		Use:   "test",
		Short: "Send a sample alert to every configured channel",
		Long: `Send a sample alert (state "firing", kind "test") to alerts.webhook (in
alerts.webhook_format) and by e-mail (alerts.smtp_addr), so you see it arrive
in Teams, Slack, your mailbox or your tool before a real one does. Exit 1
when a channel could not be reached.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := loadConfig(path)
			if err != nil {
				return err
			}
			if !cfg.Alerts.Enabled() {
				return usageError(fmt.Errorf("alerts.webhook is not set, nor alerts.smtp_addr: nowhere to send alerts"))
			}
			now := time.Now()
			al := alert.Alert{Condition: alert.Condition{Key: "test", Kind: "test", Summary: "test alert from erpbridge alert test",
				Detail: "If you read this, alerts reach you. Nothing is wrong."}, State: alert.StateFiring, Since: now, At: now}
			var errs []error
			for _, s := range cfg.Alerts.Senders() {
				if err := s.Send(cmd.Context(), al); err != nil {
					errs = append(errs, fmt.Errorf("%s: %w", s.Describe(), err))
					continue
				}
				fmt.Fprintf(cmd.OutOrStdout(), "sent a test alert to %s\n", s.Describe())
			}
			return errors.Join(errs...)
		},
	}
	configFlag(test, &path)
	cmd.AddCommand(test)
	return cmd
}
