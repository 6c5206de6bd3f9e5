package marketing

import (
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strings"
	"time"
)

// Sentinel kinds of failure (docs/rdstation-api.md §3.1 and §3.4). Every
// error a request returns matches exactly one with errors.Is, but for a
// cancelled context (context.Canceled / DeadlineExceeded).
var (
	// ErrBadRequest is a 400 (Error.Type says which: CONFLICTING_FIELD,
	// INVALID_FIELDS, EMAIL_ALREADY_IN_USE, VALUES_MUST_BE_UNIQUE,
	// VALUES_MUST_BE_LOWERCASE, INVALID_DATA_TYPE, …).
	ErrBadRequest = errors.New("bad request")
	// ErrUnauthorized is a 401 for a missing or invalid access token, or
	// wrong app credentials (ACCESS_DENIED).
	ErrUnauthorized = errors.New("unauthorized")
	// ErrTokenExpired is a 401 for an expired access token: refresh and
	// retry (the client does it once by itself).
	ErrTokenExpired = errors.New("access token expired")
	// ErrCodeExpired is EXPIRED_CODE_GRANT: the authorization code is
	// used, expired (1 hour) or another app's.
	ErrCodeExpired = errors.New("authorization code expired or used")
	// ErrRefreshRefused is INVALID_REFRESH_TOKEN: the grant is gone and a
	// person must authorize again.
	ErrRefreshRefused = errors.New("refresh token refused")
	// ErrForbidden is a 403.
	ErrForbidden = errors.New("forbidden")
	// ErrNotFound is a 404 (RESOURCE_NOT_FOUND): no such contact.
	ErrNotFound = errors.New("not found")
	// ErrTooLarge is a 413 (a batch over 0.2 MB) or a 414 (a URL over 8 KB).
	ErrTooLarge = errors.New("request too large")
	// ErrUnsupportedMediaType is a 415.
	ErrUnsupportedMediaType = errors.New("unsupported media type")
	// ErrValidation is a 422.
	ErrValidation = errors.New("validation failed")
	// ErrRateLimited: the account's 429s kept coming for longer than
	// Config.MaxRateLimitWait.
	ErrRateLimited = errors.New("rate limited")
	// ErrContactLimited is the per-contact 429 ('lead_limiter'): this
	// contact has used its requests of the kind for 24 hours; the error is
	// a *ContactLimitError saying when it may go again. Other contacts are
	// not concerned: the client never waits for it.
	ErrContactLimited = errors.New("contact's daily limit reached")
	// ErrServer is a 5xx (after retries), an undecodable answer, or a
	// request that never got an answer after all retries.
	ErrServer = errors.New("server error")
	// ErrOutcomeUnknown is a POST that reached the wire but whose answer
	// never came (or came as a 5xx): it may have been applied.
	ErrOutcomeUnknown = errors.New("outcome unknown")
)

// Error is a failed request. It never holds a token or the app secret.
type Error struct {
	// Kind is one of the sentinels; errors.Is matches it.
	Kind error
	// Method and Path name the request (no query string).
	Method, Path string
	// Status is the HTTP status (0: no answer).
	Status int
	// Type is the API's error_type ("EMAIL_ALREADY_IN_USE"); Message its
	// error_message; JSONPath where the body was wrong ("$.payload.tags").
	Type, Message, JSONPath string
	// Fields holds per-field problems ({"errors":{"email":[…]}}).
	Fields map[string][]string
	// Others are the further problems of an array body.
	Others []string
	// Err is the underlying cause (network, decoding).
	Err error
	// Hint says what to do, in the caller's terms (a refused token: run
	// `erpbridge marketing authorize`).
	Hint string
}

func (e *Error) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s: ", e.Method, e.Path)
	if e.Kind != nil {
		b.WriteString(e.Kind.Error())
	} else {
		b.WriteString("request failed")
	}
	if e.Status >= 500 || (e.Status != 0 && e.Kind == ErrServer) {
		fmt.Fprintf(&b, " (HTTP %d)", e.Status)
	}
	if e.Type != "" {
		b.WriteString(": " + e.Type)
	}
	if e.Message != "" {
		b.WriteString(": " + e.Message)
	}
	if e.JSONPath != "" {
		b.WriteString(" (at " + e.JSONPath + ")")
	}
	for _, o := range e.Others {
		b.WriteString("; " + o)
	}
	if len(e.Fields) > 0 {
		names := make([]string, 0, len(e.Fields))
		for k := range e.Fields {
			names = append(names, k)
		}
		sort.Strings(names)
		for _, k := range names {
			b.WriteString("; " + k + ": " + strings.Join(e.Fields[k], ", "))
		}
	}
	if e.Err != nil {
		b.WriteString(": " + e.Err.Error())
	}
	if e.Hint != "" {
		b.WriteString(" — " + e.Hint)
	}
	return b.String()
}

// Is matches the error's Kind; a 5xx is also ErrServer whatever its Kind.
func (e *Error) Is(target error) bool {
	return (e.Kind != nil && target == e.Kind) || (target == ErrServer && e.Status >= 500)
}

func (e *Error) Unwrap() error { return e.Err }

// HasType reports whether err is an API error of error_type typ.
func HasType(err error, typ string) bool {
	var e *Error
	return errors.As(err, &e) && e.Type == typ
}

