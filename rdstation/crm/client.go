package crm

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
)

// Defaults for Config.
const (
	DefaultTimeout          = 30 * time.Second
	DefaultMaxRetries       = 5
	DefaultMaxRateLimitWait = 10 * time.Minute
	DefaultUserAgent        = "erpbridge-crm/1"

	backoffBase     = 500 * time.Millisecond
	backoffCap      = 30 * time.Second
	maxResponseSize = 32 << 20
)

// Config configures a Client. Only BaseURL and Token are required.
type Config struct {
	// BaseURL is the API root, e.g. https://crm.rdstation.com/api/v1 or
	// http://127.0.0.1:8089/api/v1.
	BaseURL string
	// Token is the account user's API token, sent as the token query
	// parameter. It is never printed (Config formats it as [redacted]).
	Token string
	// Budget is the account's rate budget; pass SharedBudget(hash of the
	// token, …) so every client of the account shares it. Nil gives the
	// client a private budget with the default settings on Clock.
	Budget *Budget
	// HTTPClient is reused for every request. Nil gives a client with
	// pooled keep-alive connections that does not follow redirects.
	HTTPClient *http.Client
	// ObserveRequest, when set, is told of every HTTP attempt when it ends:
	// its method, the status (0 when no answer came) and how long it took
	// (the request latency metrics). ctx is the call's.
	ObserveRequest func(ctx context.Context, method string, status int, took time.Duration)
	// Timeout bounds each attempt (default 30s).
	Timeout time.Duration
	// MaxRetries is how many times a retryable failure (5xx, timeout,
	// connection refused/reset) is retried (default 5; negative: never).
	// 429s do not count.
	MaxRetries int
	// MaxRateLimitWait bounds the time one call spends waiting out 429s
	// before it fails with ErrRateLimited (default 10 minutes).
	MaxRateLimitWait time.Duration
	// Clock is used for every wait (default clock.Real{}).
	Clock clock.Clock
	// UserAgent is sent with every request (default "erpbridge-crm/1").
	UserAgent string
	// Bearer, when set, authenticates with an OAuth2 access token in the
	// Authorization header instead of Token (CRM API v2): a 401 asks it
	// for a fresh token once and retries (bearer.go).
	Bearer BearerSource
	// AuthHint is every 401's Error.Hint: which setting holds the token and
	// how to check it, in the caller's terms (default DefaultAuthHint).
	// It must not hold the token.
	AuthHint string
}

// DefaultAuthHint is the hint of a 401 when Config.AuthHint is empty.
const DefaultAuthHint = "the API token was refused: check it with GET /token/check"

// Format prints the config with the token redacted, for every verb.
func (c Config) Format(f fmt.State, verb rune) {
	type plain Config
	p := plain(c)
	if p.Token != "" {
		p.Token = "[redacted]"
	}
	if verb == 'v' && f.Flag('#') {
		fmt.Fprintf(f, "%#v", p)
		return
	}
	if verb == 'v' && f.Flag('+') {
		fmt.Fprintf(f, "%+v", p)
		return
	}
	fmt.Fprintf(f, "%v", p)
}

// secret holds the token behind a pointer so printing a Client with %v
// shows an address, not the token.
type secret struct{ v string }

// Client talks to one RD Station CRM account. It is safe for concurrent use.
type Client struct {
	base             *url.URL
	token            *secret
	bearer           BearerSource
	budget           *Budget
	http             *http.Client
	timeout          time.Duration
	maxRetries       int
	maxRateLimitWait time.Duration
	clock            clock.Clock
	userAgent        string
	authHint         string
	observe          func(ctx context.Context, method string, status int, took time.Duration)
	stats            counters
	onRefused        atomic.Pointer[func(*Error)]
}

// Format prints a short description without the token.
func (c *Client) Format(f fmt.State, _ rune) {
	fmt.Fprintf(f, "crm.Client{%s}", c.base.Redacted())
}

