package rdsim

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/shopspring/decimal"
)

// Validation messages, Rails-style as RD answers them.
const (
	msgBlank    = "can't be blank"
	msgTooShort = "is too short (minimum is 2 characters)"
	msgTaken    = "has already been taken"
	msgInvalid  = "is invalid"
	msgNotFound = "not found"
	msgNotInc   = "is not included in the list"
)

// verrs collects 422 field errors: each message is a string or a typed
// {"error_type","error_message"} object.
type verrs map[string][]any

func (e verrs) add(field string, msg any) { e[field] = append(e[field], msg) }

func (e verrs) typed(field, typ, msg string) {
	e.add(field, map[string]any{"error_type": typ, "error_message": msg})
}

// form reads one JSON object of a request body, recording field errors.
type form struct {
	m      map[string]any
	errs   verrs
	prefix string
}

// decodeBody reads the request body as a JSON object (empty body = {}).
// Numbers stay json.Number so money is exact.
func decodeBody(r *http.Request) (map[string]any, error) {
	raw, err := io.ReadAll(http.MaxBytesReader(nil, r.Body, 10<<20))
	if err != nil {
		return nil, fmt.Errorf("reading body: %w", err)
	}
	if len(bytes.TrimSpace(raw)) == 0 {
		return map[string]any{}, nil
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, fmt.Errorf("parsing body: %w", err)
	}
	if dec.More() {
		return nil, errors.New("parsing body: trailing data after the JSON value")
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, errors.New("parsing body: expected a JSON object")
	}
	return m, nil
}

func (f form) key(k string) string { return f.prefix + k }

func (f form) has(k string) bool {
	_, ok := f.m[k]
	return ok
}

// isNull reports a key present with JSON null.
func (f form) isNull(k string) bool {
	v, ok := f.m[k]
	return ok && v == nil
}

type requirement int

const (
	optional requirement = iota
	nonBlank             // may be absent, but not blank when present
	required             // must be present and not blank
)

// text reads a text input: absent → ("", false); null or "" → ("", true)
// (clears an optional field); shorter than 2 chars or longer than max → 422.
func (f form) text(k string, req requirement, max int) (string, bool) {
	v, ok := f.m[k]
	if !ok {
		if req == required {
			f.errs.add(f.key(k), msgBlank)
		}
		return "", false
	}
	if v == nil {
		if req != optional {
			f.errs.add(f.key(k), msgBlank)
			return "", false
		}
		return "", true
	}
	s, ok := v.(string)
	if !ok {
		f.errs.typed(f.key(k), "MUST_BE_STRING", "must be a string")
		return "", false
	}
	n := utf8.RuneCountInString(strings.TrimSpace(s))
	switch {
	case n == 0 && req != optional:
		f.errs.add(f.key(k), msgBlank)
		return "", false
	case n == 0:
		return "", true
	case n < 2:
		f.errs.add(f.key(k), msgTooShort)
		return "", false
	case max > 0 && utf8.RuneCountInString(s) > max:
		f.errs.add(f.key(k), fmt.Sprintf("is too long (maximum is %d characters)", max))
		return "", false
	}
	return s, true
}

// id reads a reference id: absent → ("", false); null/"" → ("", true).
func (f form) id(k string) (string, bool) {
	v, ok := f.m[k]
	if !ok {
		return "", false
	}
	switch x := v.(type) {
	case nil:
		return "", true
	case string:
		return x, true
	default:
		f.errs.typed(f.key(k), "MUST_BE_STRING", "must be a string")
		return "", false
	}
}

// boolPtr reads true/false/null (also "true"/"false"/"null" strings).
func (f form) boolPtr(k string) (*bool, bool) {
	v, ok := f.m[k]
	if !ok {
		return nil, false
	}
	switch x := v.(type) {
	case nil:
		return nil, true
	case bool:
		return &x, true
	case string:
		switch strings.ToLower(x) {
		case "true":
			b := true
			return &b, true
		case "false":
			b := false
			return &b, true
		case "null", "":
			return nil, true
		}
	}
	f.errs.typed(f.key(k), "MUST_BE_BOOLEAN", "must be a boolean")
	return nil, false
}

// integer reads an integral number (or a numeric string).
func (f form) integer(k string) (int, bool) {
	v, ok := f.m[k]
	if !ok || v == nil {
		return 0, ok
	}
	var s string
	switch x := v.(type) {
	case json.Number:
		s = x.String()
	case string:
		s = x
	default:
		f.errs.typed(f.key(k), "MUST_BE_INTEGER", "must be an integer")
		return 0, false
	}
	n, err := strconv.Atoi(strings.TrimSpace(s))
	if err != nil {
		d, derr := decimal.NewFromString(strings.TrimSpace(s))
		if derr != nil || !d.IsInteger() || d.Abs().GreaterThan(decimal.NewFromInt(math.MaxInt32)) {
			f.errs.typed(f.key(k), "MUST_BE_INTEGER", "must be an integer")
			return 0, false
		}
		n = int(d.IntPart())
	}
	return n, true
}