// ContactLimitError is the per-contact 429: {"error":"'lead_limiter' rate
// limit exceeded for 86400 second(s) period for key 'x@y'","max":24,
// "usage":25,"remaining_time":43067}.
type ContactLimitError struct {
	Method, Path string
	// Key is the contact the limit is for (its e-mail).
	Key string
	// Max and Usage are the limit and the count the request reached.
	Max, Usage int
	// Period is the limit's window (24 hours).
	Period time.Duration
	// RetryIn is how long until the contact may be written again
	// (remaining_time).
	RetryIn time.Duration
	// Message is the API's text.
	Message string
}

func (e *ContactLimitError) Error() string {
	return fmt.Sprintf("%s %s: %s: %s (%d of %d; again in %s)", e.Method, e.Path, ErrContactLimited, e.Key, e.Usage, e.Max,
		e.RetryIn.Round(time.Second))
}

// Is matches ErrContactLimited.
func (e *ContactLimitError) Is(target error) bool { return target == ErrContactLimited }

var leadLimiter = regexp.MustCompile(`'lead_limiter' rate limit exceeded for (\d+) second\(s\) period for key '([^']*)'`)

// contactLimit reads a per-contact 429 body; nil for the account's 429.
func contactLimit(method, path string, body []byte) *ContactLimitError {
	var v struct {
		Error         string  `json:"error"`
		Max           int     `json:"max"`
		Usage         int     `json:"usage"`
		RemainingTime float64 `json:"remaining_time"`
	}
	if json.Unmarshal(body, &v) != nil {
		return nil
	}
	m := leadLimiter.FindStringSubmatch(v.Error)
	if m == nil {
		return nil
	}
	var period int
	fmt.Sscan(m[1], &period)
	retry := time.Duration(v.RemainingTime * float64(time.Second))
	if retry <= 0 {
		retry = time.Duration(period) * time.Second
	}
	return &ContactLimitError{Method: method, Path: path, Key: m[2], Max: v.Max, Usage: v.Usage,
		Period: time.Duration(period) * time.Second, RetryIn: retry, Message: v.Error}
}

// kindFor maps a status (and the error type of its body) to a sentinel.
func kindFor(status int, typ string, expired bool) error {
	switch {
	case status == 401 && expired:
		return ErrTokenExpired
	case typ == "EXPIRED_CODE_GRANT":
		return ErrCodeExpired
	case typ == "INVALID_REFRESH_TOKEN":
		return ErrRefreshRefused
	case status == 400:
		return ErrBadRequest
	case status == 401:
		return ErrUnauthorized
	case status == 403:
		return ErrForbidden
	case status == 404:
		return ErrNotFound
	case status == 413 || status == 414:
		return ErrTooLarge
	case status == 415:
		return ErrUnsupportedMediaType
	case status == 422:
		return ErrValidation
	case status == 429:
		return ErrRateLimited
	case status >= 400 && status < 500:
		return ErrBadRequest
	}
	return ErrServer
}

// decodeError fills Type, Message, JSONPath, Fields and Others from any
// of the documented bodies:
//
//	{"errors":{"error_type","error_message"}}
//	{"errors":{"email":[{"error_type","error_message"}]}}
//	{"errors":[{"error_type","error_message","path"}]}
//	{"error":"invalid_token","error_description":"…"}
//	{"error":"'lead_limiter' …"}
func decodeError(e *Error, body []byte) {
	var v map[string]json.RawMessage
	if json.Unmarshal(body, &v) != nil {
		if s := strings.TrimSpace(string(body)); s != "" {
			e.Message = excerpt(s)
		}
		return
	}
	if raw, ok := v["errors"]; ok {
		var one struct {
			Type    string `json:"error_type"`
			Message string `json:"error_message"`
			Path    string `json:"path"`
		}
		var list []struct {
			Type    string `json:"error_type"`
			Message string `json:"error_message"`
			Path    string `json:"path"`
		}
		var fields map[string][]struct {
			Type    string `json:"error_type"`
			Message string `json:"error_message"`
		}
		var text string
		switch {
		case json.Unmarshal(raw, &list) == nil && len(list) > 0:
			e.Type, e.Message, e.JSONPath = list[0].Type, list[0].Message, list[0].Path
			for _, o := range list[1:] {
				s := o.Type + ": " + o.Message
				if o.Path != "" {
					s += " (at " + o.Path + ")"
				}
				e.Others = append(e.Others, s)
			}
		case json.Unmarshal(raw, &one) == nil && one.Type != "":
			e.Type, e.Message, e.JSONPath = one.Type, one.Message, one.Path
		case json.Unmarshal(raw, &fields) == nil && len(fields) > 0:
			e.Fields = map[string][]string{}
			for k, msgs := range fields {
				for _, m := range msgs {
					e.Fields[k] = append(e.Fields[k], strings.TrimPrefix(m.Type+": "+m.Message, ": "))
					if e.Type == "" {
						e.Type = m.Type
					}
				}
			}
		case json.Unmarshal(raw, &text) == nil:
			e.Message = text
		}
		return
	}
	var flat struct {
		Error       string `json:"error"`
		Description string `json:"error_description"`
	}
	if json.Unmarshal(body, &flat) == nil && flat.Error != "" {
		e.Type, e.Message = flat.Error, flat.Description
	}
}

// excerpt keeps the start of a body that is not JSON.
func excerpt(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > 200 {
		return string(r[:200]) + "…"
	}
	return s
}
