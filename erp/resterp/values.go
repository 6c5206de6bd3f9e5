package resterp

import (
	"encoding/json"
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
// erp.Value the way the SQL source converts a column of the same kind.
func convert(f FieldSpec, raw any) (erp.Value, error) {
	switch v := raw.(type) {
	case nil:
		return nil, nil
	case map[string]any, []any:
		return nil, fmt.Errorf("converting %s: a JSON %s is not a scalar", f.Name, jsonKind(raw))
	case json.Number:
		raw = v.String() // exact: parsed as a decimal, never through float64
	case bool:
		if f.Kind != sqlerp.KindBool {
			raw = strconv.FormatBool(v)
		}
	case string:
		if f.Kind == sqlerp.KindDate {
			return parseDate(v), nil
		}
	}
	out, err := sqlerp.Convert(sqlerp.ColumnSpec{Name: f.Name, Kind: f.Kind, Decimals: f.Decimals}, raw)
	if err != nil {
		return nil, fmt.Errorf("converting %s: %w", f.Name, err)
	}
	return out, nil
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

// parseDate reads YYYYMMDD (Protheus) or YYYY-MM-DD[...] (ISO); blank and
// invalid dates are nil, as in the SQL source.
func parseDate(s string) erp.Value {
	s = strings.TrimSpace(s)
	layout := "20060102"
	if len(s) >= 10 && s[4] == '-' {
		s, layout = s[:10], time.DateOnly
	}
	if len(s) != len(layout) {
		return nil
	}
	t, err := time.ParseInLocation(layout, s, time.UTC)
	if err != nil {
		return nil
	}
	return t
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
