package rdsim

import (
	"bytes"
	"context"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/erpbridge/erpbridge/bridge/clock"
)

// Options configures a Sim. The zero value is usable.
type Options struct {
	// Tokens are the accepted API tokens; each is one user of the single
	// simulated account. Default {"sim-token"}.
	Tokens []string
	// Clock drives timestamps and the rate window. Default clock.Real{}.
	Clock clock.Clock
	// RequestsPerMinute is the account-wide limit (all tokens together).
	// Default 120; a negative value disables rate limiting.
	RequestsPerMinute int
	// Switches selects the [U] behaviours; the zero value is the documented
	// or most common behaviour.
	Switches Switches
	// Seed makes ids and fault draws deterministic.
	Seed int64
	// Logf, when set, receives one line per /api/v1 request (never the token).
	Logf func(format string, args ...any)
}

// Sim is the simulated RD Station CRM v1 account. It is safe for concurrent use.
type Sim struct {
	opts  Options
	clock clock.Clock
	mux   *http.ServeMux

	mu  sync.RWMutex // guards d and ids
	d   *data
	ids *rand.Rand

	cfgMu    sync.Mutex // guards switches, faults and faultRNG
	switches Switches
	faults   Faults
	faultRNG *rand.Rand

	rate   *rateWindow
	counts *counter
}

var _ http.Handler = (*Sim)(nil)

// DefaultToken is the token accepted when Options.Tokens is empty.
const DefaultToken = "sim-token"

// New returns a simulator holding the default seed (see README.md).
func New(opts Options) *Sim {
	if len(opts.Tokens) == 0 {
		opts.Tokens = []string{DefaultToken}
	}
	opts.Tokens = append([]string(nil), opts.Tokens...)
	if opts.Clock == nil {
		opts.Clock = clock.Real{}
	}
	if opts.RequestsPerMinute == 0 {
		opts.RequestsPerMinute = 120
	}
	s := &Sim{
		opts:     opts,
		clock:    opts.Clock,
		mux:      http.NewServeMux(),
		switches: opts.Switches,
		faultRNG: rand.New(rand.NewPCG(uint64(opts.Seed), 0xfa017)),
		rate:     newRateWindow(opts.RequestsPerMinute),
		counts:   newCounter(),
	}
	s.routes()
	s.resetData()
	return s
}

// resetData replaces every record with the default seed and rewinds the id
// generator, so the same Seed yields the same ids again.
func (s *Sim) resetData() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.ids = rand.New(rand.NewPCG(uint64(s.opts.Seed), 0x1d5))
	s.d = newData()
	s.seedDefaults()
}

// SetFaults replaces the fault configuration (including any pending script).
func (s *Sim) SetFaults(f Faults) {
	s.cfgMu.Lock()
	defer s.cfgMu.Unlock()
	f.Methods = append([]string(nil), f.Methods...)
	f.Script = append([]FaultKind(nil), f.Script...)
	s.faults = f
}

// Faults returns the current fault configuration, with what is left of the script.
func (s *Sim) Faults() Faults {
	s.cfgMu.Lock()
	defer s.cfgMu.Unlock()
	f := s.faults
	f.Methods = append([]string(nil), f.Methods...)
	f.Script = append([]FaultKind(nil), f.Script...)
	return f
}

// SetSwitches replaces every switch.
func (s *Sim) SetSwitches(sw Switches) {
	s.cfgMu.Lock()
	defer s.cfgMu.Unlock()
	s.switches = sw
}

// Switches returns the current switches.
func (s *Sim) Switches() Switches {
	s.cfgMu.Lock()
	defer s.cfgMu.Unlock()
	return s.switches
}

// Counts returns a copy of the request counters.
func (s *Sim) Counts() RequestCounts { return s.counts.snapshot() }

// ResetCounts zeroes the request counters.
func (s *Sim) ResetCounts() { s.counts.reset() }

// Reset restores the default seed and empties the rate window. Switches,
// faults and request counts are left alone.
func (s *Sim) Reset() {
	s.resetData()
	s.rate.reset()
}

// ServeHTTP serves /api/v1/* (the simulated API) and /_sim/* (admin).
func (s *Sim) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == "/_sim" || strings.HasPrefix(r.URL.Path, "/_sim/") {
		s.serveAdmin(w, r)
		return
	}
	s.serveAPI(w, r)
}

type callKey struct{}

