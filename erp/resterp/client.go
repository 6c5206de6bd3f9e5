package resterp

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/erpbridge/erpbridge/bridge/retry"
)

// maxBody bounds a response body read into memory.
const maxBody = 64 << 20

// RequestError is a failed request to a route. It names the method and the
// path (never the credentials); Status is 0 when no response came.
type RequestError struct {
	Method string
	Path   string // path and query, without the base URL's host
	Status int
	// Body is the start of the error body (credentials redacted).
	Body string
	Err  error // the transport or decoding error, if any
}

func (e *RequestError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s", e.Method, e.Path)
	if e.Status != 0 {
		fmt.Fprintf(&b, ": status %d", e.Status)
	}
	if e.Body != "" {
		fmt.Fprintf(&b, ": %s", e.Body)
	}
	if e.Err != nil {
		fmt.Fprintf(&b, ": %v", e.Err)
	}
	return b.String()
}

func (e *RequestError) Unwrap() error { return e.Err }

// retryable reports whether the GET may succeed if sent again.
func (e *RequestError) retryable() bool {
	if e.Status >= 500 || e.Status == http.StatusTooManyRequests {
		return true
	}
	if e.Status != 0 {
		return false
	}
	var ne net.Error
	return errors.Is(e.Err, context.DeadlineExceeded) || (errors.As(e.Err, &ne) && ne.Timeout()) ||
		errors.Is(e.Err, io.ErrUnexpectedEOF) || errors.Is(e.Err, io.EOF) || isConnError(e.Err)
}

func isConnError(err error) bool {
	var op *net.OpError
	return errors.As(err, &op)
}

// ErrUnauthorized is wrapped by a RequestError for 401 and 403 answers.
var ErrUnauthorized = errors.New("credentials refused")

// ErrNotFound is wrapped by a RequestError for a 404 answer.
var ErrNotFound = errors.New("not found")

// client sends the GETs of one route.
type client struct {
	spec RouteSpec
	http *http.Client
}

// get sends GET path?query, retrying 5xx, 429 and timeouts with backoff,
// and decodes the JSON body with UseNumber.
// The time is the answer's Date header (zero when absent).
func (c *client) get(ctx context.Context, path string, query url.Values) (any, time.Time, error) {
	for k, v := range c.spec.Query {
		if !query.Has(k) {
			query.Set(k, v)
		}
	}
	target := path
	if enc := query.Encode(); enc != "" {
		target += "?" + enc
	}
	type answer struct {
		body any
		date time.Time
	}
	a, err := retry.Do(ctx, c.spec.retryPolicy(), func(err error) bool {
		var re *RequestError
		return errors.As(err, &re) && re.retryable()
	}, func() (answer, error) {
		body, date, err := c.once(ctx, target)
		return answer{body, date}, err
	})
	if err != nil {
		return nil, time.Time{}, err
	}
	return a.body, a.date, nil
}

// retryPolicy is when a request is sent again: Retries more times, the
// first after Backoff, doubling.
func (s RouteSpec) retryPolicy() retry.Policy {
	return retry.Policy{First: s.Backoff, Attempts: max(s.Retries, 0) + 1}
}

func (c *client) once(ctx context.Context, target string) (any, time.Time, error) {
	fail := func(status int, body string, err error) error {
		return &RequestError{Method: http.MethodGet, Path: target, Status: status, Body: c.redact(body), Err: err}
	}
	ctx, cancel := context.WithTimeout(ctx, c.spec.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.spec.BaseURL+target, nil)
	if err != nil {
		return nil, time.Time{}, fail(0, "", err)
	}
	req.Header.Set("Accept", "application/json")
	c.spec.Auth.apply(req)
	resp, err := c.http.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // its text repeats the URL; ours names the path
		}
		return nil, time.Time{}, fail(0, "", err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	if err != nil {
		return nil, time.Time{}, fail(resp.StatusCode, "", fmt.Errorf("reading body: %w", err))
	}
	switch {
	case resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden:
		return nil, time.Time{}, fail(resp.StatusCode, snippet(raw), ErrUnauthorized)
	case resp.StatusCode == http.StatusNotFound:
		return nil, time.Time{}, fail(resp.StatusCode, snippet(raw), ErrNotFound)
	case resp.StatusCode < 200 || resp.StatusCode > 299:
		return nil, time.Time{}, fail(resp.StatusCode, snippet(raw), nil)
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var body any
	if err := dec.Decode(&body); err != nil {
		return nil, time.Time{}, fail(resp.StatusCode, "", fmt.Errorf("decoding JSON: %w", err))
	}
	date, _ := http.ParseTime(resp.Header.Get("Date"))
	return body, date, nil
}

// apply sets a request's credentials: a bearer token, else Basic auth.
func (a Auth) apply(req *http.Request) {
	switch {
	case a.Token != "":
		req.Header.Set("Authorization", "Bearer "+a.Token)
	case a.User != "":
		req.SetBasicAuth(a.User, a.Password)
	}
}

// redact removes the route's secrets from text an ERP echoed back.
func (c *client) redact(s string) string {
	for _, secret := range []string{c.spec.Auth.Password, c.spec.Auth.Token} {
		if len(secret) >= 4 {
			s = strings.ReplaceAll(s, secret, "***")
		}
	}
	return s
}

func snippet(b []byte) string {
	s := strings.TrimSpace(string(b))
	if len(s) > 300 {
		s = s[:300] + "…"
	}
	return s
}