// money reads a decimal number or numeric string exactly.
func (f form) money(k string) (decimal.Decimal, bool) {
	v, ok := f.m[k]
	if !ok || v == nil {
		return decimal.Zero, ok
	}
	var s string
	switch x := v.(type) {
	case json.Number:
		s = x.String()
	case string:
		s = strings.TrimSpace(x)
	default:
		f.errs.typed(f.key(k), "MUST_BE_NUMBER", "must be a number")
		return decimal.Zero, false
	}
	d, err := decimal.NewFromString(s)
	if err != nil {
		f.errs.typed(f.key(k), "MUST_BE_NUMBER", "must be a number")
		return decimal.Zero, false
	}
	return d, true
}

// object reads a nested object.
func (f form) object(k string) (form, bool) {
	v, ok := f.m[k]
	if !ok || v == nil {
		return form{}, false
	}
	m, ok := v.(map[string]any)
	if !ok {
		f.errs.typed(f.key(k), "MUST_BE_OBJECT", "must be an object")
		return form{}, false
	}
	return form{m: m, errs: f.errs, prefix: f.key(k) + "."}, true
}

// objects reads an array of objects; null reads as an empty list.
func (f form) objects(k string) ([]form, bool) {
	v, ok := f.m[k]
	if !ok {
		return nil, false
	}
	if v == nil {
		return nil, true
	}
	l, ok := v.([]any)
	if !ok {
		f.errs.typed(f.key(k), "MUST_BE_ARRAY", "must be an array")
		return nil, false
	}
	out := make([]form, 0, len(l))
	for _, x := range l {
		m, ok := x.(map[string]any)
		if !ok {
			f.errs.typed(f.key(k), "MUST_BE_OBJECT", "items must be objects")
			return nil, false
		}
		out = append(out, form{m: m, errs: f.errs, prefix: f.key(k) + "."})
	}
	return out, true
}

// strings reads an array of strings; null reads as an empty list.
func (f form) strs(k string) ([]string, bool) {
	v, ok := f.m[k]
	if !ok {
		return nil, false
	}
	if v == nil {
		return nil, true
	}
	l, ok := v.([]any)
	if !ok {
		f.errs.typed(f.key(k), "MUST_BE_ARRAY", "must be an array")
		return nil, false
	}
	out := make([]string, 0, len(l))
	for _, x := range l {
		s, ok := x.(string)
		if !ok {
			f.errs.typed(f.key(k), "MUST_BE_STRING", "items must be strings")
			return nil, false
		}
		out = append(out, s)
	}
	return out, true
}

// dateYMD reads a YYYY-MM-DD date.
func (f form) dateYMD(k string) (string, bool) {
	s, ok := f.id(k)
	if !ok || s == "" {
		return s, ok
	}
	if _, err := time.Parse(time.DateOnly, s); err != nil {
		f.errs.add(f.key(k), "must be a date in the format YYYY-MM-DD")
		return "", false
	}
	return s, true
}

// writeJSON writes v with status and returns the status.
func writeJSON(w http.ResponseWriter, status int, v any) int {
	b, err := json.Marshal(v)
	if err != nil {
		return writeServerError(w)
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(b)
	return status
}

func notFoundBody(msg string) map[string]any {
	return map[string]any{"errors": map[string]any{"error_type": "RESOURCE_NOT_FOUND", "error_message": msg}}
}

const serverErrorPage = `<!DOCTYPE html>
<html>
<head><title>We're sorry, but something went wrong (500)</title></head>
<body>
<div class="dialog">
  <h1>We're sorry, but something went wrong.</h1>
  <p>If you are the application owner check the logs for more information.</p>
</div>
</body>
</html>
`

// writeServerError writes the HTML 500 page.
func writeServerError(w http.ResponseWriter) int {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(http.StatusInternalServerError)
	_, _ = io.WriteString(w, serverErrorPage)
	return http.StatusInternalServerError
}

// writeRateLimited writes the documented 429 (typo included).
func (s *Sim) writeRateLimited(w http.ResponseWriter, sw Switches, wait time.Duration) int {
	if sw.RetryAfterHeader {
		secs := int(math.Ceil(wait.Seconds()))
		w.Header().Set("Retry-After", strconv.Itoa(max(secs, 1)))
	}
	return writeJSON(w, http.StatusTooManyRequests, map[string]any{
		"errors": map[string]any{"error_type": "RATE_LIMIT_EXCEDDED", "error_message": "API usage limit exceeded"},
	})
}
