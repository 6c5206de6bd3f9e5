package crm

import (
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"regexp"
	"sort"
	"strings"
	"unicode/utf8"
)

// Sentinel kinds of failure. Every error this package returns for a request
// matches exactly one of them with errors.Is (through *Error or
// *ListingCappedError), except a cancelled context, which matches
// context.Canceled / context.DeadlineExceeded.
var (
	// ErrNotFound is a 404: the record does not exist or is outside the
	// token's visibility.
	ErrNotFound = errors.New("not found")
	// ErrValidation is a 422: Error.Fields holds the messages per field.
	ErrValidation = errors.New("validation failed")
	// ErrBadRequest is a 400 (malformed body, unknown custom field) or any
	// other 4xx without a more specific kind.
	ErrBadRequest = errors.New("bad request")
	// ErrUnauthorized is a 401: missing, invalid or disabled token.
	ErrUnauthorized = errors.New("unauthorized")
	// ErrForbidden is a 403.
	ErrForbidden = errors.New("forbidden")
	// ErrRateLimited is returned when 429s kept coming for longer than
	// Config.MaxRateLimitWait.
	ErrRateLimited = errors.New("rate limited")
	// ErrServer is a 5xx (after retries), an unexpected status, an
	// undecodable success body, or a request that never got an answer after
	// all retries (the network error is wrapped).
	ErrServer = errors.New("server error")
	// ErrOutcomeUnknown is a POST or PATCH that reached the wire but whose
	// response never arrived: it may or may not have been applied. Resolve it
	// by looking the record up by its natural key before sending it again.
	ErrOutcomeUnknown = errors.New("outcome unknown")
	// ErrTooLarge is a 413 (e.g. a batch of more than 100 items).
	ErrTooLarge = errors.New("request too large")
	// ErrListingCapped is yielded by an iterator that reached the API's
	// 10,000-record listing cap while more records exist.
	ErrListingCapped = errors.New("listing capped")
)

// Error is a failed request. It never contains the token.
type Error struct {
	// Kind is one of the sentinel errors above; errors.Is matches it.
	Kind error
	// Method and Path identify the request (Path is relative to the base
	// URL and has no query string).
	Method, Path string
	// Status is the HTTP status, or 0 when no response arrived.
	Status int
	// Message is the API's error message, when it sent one.
	Message string
	// Fields holds the validation messages of a 422 by field name.
	Fields map[string][]string
	// Excerpt is the start of a body that was not JSON (e.g. an HTML error
	// page), tags stripped.
	Excerpt string
	// Err is the underlying cause (network error, decoding error), if any.
	Err error
	// Hint says what to do about the failure, in the caller's terms: for a
	// 401, Config.AuthHint. It never holds the token.
	Hint string
}

// Error reads like "PUT /organizations/123: validation failed: name: has already been taken".
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.Method)
	b.WriteString(" ")
	b.WriteString(e.Path)
	b.WriteString(": ")
	if e.Kind != nil {
		b.WriteString(e.Kind.Error())
	} else {
		b.WriteString("request failed")
	}
	if e.Status != 0 && (e.Kind == ErrServer || e.Kind == ErrBadRequest || e.Status >= 500) {
		fmt.Fprintf(&b, " (HTTP %d)", e.Status)
	}
	switch {
	case len(e.Fields) > 0:
		b.WriteString(": ")
		b.WriteString(formatFields(e.Fields))
	case e.Message != "":
		b.WriteString(": ")
		b.WriteString(strings.TrimSuffix(e.Message, ": "))
		if e.Excerpt != "" && !strings.Contains(e.Message, e.Excerpt) {
			b.WriteString(": ")
			b.WriteString(e.Excerpt)
		}
	case e.Excerpt != "":
		b.WriteString(": ")
		b.WriteString(e.Excerpt)
	}
	if e.Err != nil {
		b.WriteString(": ")
		b.WriteString(e.Err.Error())
	}
	if e.Hint != "" {
		b.WriteString(" — ")
		b.WriteString(e.Hint)
	}
	return b.String()
}

// Is reports whether target is the error's Kind.
// A 5xx answer is always a server error, whatever its Kind (a write's 5xx
// is also ErrOutcomeUnknown).
func (e *Error) Is(target error) bool {
	return (e.Kind != nil && target == e.Kind) || (target == ErrServer && e.Status >= 500)
}

// Unwrap returns the underlying cause.
func (e *Error) Unwrap() error { return e.Err }

// ListingCappedError is the last value an iterator yields when the listing
// stopped at the API's cap while more records exist. It matches
// ErrListingCapped.
type ListingCappedError struct {
	// Path is the listing's path.
	Path string
	// Reached is how many records the iterator yielded.
	Reached int
	// Total is the number of records the API reported (0 when it did not).
	Total int
}

// Error says how far the listing got.
func (e *ListingCappedError) Error() string {
	if e.Total > 0 {
		return fmt.Sprintf("GET %s: %s: stopped after %d of %d records", e.Path, ErrListingCapped, e.Reached, e.Total)
	}
	return fmt.Sprintf("GET %s: %s: stopped after %d records, more exist", e.Path, ErrListingCapped, e.Reached)
}

