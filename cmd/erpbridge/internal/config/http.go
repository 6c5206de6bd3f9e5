package config

import (
	"net"
	"strconv"
	"strings"
)

// DefaultHTTPAddr is where `erpbridge run` serves /healthz, /readyz and
// /metrics unless http.addr says otherwise.
const DefaultHTTPAddr = "127.0.0.1:8095"

// MinHTTPTokenLen is the shortest http.token accepted: the token is all that
// guards the endpoints once they leave the loopback.
const MinHTTPTokenLen = 16

// HTTP configures the health and metrics server of `erpbridge run`.
type HTTP struct {
	// Addr is host:port to listen on (default 127.0.0.1:8095); empty turns
	// the server off. Port 0 picks a free port (it is logged).
	Addr string `toml:"addr"`
	// Token, when set, is required as "Authorization: Bearer <token>" on
	// every endpoint. An address off the loopback requires it.
	Token string `toml:"token"`
}

// Enabled reports whether the server is to run.
func (h HTTP) Enabled() bool { return strings.TrimSpace(h.Addr) != "" }

// Loopback reports whether Addr listens on the loopback only: an IP
// address in 127.0.0.0/8 or ::1, or "localhost". An empty host (every
// interface) and any other host name are not loopback.
func (h HTTP) Loopback() bool {
	host, _, err := net.SplitHostPort(h.Addr)
	if err != nil {
		return false
	}
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// validateHTTP checks the [http] section; every problem names its key.
func validateHTTP(h HTTP, bad func(key, format string, args ...any)) {
	if !h.Enabled() {
		return
	}
	host, port, err := net.SplitHostPort(h.Addr)
	if err != nil {
		bad("http.addr", "%q is not host:port, such as \"127.0.0.1:8095\" (or empty to turn the server off)", h.Addr)
		return
	}
	if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
		bad("http.addr", "port %q is not a number in 0..65535", port)
	}
	if strings.ContainsAny(host, " /") {
		bad("http.addr", "host %q is not an IP address or host name", host)
	}
	switch token := h.Token; {
	case token != "" && len(token) < MinHTTPTokenLen:
		bad("http.token", "must be at least %d characters (write token = \"${ERPBRIDGE_HTTP_TOKEN}\" and set the variable)", MinHTTPTokenLen)
	case token == "" && !h.Loopback():
		bad("http.token", "is required when http.addr (%q) is not on the loopback (127.0.0.1, ::1 or localhost): anyone on the network could read the endpoints", h.Addr)
	}
}
