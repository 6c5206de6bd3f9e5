package crm

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestErrorMapping(t *testing.T) {
	tests := []struct {
		name        string
		status      int
		body        string
		kind        error
		message     string
		fields      map[string][]string
		excerptHas  string
		errorString string
	}{
		{name: "400 unknown custom field", status: 400,
			body: `{"errors":"Could not find a custom field that matches: {:custom_field_id=>\"X\"}"}`,
			kind: ErrBadRequest, message: `Could not find a custom field that matches: {:custom_field_id=>"X"}`},
		{name: "401", status: 401, body: `{"error":"Permission denied."}`, kind: ErrUnauthorized, message: "Permission denied.",
			errorString: "PUT /organizations/abc: unauthorized: Permission denied. — " + DefaultAuthHint},
		{name: "403", status: 403, body: `{"error":"forbidden"}`, kind: ErrForbidden, message: "forbidden"},
		{name: "404", status: 404, body: `{"errors":{"error_type":"RESOURCE_NOT_FOUND","error_message":"Organization not found"}}`,
			kind: ErrNotFound, message: "Organization not found"},
		{name: "413", status: 413, body: `{"errors":"too many deal products"}`, kind: ErrTooLarge, message: "too many deal products"},
		{name: "422 plain", status: 422, body: `{"errors":{"name":["has already been taken"]}}`, kind: ErrValidation,
			fields:      map[string][]string{"name": {"has already been taken"}},
			errorString: "PUT /organizations/abc: validation failed: name: has already been taken"},
		{name: "422 typed", status: 422,
			body: `{"errors":{"name":[{"error_type":"MUST_BE_STRING","error_message":"must be a string"}],"url":["is invalid","is too short"]}}`,
			kind: ErrValidation, fields: map[string][]string{"name": {"must be a string"}, "url": {"is invalid", "is too short"}},
			errorString: "PUT /organizations/abc: validation failed: name: must be a string; url: is invalid, is too short"},
		{name: "500 HTML", status: 500,
			body: "<!DOCTYPE html><html><head><title>We're sorry</title><style>body{color:red}</style></head><body><h1>We&#39;re sorry, but something went wrong.</h1></body></html>",
			kind: ErrServer, excerptHas: "We're sorry We're sorry, but something went wrong."},
		{name: "502 garbage", status: 502, body: "\x00\xff{{{not json", kind: ErrServer, excerptHas: "not json"},
		{name: "500 empty", status: 500, body: "", kind: ErrServer, errorString: "PUT /organizations/abc: server error (HTTP 500)"},
		{name: "418 other 4xx", status: 418, body: `{"message":"teapot"}`, kind: ErrBadRequest, message: "teapot"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := newTestAPI(t, func(w http.ResponseWriter, r *http.Request, n int) { reply(w, tt.status, tt.body) })
			c, _ := newTestClient(t, a, func(cfg *Config) { cfg.MaxRetries = -1 })
			_, err := c.UpdateOrganization(context.Background(), "abc", OrganizationInput{Name: "Acme"})
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("error %v (%T) is not *Error", err, err)
			}
			if !errors.Is(err, tt.kind) {
				t.Errorf("errors.Is(err, %v) = false; err = %v", tt.kind, err)
			}
			if e.Method != http.MethodPut || e.Path != "/organizations/abc" || e.Status != tt.status {
				t.Errorf("method/path/status = %s %s %d", e.Method, e.Path, e.Status)
			}
			if tt.message != "" && e.Message != tt.message {
				t.Errorf("Message = %q, want %q", e.Message, tt.message)
			}
			if tt.fields != nil {
				if d := cmp.Diff(tt.fields, e.Fields); d != "" {
					t.Errorf("Fields (-want +got):\n%s", d)
				}
			}
			if tt.excerptHas != "" && !strings.Contains(e.Excerpt, tt.excerptHas) {
				t.Errorf("Excerpt = %q, want it to contain %q", e.Excerpt, tt.excerptHas)
			}
			if strings.ContainsAny(e.Excerpt, "<>") {
				t.Errorf("Excerpt kept tags: %q", e.Excerpt)
			}
			if tt.errorString != "" && err.Error() != tt.errorString {
				t.Errorf("Error() = %q, want %q", err.Error(), tt.errorString)
			}
			if got := len(a.requests()); got != 1 {
				t.Errorf("%d requests, want 1 (4xx never retried, retries off for 5xx)", got)
			}
		})
	}
}

