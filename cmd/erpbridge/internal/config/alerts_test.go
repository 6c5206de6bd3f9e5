package config

import (
	"strings"
	"testing"

	"github.com/erpbridge/erpbridge/bridge/alert"
)

// [alerts] gives the channels it sets, the SMTP password from a reference,
// and refuses clear-text mail and half-set settings naming each key.
func TestAlertsChannels(t *testing.T) {
	env := func(k string) (string, bool) {
		return map[string]string{"SMTP_PASSWORD": "s3cret"}[k], k == "SMTP_PASSWORD"
	}
	cfg, err := Parse([]byte(`[alerts]
webhook = "https://hooks.example/T1"
webhook_format = "teams"
smtp_addr = "smtp.example.com.br:587"
smtp_user = "erpbridge@example.com.br"
smtp_password = "${SMTP_PASSWORD}"
mail_from = "erpbridge@example.com.br"
mail_to = "ti@example.com.br, ops@example.com.br"
`), env)
	if err != nil {
		t.Fatal(err)
	}
	if err := cfg.Validate(); err != nil && strings.Contains(err.Error(), "alerts.") {
		t.Fatalf("a good [alerts] does not validate: %v", err)
	}
	ss := cfg.Alerts.Senders()
	if len(ss) != 2 {
		t.Fatalf("%d channels, want the webhook and e-mail", len(ss))
	}
	if w, ok := ss[0].(alert.Webhook); !ok || w.Format != "teams" {
		t.Errorf("first channel = %#v, want the Teams webhook", ss[0])
	}
	m, ok := ss[1].(alert.Mail)
	if !ok || m.Password != "s3cret" || m.TLS != alert.TLSStartTLS || len(m.To) != 2 || m.To[1] != "ops@example.com.br" {
		t.Errorf("second channel = %+v, want e-mail over STARTTLS to both, the password from the environment", ss[1])
	}

	bad, err := Parse([]byte("[alerts]\nsmtp_addr = \"smtp.example.com.br\"\nsmtp_tls = \"none\"\nmail_from = \"x\"\nsmtp_user = \"u\"\n"), env)
	if err != nil {
		t.Fatal(err)
	}
	verr := bad.Validate()
	for _, key := range []string{"alerts.smtp_addr", "alerts.smtp_tls", "alerts.mail_from", "alerts.mail_to", "alerts.smtp_password"} {
		if verr == nil || !strings.Contains(verr.Error(), key) {
			t.Errorf("validation does not name %s: %v", key, verr)
		}
	}
}