// serveAPI runs one API request through authentication, fault injection,
// the rate window and the route handler, counting it on the way out.
func (s *Sim) serveAPI(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	_, pattern := s.mux.Handler(r)
	route := pattern
	if route == "" {
		route = r.Method + " (unmatched)"
	}
	ev := event{route: route, method: r.Method}
	// finish counts (and logs) the request once. Aborted connections call
	// it before closing, so a client that sees the close also sees the count.
	counted := false
	finish := func() {
		if counted {
			return
		}
		counted = true
		s.counts.add(ev)
		if s.opts.Logf != nil {
			status := "dropped"
			if ev.status != 0 {
				status = http.StatusText(ev.status)
				status = strings.TrimSpace(strconv.Itoa(ev.status) + " " + status)
			}
			s.opts.Logf("rdsim: %s %s -> %s (%s)", r.Method, r.URL.Path, status, time.Since(start).Round(time.Microsecond))
		}
	}
	defer finish()
	if !strings.HasPrefix(r.URL.Path, "/api/v1/") {
		ev.status = writeJSON(w, http.StatusNotFound, notFoundBody("Route not found"))
		return
	}
	user, ok := s.userForToken(r.URL.Query().Get("token"))
	if !ok {
		ev.status = writeJSON(w, http.StatusUnauthorized, map[string]any{"error": "Permission denied."})
		return
	}
	sw := s.Switches()
	fault := s.drawFault(r)
	if fault != FaultNone {
		ev.fault = fault
	}
	switch fault {
	case FaultRateLimited:
		ev.status = s.writeRateLimited(w, sw, s.rate.retryAfter(s.clock.Now()))
		return
	case FaultServerError:
		ev.status = writeServerError(w)
		return
	case FaultDrop:
		finish()
		abortConnection(w)
		return
	case FaultSlow:
		if err := s.clock.Sleep(r.Context(), s.slowDelay()); err != nil {
			abortConnection(w)
			return
		}
	}
	if ok, wait := s.rate.allow(s.clock.Now(), sw.RateWindow); !ok {
		ev.status = s.writeRateLimited(w, sw, wait)
		return
	}
	if pattern == "" {
		ev.status = writeJSON(w, http.StatusNotFound, notFoundBody("Route not found"))
		return
	}
	buf := newBufferedResponse()
	s.mux.ServeHTTP(buf, r.WithContext(context.WithValue(r.Context(), callKey{}, user)))
	ev.status = buf.statusCode()
	if fault == FaultLostResponse {
		finish()
		abortConnection(w)
		return
	}
	buf.copyTo(w)
}

func (s *Sim) slowDelay() time.Duration {
	s.cfgMu.Lock()
	defer s.cfgMu.Unlock()
	if s.faults.SlowDelay > 0 {
		return s.faults.SlowDelay
	}
	return DefaultSlowDelay
}

func (s *Sim) userForToken(token string) (string, bool) {
	if token == "" {
		return "", false
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	id, ok := s.d.tokens[token]
	if !ok {
		return "", false
	}
	u, ok := s.d.users.get(id)
	if !ok || !u.Active {
		return "", false
	}
	return id, true
}

// abortConnection closes the client connection without a response: through
// the Hijacker when the writer offers one, else by the net/http abort panic.
func abortConnection(w http.ResponseWriter) {
	if hj, ok := w.(http.Hijacker); ok {
		if conn, _, err := hj.Hijack(); err == nil {
			_ = conn.Close()
			return
		}
	}
	panic(http.ErrAbortHandler)
}

// bufferedResponse holds a handler's response so that a LostResponse fault
// can apply the change and still withhold the answer.
type bufferedResponse struct {
	header http.Header
	status int
	body   bytes.Buffer
}

var _ http.ResponseWriter = (*bufferedResponse)(nil)

func newBufferedResponse() *bufferedResponse {
	return &bufferedResponse{header: http.Header{}}
}

func (b *bufferedResponse) Header() http.Header { return b.header }

func (b *bufferedResponse) Write(p []byte) (int, error) {
	if b.status == 0 {
		b.status = http.StatusOK
	}
	return b.body.Write(p)
}

func (b *bufferedResponse) WriteHeader(code int) {
	if b.status == 0 {
		b.status = code
	}
}

func (b *bufferedResponse) statusCode() int {
	if b.status == 0 {
		return http.StatusOK
	}
	return b.status
}

func (b *bufferedResponse) copyTo(w http.ResponseWriter) {
	for k, v := range b.header {
		w.Header()[k] = v
	}
	w.WriteHeader(b.statusCode())
	_, _ = w.Write(b.body.Bytes())
}
