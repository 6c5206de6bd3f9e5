package config

import (
	"net/url"
	"time"

	"github.com/erpbridge/erpbridge/bridge/alert"
)

// Alerts configures where `erpbridge run` sends alerts and when.
type Alerts struct {
	// Webhook is the URL alerts are POSTed to ("" sends none); Teams and
	// Slack webhook URLs are secrets: use ${secret:NAME}.
	Webhook string `toml:"webhook"`
	// WebhookFormat is json (a generic body), teams or slack.
	WebhookFormat string `toml:"webhook_format"`
	// Remind is how often a condition that lasts is sent again (0: never).
	Remind Duration `toml:"remind"`
	// FailedRuns: a stream whose last FailedRuns runs failed (0: off).
	FailedRuns int `toml:"failed_runs"`
	// Lag: a stream whose cursor has not moved for this long (0: off).
	Lag Duration `toml:"lag"`
	// BudgetFor: the CRM answered 429s for this long (0: off).
	BudgetFor Duration `toml:"budget_for"`
}

// Enabled reports whether alerts go anywhere.
func (a Alerts) Enabled() bool { return a.Webhook != "" }

// Thresholds are the conditions' thresholds.
func (a Alerts) Thresholds() alert.Thresholds {
	return alert.Thresholds{FailedRuns: a.FailedRuns, Lag: a.Lag.D(), BudgetFor: a.BudgetFor.D()}
}

// defaultAlerts: no channel; when one is set, a stream failing 3 runs in a
// row, parked records, 15 minutes of 429s and rejected won deals, reminded
// every 4 hours. The lag alert is off: a quiet ERP lags without fault.
func defaultAlerts() Alerts {
	return Alerts{WebhookFormat: alert.FormatJSON, Remind: Dur(4 * time.Hour), FailedRuns: 3, BudgetFor: Dur(15 * time.Minute)}
}

// validateAlerts checks the [alerts] section; every problem names its key.
func validateAlerts(a Alerts, bad func(key, format string, args ...any)) {
	if a.Webhook != "" {
		u, err := url.Parse(a.Webhook)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			bad("alerts.webhook", "is not an http(s) URL")
		}
	}
	switch a.WebhookFormat {
	case alert.FormatJSON, alert.FormatTeams, alert.FormatSlack:
	default:
		bad("alerts.webhook_format", "%q is not one of json, teams, slack", a.WebhookFormat)
	}
	for key, d := range map[string]Duration{"alerts.remind": a.Remind, "alerts.lag": a.Lag, "alerts.budget_for": a.BudgetFor} {
		if d.D() < 0 {
			bad(key, "must not be negative")
		}
	}
	if a.FailedRuns < 0 {
		bad("alerts.failed_runs", "must not be negative")
	}
}
