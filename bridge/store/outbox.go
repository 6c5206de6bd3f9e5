package store

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

const outboxCols = `id, stream, entity, erp_key, op, payload, fingerprint, state, attempts, next_attempt_at,
	last_error, level, crm_id, run_id, created_at, updated_at, next_op IS NOT NULL, sent_keys,
	waits_on_entity, waits_on_key`

func scanItem(r scanner) (OutboxItem, error) {
	var it OutboxItem
	var next, created, updated int64
	var sent string
	err := r.Scan(&it.ID, &it.Stream, &it.Entity, &it.ERPKey, &it.Op, &it.Payload, &it.Fingerprint, &it.State,
		&it.Attempts, &next, &it.LastError, &it.Level, &it.CRMID, &it.RunID, &created, &updated, &it.HasFollowUp, &sent,
		&it.WaitsOnEntity, &it.WaitsOnKey)
	it.NextAttemptAt, it.CreatedAt, it.UpdatedAt = fromNanos(next), fromNanos(created), fromNanos(updated)
	if err == nil && sent != "" {
		if jerr := json.Unmarshal([]byte(sent), &it.SentKeys); jerr != nil {
			return it, fmt.Errorf("decoding sent keys of outbox item %d: %w", it.ID, jerr)
		}
	}
	return it, err
}

func (s *Store) queryItems(ctx context.Context, what, query string, args ...any) ([]OutboxItem, error) {
	rows, err := s.query(ctx, query, args...)
	return collect(rows, err, what, scanItem)
}

// Due returns up to limit items of stream ("" = every stream) to send now,
// oldest first: pending and failed items whose next attempt is at or before
// now, and inflight items (left by a crash or a cancelled run; resolve them
// by natural key before sending again).
func (s *Store) Due(ctx context.Context, stream string, now time.Time, limit int) ([]OutboxItem, error) {
	if limit <= 0 {
		limit = 1000
	}
	where := `state <> 'done' AND (state = 'inflight' OR (state IN ('pending', 'failed') AND next_attempt_at <= ?))`
	args := []any{toNanos(now)}
	if stream != "" {
		where += ` AND stream = ?`
		args = append(args, stream)
	}
	args = append(args, limit)
	return s.queryItems(ctx, "reading due outbox items",
		`SELECT `+outboxCols+` FROM outbox WHERE `+where+` ORDER BY id LIMIT ?`, args...)
}

// Item returns one outbox item by id (open or done); false if it does not exist.
func (s *Store) Item(ctx context.Context, id int64) (OutboxItem, bool, error) {
	items, err := s.queryItems(ctx, "reading outbox item", `SELECT `+outboxCols+` FROM outbox WHERE id = ?`, id)
	if err != nil || len(items) == 0 {
		return OutboxItem{}, false, err
	}
	return items[0], true, nil
}

// OpenItems returns the open items (any state but done) matching f, oldest first.
func (s *Store) OpenItems(ctx context.Context, f OutboxFilter) ([]OutboxItem, error) {
	where, args := f.where(nil)
	return s.queryItems(ctx, "listing open outbox items",
		`SELECT `+outboxCols+` FROM outbox WHERE `+where+` ORDER BY id LIMIT ?`, append(args, f.limit())...)
}

// Errors returns the failed and parked items matching f (erpbridge errors
// list), oldest first; f.States may narrow it to one of the two.
func (s *Store) Errors(ctx context.Context, f OutboxFilter) ([]OutboxItem, error) {
	where, args := f.where(errorStates)
	return s.queryItems(ctx, "listing outbox errors",
		`SELECT `+outboxCols+` FROM outbox WHERE `+where+` ORDER BY id LIMIT ?`, append(args, f.limit())...)
}

var errorStates = []State{StateFailed, StateParked}

