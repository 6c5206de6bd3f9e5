package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
)

const identityCols = `entity, erp_key, crm_id, fingerprint, synced_at, deleted`

// identitiesQuery looks up a whole page of keys with one statement: the keys
// travel as one JSON array, so the statement is prepared once for any size.
const identitiesQuery = `SELECT ` + identityCols + ` FROM identities
WHERE entity = ? AND erp_key IN (SELECT value FROM json_each(?))`

// scanner is a row source: *sql.Row or *sql.Rows.
type scanner interface{ Scan(dest ...any) error }

var (
	_ scanner = (*sql.Row)(nil)
	_ scanner = (*sql.Rows)(nil)
)

// collect scans every row a query returned (rows, err) with scan and
// closes the rows; what starts every error ("listing identities: …").
func collect[T any](rows *sql.Rows, err error, what string, scan func(scanner) (T, error)) ([]T, error) {
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	defer rows.Close()
	var out []T
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", what, err)
		}
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	return out, nil
}

func scanIdentity(r scanner) (Identity, error) {
	var id Identity
	var synced int64
	err := r.Scan(&id.Entity, &id.ERPKey, &id.CRMID, &id.Fingerprint, &synced, &id.Deleted)
	id.SyncedAt = fromNanos(synced)
	return id, err
}

// Identity returns the identity of one ERP record; false if there is none.
func (s *Store) Identity(ctx context.Context, entity, erpKey string) (Identity, bool, error) {
	row := s.queryRow(ctx, `SELECT `+identityCols+` FROM identities WHERE entity = ? AND erp_key = ?`, entity, erpKey)
	return oneIdentity(row, "reading identity")
}

// IdentityByCRMID returns the identity holding a CRM id; false if there is none.
func (s *Store) IdentityByCRMID(ctx context.Context, entity, crmID string) (Identity, bool, error) {
	if crmID == "" {
		return Identity{}, false, nil
	}
	row := s.queryRow(ctx, `SELECT `+identityCols+` FROM identities WHERE entity = ? AND crm_id = ? LIMIT 1`, entity, crmID)
	return oneIdentity(row, "reading identity by CRM id")
}

func oneIdentity(row *sql.Row, what string) (Identity, bool, error) {
	id, err := scanIdentity(row)
	if errors.Is(err, sql.ErrNoRows) {
		return Identity{}, false, nil
	}
	if err != nil {
		return Identity{}, false, fmt.Errorf("%s: %w", what, err)
	}
	return id, true, nil
}

// Identities looks up many ERP keys of one entity at once (a page of
// source rows) with a single query, whatever the number of keys (they
// travel as one JSON array, so keys must be valid UTF-8). Keys without an
// identity are absent from the map.
func (s *Store) Identities(ctx context.Context, entity string, keys []string) (map[string]Identity, error) {
	out := make(map[string]Identity, len(keys))
	if len(keys) == 0 {
		return out, nil
	}
	arr, err := json.Marshal(keys)
	if err != nil {
		return nil, fmt.Errorf("encoding identity keys: %w", err)
	}
	rows, err := s.query(ctx, identitiesQuery, entity, string(arr))
	ids, err := collect(rows, err, "reading identities", scanIdentity)
	if err != nil {
		return nil, err
	}
	for _, id := range ids {
		out[id.ERPKey] = id
	}
	return out, nil
}

// ListIdentities pages through one entity's identities in ERP-key order:
// pass the last key of the previous page as after ("" for the first page).
// limit ≤ 0 means 1000.
func (s *Store) ListIdentities(ctx context.Context, entity, after string, limit int) ([]Identity, error) {
	if limit <= 0 {
		limit = 1000
	}
	rows, err := s.db.QueryContext(ctx, `SELECT `+identityCols+` FROM identities
		WHERE entity = ? AND erp_key > ? ORDER BY erp_key LIMIT ?`, entity, after, limit)
	return collect(rows, err, "listing identities", scanIdentity)
}