// New validates cfg and returns a client.
func New(cfg Config) (*Client, error) {
	if cfg.BaseURL == "" {
		return nil, errors.New("creating CRM client: BaseURL is empty")
	}
	base, err := url.Parse(strings.TrimRight(cfg.BaseURL, "/"))
	if err != nil || base.Scheme == "" || base.Host == "" {
		return nil, fmt.Errorf("creating CRM client: BaseURL %q is not an absolute URL", cfg.BaseURL)
	}
	if base.RawQuery != "" {
		return nil, errors.New("creating CRM client: BaseURL must not carry a query string; set Token instead")
	}
	if cfg.Token == "" && cfg.Bearer == nil {
		return nil, errors.New("creating CRM client: Token is empty")
	}
	if cfg.Clock == nil {
		cfg.Clock = clock.Real{}
	}
	if cfg.Budget == nil {
		cfg.Budget = NewBudget(BudgetConfig{Clock: cfg.Clock})
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = defaultHTTPClient()
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
	if cfg.AuthHint == "" {
		cfg.AuthHint = DefaultAuthHint
	}
	return &Client{
		base:             base,
		token:            &secret{cfg.Token},
		bearer:           cfg.Bearer,
		budget:           cfg.Budget,
		http:             cfg.HTTPClient,
		timeout:          cfg.Timeout,
		maxRetries:       cfg.MaxRetries,
		maxRateLimitWait: cfg.MaxRateLimitWait,
		clock:            cfg.Clock,
		userAgent:        cfg.UserAgent,
		authHint:         cfg.AuthHint,
		observe:          cfg.ObserveRequest,
	}, nil
}

func defaultHTTPClient() *http.Client {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConns = 20
	t.MaxIdleConnsPerHost = 10
	t.IdleConnTimeout = 90 * time.Second
	t.ResponseHeaderTimeout = 0 // the per-attempt context bounds the whole exchange
	return &http.Client{
		Transport: t,
		// Never follow a redirect: it would carry the token elsewhere.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// Stats is a snapshot of the client's request counters.
type Stats struct {
	// Requests is every HTTP attempt sent, retries included.
	Requests int64
	// ByMethod counts attempts per HTTP method.
	ByMethod map[string]int64
	// RateLimited counts 429 answers.
	RateLimited int64
	// Retries counts attempts repeated after a 5xx or a network failure.
	Retries int64
	// OutcomeUnknown counts writes that were sent but got no answer.
	OutcomeUnknown int64
}

type counters struct {
	requests, rateLimited, retries, outcomeUnknown atomic.Int64
	get, post, put, patch, del                     atomic.Int64
}

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
	default:
		return &s.del
	}
}

// Stats returns the request counters so far.
func (c *Client) Stats() Stats {
	s := &c.stats
	return Stats{
		Requests: s.requests.Load(),
		ByMethod: map[string]int64{
			http.MethodGet: s.get.Load(), http.MethodPost: s.post.Load(), http.MethodPut: s.put.Load(),
			http.MethodPatch: s.patch.Load(), http.MethodDelete: s.del.Load(),
		},
		RateLimited:    s.rateLimited.Load(),
		Retries:        s.retries.Load(),
		OutcomeUnknown: s.outcomeUnknown.Load(),
	}
}

// request describes one API call.
type request struct {
	method string
	path   string // relative to the base URL, starting with "/"
	query  url.Values
	body   any    // marshalled to JSON when non-nil
	bearer string // the access token sent (Config.Bearer)
}

// response is what an attempt produced.
type response struct {
	status int
	header http.Header
	body   []byte
}

// do sends r under the budget with retries and decodes a 2xx body into out
// (when out is non-nil and the body is not empty). wrapKey names the
// envelope key a single object may come wrapped in ("" for none).
func (c *Client) do(ctx context.Context, r request, out any, wrapKey string) error {
	var payload []byte
	if r.body != nil {
		var err error
		if payload, err = json.Marshal(r.body); err != nil {
			return &Error{Kind: ErrBadRequest, Method: r.method, Path: r.path, Message: "encoding request body", Err: err}
		}
	}
	unsafe := r.method == http.MethodPost || r.method == http.MethodPatch
	retries := 0
	var firstLimited time.Time
	renewed := false
	for {
		if c.bearer != nil {
			tok, err := c.bearer.Token(ctx)
			if err != nil {
				return fmt.Errorf("getting the access token for %s %s: %w", r.method, r.path, err)
			}
			r.bearer = tok
		}
		if err := c.budget.Wait(ctx); err != nil {
			return fmt.Errorf("waiting for the rate budget for %s %s: %w", r.method, r.path, err)
		}
		resp, wrote, err := c.attempt(ctx, r, payload)
		if err != nil {
			if ctxErr := ctx.Err(); ctxErr != nil && !(unsafe && wrote) {
				return &Error{Method: r.method, Path: r.path, Err: ctxErr}
			}
			if unsafe && wrote {
				c.stats.outcomeUnknown.Add(1)
				return &Error{Kind: ErrOutcomeUnknown, Method: r.method, Path: r.path,
					Message: "request sent but no response arrived", Err: err}
			}
			if retries >= c.maxRetries {
				return &Error{Kind: ErrServer, Method: r.method, Path: r.path,
					Message: fmt.Sprintf("no response after %d attempts", retries+1), Err: err}
			}
			if err := c.backoff(ctx, r, &retries); err != nil {
				return err
			}
			continue
		}
		if resp.status != http.StatusTooManyRequests {
			c.budget.answered()
		}
		switch {
		case resp.status >= 200 && resp.status < 300:
			return c.decode(r, resp.body, out, wrapKey)
		case resp.status == http.StatusUnauthorized && c.bearer != nil && !renewed:
			// The access token expired early or was revoked: renew it once
			// (a 401 is an answer, so nothing was applied) and resend.
			renewed = true
			if _, err := c.bearer.Expired(ctx, r.bearer); err != nil {
				return fmt.Errorf("renewing the access token after a 401 on %s %s: %w", r.method, r.path, err)
			}
			continue
		case resp.status == http.StatusTooManyRequests:
			c.stats.rateLimited.Add(1)
			now := c.clock.Now()
			if firstLimited.IsZero() {
				firstLimited = now
			}
			ra, sent := retryAfter(resp.header, now)
			until := c.budget.limited(now, ra, sent)
			if until.Sub(firstLimited) > c.maxRateLimitWait {
				e := c.apiError(r, resp)
				e.Message = fmt.Sprintf("still rate limited after waiting %s: %s", now.Sub(firstLimited).Round(time.Second), e.Message)
				return e
			}
			continue // the budget waits out the pause; a 429 is not a retry
		case resp.status >= 500 && unsafe:
			// The server (or a gateway in front of it) may have applied the
			// write before failing: sending it again could double it. The
			// caller resolves it by natural key, as for a lost response.
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
			e := c.apiError(r, resp)
			if resp.status == http.StatusBadRequest || resp.status == http.StatusUnprocessableEntity {
				if f := c.onRefused.Load(); f != nil {
					(*f)(e)
				}
			}
			return e
		}
	}
}

// OnRefused makes f hear of every request the CRM refuses as malformed or
// invalid (400, 422), before the caller gets the error: a target system
// drops what it keeps of the account's custom fields when one is named.
func (c *Client) OnRefused(f func(*Error)) { c.onRefused.Store(&f) }

// backoff sleeps a full-jitter exponential delay before retry number *n+1.
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

// attempt sends one HTTP request. wrote reports whether the request was
// completely written to the connection. Returned errors never carry the URL.
func (c *Client) attempt(ctx context.Context, r request, payload []byte) (resp response, wrote bool, err error) {
	actx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	var traced, written atomic.Bool
	trace := &httptrace.ClientTrace{
		GetConn: func(string) { traced.Store(true) },
		WroteRequest: func(info httptrace.WroteRequestInfo) {
			if info.Err == nil {
				written.Store(true)
			}
		},
	}
	// sent reports whether the request may have reached the server: the
	// trace says so, or a transport that does not report trace events
	// failed other than by dialling (assume the worst).
	sent := func(err error) bool {
		if written.Load() {
			return true
		}
		var op *net.OpError
		dialFailed := errors.As(err, &op) && op.Op == "dial"
		return !traced.Load() && !dialFailed
	}
	actx = httptrace.WithClientTrace(actx, trace)

	u := *c.base
	u.Path = c.base.Path + r.path
	q := url.Values{}
	for k, v := range r.query {
		q[k] = v
	}
	if c.bearer == nil {
		q.Set("token", c.token.v)
	}
	u.RawQuery = q.Encode()

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
		req.Header.Set("Content-Type", "application/json")
	}
	if r.bearer != "" {
		req.Header.Set("Authorization", "Bearer "+r.bearer)
	}
	c.stats.requests.Add(1)
	c.stats.method(r.method).Add(1)
	start := time.Now()
	hr, err := c.http.Do(req)
	if c.observe != nil {
		status := 0
		if err == nil {
			status = hr.StatusCode
		}
		c.observe(ctx, r.method, status, time.Since(start))
	}
	if err != nil {
		return response{}, sent(err), c.scrub(err)
	}
	defer hr.Body.Close()
	data, err := io.ReadAll(io.LimitReader(hr.Body, maxResponseSize))
	if err != nil {
		return response{}, true, c.scrub(fmt.Errorf("reading response body: %w", err))
	}
	return response{status: hr.StatusCode, header: hr.Header, body: data}, true, nil
}

