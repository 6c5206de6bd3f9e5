package erp

import (
	"strings"
	"testing"
	"time"
)

func TestPollFrom(t *testing.T) {
	now := time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)
	past := now.Add(-time.Hour)
	future := now.Add(24 * 365 * time.Hour)
	tests := []struct {
		name string
		last *time.Time
		want time.Time
	}{
		{"from the beginning", nil, StampFloor},
		{"overlap behind the cursor", &past, past.Add(-2 * time.Minute)},
		{"a future stamp is capped at now", &future, now.Add(-2 * time.Minute)},
	}
	for _, tt := range tests {
		if got := PollFrom(tt.last, 2*time.Minute, now); !got.Equal(tt.want) {
			t.Errorf("%s: PollFrom = %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestSetKey(t *testing.T) {
	cols := []string{"A1_FILIAL", "A1_COD", "A1_LOJA"}
	tests := []struct {
		name    string
		values  []Value
		want    string
		badCols []string // key columns reported, in order
	}{
		{"a shared customer", []Value{"", "000123", "01"}, "|000123|01", nil},
		{"a filial's customer", []Value{"01", "000123", "01"}, "01|000123|01", nil},
		{"a NULL filial is a shared one", []Value{nil, "000123", "01"}, "|000123|01", nil},
		{"one blank part is kept", []Value{"", "", "01"}, "||01", nil},
		{"a NULL code", []Value{"", nil, "01"}, "|#42|01", []string{"A1_COD"}},
		{"every part blank", []Value{"", "  ", ""}, "|#42|#42", []string{"A1_COD", "A1_LOJA"}},
		{"every part NULL", []Value{nil, nil, nil}, "|#42|#42", []string{"A1_COD", "A1_LOJA"}},
		{"a date part", []Value{"", time.Date(2024, 1, 2, 0, 0, 0, 0, time.UTC), "01"}, "|20240102|01", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := Record{Recno: 42}
			r.SetKey(cols, tt.values, "A1_FILIAL")
			if r.Key != tt.want {
				t.Errorf("Key = %q, want %q", r.Key, tt.want)
			}
			var got []string
			for _, b := range r.BadValues {
				if !b.Key {
					t.Errorf("bad value %v is not marked as a key column's", b)
				}
				got = append(got, b.Column)
			}
			if strings.Join(got, ",") != strings.Join(tt.badCols, ",") {
				t.Errorf("bad key columns %v, want %v", got, tt.badCols)
			}
			err := r.KeyError()
			if (err != nil) != (len(tt.badCols) > 0) {
				t.Fatalf("KeyError = %v, want an error: %v", err, len(tt.badCols) > 0)
			}
			if err != nil && (!strings.Contains(err.Error(), "record number 42") || !strings.Contains(err.Error(), tt.badCols[0])) {
				t.Errorf("KeyError %q names neither the record number nor the column", err)
			}
		})
	}
}

func TestSetKeyMarksAnUnreadableKeyColumn(t *testing.T) {
	r := Record{Recno: 7, BadValues: []BadValue{{Column: "C5_NUM", Value: "\xff", Reason: "is not text"}}}
	r.SetKey([]string{"C5_FILIAL", "C5_NUM"}, []Value{"01", nil}, "C5_FILIAL")
	if r.Key != "01|#7" || len(r.BadValues) != 1 || !r.BadValues[0].Key {
		t.Errorf("Key %q, bad values %+v: want 01|#7 and the one bad value marked as a key column's", r.Key, r.BadValues)
	}
}
