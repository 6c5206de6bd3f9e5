package store

import (
	"context"
	"time"
)

// Writes returns every write of one record the store still holds — open,
// and confirmed ones until PruneDone drops them — newest first, at most
// limit (0: 100): a record's history of payloads, outcomes and runs.
func (s *Store) Writes(ctx context.Context, entity, erpKey string, limit int) ([]OutboxItem, error) {
	if limit <= 0 {
		limit = 100
	}
	return s.queryItems(ctx, "reading the writes of "+entity+" "+erpKey,
		`SELECT `+outboxCols+` FROM outbox WHERE entity = ? AND erp_key = ? ORDER BY id DESC LIMIT ?`, entity, erpKey, limit)
}

// RunFilter selects runs. Zero fields match everything.
type RunFilter struct {
	Stream string
	Since  time.Time // runs started at or after
	Limit  int       // 0: 50
}

// Runs returns the runs matching f, newest first.
func (s *Store) Runs(ctx context.Context, f RunFilter) ([]Run, error) {
	if f.Limit <= 0 {
		f.Limit = 50
	}
	q, args := `SELECT `+runCols+` FROM runs WHERE started_at >= ?`, []any{toNanos(f.Since)}
	if f.Stream != "" {
		q += ` AND stream = ?`
		args = append(args, f.Stream)
	}
	rows, err := s.db.QueryContext(ctx, q+` ORDER BY id DESC LIMIT ?`, append(args, f.Limit)...)
	return collect(rows, err, "reading runs", scanRun)
}
