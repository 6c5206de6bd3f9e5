package rdsim

// RD Station CRM API v2 (docs/rdstation-api.md §2): the OAuth2 grant
// (/oauth/authorize, /oauth2/token) and /crm/v2/* over the same records as
// /api/v1 — a record created through one is visible through the other.
// Writes are translated into v1 bodies and run through the v1 handlers, so
// every validation rule has one home; reads (RDQL filters, {data, links}
// paging) are served here. The request window is the account's one, shared
// with v1; faults are drawn from the same configuration.

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"math/rand/v2"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"
)

// CRM v2 OAuth defaults (docs/rdstation-api.md §2).
const (
	DefaultCRMv2ClientID     = "sim-crm-client"
	DefaultCRMv2ClientSecret = "sim-crm-secret"
	// CRMv2AccessTokenLifetime is the access token's life: 7200 s.
	CRMv2AccessTokenLifetime = 2 * time.Hour
	// CRMv2RefreshTokenIdle is how long an unused refresh token lives.
	CRMv2RefreshTokenIdle = 14 * 24 * time.Hour
	// CRMv2CodeLifetime is the authorization code's life.
	CRMv2CodeLifetime = 5 * time.Minute
)

// CRMv2Options configures the CRM v2 OAuth client the simulator knows.
// Credentials are per product: these are not the Marketing ones.
type CRMv2Options struct {
	ClientID, ClientSecret string
	// AccessTokenLifetime, RefreshTokenIdle and CodeLifetime default to the
	// documented 2 h, 14 days and 5 min.
	AccessTokenLifetime, RefreshTokenIdle, CodeLifetime time.Duration
}

func (o CRMv2Options) withDefaults() CRMv2Options {
	if o.ClientID == "" {
		o.ClientID = DefaultCRMv2ClientID
	}
	if o.ClientSecret == "" {
		o.ClientSecret = DefaultCRMv2ClientSecret
	}
	if o.AccessTokenLifetime <= 0 {
		o.AccessTokenLifetime = CRMv2AccessTokenLifetime
	}
	if o.RefreshTokenIdle <= 0 {
		o.RefreshTokenIdle = CRMv2RefreshTokenIdle
	}
	if o.CodeLifetime <= 0 {
		o.CodeLifetime = CRMv2CodeLifetime
	}
	return o
}

// crmV2Auth holds the v2 grants. Grants survive Reset (they belong to the
// OAuth app, not to the account's records); every grant acts as the
// account's first user (the one of Options.Tokens[0]).
type crmV2Auth struct {
	mu      sync.Mutex
	rng     *rand.Rand
	codes   map[string]*v2Code
	refresh map[string]time.Time // refresh token → last use (or issue); absent: unknown or rotated out
	access  map[string]time.Time // access token → expiry
}

type v2Code struct {
	redirectURI string
	expires     time.Time
	used        bool
}

func newCRMV2Auth(seed int64) *crmV2Auth {
	return &crmV2Auth{rng: rand.New(rand.NewPCG(uint64(seed), 0xc2a)), codes: map[string]*v2Code{}, refresh: map[string]time.Time{}, access: map[string]time.Time{}}
}

// draw returns an opaque token. Callers hold a.mu.
func (a *crmV2Auth) draw(prefix string) string {
	return fmt.Sprintf("%s%016x%016x", prefix, a.rng.Uint64(), a.rng.Uint64())
}

// issue creates a new access and refresh token pair. Callers hold a.mu.
func (a *crmV2Auth) issue(s *Sim, now time.Time) obj {
	o := s.v2opts
	access, refresh := a.draw("crm-access-"), a.draw("crm-refresh-")
	a.access[access] = now.Add(o.AccessTokenLifetime)
	a.refresh[refresh] = now
	return obj{"access_token": access, "token_type": "Bearer", "expires_in": int(o.AccessTokenLifetime.Seconds()), "refresh_token": refresh}
}

// IssueCRMv2Grant issues a grant without the browser step (tests, demos):
// it returns the access and the refresh token.
func (s *Sim) IssueCRMv2Grant() (access, refresh string) {
	s.v2auth.mu.Lock()
	defer s.v2auth.mu.Unlock()
	g := s.v2auth.issue(s, s.clock.Now())
	return g["access_token"].(string), g["refresh_token"].(string)
}

// ExpireCRMv2AccessTokens makes every issued access token expired, as if
// two hours had passed for them.
func (s *Sim) ExpireCRMv2AccessTokens() {
	s.v2auth.mu.Lock()
	defer s.v2auth.mu.Unlock()
	for k := range s.v2auth.access {
		s.v2auth.access[k] = time.Time{}
	}
}

// RevokeCRMv2RefreshTokens retires every refresh token (an admin revoked
// the app, or they died unused): the next refresh is refused.
func (s *Sim) RevokeCRMv2RefreshTokens() {
	s.v2auth.mu.Lock()
	defer s.v2auth.mu.Unlock()
	clear(s.v2auth.refresh)
}

