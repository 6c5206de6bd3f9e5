package alert

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net"
	"net/smtp"
	"strings"
	"time"
)

// SMTP TLS modes.
const (
	TLSStartTLS = "starttls" // plain connection upgraded with STARTTLS (port 587)
	TLSImplicit = "tls"      // TLS from the first byte (port 465)
)

// Mail sends alerts by e-mail.
type Mail struct {
	Addr     string // host:port of the SMTP server
	TLS      string // starttls (default) | tls
	User     string // "" for no authentication
	Password string
	From     string
	To       []string
	// RootCAs, when set, replaces the system's roots (tests).
	RootCAs *x509.CertPool
}

// Describe names the server and the recipients.
func (m Mail) Describe() string {
	return fmt.Sprintf("e-mail via %s to %s", m.Addr, strings.Join(m.To, ", "))
}

// Message is the e-mail of a (headers and body, CRLF line ends).
func (m Mail) Message(a Alert) []byte {
	var b strings.Builder
	hdr := func(k, v string) {
		b.WriteString(k + ": " + strings.NewReplacer("\r", " ", "\n", " ").Replace(v) + "\r\n")
	}
	hdr("From", m.From)
	hdr("To", strings.Join(m.To, ", "))
	hdr("Subject", a.Title())
	hdr("Date", a.At.Format(time.RFC1123Z))
	hdr("MIME-Version", "1.0")
	hdr("Content-Type", "text/plain; charset=utf-8")
	hdr("X-Erpbridge-Alert", a.Key+" "+a.State)
	b.WriteString("\r\n")
	body := a.Title() + "\n\n"
	if a.Detail != "" && a.State != StateResolved {
		body += a.Detail + "\n\n"
	}
	body += fmt.Sprintf("Since %s (%s now).\n", a.Since.Format(time.RFC3339), a.State)
	for line := range strings.Lines(body) { // dot-stuffing is the DATA writer's
		b.WriteString(strings.TrimRight(line, "\r\n") + "\r\n")
	}
	return []byte(b.String())
}

// Send delivers a over TLS (STARTTLS or implicit), authenticating when a
// user is set. A server without STARTTLS is an error: alerts never go out
// in clear text, nor does the password.
func (m Mail) Send(ctx context.Context, a Alert) error {
	host, _, err := net.SplitHostPort(m.Addr)
	if err != nil {
		return fmt.Errorf("sending alert by e-mail: %w", err)
	}
	tc := &tls.Config{ServerName: host, RootCAs: m.RootCAs, MinVersion: tls.VersionTLS12}
	d := net.Dialer{Timeout: 15 * time.Second}
	var conn net.Conn
	if m.TLS == TLSImplicit {
		conn, err = (&tls.Dialer{NetDialer: &d, Config: tc}).DialContext(ctx, "tcp", m.Addr)
	} else {
		conn, err = d.DialContext(ctx, "tcp", m.Addr)
	}
	if err != nil {
		return fmt.Errorf("sending alert by e-mail: connecting to %s: %w", m.Addr, err)
	}
	if dl, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(dl)
	} else {
		_ = conn.SetDeadline(time.Now().Add(time.Minute))
	}
	c, err := smtp.NewClient(conn, host)
	if err != nil {
		conn.Close()
		return fmt.Errorf("sending alert by e-mail: %w", err)
	}
	defer c.Close()
	if m.TLS != TLSImplicit {
		if ok, _ := c.Extension("STARTTLS"); !ok {
			return fmt.Errorf("sending alert by e-mail: %s does not offer STARTTLS (set alerts.smtp_tls = \"tls\" for port 465)", m.Addr)
		}
		if err := c.StartTLS(tc); err != nil {
			return fmt.Errorf("sending alert by e-mail: STARTTLS with %s: %w", m.Addr, err)
		}
	}
	if m.User != "" {
		if err := c.Auth(smtp.PlainAuth("", m.User, m.Password, host)); err != nil {
			return fmt.Errorf("sending alert by e-mail: authenticating as %s: %w", m.User, err)
		}
	}
	if err := c.Mail(m.From); err != nil {
		return fmt.Errorf("sending alert by e-mail: MAIL FROM %s: %w", m.From, err)
	}
	for _, to := range m.To {
		if err := c.Rcpt(to); err != nil {
			return fmt.Errorf("sending alert by e-mail: RCPT TO %s: %w", to, err)
		}
	}
	w, err := c.Data()
	if err != nil {
		return fmt.Errorf("sending alert by e-mail: DATA: %w", err)
	}
	if _, err := w.Write(m.Message(a)); err != nil {
		return fmt.Errorf("sending alert by e-mail: %w", err)
	}
	if err := w.Close(); err != nil {
		return fmt.Errorf("sending alert by e-mail: %w", err)
	}
	return c.Quit()
}
