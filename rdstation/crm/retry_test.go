package crm

import (
	"context"
	"errors"
	"net"
	"net/http"
	"testing"
	"time"
)

func TestRateLimitWaitsWithoutUsingARetry(t *testing.T) {
	tests := []struct {
		name       string
		retryAfter func(now time.Time) string
		minWait    time.Duration
		maxWait    time.Duration
	}{
		{name: "Retry-After seconds", retryAfter: func(time.Time) string { return "7" }, minWait: 7 * time.Second, maxWait: 8 * time.Second},
		{name: "Retry-After date", retryAfter: func(now time.Time) string { return now.Add(20 * time.Second).Format(http.TimeFormat) },
			minWait: 20 * time.Second, maxWait: 21 * time.Second},
		{name: "no header: a probe after a few seconds, not the window's minute", retryAfter: func(time.Time) string { return "" },
			minWait: probeFirst, maxWait: probeFirst + probeJitter},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var fcNow func() time.Time
			a := newTestAPI(t, func(w http.ResponseWriter, r *http.Request, n int) {
				if n == 1 {
					if h := tt.retryAfter(fcNow()); h != "" {
						w.Header().Set("Retry-After", h)
					}
					reply(w, 429, `{"errors":{"error_type":"RATE_LIMIT_EXCEDDED","error_message":"API usage limit exceeded"}}`)
					return
				}
				reply(w, 200, `{"id":"u1","name":"Ana","email":"ana@example.com"}`)
			})
			// No retries at all: a 429 must still be waited out.
			c, fc := newTestClient(t, a, func(cfg *Config) { cfg.MaxRetries = -1 })
			fcNow = fc.Now
			u, err := c.GetUser(context.Background(), "u1")
			if err != nil {
				t.Fatalf("GetUser after a 429: %v", err)
			}
			if u.Email != "ana@example.com" {
				t.Errorf("user = %+v", u)
			}
			waited := fc.Now().Sub(testStart)
			if waited < tt.minWait || waited > tt.maxWait {
				t.Errorf("waited %v, want between %v and %v", waited, tt.minWait, tt.maxWait)
			}
			s := c.Stats()
			if s.RateLimited != 1 || s.Retries != 0 || s.Requests != 2 {
				t.Errorf("stats = %+v, want 1 rate limited, 0 retries, 2 requests", s)
			}
		})
	}
}

func TestRateLimitPausesEveryCallerOfTheAccount(t *testing.T) {
	a := newTestAPI(t, func(w http.ResponseWriter, r *http.Request, n int) {
		if r.URL.Path == "/api/v1/users/limited" && n == 1 {
			w.Header().Set("Retry-After", "30")
			reply(w, 429, `{"errors":{"error_type":"RATE_LIMIT_EXCEDDED","error_message":"API usage limit exceeded"}}`)
			return
		}
		reply(w, 200, `{"id":"u"}`)
	})
	first, fc := newTestClient(t, a)
	budget := first.budget
	second, _ := newTestClient(t, a, func(cfg *Config) { cfg.Clock = fc; cfg.Budget = budget })
	if _, err := first.GetUser(context.Background(), "limited"); err != nil {
		t.Fatal(err)
	}
	at := fc.Now()
	budget.PauseUntil(at.Add(45 * time.Second)) // as if the retry hit another 429
	if _, err := second.GetUser(context.Background(), "other"); err != nil {
		t.Fatal(err)
	}
	if got := fc.Now().Sub(at); got < 45*time.Second {
		t.Errorf("second client went after %v, want it to wait out the account's pause", got)
	}
}

func TestRateLimitGivesUpAfterMaxWait(t *testing.T) {
	a := newTestAPI(t, func(w http.ResponseWriter, r *http.Request, n int) {
		w.Header().Set("Retry-After", "60")
		reply(w, 429, `{"errors":{"error_type":"RATE_LIMIT_EXCEDDED","error_message":"API usage limit exceeded"}}`)
	})
	c, fc := newTestClient(t, a, func(cfg *Config) { cfg.MaxRateLimitWait = 5 * time.Minute })
	_, err := c.GetUser(context.Background(), "u1")
	if !errors.Is(err, ErrRateLimited) {
		t.Fatalf("err = %v, want ErrRateLimited", err)
	}
	if n := len(a.requests()); n < 5 || n > 7 {
		t.Errorf("%d requests in 5 minutes of 60 s pauses", n)
	}
	if waited := fc.Now().Sub(testStart); waited > 6*time.Minute {
		t.Errorf("waited %v, bound was 5m", waited)
	}
}