// oauthError is the token endpoint's error body (RFC 6749 §5.2 shape).
// [U] docs/rdstation-api.md gives no error body for /oauth2/token.
func oauthError(code, desc string) obj { return obj{"error": code, "error_description": desc} }

// v2Authorize is the authorization page: the simulated admin always
// allows, and the browser goes to redirect_uri with a code and the state.
func (s *Sim) v2Authorize(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if q.Get("response_type") != "code" {
		writeJSON(w, http.StatusBadRequest, oauthError("unsupported_response_type", "response_type must be code"))
		return
	}
	if q.Get("client_id") != s.v2opts.ClientID {
		writeJSON(w, http.StatusBadRequest, oauthError("invalid_client", "Unknown client_id"))
		return
	}
	redirect, err := url.Parse(q.Get("redirect_uri"))
	if err != nil || redirect.Scheme == "" || redirect.Host == "" {
		writeJSON(w, http.StatusBadRequest, oauthError("invalid_request", "redirect_uri must be an absolute URL"))
		return
	}
	a := s.v2auth
	a.mu.Lock()
	code := a.draw("crm-code-")
	a.codes[code] = &v2Code{redirectURI: redirect.String(), expires: s.clock.Now().Add(s.v2opts.CodeLifetime)}
	a.mu.Unlock()
	rq := redirect.Query()
	rq.Set("code", code)
	if st := q.Get("state"); st != "" {
		rq.Set("state", st)
	}
	redirect.RawQuery = rq.Encode()
	w.Header().Set("Location", redirect.String())
	w.WriteHeader(http.StatusFound)
}

// v2Token exchanges a code or a refresh token (form-urlencoded). A refresh
// rotates: the token sent is retired and a new one is issued.
func (s *Sim) v2Token(w http.ResponseWriter, r *http.Request) {
	if !strings.HasPrefix(strings.ToLower(r.Header.Get("Content-Type")), "application/x-www-form-urlencoded") {
		writeJSON(w, http.StatusBadRequest, oauthError("invalid_request", "The body must be application/x-www-form-urlencoded"))
		return
	}
	if err := r.ParseForm(); err != nil {
		writeJSON(w, http.StatusBadRequest, oauthError("invalid_request", err.Error()))
		return
	}
	f := r.PostForm
	if f.Get("client_id") != s.v2opts.ClientID || f.Get("client_secret") != s.v2opts.ClientSecret {
		writeJSON(w, http.StatusUnauthorized, oauthError("invalid_client", "Client authentication failed"))
		return
	}
	a := s.v2auth
	a.mu.Lock()
	defer a.mu.Unlock()
	now := s.clock.Now()
	switch f.Get("grant_type") {
	case "authorization_code":
		c := a.codes[f.Get("code")]
		if c == nil || c.used || !now.Before(c.expires) || c.redirectURI != f.Get("redirect_uri") {
			writeJSON(w, http.StatusBadRequest, oauthError("invalid_grant", "The authorization code is invalid, expired or was used"))
			return
		}
		c.used = true
	case "refresh_token":
		rt := f.Get("refresh_token")
		last, ok := a.refresh[rt]
		if !ok || now.Sub(last) >= s.v2opts.RefreshTokenIdle {
			delete(a.refresh, rt)
			writeJSON(w, http.StatusBadRequest, oauthError("invalid_grant", "The refresh token is invalid, expired or was revoked"))
			return
		}
		delete(a.refresh, rt)
	default:
		writeJSON(w, http.StatusBadRequest, oauthError("unsupported_grant_type", "grant_type must be authorization_code or refresh_token"))
		return
	}
	writeJSON(w, http.StatusOK, a.issue(s, now))
}

// v2User returns the user a valid bearer token acts as.
func (s *Sim) v2User(r *http.Request) (string, bool) {
	h := r.Header.Get("Authorization")
	tok, ok := strings.CutPrefix(h, "Bearer ")
	if !ok || tok == "" {
		return "", false
	}
	a := s.v2auth
	a.mu.Lock()
	exp, ok := a.access[tok]
	a.mu.Unlock()
	if !ok || !s.clock.Now().Before(exp) {
		return "", false
	}
	return s.userForToken(s.opts.Tokens[0])
}

// v2Errors is the v2 error body: {"errors":[{error_type, error_message,
// path?}]}. [U] the object's fields.
func v2Errors(items ...obj) obj {
	l := make([]any, len(items))
	for i, it := range items {
		l[i] = it
	}
	return obj{"errors": l}
}

func v2Error(typ, msg string) obj { return obj{"error_type": typ, "error_message": msg} }

// crmV2Path reports whether path is served by the v2 part.
func crmV2Path(path string) bool {
	return strings.HasPrefix(path, "/crm/v2/") || path == "/oauth2/token" || path == "/oauth/authorize"
}

