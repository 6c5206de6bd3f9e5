package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
)

// WarningKind says what a warning is about.
type WarningKind string

// Warning kinds. A record has at most one warning of each.
const (
	// WarningFields: fields left out of the record's payload because their
	// ERP values are invalid (set when the record is mapped).
	WarningFields WarningKind = "fields"
	// WarningKey: a natural key left out of the payload because another ERP
	// record's CRM record has it (a shared e-mail; set when the write is
	// confirmed).
	WarningKey WarningKind = "key"
)

// Warning is a problem of a record the bridge sent anyway. It is listed
// (level skip, `erpbridge errors list`) until the record is mapped or
// sent without it; it is not a failure.
type Warning struct {
	Stream, Entity, ERPKey string
	Kind                   WarningKind
	Text                   string
	CreatedAt, UpdatedAt   time.Time
}

// SetWarning records w, replacing the record's warning of the same kind;
// an empty w.Text removes it. An unchanged text keeps its times.
func (t *Tx) SetWarning(w Warning) error {
	if w.Entity == "" || w.ERPKey == "" || (w.Kind != WarningFields && w.Kind != WarningKey) {
		return fmt.Errorf("recording warning %s %s: entity, ERP key and kind are required", w.Entity, w.ERPKey)
	}
	if w.Text == "" {
		if _, err := t.exec(`DELETE FROM warnings WHERE entity = ? AND erp_key = ? AND kind = ?`, w.Entity, w.ERPKey, w.Kind); err != nil {
			return fmt.Errorf("clearing warning of %s %s: %w", w.Entity, w.ERPKey, err)
		}
		return nil
	}
	if w.Stream == "" {
		return errors.New("recording warning: stream is required")
	}
	now := t.nowNanos()
	if _, err := t.exec(`INSERT INTO warnings (entity, erp_key, kind, stream, text, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (entity, erp_key, kind) DO UPDATE SET stream = excluded.stream, text = excluded.text, updated_at = excluded.updated_at
		WHERE text <> excluded.text OR stream <> excluded.stream`,
		w.Entity, w.ERPKey, w.Kind, w.Stream, w.Text, now, now); err != nil {
		return fmt.Errorf("recording warning of %s %s: %w", w.Entity, w.ERPKey, err)
	}
	return nil
}

// WarningTexts returns the warnings each of keys has, by kind, for one
// entity (keys without any are left out): one query for a page.
func (s *Store) WarningTexts(ctx context.Context, entity string, keys []string) (map[string]map[WarningKind]string, error) {
	out := make(map[string]map[WarningKind]string)
	if len(keys) == 0 {
		return out, nil
	}
	arr, err := json.Marshal(keys)
	if err != nil {
		return nil, fmt.Errorf("encoding warning keys: %w", err)
	}
	rows, err := s.query(ctx, `SELECT erp_key, kind, text FROM warnings WHERE entity = ?
		AND erp_key IN (SELECT value FROM json_each(?))`, entity, string(arr))
	ws, err := collect(rows, err, "reading warnings", func(r scanner) (Warning, error) {
		var w Warning
		return w, r.Scan(&w.ERPKey, &w.Kind, &w.Text)
	})
	if err != nil {
		return nil, err
	}
	for _, w := range ws {
		if out[w.ERPKey] == nil {
			out[w.ERPKey] = map[WarningKind]string{}
		}
		out[w.ERPKey][w.Kind] = w.Text
	}
	return out, nil
}

// Warnings lists the warnings matching f's Stream, Entity, ERPKey and
// Since (erpbridge errors list), oldest change first, at most f.Limit
// (0: 1000). Warnings are level skip: f.Level error matches none.
func (s *Store) Warnings(ctx context.Context, f OutboxFilter) ([]Warning, error) {
	if f.Level != LevelNone && f.Level != LevelSkip {
		return nil, nil
	}
	conds, args := []string{"1 = 1"}, []any{}
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
	if !f.Since.IsZero() {
		add(`updated_at >= ?`, toNanos(f.Since))
	}
	// A record whose write is parked was not sent: its refusal is listed,
	// not what it would have been sent without.
	conds = append(conds, `NOT (kind = 'fields' AND EXISTS (SELECT 1 FROM outbox o
		WHERE o.entity = warnings.entity AND o.erp_key = warnings.erp_key AND o.state = 'parked'))`)
	rows, err := s.query(ctx, `SELECT stream, entity, erp_key, kind, text, created_at, updated_at FROM warnings
		WHERE `+strings.Join(conds, " AND ")+` ORDER BY updated_at, entity, erp_key, kind LIMIT ?`, append(args, f.limit())...)
	return collect(rows, err, "listing warnings", func(r scanner) (Warning, error) {
		var w Warning
		var created, updated int64
		err := r.Scan(&w.Stream, &w.Entity, &w.ERPKey, &w.Kind, &w.Text, &created, &updated)
		w.CreatedAt, w.UpdatedAt = fromNanos(created), fromNanos(updated)
		return w, err
	})
}
