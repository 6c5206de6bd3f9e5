package alert

import (
	"bufio"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"math/big"
	"net"
	"strings"
	"testing"
	"time"
)

// smtpServer is a small SMTP server on 127.0.0.1 (STARTTLS or implicit
// TLS, AUTH PLAIN) that hands each message to the test.
type smtpServer struct {
	addr  string
	roots *x509.CertPool
	got   chan string
}

func startSMTP(t *testing.T, implicit, offerTLS bool, user, pass string) smtpServer {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "127.0.0.1"},
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	roots := x509.NewCertPool()
	roots.AddCert(cert)
	tc := &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	s := smtpServer{addr: ln.Addr().String(), roots: roots, got: make(chan string, 4)}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go s.serve(c, tc, implicit, offerTLS, user, pass)
		}
	}()
	return s
}

func (s smtpServer) serve(c net.Conn, tc *tls.Config, implicit, offerTLS bool, user, pass string) {
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	secure := implicit
	if implicit {
		c = tls.Server(c, tc)
	}
	r := bufio.NewReader(c)
	say := func(l string) { _, _ = c.Write([]byte(l + "\r\n")) }
	say("220 127.0.0.1 test ESMTP")
	var msg strings.Builder
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return
		}
		cmd := strings.TrimSpace(line)
		switch up := strings.ToUpper(cmd); {
		case strings.HasPrefix(up, "EHLO"):
			if !secure && offerTLS {
				say("250-127.0.0.1")
				say("250 STARTTLS")
			} else {
				say("250-127.0.0.1")
				say("250 AUTH PLAIN")
			}
		case up == "STARTTLS":
			say("220 go ahead")
			c = tls.Server(c, tc)
			r, secure = bufio.NewReader(c), true
		case strings.HasPrefix(up, "AUTH PLAIN"):
			raw, _ := base64.StdEncoding.DecodeString(strings.TrimSpace(cmd[len("AUTH PLAIN"):]))
			if !secure || string(raw) != "\x00"+user+"\x00"+pass {
				say("535 authentication failed")
				continue
			}
			say("235 ok")
		case strings.HasPrefix(up, "MAIL FROM"), strings.HasPrefix(up, "RCPT TO"):
			say("250 ok")
		case up == "DATA":
			say("354 go")
			for {
				l, err := r.ReadString('\n')
				if err != nil {
					return
				}
				if l == ".\r\n" {
					break
				}
				msg.WriteString(strings.TrimPrefix(l, ".")) // undo dot-stuffing
			}
			say("250 queued")
			s.got <- msg.String()
		case up == "QUIT":
			say("221 bye")
			return
		default:
			say("502 unknown")
		}
	}
}

// An alert goes by e-mail over STARTTLS or implicit TLS with AUTH PLAIN;
// a server without STARTTLS and a wrong password are errors.
func TestMailSendsOverTLS(t *testing.T) {
	al := Alert{Condition: Condition{Key: "parked:customers", Kind: "parked", Stream: "customers",
		Summary: "3 customers records parked", Detail: ".starts with a dot"}, State: StateFiring, Since: time.Now(), At: time.Now()}
	for _, implicit := range []bool{false, true} {
		s := startSMTP(t, implicit, true, "alerts@erp.example", "s3cret")
		m := Mail{Addr: s.addr, User: "alerts@erp.example", Password: "s3cret", From: "erpbridge@erp.example",
			To: []string{"ti@erp.example", "ops@erp.example"}, RootCAs: s.roots}
		if implicit {
			m.TLS = TLSImplicit
		}
		if err := m.Send(context.Background(), al); err != nil {
			t.Fatalf("implicit %v: %v", implicit, err)
		}
		select {
		case got := <-s.got:
			for _, want := range []string{"Subject: [erpbridge] 3 customers records parked\r\n", "To: ti@erp.example, ops@erp.example\r\n", "\r\n.starts with a dot\r\n"} {
				if !strings.Contains(got, want) {
					t.Errorf("implicit %v: the message lacks %q:\n%s", implicit, want, got)
				}
			}
		case <-time.After(10 * time.Second):
			t.Fatal("no message reached the server")
		}
		m.Password = "wrong"
		if err := m.Send(context.Background(), al); err == nil || !strings.Contains(err.Error(), "authenticating") || strings.Contains(err.Error(), "wrong") {
			t.Errorf("implicit %v, a wrong password: %v", implicit, err)
		}
	}
	plain := startSMTP(t, false, false, "u", "p")
	if err := (Mail{Addr: plain.addr, User: "u", Password: "p", From: "a@b", To: []string{"c@d"}, RootCAs: plain.roots}).Send(context.Background(), al); err == nil || !strings.Contains(err.Error(), "STARTTLS") {
		t.Errorf("a server without STARTTLS: %v, want a refusal naming STARTTLS", err)
	}
}
