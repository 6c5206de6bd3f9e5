package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// WritebackState is where a won deal stands on its way to an ERP order.
type WritebackState string

// WritebackState values, in the order a deal normally goes through them.
const (
	// WritebackSubmitting: the order is being (or was maybe) sent to the
	// ERP. Recorded before the send, so a crash re-sends (sinks are
	// idempotent on the deal id) instead of forgetting the deal.
	WritebackSubmitting WritebackState = "submitting"
	// WritebackWaiting: the ERP accepted the request and has not made the
	// order yet (a staging row waiting for the ERP job).
	WritebackWaiting WritebackState = "waiting"
	// WritebackDone: the ERP made the order; its number is not on the deal yet.
	WritebackDone WritebackState = "done"
	// WritebackRejected: the ERP refused the order (Error says why).
	WritebackRejected WritebackState = "rejected"
	// WritebackInvalid: the deal cannot become an order (no ERP customer,
	// an unknown product …); Error says what is missing. Retried later.
	WritebackInvalid WritebackState = "invalid"
	// WritebackWritten: the order number is on the deal. Final.
	WritebackWritten WritebackState = "written"
)

// Writeback is one won deal on its way to an ERP order.
type Writeback struct {
	DealID, DealName string
	State            WritebackState
	OrderNumber      string
	// Error is the ERP's rejection or what the deal lacks; Noted is the
	// error last written onto the deal as a note (not written twice).
	Error, Noted  string
	Attempts      int
	NextAttemptAt time.Time
	CreatedAt     time.Time
	UpdatedAt     time.Time
	// Destination is where in the ERP the order was asked for (an ERP
	// company and branch; "" the sink's default), set when it is sent.
	Destination string
}

const writebackCols = `deal_id, deal_name, state, order_number, error, noted, attempts, next_attempt_at, created_at, updated_at, destination`

func scanWriteback(r scanner) (Writeback, error) {
	var w Writeback
	var next, created, updated int64
	err := r.Scan(&w.DealID, &w.DealName, &w.State, &w.OrderNumber, &w.Error, &w.Noted, &w.Attempts, &next, &created, &updated, &w.Destination)
	w.NextAttemptAt, w.CreatedAt, w.UpdatedAt = fromNanos(next), fromNanos(created), fromNanos(updated)
	return w, err
}

// Writeback returns the writeback of a deal; false when the deal has none.
func (s *Store) Writeback(ctx context.Context, dealID string) (Writeback, bool, error) {
	w, err := scanWriteback(s.queryRow(ctx, `SELECT `+writebackCols+` FROM writebacks WHERE deal_id = ?`, dealID))
	if errors.Is(err, sql.ErrNoRows) {
		return Writeback{}, false, nil
	}
	if err != nil {
		return Writeback{}, false, fmt.Errorf("reading writeback of deal %s: %w", dealID, err)
	}
	return w, true, nil
}

// OpenWritebacks lists writebacks not yet written, due at or before now
// (all of them with a zero now), oldest first, at most limit, after the
// writeback after (zero: from the first). Page with the last one returned:
// a row made due again while paging is not returned twice.
func (s *Store) OpenWritebacks(ctx context.Context, now time.Time, after Writeback, limit int) ([]Writeback, error) {
	due := int64(1<<63 - 1)
	if !now.IsZero() {
		due = toNanos(now)
	}
	return s.queryWritebacks(ctx, "reading open writebacks",
		`SELECT `+writebackCols+` FROM writebacks WHERE state <> 'written' AND next_attempt_at <= ?
	AND (created_at, deal_id) > (?, ?) ORDER BY created_at, deal_id LIMIT ?`, due, toNanos(after.CreatedAt), after.DealID, limit)
}

// ProblemAttempts is how many failed sends make a submitting writeback a
// problem a person should look at.
const ProblemAttempts = 3

// WritebackProblems lists the writebacks a person should look at (rejected
// by the ERP, invalid, or failing to send), oldest first.
func (s *Store) WritebackProblems(ctx context.Context, limit int) ([]Writeback, error) {
	return s.queryWritebacks(ctx, "reading writeback problems",
		`SELECT `+writebackCols+` FROM writebacks WHERE state IN ('rejected', 'invalid')
	OR (state = 'submitting' AND attempts >= ? AND error <> '') ORDER BY created_at, deal_id LIMIT ?`, ProblemAttempts, limit)
}

// CountWritebacks counts writebacks by state.
func (s *Store) CountWritebacks(ctx context.Context) (map[WritebackState]int64, error) {
	rows, err := s.query(ctx, `SELECT state, COUNT(*) FROM writebacks GROUP BY state`)
	if err != nil {
		return nil, fmt.Errorf("counting writebacks: %w", err)
	}
	defer rows.Close()
	out := map[WritebackState]int64{}
	for rows.Next() {
		var st WritebackState
		var n int64
		if err := rows.Scan(&st, &n); err != nil {
			return nil, fmt.Errorf("counting writebacks: %w", err)
		}
		out[st] = n
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("counting writebacks: %w", err)
	}
	return out, nil
}

func (s *Store) queryWritebacks(ctx context.Context, what, query string, args ...any) ([]Writeback, error) {
	rows, err := s.query(ctx, query, args...)
	return collect(rows, err, what, scanWriteback)
}

// PutWriteback inserts or replaces a deal's writeback. CreatedAt is kept
// from an existing row; UpdatedAt is now.
func (t *Tx) PutWriteback(w Writeback) error {
	now := t.nowNanos()
	_, err := t.exec(`INSERT INTO writebacks (`+writebackCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (deal_id) DO UPDATE SET deal_name = excluded.deal_name, state = excluded.state,
	order_number = excluded.order_number, error = excluded.error, noted = excluded.noted,
	attempts = excluded.attempts, next_attempt_at = excluded.next_attempt_at, updated_at = excluded.updated_at,
	destination = excluded.destination`,
		w.DealID, w.DealName, string(w.State), w.OrderNumber, w.Error, w.Noted, w.Attempts, toNanos(w.NextAttemptAt), now, now, w.Destination)
	if err != nil {
		return fmt.Errorf("recording writeback of deal %s: %w", w.DealID, err)
	}
	return nil
}

// RetryWritebacks makes the problem writebacks (those WritebackProblems
// lists) updated at or after since (zero: all) due now, so the next run
// maps and sends their deals again (after a fix in the ERP or the CRM). It
// returns how many it changed.
func (s *Store) RetryWritebacks(ctx context.Context, since time.Time) (int64, error) {
	var n int64
	err := s.Update(ctx, func(tx *Tx) error {
		res, err := tx.exec(`UPDATE writebacks SET next_attempt_at = 0, attempts = 0, updated_at = ?
	WHERE (state IN ('rejected', 'invalid') OR (state = 'submitting' AND attempts >= ? AND error <> '')) AND updated_at >= ?`,
			tx.nowNanos(), ProblemAttempts, toNanos(since))
		if err != nil {
			return fmt.Errorf("retrying writebacks: %w", err)
		}
		n, err = res.RowsAffected()
		return err
	})
	return n, err
}