// serveV2 runs one v2 request: the OAuth endpoints, or the API through
// authentication, fault injection and the shared request window, counted
// with the v1 requests.
func (s *Sim) serveV2(w http.ResponseWriter, r *http.Request) {
	switch {
	case r.URL.Path == "/oauth2/token" && r.Method == http.MethodPost:
		s.v2Token(w, r)
		return
	case r.URL.Path == "/oauth/authorize" && r.Method == http.MethodGet:
		s.v2Authorize(w, r)
		return
	case !strings.HasPrefix(r.URL.Path, "/crm/v2/"):
		writeJSON(w, http.StatusMethodNotAllowed, oauthError("invalid_request", "method not allowed"))
		return
	}
	_, pattern := s.v2mux.Handler(r)
	route := pattern
	if route == "" {
		route = r.Method + " (unmatched)"
	}
	ev := event{route: route, method: r.Method}
	counted := false
	finish := func() {
		if !counted {
			counted = true
			s.counts.add(ev)
		}
	}
	defer finish()
	user, ok := s.v2User(r)
	if !ok {
		w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
		ev.status = writeJSON(w, http.StatusUnauthorized, v2Errors(v2Error("UNAUTHORIZED", "The access token is invalid or has expired")))
		return
	}
	fault := s.drawFault(r)
	ev.fault = fault
	switch fault {
	case FaultRateLimited:
		ev.status = writeV2RateLimited(w, s.rate.retryAfter(s.clock.Now()))
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
	if ok, wait := s.rate.allow(s.clock.Now(), s.Switches().RateWindow); !ok {
		ev.status = writeV2RateLimited(w, wait)
		return
	}
	if pattern == "" {
		ev.status = writeJSON(w, http.StatusNotFound, v2Errors(v2Error("RESOURCE_NOT_FOUND", "Route not found")))
		return
	}
	buf := newBufferedResponse()
	s.v2mux.ServeHTTP(buf, r.WithContext(context.WithValue(r.Context(), callKey{}, user)))
	ev.status = buf.statusCode()
	if fault == FaultLostResponse {
		finish()
		abortConnection(w)
		return
	}
	buf.copyTo(w)
}

// writeV2RateLimited writes a v2 429: Retry-After is documented for v2 [C].
func writeV2RateLimited(w http.ResponseWriter, wait time.Duration) int {
	secs := max(int((wait+time.Second-1)/time.Second), 1)
	w.Header().Set("Retry-After", fmt.Sprint(secs))
	return writeJSON(w, http.StatusTooManyRequests, v2Errors(v2Error("RATE_LIMIT_EXCEEDED", "API usage limit exceeded")))
}

// v1Call runs a v1 route internally for a v2 write: the same handler,
// lock and rules, with the body given. It returns the status and the
// decoded response.
func (s *Sim) v1Call(r *http.Request, method, path string, body any) (int, map[string]any) {
	b, _ := json.Marshal(body)
	req, _ := http.NewRequestWithContext(r.Context(), method, "/api/v1"+path, strings.NewReader(string(b)))
	req.Header.Set("Content-Type", "application/json")
	buf := newBufferedResponse()
	s.mux.ServeHTTP(buf, req)
	var out map[string]any
	dec := json.NewDecoder(strings.NewReader(buf.body.String()))
	dec.UseNumber()
	_ = dec.Decode(&out)
	return buf.statusCode(), out
}

// v1ErrorsToV2 converts a v1 error answer into the v2 shape, keeping the
// status: a field's errors become items with its path.
func v1ErrorsToV2(status int, body map[string]any) obj {
	typ := map[int]string{http.StatusBadRequest: "BAD_REQUEST", http.StatusNotFound: "RESOURCE_NOT_FOUND",
		http.StatusUnprocessableEntity: "UNPROCESSABLE_ENTITY", http.StatusRequestEntityTooLarge: "PAYLOAD_TOO_LARGE"}[status]
	if typ == "" {
		typ = "ERROR"
	}
	switch e := body["errors"].(type) {
	case string:
		return v2Errors(v2Error(typ, e))
	case map[string]any:
		if t, ok := e["error_type"].(string); ok {
			msg, _ := e["error_message"].(string)
			return v2Errors(v2Error(t, msg))
		}
		var items []obj
		for _, k := range slices.Sorted(maps.Keys(e)) {
			msgs, _ := e[k].([]any)
			for _, m := range msgs {
				it := obj{"error_type": typ, "path": k}
				switch m := m.(type) {
				case string:
					it["error_message"] = m
				case map[string]any:
					it["error_type"], it["error_message"] = m["error_type"], m["error_message"]
				}
				items = append(items, it)
			}
		}
		return v2Errors(items...)
	}
	return v2Errors(v2Error(typ, http.StatusText(status)))
}