// CountIdentities returns how many identities an entity has, and how many
// of those carry a CRM id.
func (s *Store) CountIdentities(ctx context.Context, entity string) (total, withCRMID int64, err error) {
	err = s.db.QueryRowContext(ctx, `SELECT count(*), count(NULLIF(crm_id, '')) FROM identities WHERE entity = ?`, entity).
		Scan(&total, &withCRMID)
	if err != nil {
		return 0, 0, fmt.Errorf("counting identities: %w", err)
	}
	return total, withCRMID, nil
}

// ForgetFingerprints clears the fingerprints of every identity of an entity
// (erpbridge resync), and what its target recorded it sent (Sent): CRM ids
// are kept, so the next pass updates every record, whole, instead of
// creating duplicates. It returns the number cleared.
func (s *Store) ForgetFingerprints(ctx context.Context, entity string) (int64, error) {
	var n int64
	err := s.Update(ctx, func(tx *Tx) error {
		res, err := tx.tx.ExecContext(ctx, `UPDATE identities SET fingerprint = '' WHERE entity = ? AND fingerprint <> ''`, entity)
		if err != nil {
			return err
		}
		if n, err = res.RowsAffected(); err != nil {
			return err
		}
		return tx.forgetSent(entity)
	})
	if err != nil {
		return 0, fmt.Errorf("forgetting fingerprints of %s: %w", entity, err)
	}
	return n, nil
}

const cursorCols = `stream, position, full_pass_at, updated_at`

func scanCursor(r scanner) (Cursor, error) {
	var c Cursor
	var full, upd int64
	err := r.Scan(&c.Stream, &c.Position, &full, &upd)
	c.FullPassAt, c.UpdatedAt = fromNanos(full), fromNanos(upd)
	return c, err
}

// Cursor returns a stream's cursor; false if the stream has none yet.
func (s *Store) Cursor(ctx context.Context, stream string) (Cursor, bool, error) {
	c, err := scanCursor(s.queryRow(ctx, `SELECT `+cursorCols+` FROM cursors WHERE stream = ?`, stream))
	if errors.Is(err, sql.ErrNoRows) {
		return Cursor{Stream: stream}, false, nil
	}
	if err != nil {
		return Cursor{}, false, fmt.Errorf("reading cursor of %s: %w", stream, err)
	}
	return c, true, nil
}

// Cursors returns every stream's cursor, by stream name.
func (s *Store) Cursors(ctx context.Context) ([]Cursor, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+cursorCols+` FROM cursors ORDER BY stream`)
	return collect(rows, err, "reading cursors", scanCursor)
}

// RecentIdentities returns up to limit identities with a CRM id, of any
// entity, the most recently confirmed first (deleted ones left out): the
// records a check of "is this still the CRM the store was filled from"
// looks for.
func (s *Store) RecentIdentities(ctx context.Context, limit int) ([]Identity, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+identityCols+` FROM identities
		WHERE crm_id <> '' AND deleted = 0 ORDER BY synced_at DESC LIMIT ?`, limit)
	return collect(rows, err, "listing recent identities", scanIdentity)
}

// ForgetCRM forgets everything the store knows about the CRM it was filled
// from — identities, cursors, open and done writes, won-deal writebacks and
// the recorded account — keeping the run history, so the next sync reads
// every ERP record again and looks each up in the (new) CRM by natural key
// before creating it. It returns how many identities it forgot.
func (s *Store) ForgetCRM(ctx context.Context) (int64, error) {
	var n int64
	err := s.Update(ctx, func(tx *Tx) error {
		res, err := tx.tx.ExecContext(ctx, `DELETE FROM identities`)
		if err != nil {
			return err
		}
		if n, err = res.RowsAffected(); err != nil {
			return err
		}
		for _, q := range []string{`DELETE FROM cursors`, `DELETE FROM outbox`, `DELETE FROM writebacks`,
			`DELETE FROM meta WHERE key <> '` + metaStoreID + `'`} {
			if _, err := tx.tx.ExecContext(ctx, q); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("forgetting the CRM in checkpoint store %s: %w", s.path, err)
	}
	return n, nil
}
