package config

import (
	"context"
	"net"
	"net/url"
	"strings"
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
	// SMTPAddr is the mail server's host:port ("" sends no e-mail).
	SMTPAddr string `toml:"smtp_addr"`
	// SMTPTLS is starttls (port 587) or tls (port 465): never clear text.
	SMTPTLS string `toml:"smtp_tls"`
	// SMTPUser and SMTPPassword authenticate (AUTH PLAIN over TLS); the
	// password from ${secret:NAME}.
	SMTPUser     string `toml:"smtp_user"`
	SMTPPassword string `toml:"smtp_password"`
	// MailFrom is the sender; MailTo the recipients, comma-separated.
	MailFrom string `toml:"mail_from"`
	MailTo   string `toml:"mail_to"`
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
func (a Alerts) Enabled() bool { return len(a.Senders()) > 0 }

// Sender is a channel alerts go to.
type Sender interface {
	Send(ctx context.Context, a alert.Alert) error
	Describe() string
}

// Senders are the configured channels: the webhook, e-mail.
func (a Alerts) Senders() []Sender {
	var out []Sender
	if a.Webhook != "" {
		out = append(out, alert.Webhook{URL: a.Webhook, Format: a.WebhookFormat})
	}
	if a.SMTPAddr != "" {
		out = append(out, alert.Mail{Addr: a.SMTPAddr, TLS: a.SMTPTLS, User: a.SMTPUser, Password: a.SMTPPassword,
			From: a.MailFrom, To: a.recipients()})
	}
	return out
}

func (a Alerts) recipients() []string {
	var out []string
	for r := range strings.SplitSeq(a.MailTo, ",") {
		if r = strings.TrimSpace(r); r != "" {
			out = append(out, r)
		}
	}
	return out
}

// Thresholds are the conditions' thresholds.
func (a Alerts) Thresholds() alert.Thresholds {
	return alert.Thresholds{FailedRuns: a.FailedRuns, Lag: a.Lag.D(), BudgetFor: a.BudgetFor.D()}
}

// defaultAlerts: no channel; when one is set, a stream failing 3 runs in a
// row, parked records, 15 minutes of 429s and rejected won deals, reminded
// every 4 hours. The lag alert is off: a quiet ERP lags without fault.
func defaultAlerts() Alerts {
	return Alerts{WebhookFormat: alert.FormatJSON, SMTPTLS: alert.TLSStartTLS, Remind: Dur(4 * time.Hour), FailedRuns: 3, BudgetFor: Dur(15 * time.Minute)}
}

// validateAlerts checks the [alerts] section; every problem names its key.
func validateAlerts(a Alerts, bad func(key, format string, args ...any)) {
	if a.Webhook != "" {
		u, err := url.Parse(a.Webhook)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			bad("alerts.webhook", "is not an http(s) URL")
		}
	}
	if a.SMTPAddr != "" {
		if _, _, err := net.SplitHostPort(a.SMTPAddr); err != nil {
			bad("alerts.smtp_addr", "%q is not host:port", a.SMTPAddr)
		}
		if a.SMTPTLS != alert.TLSStartTLS && a.SMTPTLS != alert.TLSImplicit {
			bad("alerts.smtp_tls", "%q is not one of starttls, tls (alerts never go in clear text)", a.SMTPTLS)
		}
		if !strings.Contains(a.MailFrom, "@") {
			bad("alerts.mail_from", "%q is not an e-mail address", a.MailFrom)
		}
		if len(a.recipients()) == 0 {
			bad("alerts.mail_to", "names no recipient")
		}
		if (a.SMTPUser == "") != (a.SMTPPassword == "") {
			bad("alerts.smtp_password", "smtp_user and smtp_password go together")
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
