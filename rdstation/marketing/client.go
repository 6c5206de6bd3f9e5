// Package marketing is a client of the RD Station Marketing API
// (docs/rdstation-api.md §3): OAuth2 (authorization code, refresh),
// contacts upserted by e-mail with tags, custom fields and legal bases,
// the contact's funnel, and events (CONVERSION, SALE, OPPORTUNITY_LOST),
// one by one or in a batch.
//
// Every request waits for the account's request budget (its own, not the
// CRM's: Marketing credentials and limits are per product). A 429 for the
// account pauses every caller of the budget and is waited out; a 429 of
// one contact ('lead_limiter': 24 writes a day) is returned at once as a
// *ContactLimitError naming when the contact may go again — the caller
// defers that contact, the others go on. A POST whose answer is lost is
// never sent again by the client (ErrOutcomeUnknown): events are not
// idempotent. PATCH and PUT (an upsert, a funnel) are, and are retried.
package marketing

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/erpbridge/erpbridge/bridge/clock"
	"github.com/erpbridge/erpbridge/bridge/health"
	"github.com/erpbridge/erpbridge/rdstation/crm"
)

// Defaults for Config.
const (
	DefaultBaseURL          = "https://api.rd.services"
	DefaultTimeout          = 30 * time.Second
	DefaultMaxRetries       = 5
	DefaultMaxRateLimitWait = 10 * time.Minute
	DefaultUserAgent        = "erpbridge-marketing/1"

	backoffBase     = 500 * time.Millisecond
	backoffCap      = 30 * time.Second
	rateWindow      = time.Minute
	windowJitter    = 5 * time.Second
	maxResponseSize = 32 << 20
)

// Tokens hands out the access token of the account's grant
// (*oauth.Source does).
type Tokens interface {
	// Token returns an access token that is not about to expire.
	Token(ctx context.Context) (string, error)
	// Expired refreshes the grant after the server said stale expired,
	// unless another caller already did, and returns the token to use.
	Expired(ctx context.Context, stale string) (string, error)
}

// Config configures a Client.
type Config struct {
	// BaseURL is the API root (default https://api.rd.services).
	BaseURL string
	// ClientID and ClientSecret are the app's credentials (the secret is
	// never printed).
	ClientID, ClientSecret string
	// Tokens gives the access token of /platform calls; nil for a client
	// that only authorizes (ExchangeCode, Refresh).
	Tokens Tokens
	// Budget is the account's request budget (crm.SharedBudget keyed by a
	// hash of the client id); nil: a private one with the defaults.
	Budget *crm.Budget
	// HTTPClient is reused; nil: pooled connections, no redirects.
	HTTPClient *http.Client
	// Timeout bounds each attempt (default 30s).
	Timeout time.Duration
	// MaxRetries: retries of a retryable failure (default 5; negative: none).
	MaxRetries int
	// MaxRateLimitWait bounds the time spent waiting out the account's 429s
	// in one call (default 10 minutes).
	MaxRateLimitWait time.Duration
	// Clock is used for every wait (default clock.Real{}).
	Clock clock.Clock
	// UserAgent (default "erpbridge-marketing/1").
	UserAgent string
	// AuthHint is every refused-credentials error's Hint (what to do).
	AuthHint string
}

type secret struct{ v string }

// Client talks to one RD Station Marketing account. Safe for concurrent use.
type Client struct {
	base             *url.URL
	clientID         string
	secret           *secret
	tokens           Tokens
	budget           *crm.Budget
	http             *http.Client
	timeout          time.Duration
	maxRetries       int
	maxRateLimitWait time.Duration
	clock            clock.Clock
	userAgent        string
	authHint         string
	stats            counters
}

// Format prints a short description without secrets.
func (c *Client) Format(f fmt.State, _ rune) {
	fmt.Fprintf(f, "marketing.Client{%s}", c.base.Redacted())
}