func TestUndecodableSuccessIsServerError(t *testing.T) {
	a := newTestAPI(t, func(w http.ResponseWriter, r *http.Request, n int) {
		reply(w, 200, "<html>maintenance</html>")
	})
	c, _ := newTestClient(t, a)
	_, err := c.GetOrganization(context.Background(), "abc")
	if !errors.Is(err, ErrServer) {
		t.Fatalf("err = %v, want ErrServer", err)
	}
}

func TestTokenNeverInErrors(t *testing.T) {
	// A server that echoes the request URL (token included) in its bodies,
	// as framework error pages do.
	a := newTestAPI(t, func(w http.ResponseWriter, r *http.Request, n int) {
		switch r.URL.Path {
		case "/api/v1/html":
			reply(w, 500, "<html><body>Error at "+r.URL.String()+"</body></html>")
		case "/api/v1/organizations/echo":
			reply(w, 422, `{"errors":{"name":["bad request `+r.URL.String()+`"]}}`)
		case "/api/v1/organizations/msg":
			reply(w, 404, `{"errors":{"error_type":"RESOURCE_NOT_FOUND","error_message":"`+r.URL.RawQuery+`"}}`)
		case "/api/v1/limited":
			w.Header().Set("Retry-After", "120")
			reply(w, 429, `{"errors":{"error_type":"RATE_LIMIT_EXCEDDED","error_message":"API usage limit exceeded `+r.URL.RawQuery+`"}}`)
		case "/api/v1/slow":
			<-r.Context().Done()
		case "/api/v1/deals":
			dropConnection(w)
		default:
			reply(w, 200, `{"ok":`)
		}
	})
	// A port nobody listens on.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	deadAddr := ln.Addr().String()
	ln.Close()

	c, _ := newTestClient(t, a, func(cfg *Config) { cfg.MaxRetries = 1; cfg.Timeout = 100 * time.Millisecond })
	dead, _ := newTestClient(t, a, func(cfg *Config) { cfg.BaseURL = "http://" + deadAddr + "/api/v1"; cfg.MaxRetries = 1 })
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	ctx := context.Background()
	get := func(c *Client, ctx context.Context, path string) error {
		return c.do(ctx, request{method: http.MethodGet, path: path}, &struct{}{}, "")
	}

	failures := map[string]error{}
	failures["html 500"] = get(c, ctx, "/html")
	_, failures["422 echo"] = c.UpdateOrganization(ctx, "echo", OrganizationInput{Name: "x"})
	_, failures["404 message"] = c.GetOrganization(ctx, "msg")
	failures["429"] = get(c, ctx, "/limited")
	failures["timeout"] = get(c, ctx, "/slow")
	_, failures["outcome unknown"] = c.CreateDeal(ctx, DealCreate{Deal: DealInput{Name: "x"}})
	failures["bad json"] = get(c, ctx, "/garbage")
	failures["connection refused"] = get(dead, ctx, "/organizations")
	_, failures["refused post"] = dead.CreateOrganization(ctx, OrganizationInput{Name: "x"})
	failures["cancelled"] = get(dead, cancelled, "/organizations")

	for name, err := range failures {
		if err == nil {
			t.Errorf("%s: no error", name)
			continue
		}
		t.Logf("%s: %v", name, err)
		for _, s := range []string{err.Error(), fmt.Sprintf("%v", err), fmt.Sprintf("%+v", err), fmt.Sprintf("%#v", err), fmt.Sprintf("%s", errors.Unwrap(err))} {
			if strings.Contains(s, testToken) {
				t.Errorf("%s: token leaked: %s", name, s)
			}
		}
	}
	cfg := Config{BaseURL: "http://x/api/v1", Token: testToken}
	for _, s := range []string{fmt.Sprintf("%v", cfg), fmt.Sprintf("%+v", cfg), fmt.Sprintf("%#v", cfg), fmt.Sprintf("%s", &cfg),
		fmt.Sprintf("%v", c), fmt.Sprintf("%+v", c), fmt.Sprintf("%#v", c), fmt.Sprintf("%v", struct{ C *Client }{c})} {
		if strings.Contains(s, testToken) {
			t.Errorf("token printed: %s", s)
		}
	}
}