// scrub drops the *url.Error wrapper (its message holds the full URL with
// the token) and guards against the token anywhere else in the message.
func (c *Client) scrub(err error) error {
	var ue *url.Error
	for errors.As(err, &ue) {
		err = ue.Err
	}
	if err == nil {
		return nil
	}
	if c.token.v != "" && strings.Contains(err.Error(), c.token.v) || strings.Contains(err.Error(), url.QueryEscape(c.token.v)) {
		return &redacted{msg: c.redact(err.Error()), err: err}
	}
	return err
}

func (c *Client) redact(s string) string {
	if c.token.v == "" {
		return s
	}
	s = strings.ReplaceAll(s, c.token.v, "[redacted]")
	return strings.ReplaceAll(s, url.QueryEscape(c.token.v), "[redacted]")
}

// redacted is an error whose message had the token removed; errors.Is and
// errors.As still see the original chain.
type redacted struct {
	msg string
	err error
}

func (r *redacted) Error() string { return r.msg }
func (r *redacted) Unwrap() error { return r.err }

// Format prints only the redacted message, for every verb.
func (r *redacted) Format(f fmt.State, _ rune) { io.WriteString(f, r.msg) }

// apiError builds the typed error of a non-2xx answer.
func (c *Client) apiError(r request, resp response) *Error {
	e := &Error{Kind: kindForStatus(resp.status), Method: r.method, Path: r.path, Status: resp.status}
	if e.Kind == ErrUnauthorized {
		e.Hint = c.redact(c.authHint)
	}
	decodeErrorBody(e, resp.body)
	e.Message = c.redact(e.Message)
	e.Excerpt = c.redact(e.Excerpt)
	for k, msgs := range e.Fields {
		for i := range msgs {
			msgs[i] = c.redact(msgs[i])
		}
		e.Fields[k] = msgs
	}
	return e
}

// decode reads a success body into out, unwrapping {"<wrapKey>":{…}}.
func (c *Client) decode(r request, body []byte, out any, wrapKey string) error {
	if out == nil || len(bytes.TrimSpace(body)) == 0 {
		return nil
	}
	if wrapKey != "" {
		var env map[string]json.RawMessage
		if json.Unmarshal(body, &env) == nil && len(env) == 1 {
			if inner, ok := env[wrapKey]; ok {
				body = inner
			}
		}
	}
	if err := json.Unmarshal(body, out); err != nil {
		return &Error{Kind: ErrServer, Method: r.method, Path: r.path, Message: "decoding response",
			Excerpt: c.redact(excerpt(string(body))), Err: err}
	}
	return nil
}

// retryAfter reads a Retry-After header in seconds or as an HTTP date.
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

var (
	_ fmt.Formatter = Config{}
	_ fmt.Formatter = (*Client)(nil)
	_ error         = (*redacted)(nil)
)

// Budget returns the account's request budget the client draws from.
func (c *Client) Budget() *Budget { return c.budget }
