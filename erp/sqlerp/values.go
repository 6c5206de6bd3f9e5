package sqlerp

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	mssql "github.com/microsoft/go-mssqldb"
	"github.com/shopspring/decimal"
	go_ora "github.com/sijms/go-ora/v2"

	"github.com/erpbridge/erpbridge/erp"
)

// Convert turns a raw driver value into an erp.Value for the column:
// CHARs right-trimmed, YYYYMMDD dates (blank → nil), numbers rounded to the
// column's decimals. Text is returned as the database stores it, Latin-1
// bytes included: binding it back (lookups by key) then matches, and the
// mapping decides whether to transcode it or report it. A value the column
// cannot hold (NaN, text in a numeric column, a date that is not one) is an
// error; a Source makes it a BadValue of its record (see badValue).
func Convert(c ColumnSpec, raw any) (erp.Value, error) {
	if raw == nil {
		return nil, nil
	}
	switch c.Kind {
	case KindChar, KindMemo:
		s, err := text(raw)
		if err != nil {
			return nil, err
		}
		return strings.TrimRight(s, " "), nil
	case KindDate:
		if t, ok := asTime(raw); ok {
			return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC), nil
		}
		s, err := text(raw)
		if err != nil {
			return nil, err
		}
		return ParseDate(s)
	case KindNumber:
		d, err := number(raw)
		if err != nil {
			return nil, err
		}
		return d.Round(int32(c.Decimals)), nil
	case KindInt:
		d, err := number(raw)
		if err != nil {
			return nil, err
		}
		return d.Round(0).IntPart(), nil
	case KindBool:
		return boolean(raw)
	}
	return nil, fmt.Errorf("unknown column kind %q", c.Kind)
}

// ParseDate reads a Protheus date (YYYYMMDD). A blank date, or Protheus'
// all-zero one, is nil; anything else that is not a date is an error.
func ParseDate(s string) (erp.Value, error) {
	s = strings.TrimSpace(s)
	if s == "" || s == "00000000" {
		return nil, nil
	}
	t, err := time.ParseInLocation("20060102", s, time.UTC)
	if err != nil || len(s) != 8 {
		return nil, errNotDate
	}
	return t, nil
}

// Reasons a value is refused, as BadValue.Reason reads them.
var (
	errNotDate   = errors.New("is not a date (YYYYMMDD)")
	errNotNumber = errors.New("is not a number")
	errNotFinite = errors.New("is not a finite number")
	errNotBool   = errors.New("is not a logical value (T/F, S/N, 1/0)")
)

// BadValue describes a raw value Convert refused, for the record's
// BadValues: the column, the value as text and the reason.
func BadValue(c ColumnSpec, raw any, err error) erp.BadValue {
	b := erp.BadValue{Column: strings.ToUpper(c.Name), Reason: err.Error()}
	if s, terr := text(raw); terr == nil {
		b.Value = s
	} else {
		b.Value = fmt.Sprintf("%v", raw)
	}
	return b
}

func text(raw any) (string, error) {
	var s string
	switch v := raw.(type) {
	case string:
		s = v
	case []byte:
		s = string(v)
	case int64:
		return strconv.FormatInt(v, 10), nil
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64), nil
	case bool:
		return strconv.FormatBool(v), nil
	default:
		return "", fmt.Errorf("converting %T to text: unsupported type", raw)
	}
	return s, nil
}

func number(raw any) (decimal.Decimal, error) {
	switch v := raw.(type) {
	case float64:
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return decimal.Decimal{}, errNotFinite
		}
		return decimal.NewFromFloat(v), nil
	case float32:
		if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
			return decimal.Decimal{}, errNotFinite
		}
		return decimal.NewFromFloat32(v), nil
	case int64:
		return decimal.NewFromInt(v), nil
	case int32:
		return decimal.NewFromInt(int64(v)), nil
	case int:
		return decimal.NewFromInt(int64(v)), nil
	case decimal.Decimal:
		return v, nil
	case string, []byte:
		s, _ := text(v)
		s = strings.TrimSpace(s)
		if s == "" {
			return decimal.Zero, nil
		}
		d, err := decimal.NewFromString(s)
		if err != nil || len(s) > 64 || d.Exponent() > 1000 || d.Exponent() < -1000 {
			// "1e999999999" parses, and rounding it would take minutes:
			// no ERP number is that long or that large.
			return decimal.Decimal{}, errNotNumber
		}
		return d, nil
	}
	return decimal.Decimal{}, fmt.Errorf("converting %T to number: unsupported type", raw)
}

func boolean(raw any) (erp.Value, error) {
	switch v := raw.(type) {
	case bool:
		return v, nil
	case int64:
		return v != 0, nil
	}
	s, err := text(raw)
	if err != nil {
		return nil, err
	}
	switch strings.ToUpper(strings.TrimSpace(s)) {
	case "":
		return nil, nil
	case "T", "1", "S", "Y", ".T.", "TRUE":
		return true, nil
	case "F", "0", "N", ".F.", "FALSE":
		return false, nil
	}
	return nil, errNotBool
}

// asTime unwraps the time types drivers return or accept.
func asTime(raw any) (time.Time, bool) {
	switch v := raw.(type) {
	case time.Time:
		return v, true
	case mssql.DateTime1:
		return time.Time(v), true
	case go_ora.TimeStamp:
		return time.Time(v), true
	}
	return time.Time{}, false
}

// stampLayouts are the text forms a stamp may come back in (SQLite).
var stampLayouts = []string{SQLiteStampLayout, "2006-01-02 15:04:05.999999999", "2006-01-02T15:04:05.999999999Z07:00", "2006-01-02 15:04:05"}

// convertStamp reads a change stamp. Stamps are UTC without a zone, so the
// wall clock a driver returns is taken as UTC whatever location it carries.
func convertStamp(raw any) (*time.Time, error) {
	if raw == nil {
		return nil, nil
	}
	t, ok := asTime(raw)
	if !ok {
		s, err := text(raw)
		if err != nil {
			return nil, fmt.Errorf("reading stamp: %w", err)
		}
		s = strings.TrimSpace(s)
		if s == "" {
			return nil, nil
		}
		for _, layout := range stampLayouts {
			if t, err = time.Parse(layout, s); err == nil {
				ok = true
				break
			}
		}
		if !ok {
			return nil, fmt.Errorf("reading stamp %q: unknown layout", s)
		}
	}
	u := time.Date(t.Year(), t.Month(), t.Day(), t.Hour(), t.Minute(), t.Second(), t.Nanosecond(), time.UTC)
	return &u, nil
}

func convertRecno(raw any) (int64, error) {
	d, err := number(raw)
	if err != nil {
		return 0, fmt.Errorf("reading recno: %w", err)
	}
	return d.IntPart(), nil
}