// New validates cfg and returns a client.
func New(cfg Config) (*Client, error) {
	if cfg.BaseURL == "" {
		cfg.BaseURL = DefaultBaseURL
	}
	base, err := url.Parse(strings.TrimRight(cfg.BaseURL, "/"))
	if err != nil || base.Scheme == "" || base.Host == "" || base.RawQuery != "" {
		return nil, fmt.Errorf("creating Marketing client: BaseURL %q is not an absolute URL without query", cfg.BaseURL)
	}
	if cfg.ClientID == "" || cfg.ClientSecret == "" {
		return nil, errors.New("creating Marketing client: ClientID and ClientSecret are required")
	}
	if cfg.Clock == nil {
		cfg.Clock = clock.Real{}
	}
	if cfg.Budget == nil {
		cfg.Budget = crm.NewBudget(crm.BudgetConfig{Clock: cfg.Clock})
	}
	if cfg.HTTPClient == nil {
		t := http.DefaultTransport.(*http.Transport).Clone()
		t.MaxIdleConnsPerHost = 10
		cfg.HTTPClient = &http.Client{Transport: t,
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultTimeout
	}
	switch {
	case cfg.MaxRetries == 0:
		cfg.MaxRetries = DefaultMaxRetries
	case cfg.MaxRetries < 0:
		cfg.MaxRetries = 0
	}
	if cfg.MaxRateLimitWait <= 0 {
		cfg.MaxRateLimitWait = DefaultMaxRateLimitWait
	}
	if cfg.UserAgent == "" {
		cfg.UserAgent = DefaultUserAgent
	}
	return &Client{base: base, clientID: cfg.ClientID, secret: &secret{cfg.ClientSecret}, tokens: cfg.Tokens,
		budget: cfg.Budget, http: cfg.HTTPClient, timeout: cfg.Timeout, maxRetries: cfg.MaxRetries,
		maxRateLimitWait: cfg.MaxRateLimitWait, clock: cfg.Clock, userAgent: cfg.UserAgent, authHint: cfg.AuthHint}, nil
}

// Budget returns the account's request budget.
func (c *Client) Budget() *crm.Budget { return c.budget }

type counters struct {
	requests, rateLimited, contactLimited, retries, outcomeUnknown atomic.Int64
	get, post, put, patch, del                                     atomic.Int64
}

// Stats returns the request counters so far (health.Stats: the same
// figures the CRM client reports).
func (c *Client) Stats() health.Stats {
	s := &c.stats
	return health.Stats{Requests: s.requests.Load(),
		ByMethod: map[string]int64{http.MethodGet: s.get.Load(), http.MethodPost: s.post.Load(), http.MethodPut: s.put.Load(),
			http.MethodPatch: s.patch.Load(), http.MethodDelete: s.del.Load()},
		RateLimited: s.rateLimited.Load() + s.contactLimited.Load(), Retries: s.retries.Load(), OutcomeUnknown: s.outcomeUnknown.Load()}
}

// ContactLimited counts the per-contact 429s seen.
func (c *Client) ContactLimited() int64 { return c.stats.contactLimited.Load() }

func (s *counters) method(m string) *atomic.Int64 {
	switch m {
	case http.MethodGet:
		return &s.get
	case http.MethodPost:
		return &s.post
	case http.MethodPut:
		return &s.put
	case http.MethodPatch:
		return &s.patch
	}
	return &s.del
}

// request is one API call.
type request struct {
	method, path string
	query        url.Values
	body         any
	// auth: an /auth call (app credentials, no bearer, no budget).
	auth bool
	// idempotent: safe to send again after a lost answer (GET, PUT, an
	// upsert PATCH, the token call).
	idempotent bool
}

type response struct {
	status int
	header http.Header
	body   []byte
}

// do sends r with retries and decodes a 2xx body into out.
func (c *Client) do(ctx context.Context, r request, out any) error {
	var payload []byte
	ctype := "application/json"
	switch b := r.body.(type) {
	case nil:
	case url.Values:
		payload, ctype = []byte(b.Encode()), "application/x-www-form-urlencoded"
	default:
		var err error
		if payload, err = json.Marshal(b); err != nil {
			return &Error{Kind: ErrBadRequest, Method: r.method, Path: r.path, Message: "encoding the request body", Err: err}
		}
	}
	retries, refreshed := 0, false
	var firstLimited time.Time
	for {
		var token string
		if !r.auth {
			if c.tokens == nil {
				return &Error{Kind: ErrUnauthorized, Method: r.method, Path: r.path, Message: "no access token (not authorized)", Hint: c.authHint}
			}
			if err := c.budget.Wait(ctx); err != nil {
				return fmt.Errorf("waiting for the Marketing rate budget for %s %s: %w", r.method, r.path, err)
			}
			var err error
			if token, err = c.tokens.Token(ctx); err != nil {
				return err
			}
		}
		resp, wrote, err := c.attempt(ctx, r, payload, ctype, token)
		if err != nil {
			if ctxErr := ctx.Err(); ctxErr != nil && !(wrote && !r.idempotent) {
				return &Error{Method: r.method, Path: r.path, Err: ctxErr}
			}
			if wrote && !r.idempotent {
				c.stats.outcomeUnknown.Add(1)
				return &Error{Kind: ErrOutcomeUnknown, Method: r.method, Path: r.path, Message: "request sent but no answer arrived", Err: err}
			}
			if retries >= c.maxRetries {
				return &Error{Kind: ErrServer, Method: r.method, Path: r.path, Message: fmt.Sprintf("no answer after %d attempts", retries+1), Err: err}
			}
			if err := c.backoff(ctx, r, &retries); err != nil {
				return err
			}
			continue
		}
		switch {
		case resp.status >= 200 && resp.status < 300:
			return c.decode(r, resp.body, out)
		case resp.status == http.StatusUnauthorized && !r.auth && !refreshed && expiredToken(resp):
			refreshed = true // once: a second expired answer is an error
			if _, err := c.tokens.Expired(ctx, token); err != nil {
				return err
			}
			continue
		case resp.status == http.StatusTooManyRequests:
			if cl := contactLimit(r.method, r.path, resp.body); cl != nil {
				c.stats.contactLimited.Add(1)
				return cl
			}
			c.stats.rateLimited.Add(1)
			now := c.clock.Now()
			if firstLimited.IsZero() {
				firstLimited = now
			}
			wait := rateWindow + rand.N(windowJitter)
			if ra, ok := retryAfter(resp.header, now); ok {
				wait = max(ra, time.Second)
			}
			until := now.Add(wait)
			c.budget.PauseUntil(until)
			if until.Sub(firstLimited) > c.maxRateLimitWait {
				e := c.apiError(r, resp)
				e.Message = fmt.Sprintf("still rate limited after waiting %s: %s", now.Sub(firstLimited).Round(time.Second), e.Message)
				return e
			}
			if r.auth {
				if err := c.clock.Sleep(ctx, wait); err != nil {
					return err
				}
			}
			continue
		case resp.status >= 500 && !r.idempotent:
			c.stats.outcomeUnknown.Add(1)
			e := c.apiError(r, resp)
			e.Kind = ErrOutcomeUnknown
			e.Message = "server error after the request was sent, it may have been applied: " + e.Message
			return e
		case resp.status >= 500:
			if retries >= c.maxRetries {
				return c.apiError(r, resp)
			}
			if err := c.backoff(ctx, r, &retries); err != nil {
				return err
			}
			continue
		default:
			return c.apiError(r, resp)
		}
	}
}

// expiredToken reports the expired-token 401 (the WWW-Authenticate header,
// or its remapped copy, says error="expired_token"; or the body says
// invalid_token … expired).
func expiredToken(resp response) bool {
	for _, h := range []string{"WWW-Authenticate", "x-amzn-remapped-www-authenticate"} {
		if strings.Contains(resp.header.Get(h), `error="expired_token"`) {
			return true
		}
	}
	var v struct {
		Error       string `json:"error"`
		Description string `json:"error_description"`
	}
	return json.Unmarshal(resp.body, &v) == nil && v.Error == "invalid_token" && strings.Contains(v.Description, "expired")
}

func (c *Client) backoff(ctx context.Context, r request, n *int) error {
	ceiling := backoffBase << min(*n, 16)
	if ceiling > backoffCap || ceiling <= 0 {
		ceiling = backoffCap
	}
	*n++
	c.stats.retries.Add(1)
	if err := c.clock.Sleep(ctx, rand.N(ceiling)+1); err != nil {
		return fmt.Errorf("backing off before retrying %s %s: %w", r.method, r.path, err)
	}
	return nil
}

// attempt sends one HTTP request; wrote reports whether it may have
// reached the server.
func (c *Client) attempt(ctx context.Context, r request, payload []byte, ctype, token string) (response, bool, error) {
	actx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	var traced, written atomic.Bool
	actx = httptrace.WithClientTrace(actx, &httptrace.ClientTrace{
		GetConn: func(string) { traced.Store(true) },
		WroteRequest: func(info httptrace.WroteRequestInfo) {
			if info.Err == nil {
				written.Store(true)
			}
		},
	})
	sent := func(err error) bool {
		if written.Load() {
			return true
		}
		var op *net.OpError
		return !traced.Load() && !(errors.As(err, &op) && op.Op == "dial")
	}
	u := *c.base
	u.Path = c.base.Path + r.path
	u.RawQuery = r.query.Encode()
	var body io.Reader
	if payload != nil {
		body = bytes.NewReader(payload)
	}
	req, err := http.NewRequestWithContext(actx, r.method, u.String(), body)
	if err != nil {
		return response{}, false, c.scrub(err)
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", c.userAgent)
	if payload != nil {
		req.Header.Set("Content-Type", ctype)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	c.stats.requests.Add(1)
	c.stats.method(r.method).Add(1)
	hr, err := c.http.Do(req)
	if err != nil {
		return response{}, sent(err), c.scrub(err)
	}
	defer hr.Body.Close()
	data, err := io.ReadAll(io.LimitReader(hr.Body, maxResponseSize))
	if err != nil {
		return response{}, true, c.scrub(fmt.Errorf("reading the answer: %w", err))
	}
	return response{status: hr.StatusCode, header: hr.Header, body: data}, true, nil
}

// scrub drops *url.Error (its text holds the URL, with e-mails of
// contacts) and any secret.
func (c *Client) scrub(err error) error {
	var ue *url.Error
	for errors.As(err, &ue) {
		err = ue.Err
	}
	return err
}

func (c *Client) apiError(r request, resp response) *Error {
	e := &Error{Method: r.method, Path: r.path, Status: resp.status}
	decodeError(e, resp.body)
	e.Kind = kindFor(resp.status, e.Type, expiredToken(resp))
	if e.Kind == ErrUnauthorized || e.Kind == ErrRefreshRefused || e.Kind == ErrCodeExpired {
		e.Hint = c.authHint
	}
	e.Message = strings.ReplaceAll(e.Message, c.secret.v, "[redacted]")
	return e
}

func (c *Client) decode(r request, body []byte, out any) error {
	if out == nil || len(bytes.TrimSpace(body)) == 0 {
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	if err := dec.Decode(out); err != nil {
		return &Error{Kind: ErrServer, Method: r.method, Path: r.path, Message: "decoding the answer: " + excerpt(string(body)), Err: err}
	}
	return nil
}

func retryAfter(h http.Header, now time.Time) (time.Duration, bool) {
	v := strings.TrimSpace(h.Get("Retry-After"))
	if v == "" {
		return 0, false
	}
	if secs, err := strconv.ParseFloat(v, 64); err == nil && secs >= 0 {
		return time.Duration(secs * float64(time.Second)), true
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(t.Sub(now), 0), true
	}
	return 0, false
}

// contactPath is the path of a contact by e-mail, escaped.
func contactPath(email string) string {
	return "/platform/contacts/email:" + url.PathEscape(strings.ToLower(strings.TrimSpace(email)))
}

var _ fmt.Formatter = (*Client)(nil)
