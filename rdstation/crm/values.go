package crm

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/shopspring/decimal"
)

// Decimal is an exact decimal number for prices, amounts and discounts. It
// is sent as a JSON number and read from a number or a numeric string (the
// API sends base_price both ways); null and "" read as zero.
type Decimal struct {
	decimal.Decimal
}

// NewDecimal wraps d.
func NewDecimal(d decimal.Decimal) Decimal { return Decimal{d} }

// ParseDecimal parses a decimal such as "15.44".
func ParseDecimal(s string) (Decimal, error) {
	d, err := decimal.NewFromString(s)
	if err != nil {
		return Decimal{}, fmt.Errorf("parsing decimal %q: %w", s, err)
	}
	return Decimal{d}, nil
}

// DecimalPtr returns a pointer to d, for optional input fields.
func DecimalPtr(d decimal.Decimal) *Decimal { return &Decimal{d} }

// MarshalJSON writes the number without quotes and without rounding.
func (d Decimal) MarshalJSON() ([]byte, error) { return []byte(d.Decimal.String()), nil }

// UnmarshalJSON reads a number, a numeric string or null.
func (d *Decimal) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if bytes.Equal(b, []byte("null")) {
		d.Decimal = decimal.Zero
		return nil
	}
	s := string(b)
	if len(b) > 0 && b[0] == '"' {
		if err := json.Unmarshal(b, &s); err != nil {
			return fmt.Errorf("decoding decimal: %w", err)
		}
		s = strings.TrimSpace(s)
		if s == "" {
			d.Decimal = decimal.Zero
			return nil
		}
	}
	v, err := decimal.NewFromString(s)
	if err != nil {
		return fmt.Errorf("decoding decimal %q: %w", s, err)
	}
	d.Decimal = v
	return nil
}

// NullableBool is a boolean input field that can be left out, set to true
// or false, or sent as JSON null (e.g. win:null reopens a deal). Its zero
// value, Unset, is omitted by `omitempty`.
type NullableBool int8

// NullableBool values.
const (
	Unset NullableBool = iota
	True
	False
	Null
)

// MarshalJSON writes true, false or null (Unset also writes null; it is
// normally omitted before this is called).
func (n NullableBool) MarshalJSON() ([]byte, error) {
	switch n {
	case True:
		return []byte("true"), nil
	case False:
		return []byte("false"), nil
	default:
		return []byte("null"), nil
	}
}

// UnmarshalJSON reads true, false or null.
func (n *NullableBool) UnmarshalJSON(b []byte) error {
	switch string(bytes.TrimSpace(b)) {
	case "true":
		*n = True
	case "false":
		*n = False
	case "null":
		*n = Null
	default:
		return fmt.Errorf("decoding nullable bool from %q", b)
	}
	return nil
}

// Bool returns a pointer to v, for optional input fields.
func Bool(v bool) *bool { return &v }

// Int returns a pointer to v, for optional input fields.
func Int(v int) *int { return &v }

var (
	_ json.Marshaler   = Decimal{}
	_ json.Unmarshaler = (*Decimal)(nil)
	_ json.Marshaler   = NullableBool(0)
	_ json.Unmarshaler = (*NullableBool)(nil)
)