func TestServerErrorsAreRetried(t *testing.T) {
	tests := []struct {
		name       string
		method     string
		failures   int
		maxRetries int
		wantErr    error
		wantReqs   int
	}{
		{name: "GET 503 twice then ok", method: http.MethodGet, failures: 2, maxRetries: 5, wantReqs: 3},
		{name: "POST 5xx is not resent: it may have been applied", method: http.MethodPost, failures: 1, maxRetries: 5, wantErr: ErrOutcomeUnknown, wantReqs: 1},
		{name: "gives up after MaxRetries", method: http.MethodGet, failures: 100, maxRetries: 2, wantErr: ErrServer, wantReqs: 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := newTestAPI(t, func(w http.ResponseWriter, r *http.Request, n int) {
				if n <= tt.failures {
					reply(w, 503, "<html><body>Service Unavailable</body></html>")
					return
				}
				reply(w, 200, `{"id":"o1","name":"Acme"}`)
			})
			c, fc := newTestClient(t, a, func(cfg *Config) { cfg.MaxRetries = tt.maxRetries })
			var err error
			if tt.method == http.MethodGet {
				_, err = c.GetOrganization(context.Background(), "o1")
			} else {
				_, err = c.CreateOrganization(context.Background(), OrganizationInput{Name: "Acme"})
			}
			if !errors.Is(err, tt.wantErr) || (tt.wantErr == nil && err != nil) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			if got := len(a.requests()); got != tt.wantReqs {
				t.Errorf("%d requests, want %d", got, tt.wantReqs)
			}
			if s := c.Stats(); s.Retries != int64(tt.wantReqs-1) {
				t.Errorf("Retries = %d, want %d", s.Retries, tt.wantReqs-1)
			}
			if tt.wantReqs > 1 && fc.Now().Equal(testStart) {
				t.Error("no backoff was slept on the clock")
			}
		})
	}
}

func TestNetworkFailures(t *testing.T) {
	tests := []struct {
		name     string
		call     func(*Client) error
		fail     func(w http.ResponseWriter, r *http.Request) // the first attempt
		wantErr  error
		wantReqs int
	}{
		{name: "POST connection closed after write: outcome unknown, not retried",
			call: func(c *Client) error {
				_, err := c.CreateOrganization(context.Background(), OrganizationInput{Name: "Acme"})
				return err
			},
			fail: func(w http.ResponseWriter, r *http.Request) { dropConnection(w) }, wantErr: ErrOutcomeUnknown, wantReqs: 1},
		{name: "PATCH batch timed out after write: outcome unknown",
			call: func(c *Client) error {
				_, err := c.UpdateDealProducts(context.Background(), "d1", []DealProductInput{{ID: "dp1"}})
				return err
			},
			fail: func(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() }, wantErr: ErrOutcomeUnknown, wantReqs: 1},
		{name: "PUT retried on reset",
			call: func(c *Client) error {
				_, err := c.UpdateOrganization(context.Background(), "o1", OrganizationInput{Name: "Acme"})
				return err
			},
			fail: func(w http.ResponseWriter, r *http.Request) { dropConnection(w) }, wantReqs: 2},
		{name: "GET retried on timeout",
			call: func(c *Client) error {
				_, err := c.GetOrganization(context.Background(), "o1")
				return err
			},
			fail: func(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() }, wantReqs: 2},
		{name: "DELETE retried on reset",
			call: func(c *Client) error { return c.DeleteDealProduct(context.Background(), "d1", "dp1") },
			fail: func(w http.ResponseWriter, r *http.Request) { dropConnection(w) }, wantReqs: 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := newTestAPI(t, func(w http.ResponseWriter, r *http.Request, n int) {
				if n == 1 {
					tt.fail(w, r)
					return
				}
				reply(w, 200, `{"id":"o1","name":"Acme"}`)
			})
			c, _ := newTestClient(t, a, func(cfg *Config) { cfg.Timeout = 150 * time.Millisecond })
			err := tt.call(c)
			if !errors.Is(err, tt.wantErr) || (tt.wantErr == nil && err != nil) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			if got := len(a.requests()); got != tt.wantReqs {
				t.Errorf("%d requests, want %d", got, tt.wantReqs)
			}
			if tt.wantErr == ErrOutcomeUnknown && c.Stats().OutcomeUnknown != 1 {
				t.Errorf("OutcomeUnknown = %d, want 1", c.Stats().OutcomeUnknown)
			}
		})
	}
}

