package marketing

import (
	"errors"
	"net/http"
	"testing"
	"time"
)

// Every error body of docs/rdstation-api.md §3.1 and §3.4, as RD Station
// writes it, becomes a typed error.
func TestErrorBodies(t *testing.T) {
	for _, tc := range []struct {
		status           int
		header, body     string
		kind             error
		typ, msg, path   string
		fields, contains string
	}{
		{401, "", `{"errors":[{"error_type":"UNAUTHORIZED","error_message":"Invalid token."}]}`, ErrUnauthorized, "UNAUTHORIZED", "Invalid token.", "", "", ""},
		{401, "", `{"error":"invalid_token","error_description":"The access token is invalid or has expired"}`, ErrTokenExpired, "invalid_token", "The access token is invalid or has expired", "", "", ""},
		{401, `Bearer realm="x", error="expired_token"`, `{}`, ErrTokenExpired, "", "", "", "", ""},
		{401, "", `{"error":"invalid_request","error_description":"The access token is missing"}`, ErrUnauthorized, "invalid_request", "The access token is missing", "", "", ""},
		{401, "", `{"errors":{"error_type":"ACCESS_DENIED","error_message":"Wrong credentials provided."}}`, ErrUnauthorized, "ACCESS_DENIED", "Wrong credentials provided.", "", "", ""},
		{401, "", `{"errors":{"error_type":"EXPIRED_CODE_GRANT","error_message":"The authorization code grant has expired."}}`, ErrCodeExpired, "EXPIRED_CODE_GRANT", "", "", "", ""},
		{401, "", `{"errors":{"error_type":"INVALID_REFRESH_TOKEN","error_message":"x"}}`, ErrRefreshRefused, "INVALID_REFRESH_TOKEN", "x", "", "", ""},
		{400, "", `{"errors":{"error_type":"EMAIL_ALREADY_IN_USE","error_message":"in use"}}`, ErrBadRequest, "EMAIL_ALREADY_IN_USE", "in use", "", "", ""},
		{400, "", `{"errors":{"email":[{"error_type":"CANNOT_BE_NULL","error_message":"Cannot be null"}]}}`, ErrBadRequest, "CANNOT_BE_NULL", "", "", "email: CANNOT_BE_NULL: Cannot be null", ""},
		{400, "", `{"errors":[{"error_type":"VALUES_MUST_BE_LOWERCASE","error_message":"lower","path":"$.payload.tags"},{"error_type":"INVALID_FIELDS","error_message":"x","path":"$.y"}]}`, ErrBadRequest, "VALUES_MUST_BE_LOWERCASE", "lower", "$.payload.tags", "", "INVALID_FIELDS: x (at $.y)"},
		{400, "", `{"errors":{"error_type":"UNABLE_TO_LOAD_CDP_SCHEMA","error_message":"x"}}`, ErrBadRequest, "UNABLE_TO_LOAD_CDP_SCHEMA", "x", "", "", ""},
		{404, "", `{"errors":{"error_type":"RESOURCE_NOT_FOUND","error_message":"Lead not found"}}`, ErrNotFound, "RESOURCE_NOT_FOUND", "Lead not found", "", "", ""},
		{413, "", `{"errors":{"error_type":"REQUEST_ENTITY_TOO_LARGE","error_message":"x"}}`, ErrTooLarge, "REQUEST_ENTITY_TOO_LARGE", "x", "", "", ""},
		{414, "", `<html>Request-URI Too Large</html>`, ErrTooLarge, "", "<html>Request-URI Too Large</html>", "", "", ""},
		{415, "", `{"errors":{"error_type":"UNSUPPORTED_MEDIA_TYPE","error_message":"x"}}`, ErrUnsupportedMediaType, "UNSUPPORTED_MEDIA_TYPE", "x", "", "", ""},
		{422, "", `{"errors":{"error_type":"INVALID","error_message":"x"}}`, ErrValidation, "INVALID", "x", "", "", ""},
		{429, "", `{"errors":{"error_type":"RATE_LIMIT_EXCEDDED","error_message":"API usage limit exceeded"}}`, ErrRateLimited, "RATE_LIMIT_EXCEDDED", "API usage limit exceeded", "", "", ""},
		{500, "", `{"errors":{"error_type":"SERVICE_UNAVAILABLE","error_message":"x"}}`, ErrServer, "SERVICE_UNAVAILABLE", "x", "", "", ""},
	} {
		resp := response{status: tc.status, header: http.Header{}, body: []byte(tc.body)}
		if tc.header != "" {
			resp.header.Set("WWW-Authenticate", tc.header)
		}
		c := &Client{secret: &secret{"s3cr3t"}, authHint: "authorize again"}
		e := c.apiError(request{method: "POST", path: "/p"}, resp)
		if !errors.Is(e, tc.kind) || e.Type != tc.typ || (tc.msg != "" && e.Message != tc.msg) || e.JSONPath != tc.path {
			t.Errorf("%d %s: got kind %v type %q message %q path %q", tc.status, tc.body, e.Kind, e.Type, e.Message, e.JSONPath)
		}
		if tc.fields != "" && (len(e.Fields["email"]) != 1 || e.Fields["email"][0] != tc.fields[len("email: "):]) {
			t.Errorf("%s: fields %v", tc.body, e.Fields)
		}
		if tc.contains != "" && (len(e.Others) != 1 || e.Others[0] != tc.contains) {
			t.Errorf("%s: others %v", tc.body, e.Others)
		}
	}
	cl := contactLimit("PATCH", "/p", []byte(`{"error":"'lead_limiter' rate limit exceeded for 86400 second(s) period for key 'x@y'","max":24,"usage":25,"remaining_time":43067}`))
	if cl == nil || cl.Key != "x@y" || cl.Max != 24 || cl.Usage != 25 || cl.RetryIn != 43067*time.Second || cl.Period != 24*time.Hour {
		t.Fatalf("lead_limiter body: %+v", cl)
	}
	if contactLimit("PATCH", "/p", []byte(`{"errors":{"error_type":"RATE_LIMIT_EXCEDDED"}}`)) != nil {
		t.Fatal("the account's 429 read as a contact's")
	}
}
