package health

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"
	"go.uber.org/zap"
)

// ShutdownTimeout bounds a graceful shutdown: requests under way get this
// long to finish, then their connections are closed.
const ShutdownTimeout = 3 * time.Second

// ErrTokenRequired is returned by Listen for an address off the loopback
// without a token.
var ErrTokenRequired = errors.New("a token is required off the loopback")

// Server serves a Monitor's endpoints on one address.
type Server struct {
	srv   *http.Server
	ln    net.Listener
	token atomic.Pointer[[sha256.Size]byte] // nil: no token required
	done  chan struct{}
}

// Listen binds addr and serves /healthz, /readyz, /status and /metrics of m until
// Shutdown. With a token, every request needs "Authorization: Bearer
// <token>"; an address off the loopback needs a token. The error of a
// failed bind names the address and the http.addr key.
func Listen(addr, token string, m *Monitor, log *zap.Logger) (*Server, error) {
	if log == nil {
		log = zap.NewNop()
	}
	if token == "" && !loopback(addr) {
		return nil, fmt.Errorf("serving health on %s (http.addr): %w", addr, ErrTokenRequired)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("listening on %s (http.addr): %w; set http.addr to a free host:port, or to \"\" to turn the health server off", addr, err)
	}
	s := &Server{ln: ln, done: make(chan struct{})}
	s.SetToken(token)
	s.srv = &http.Server{
		Handler:           s.authorize(m.Handler(log)),
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       10 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       60 * time.Second,
		MaxHeaderBytes:    16 << 10,
		ErrorLog:          zap.NewStdLog(log.Named("http")),
	}
	go func() {
		defer close(s.done)
		if err := s.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("health server stopped", zap.Error(err))
		}
	}()
	return s, nil
}

// Addr returns the address the server listens on (the actual port when
// the configured one was 0).
func (s *Server) Addr() string { return s.ln.Addr().String() }

// SetToken replaces the token every request must carry; "" requires none.
func (s *Server) SetToken(token string) {
	if token == "" {
		s.token.Store(nil)
		return
	}
	sum := sha256.Sum256([]byte(token))
	s.token.Store(&sum)
}

// Shutdown stops accepting connections and waits for the requests under
// way, at most until ctx is done or ShutdownTimeout passes, then closes the
// rest.
func (s *Server) Shutdown(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, ShutdownTimeout)
	defer cancel()
	err := s.srv.Shutdown(ctx)
	if err != nil {
		err = errors.Join(fmt.Errorf("stopping the health server: %w", err), s.srv.Close())
	}
	<-s.done
	return err
}

// authorize requires the bearer token, when one is set. Tokens are
// compared as SHA-256 sums in constant time.
func (s *Server) authorize(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		want := s.token.Load()
		if want != nil {
			got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
			sum := sha256.Sum256([]byte(strings.TrimSpace(got)))
			if !ok || subtle.ConstantTimeCompare(sum[:], want[:]) != 1 {
				w.Header().Set("WWW-Authenticate", `Bearer realm="erpbridge"`)
				http.Error(w, "unauthorized: send Authorization: Bearer <http.token>", http.StatusUnauthorized)
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}

// Handler returns the endpoints of m without authorization (Listen adds it).
func (m *Monitor) Handler(log *zap.Logger) http.Handler {
	if log == nil {
		log = zap.NewNop()
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		_, _ = w.Write([]byte("ok\n"))
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		rd := m.Ready(r.Context())
		code := http.StatusOK
		if !rd.Ready {
			code = http.StatusServiceUnavailable
		}
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		w.WriteHeader(code)
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		_ = enc.Encode(rd)
	})
	mux.HandleFunc("GET /status", func(w http.ResponseWriter, _ *http.Request) {
		var st Status
		if b, ok := m.Budget(); ok {
			st.CRMBudget = &b
		}
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		_ = enc.Encode(st)
	})
	m.pageHandlers(mux, log)
	mux.Handle("GET /metrics", promhttp.HandlerFor(m.metrics.reg, promhttp.HandlerOpts{
		ErrorLog:      promLogger{log},
		ErrorHandling: promhttp.ContinueOnError,
		Timeout:       10 * time.Second,
	}))
	return mux
}

// loopback reports whether addr's host is a loopback IP or "localhost".
func loopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// promLogger adapts zap to promhttp's error log.
type promLogger struct{ l *zap.Logger }

func (p promLogger) Println(v ...any) { p.l.Warn("metrics: " + strings.TrimSpace(fmt.Sprintln(v...))) }