func TestPostThatNeverReachedTheServerIsRetried(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	a := newTestAPI(t, func(w http.ResponseWriter, r *http.Request, n int) {})
	c, _ := newTestClient(t, a, func(cfg *Config) { cfg.BaseURL = "http://" + addr + "/api/v1"; cfg.MaxRetries = 3 })
	_, err = c.CreateOrganization(context.Background(), OrganizationInput{Name: "Acme"})
	if errors.Is(err, ErrOutcomeUnknown) || !errors.Is(err, ErrServer) {
		t.Fatalf("err = %v, want ErrServer (never sent), not ErrOutcomeUnknown", err)
	}
	if s := c.Stats(); s.Requests != 4 || s.Retries != 3 {
		t.Errorf("stats = %+v, want 4 attempts and 3 retries", s)
	}
}

func TestClientErrorsAreNotRetried(t *testing.T) {
	for _, status := range []int{400, 401, 403, 404, 413, 422} {
		a := newTestAPI(t, func(w http.ResponseWriter, r *http.Request, n int) { reply(w, status, `{}`) })
		c, _ := newTestClient(t, a)
		_, err := c.GetDeal(context.Background(), "d1")
		if err == nil {
			t.Fatalf("%d: no error", status)
		}
		if got := len(a.requests()); got != 1 {
			t.Errorf("%d: %d requests, want 1", status, got)
		}
	}
}

func TestCancelledContextStopsAtOnce(t *testing.T) {
	a := newTestAPI(t, func(w http.ResponseWriter, r *http.Request, n int) { reply(w, 200, `{}`) })
	c, _ := newTestClient(t, a)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := c.GetDeal(ctx, "d1")
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	if n := len(a.requests()); n != 0 {
		t.Errorf("%d requests sent on a cancelled context", n)
	}
}

func TestRetryAfterZeroDoesNotSpin(t *testing.T) {
	a := newTestAPI(t, func(w http.ResponseWriter, r *http.Request, n int) {
		w.Header().Set("Retry-After", "0")
		reply(w, 429, `{"errors":{"error_type":"RATE_LIMIT_EXCEDDED","error_message":"API usage limit exceeded"}}`)
	})
	c, _ := newTestClient(t, a, func(cfg *Config) { cfg.MaxRateLimitWait = 30 * time.Second })
	if _, err := c.GetUser(context.Background(), "u1"); !errors.Is(err, ErrRateLimited) {
		t.Fatalf("err = %v, want ErrRateLimited", err)
	}
	if n := len(a.requests()); n > 40 {
		t.Errorf("%d requests in 30 s of Retry-After: 0", n)
	}
}

// roundTripFunc is a transport that reports no trace events.
type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func TestUntracedTransportFailureOnPostIsOutcomeUnknown(t *testing.T) {
	calls := 0
	hc := &http.Client{Transport: roundTripFunc(func(*http.Request) (*http.Response, error) {
		calls++
		return nil, errors.New("connection reset by peer")
	})}
	a := newTestAPI(t, func(w http.ResponseWriter, r *http.Request, n int) {})
	c, _ := newTestClient(t, a, func(cfg *Config) { cfg.HTTPClient = hc })
	if _, err := c.CreateOrganization(context.Background(), OrganizationInput{Name: "Acme"}); !errors.Is(err, ErrOutcomeUnknown) {
		t.Fatalf("err = %v, want ErrOutcomeUnknown", err)
	}
	if calls != 1 {
		t.Errorf("%d calls, want 1", calls)
	}
}