// Is matches ErrListingCapped.
func (e *ListingCappedError) Is(target error) bool { return target == ErrListingCapped }

func formatFields(fields map[string][]string) string {
	names := make([]string, 0, len(fields))
	for k := range fields {
		names = append(names, k)
	}
	sort.Strings(names)
	parts := make([]string, 0, len(names))
	for _, k := range names {
		parts = append(parts, k+": "+strings.Join(fields[k], ", "))
	}
	return strings.Join(parts, "; ")
}

// kindForStatus maps an HTTP error status to its sentinel.
func kindForStatus(status int) error {
	switch {
	case status == 400:
		return ErrBadRequest
	case status == 401:
		return ErrUnauthorized
	case status == 403:
		return ErrForbidden
	case status == 404:
		return ErrNotFound
	case status == 413:
		return ErrTooLarge
	case status == 422:
		return ErrValidation
	case status == 429:
		return ErrRateLimited
	case status >= 400 && status < 500:
		return ErrBadRequest
	default:
		return ErrServer
	}
}

// decodeErrorBody fills Message, Fields or Excerpt of e from a response
// body in any of the documented shapes. It never panics on garbage.
func decodeErrorBody(e *Error, body []byte) {
	trimmed := strings.TrimSpace(string(body))
	if trimmed == "" {
		return
	}
	var v map[string]any
	if err := json.Unmarshal([]byte(trimmed), &v); err != nil {
		var s string
		if json.Unmarshal([]byte(trimmed), &s) == nil {
			e.Message = s
			return
		}
		e.Excerpt = excerpt(trimmed)
		return
	}
	for _, key := range []string{"errors", "error", "message"} {
		raw, ok := v[key]
		if !ok {
			continue
		}
		switch x := raw.(type) {
		case string:
			e.Message = x
			return
		case map[string]any:
			if msg, ok := x["error_message"].(string); ok {
				e.Message = msg
				return
			}
			if _, ok := x["error_type"]; ok {
				e.Message = fmt.Sprint(x["error_type"])
				return
			}
			e.Fields = fieldMessages(x)
			if len(e.Fields) > 0 {
				return
			}
		case []any:
			if f := pathMessages(x); len(f) > 0 {
				e.Fields = f
				return
			}
			msgs := messages(x)
			if len(msgs) > 0 {
				e.Message = strings.Join(msgs, "; ")
				return
			}
		}
	}
	e.Excerpt = excerpt(trimmed)
}

// fieldMessages reads {"field":["msg"]}, {"field":"msg"} and
// {"field":[{"error_type":…,"error_message":…}]}.
func fieldMessages(m map[string]any) map[string][]string {
	out := make(map[string][]string, len(m))
	for field, raw := range m {
		var msgs []string
		switch x := raw.(type) {
		case string:
			msgs = []string{x}
		case []any:
			msgs = messages(x)
		case map[string]any:
			msgs = messages([]any{x})
		default:
			if raw != nil {
				msgs = []string{fmt.Sprint(raw)}
			}
		}
		if len(msgs) > 0 {
			out[field] = msgs
		}
	}
	return out
}

func messages(items []any) []string {
	var out []string
	for _, it := range items {
		switch y := it.(type) {
		case string:
			out = append(out, y)
		case map[string]any:
			if msg, ok := y["error_message"].(string); ok && msg != "" {
				out = append(out, msg)
			} else if t, ok := y["error_type"].(string); ok {
				out = append(out, t)
			}
		case nil:
		default:
			out = append(out, fmt.Sprint(y))
		}
	}
	return out
}

// pathMessages reads the v2 array form whose items each name a field:
// [{"error_type":…,"error_message":…,"path":"name"}]; nil when an item
// names none.
func pathMessages(items []any) map[string][]string {
	out := map[string][]string{}
	for _, it := range items {
		m, ok := it.(map[string]any)
		path, _ := m["path"].(string)
		if !ok || path == "" {
			return nil
		}
		out[path] = append(out[path], messages([]any{m})...)
	}
	return out
}

var (
	reScriptStyle = regexp.MustCompile(`(?is)<(script|style)[^>]*>.*?</(script|style)>`)
	reTag         = regexp.MustCompile(`(?s)<[^>]*>`)
	reSpace       = regexp.MustCompile(`\s+`)
)

const excerptLen = 200

// excerpt strips tags from a non-JSON body and keeps its first ~200 characters.
func excerpt(body string) string {
	s := reScriptStyle.ReplaceAllString(body, " ")
	s = reTag.ReplaceAllString(s, " ")
	s = html.UnescapeString(s)
	s = strings.TrimSpace(reSpace.ReplaceAllString(s, " "))
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "?")
	}
	if utf8.RuneCountInString(s) > excerptLen {
		r := []rune(s)
		s = string(r[:excerptLen]) + "…"
	}
	return s
}

var (
	_ error = (*Error)(nil)
	_ error = (*ListingCappedError)(nil)
)
