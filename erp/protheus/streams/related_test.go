package streams

import (
	"context"
	"testing"

	"github.com/erpbridge/erpbridge/erp"
)

// TestCursorOfAnEarlierVersion: a cursor with one related table (the only
// one earlier versions knew) keeps its position; a relation it lacks (the
// customer, added by the upgrade) starts where the main table stands.
func TestCursorOfAnEarlierVersion(t *testing.T) {
	s := &Related{}
	for _, tt := range []struct {
		cursor        erp.Position
		first, second erp.Position
	}{
		{`{"main":"M","related":"R"}`, "R", "M"},
		{`M`, "M", "M"},
		{`{"main":"M","related":"R","others":{"SA1":"C"}}`, "R", "C"},
	} {
		p, err := s.decodePosition(context.Background(), tt.cursor)
		if err != nil {
			t.Fatal(err)
		}
		if p.of(0, "SC6") != tt.first || p.of(1, "SA1") != tt.second {
			t.Errorf("%s: SC6 at %q, SA1 at %q; want %q, %q", tt.cursor, p.of(0, "SC6"), p.of(1, "SA1"), tt.first, tt.second)
		}
		p.set(1, "SA1", "N")
		if q, _ := s.decodePosition(context.Background(), p.encode()); q.of(1, "SA1") != "N" || q.of(0, "SC6") != tt.first {
			t.Errorf("%s: moved and read back as %s", tt.cursor, p.encode())
		}
	}
}
