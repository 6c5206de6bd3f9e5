package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

// Meta keys the store itself uses; callers may keep their own keys beside
// them (prefix them with the component's name).
const (
	// MetaCRMAccount identifies the CRM account the store's identities
	// belong to (see the engine's account check).
	MetaCRMAccount = "crm_account"
)

// Meta returns the value stored under key; false when there is none.
func (s *Store) Meta(ctx context.Context, key string) (string, bool, error) {
	var v string
	err := s.queryRow(ctx, `SELECT value FROM meta WHERE key = ?`, key).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return "", false, nil
	}
	if err != nil {
		return "", false, fmt.Errorf("reading store meta %s: %w", key, err)
	}
	return v, true, nil
}

// Meta reads key inside the transaction (what another process wrote
// before it began is seen).
func (t *Tx) Meta(key string) (string, bool, error) {
	st, err := t.stmt(`SELECT value FROM meta WHERE key = ?`)
	if err != nil {
		return "", false, fmt.Errorf("reading store meta %s: %w", key, err)
	}
	var v string
	err = st.QueryRowContext(t.ctx, key).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return "", false, nil
	}
	if err != nil {
		return "", false, fmt.Errorf("reading store meta %s: %w", key, err)
	}
	return v, true, nil
}

// SetMeta stores value under key, replacing any earlier value.
func (t *Tx) SetMeta(key, value string) error {
	if key == "" {
		return errors.New("setting store meta: empty key")
	}
	if _, err := t.exec(`INSERT INTO meta (key, value, updated_at) VALUES (?, ?, ?)
		ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at`,
		key, value, t.nowNanos()); err != nil {
		return fmt.Errorf("setting store meta %s: %w", key, err)
	}
	return nil
}

// DeleteMeta removes key; it does nothing when key is not stored.
func (t *Tx) DeleteMeta(key string) error {
	if _, err := t.exec(`DELETE FROM meta WHERE key = ?`, key); err != nil {
		return fmt.Errorf("deleting store meta %s: %w", key, err)
	}
	return nil
}

// PrefixERPKeys puts prefix before every ERP key the store holds (the
// identities, the outbox items and the records they wait on, the
// warnings), in one statement per table: the ERP's key format changed
// (an ERP component migrating a store of an earlier version, with a meta
// key of its own saying it did). It returns how many keys changed.
func (t *Tx) PrefixERPKeys(prefix string) (int64, error) {
	if prefix == "" {
		return 0, errors.New("prefixing ERP keys: empty prefix")
	}
	var n int64
	for _, q := range []string{
		`UPDATE identities SET erp_key = ? || erp_key`,
		`UPDATE outbox SET erp_key = ? || erp_key`,
		`UPDATE outbox SET waits_on_key = ? || waits_on_key WHERE waits_on_key <> ''`,
		`UPDATE warnings SET erp_key = ? || erp_key`,
	} {
		res, err := t.exec(q, prefix)
		if err != nil {
			return n, fmt.Errorf("prefixing ERP keys: %w", err)
		}
		k, err := res.RowsAffected()
		if err != nil {
			return n, fmt.Errorf("prefixing ERP keys: %w", err)
		}
		n += k
	}
	return n, nil
}
