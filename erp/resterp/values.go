package resterp

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/shopspring/decimal"

	"github.com/erpbridge/erpbridge/erp"
	"github.com/erpbridge/erpbridge/erp/sqlerp"
)

// jsonPath walks a dotted path ("a.b.0.c": object keys and array indexes)
// through a decoded JSON value. The empty path is the value itself.
func jsonPath(v any, path string) (any, bool) {
	if path == "" {
		return v, true
	}
	for part := range strings.SplitSeq(path, ".") {
		switch node := v.(type) {
		case map[string]any:
			next, ok := node[part]
			if !ok {
				return nil, false
			}
			v = next
		case []any:
			i, err := strconv.Atoi(part)
			if err != nil || i < 0 || i >= len(node) {
				return nil, false
			}
			v = node[i]
		default:
			return nil, false
		}
	}
	return v, true
}

// convert turns a decoded JSON value (decoded with UseNumber) into an
// erp.Value the way the SQL source converts a column of the same kind. A
// value the field cannot hold is returned as the BadValue of its record.
func convert(f FieldSpec, raw any) (erp.Value, *erp.BadValue) {
	col := sqlerp.ColumnSpec{Name: f.Name, Kind: f.Kind, Decimals: f.Decimals}
	bad := func(err error) (erp.Value, *erp.BadValue) {
		b := sqlerp.BadValue(col, raw, err)
		return nil, &b
	}
	switch v := raw.(type) {
	case nil:
		return nil, nil
	case map[string]any, []any:
		b := erp.BadValue{Column: strings.ToUpper(f.Name), Value: truncate(string(mustJSON(v)), 60),
			Reason: "is a JSON " + jsonKind(raw) + ", not a scalar"}
		return nil, &b
	case json.Number:
		raw = v.String() // exact: parsed as a decimal, never through float64
	case bool:
		if f.Kind != sqlerp.KindBool {
			raw = strconv.FormatBool(v)
		}
	case string:
		if f.Kind == sqlerp.KindDate {
			out, err := parseDate(v)
			if err != nil {
				return bad(err)
			}
			return out, nil
		}
	}
	out, err := sqlerp.Convert(col, raw)
	if err != nil {
		return bad(err)
	}
	return out, nil
}

func mustJSON(v any) []byte {
	b, _ := json.Marshal(v)
	return b
}

// truncate cuts s to at most n bytes for a message, marking the cut.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// inferred converts a value of an "all" route by its JSON type: strings
// right-trimmed, numbers as decimals, booleans, null; nested values are
// skipped (ok == false).
func inferred(raw any) (v erp.Value, ok bool) {
	switch x := raw.(type) {
	case nil:
		return nil, true
	case string:
		return strings.TrimRight(x, " "), true
	case json.Number:
		d, err := decimal.NewFromString(x.String())
		if err != nil {
			return x.String(), true
		}
		return d, true
	case bool:
		return x, true
	}
	return nil, false
}

// parseDate reads YYYYMMDD (Protheus) or YYYY-MM-DD[...] (ISO); a blank
// date is nil and anything else that is not a date an error, as in the SQL
// source.
func parseDate(s string) (erp.Value, error) {
	t := strings.TrimSpace(s)
	if len(t) >= 10 && t[4] == '-' {
		d, err := time.ParseInLocation(time.DateOnly, t[:10], time.UTC)
		if err != nil {
			return nil, errors.New("is not a date (YYYYMMDD or YYYY-MM-DD)")
		}
		return d, nil
	}
	return sqlerp.ParseDate(t)
}

// stampLayouts are the forms a change stamp may come in; a stamp without
// a zone is UTC.
var stampLayouts = []string{time.RFC3339Nano, "2006-01-02T15:04:05.999999999", "2006-01-02 15:04:05.999999999", "20060102 15:04:05", "20060102150405"}

// parseStamp reads a change stamp (text in one of stampLayouts, or Unix
// milliseconds as a number); blank or null is nil.
func parseStamp(raw any) (*time.Time, error) {
	var t time.Time
	switch v := raw.(type) {
	case nil:
		return nil, nil
	case json.Number:
		ms, err := v.Int64()
		if err != nil {
			return nil, fmt.Errorf("reading stamp %s: not Unix milliseconds", v)
		}
		t = time.UnixMilli(ms)
	case string:
		s := strings.TrimSpace(v)
		if s == "" {
			return nil, nil
		}
		var err error
		for _, layout := range stampLayouts {
			if t, err = time.Parse(layout, s); err == nil {
				break
			}
		}
		if err != nil {
			return nil, fmt.Errorf("reading stamp %q: unknown layout", s)
		}
	default:
		return nil, fmt.Errorf("reading stamp: a JSON %s is not a time", jsonKind(raw))
	}
	u := t.UTC()
	return &u, nil
}

// text renders a scalar JSON value as the text a key or flag compares by.
func text(raw any) string {
	switch v := raw.(type) {
	case nil:
		return ""
	case string:
		return strings.TrimRight(v, " ")
	case json.Number:
		return v.String()
	case bool:
		return strconv.FormatBool(v)
	}
	return ""
}

func jsonKind(v any) string {
	switch v.(type) {
	case map[string]any:
		return "object"
	case []any:
		return "array"
	case string:
		return "string"
	case json.Number:
		return "number"
	case bool:
		return "boolean"
	case nil:
		return "null"
	}
	return fmt.Sprintf("%T", v)
}
