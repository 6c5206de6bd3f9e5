package sqlerp

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/erpbridge/erpbridge/erp"
)

// position is what an erp.Position holds for sqlerp, encoded as JSON:
// {"stamp":"2026-01-02T03:04:05.123Z","recno":123} for Changes and
// {"recno":123} for FullPass.
type position struct {
	Stamp *time.Time `json:"stamp,omitempty"`
	Recno int64      `json:"recno"`
}

func (p position) encode() erp.Position {
	if p.Stamp != nil {
		u := p.Stamp.UTC()
		p.Stamp = &u
	}
	b, _ := json.Marshal(p) // a struct of a time and an int always marshals
	return erp.Position(b)
}

func decodePosition(p erp.Position) (position, error) {
	var out position
	if p == "" {
		return out, nil
	}
	if err := json.Unmarshal([]byte(p), &out); err != nil {
		return position{}, fmt.Errorf("decoding position %q: %w", string(p), err)
	}
	return out, nil
}

// StampPosition returns the Changes position for a stamp and record number,
// e.g. to start from a known time.
func StampPosition(stamp time.Time, recno int64) erp.Position {
	return position{Stamp: &stamp, Recno: recno}.encode()
}