// RetryParked makes the parked and failed items matching f (erpbridge
// errors retry; f.States may narrow it) pending again, due now, with zero
// attempts and their last error kept for reference. f.Limit is ignored. It
// returns how many items it changed.
func (s *Store) RetryParked(ctx context.Context, f OutboxFilter) (int64, error) {
	where, args := f.where(errorStates)
	where += ` AND state IN ('failed', 'parked')` // never touch pending or inflight items
	var n int64
	err := s.Update(ctx, func(tx *Tx) error {
		res, err := tx.tx.ExecContext(ctx, `UPDATE outbox SET state = 'pending', attempts = 0, next_attempt_at = ?, updated_at = ?
			WHERE `+where, append([]any{tx.nowNanos(), tx.nowNanos()}, args...)...)
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("retrying outbox errors: %w", err)
	}
	return n, nil
}

// Count returns the number of open items per stream and state (the outbox
// depth), ordered by stream and state. Done items are not counted.
func (s *Store) Count(ctx context.Context) ([]OutboxCount, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT stream, state, count(*) FROM outbox WHERE state <> 'done'
		GROUP BY stream, state ORDER BY stream, state`)
	return collect(rows, err, "counting outbox items", func(r scanner) (OutboxCount, error) {
		var c OutboxCount
		return c, r.Scan(&c.Stream, &c.State, &c.N)
	})
}

// PruneDone deletes done items last updated more than olderThan ago and
// returns how many it deleted. Open items are never pruned.
func (s *Store) PruneDone(ctx context.Context, olderThan time.Duration) (int64, error) {
	var n int64
	err := s.Update(ctx, func(tx *Tx) error {
		res, err := tx.tx.ExecContext(ctx, `DELETE FROM outbox WHERE state = 'done' AND updated_at < ?`,
			toNanos(tx.now().Add(-olderThan)))
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("pruning done outbox items: %w", err)
	}
	return n, nil
}

// where renders the filter as a WHERE clause over open items; states
// defaults to defStates (nil = every open state).
func (f OutboxFilter) where(defStates []State) (string, []any) {
	conds := []string{`state <> 'done'`}
	var args []any
	states := f.States
	if len(states) == 0 {
		states = defStates
	}
	if len(states) > 0 {
		ph := make([]string, len(states))
		for i, st := range states {
			ph[i] = "?"
			args = append(args, st)
		}
		conds = append(conds, `state IN (`+strings.Join(ph, ", ")+`)`)
	}
	add := func(cond string, v any) {
		conds = append(conds, cond)
		args = append(args, v)
	}
	if f.Stream != "" {
		add(`stream = ?`, f.Stream)
	}
	if f.Entity != "" {
		add(`entity = ?`, f.Entity)
	}
	if f.ERPKey != "" {
		add(`erp_key = ?`, f.ERPKey)
	}
	if f.Level != "" {
		add(`level = ?`, f.Level)
	}
	if !f.Since.IsZero() {
		add(`updated_at >= ?`, toNanos(f.Since))
	}
	return strings.Join(conds, " AND "), args
}

func (f OutboxFilter) limit() int {
	if f.Limit <= 0 {
		return 1000
	}
	return f.Limit
}

// ResolveUnknown settles the parked items matching f whose outcome a
// person found out (erpbridge errors resolve): sent (the target has the
// write: the item is done, as if the answer had come) or not (the item is
// pending and due now, and counts as never sent: it goes again). Only
// parked items are touched; f.Limit is ignored. It returns how many.
func (s *Store) ResolveUnknown(ctx context.Context, f OutboxFilter, sent bool) (int64, error) {
	f.States = []State{StateParked}
	var n int64
	err := s.Update(ctx, func(tx *Tx) error {
		items, err := s.queryItemsTx(tx, f)
		if err != nil {
			return err
		}
		for _, it := range items {
			if sent {
				if err := tx.Complete(it.ID, it.CRMID, ""); err != nil {
					return err
				}
			} else if _, err := tx.exec(`UPDATE outbox SET state = 'pending', attempts = 0, next_attempt_at = 0, last_error = '',
				level = '', sent_keys = '', updated_at = ? WHERE id = ?`, tx.nowNanos(), it.ID); err != nil {
				return err
			}
			n++
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("resolving outbox items: %w", err)
	}
	return n, nil
}

// queryItemsTx lists the items matching f inside tx.
func (s *Store) queryItemsTx(tx *Tx, f OutboxFilter) ([]OutboxItem, error) {
	where, args := f.where(nil)
	rows, err := tx.tx.QueryContext(tx.ctx, `SELECT `+outboxCols+` FROM outbox WHERE `+where+` ORDER BY id`, args...)
	return collect(rows, err, "listing outbox items", scanItem)
}
