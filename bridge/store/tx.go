package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// Tx is one write transaction, valid only inside the function given to
// Store.Update. Its methods use Update's context. A Tx is not safe for
// concurrent use, and must not call the Store's own write methods (they
// would wait for the transaction that is running them).
type Tx struct {
	s     *Store
	ctx   context.Context
	tx    *sql.Tx
	now   func() time.Time
	stmts map[string]*sql.Stmt
	// cursorSet: the transaction records sync progress (see markOnce).
	cursorSet bool
}

// Update runs fn in one write transaction and commits it if fn returns nil.
// If fn returns an error (returned as is) or panics, nothing fn did is kept.
// Writes are serialised: Update waits for any other write in the process,
// and for other processes up to the busy timeout.
func (s *Store) Update(ctx context.Context, fn func(tx *Tx) error) error {
	if err := s.lockWrite(ctx); err != nil {
		return err
	}
	defer s.unlockWrite()
	sqlTx, err := s.db.BeginTx(ctx, nil) // BEGIN IMMEDIATE (see Open)
	if err != nil {
		return fmt.Errorf("beginning checkpoint transaction: %w", err)
	}
	committed := false
	defer func() {
		if !committed {
			_ = sqlTx.Rollback()
		}
	}()
	t := &Tx{s: s, ctx: ctx, tx: sqlTx, now: s.now, stmts: make(map[string]*sql.Stmt)}
	if err := fn(t); err != nil {
		return readOnly(s.path, err)
	}
	if err := sqlTx.Commit(); err != nil {
		return readOnly(s.path, fmt.Errorf("committing checkpoint transaction: %w", err))
	}
	committed = true
	if t.cursorSet {
		return s.markOnce()
	}
	return nil
}

// exec runs a cached prepared statement: a batch of 1,000 Completes
// prepares each statement once.
func (t *Tx) exec(query string, args ...any) (sql.Result, error) {
	st, err := t.stmt(query)
	if err != nil {
		return nil, err
	}
	return st.ExecContext(t.ctx, args...)
}

func (t *Tx) stmt(query string) (*sql.Stmt, error) {
	if st, ok := t.stmts[query]; ok {
		return st, nil
	}
	shared, cached, err := t.s.stmts.get(t.ctx, t.s.db, query)
	if err != nil {
		return nil, err
	}
	if !cached {
		shared.Close()
		st, err := t.tx.PrepareContext(t.ctx, query)
		if err != nil {
			return nil, err
		}
		t.stmts[query] = st
		return st, nil
	}
	// The transaction's copy reuses the statement already prepared on its
	// connection (database/sql prepares it there once).
	st := t.tx.StmtContext(t.ctx, shared)
	t.stmts[query] = st
	return st, nil
}

func (t *Tx) nowNanos() int64 { return toNanos(t.now()) }

const upsertIdentity = `INSERT INTO identities (entity, erp_key, crm_id, fingerprint, synced_at, deleted)
VALUES (?, ?, ?, ?, ?, ?)
ON CONFLICT (entity, erp_key) DO UPDATE SET
	crm_id = CASE WHEN excluded.crm_id <> '' THEN excluded.crm_id ELSE identities.crm_id END,
	fingerprint = excluded.fingerprint,
	synced_at = excluded.synced_at,
	deleted = excluded.deleted`

// PutIdentity inserts or replaces an identity, e.g. after adopting an
// existing CRM record by natural key (leave Fingerprint empty so the record
// is updated on its next sync). An empty CRMID keeps a known one.
func (t *Tx) PutIdentity(id Identity) error {
	if id.Entity == "" || id.ERPKey == "" {
		return errors.New("putting identity: entity and ERP key are required")
	}
	if _, err := t.exec(upsertIdentity, id.Entity, id.ERPKey, id.CRMID, id.Fingerprint, toNanos(id.SyncedAt), id.Deleted); err != nil {
		return fmt.Errorf("putting identity %s %s: %w", id.Entity, id.ERPKey, err)
	}
	return nil
}

// MarkDeleted flags an identity as deleted (its CRM id is kept). It does
// nothing if the record has no identity.
func (t *Tx) MarkDeleted(entity, erpKey string) error {
	if _, err := t.exec(`UPDATE identities SET deleted = 1, synced_at = ? WHERE entity = ? AND erp_key = ?`,
		t.nowNanos(), entity, erpKey); err != nil {
		return fmt.Errorf("marking identity %s %s deleted: %w", entity, erpKey, err)
	}
	return nil
}

// SetCursor moves a stream's cursor to position.
func (t *Tx) SetCursor(stream, position string) error {
	if _, err := t.exec(`INSERT INTO cursors (stream, position, updated_at) VALUES (?, ?, ?)
		ON CONFLICT (stream) DO UPDATE SET position = excluded.position, updated_at = excluded.updated_at`,
		stream, position, t.nowNanos()); err != nil {
		return fmt.Errorf("setting cursor of %s: %w", stream, err)
	}
	t.cursorSet = true
	return nil
}

// SetFullPassAt records when a stream's last full pass completed.
func (t *Tx) SetFullPassAt(stream string, at time.Time) error {
	if _, err := t.exec(`INSERT INTO cursors (stream, full_pass_at, updated_at) VALUES (?, ?, ?)
		ON CONFLICT (stream) DO UPDATE SET full_pass_at = excluded.full_pass_at, updated_at = excluded.updated_at`,
		stream, toNanos(at), t.nowNanos()); err != nil {
		return fmt.Errorf("setting full pass time of %s: %w", stream, err)
	}
	return nil
}

// Enqueue records a write to send and returns the id of the open item that
// holds it. Only Stream, Entity, ERPKey, Op, Payload, Fingerprint, CRMID,
// RunID and NextAttemptAt (zero = due now) are read from item. If the
// record already has an open item, that item is reused (see the package
// doc): its write is replaced, or, while it is inflight, the new write is
// kept as its follow-up.
func (t *Tx) Enqueue(item OutboxItem) (int64, error) {
	if item.Stream == "" || item.Entity == "" || item.ERPKey == "" {
		return 0, errors.New("enqueueing outbox item: stream, entity and ERP key are required")
	}
	if !item.Op.valid() {
		return 0, fmt.Errorf("enqueueing outbox item %s %s: unknown op %q", item.Entity, item.ERPKey, item.Op)
	}
	now := t.nowNanos()
	st, err := t.stmt(`SELECT id, state FROM outbox WHERE entity = ? AND erp_key = ? AND state <> 'done'`)
	if err != nil {
		return 0, fmt.Errorf("enqueueing outbox item %s %s: %w", item.Entity, item.ERPKey, err)
	}
	var id int64
	var state State
	err = st.QueryRowContext(t.ctx, item.Entity, item.ERPKey).Scan(&id, &state)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		res, err := t.exec(`INSERT INTO outbox (stream, entity, erp_key, op, payload, fingerprint, state,
			next_attempt_at, crm_id, run_id, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, 'pending', ?, ?, ?, ?, ?)`,
			item.Stream, item.Entity, item.ERPKey, item.Op, item.Payload, item.Fingerprint,
			toNanos(item.NextAttemptAt), item.CRMID, item.RunID, now, now)
		if err == nil {
			id, err = res.LastInsertId()
		}
		if err != nil {
			return 0, fmt.Errorf("enqueueing outbox item %s %s: %w", item.Entity, item.ERPKey, err)
		}
	case err != nil:
		return 0, fmt.Errorf("enqueueing outbox item %s %s: %w", item.Entity, item.ERPKey, err)
	case state == StateInflight:
		if _, err := t.exec(`UPDATE outbox SET next_op = ?, next_payload = ?, next_fingerprint = ?, next_run_id = ?,
			updated_at = ? WHERE id = ?`, item.Op, item.Payload, item.Fingerprint, item.RunID, now, id); err != nil {
			return 0, fmt.Errorf("enqueueing follow-up for outbox item %d: %w", id, err)
		}
	default:
		if _, err := t.exec(`UPDATE outbox SET stream = ?, op = ?, payload = ?, fingerprint = ?,
			crm_id = CASE WHEN ? <> '' THEN ? ELSE crm_id END, run_id = ?,
			state = 'pending', attempts = 0, next_attempt_at = ?, last_error = '', level = '', updated_at = ?,
			waits_on_entity = '', waits_on_key = ''
			WHERE id = ?`, item.Stream, item.Op, item.Payload, item.Fingerprint, item.CRMID, item.CRMID, item.RunID,
			toNanos(item.NextAttemptAt), now, id); err != nil {
			return 0, fmt.Errorf("replacing outbox item %d: %w", id, err)
		}
	}
	if err := t.releaseWaiters(item.Entity, item.ERPKey); err != nil {
		return 0, err
	}
	return id, nil
}

// MarkInflight records that an item is about to be sent. Items left
// inflight by a crash come back from Due: their outcome is unknown, so
// resolve them by natural-key lookup before sending again.
func (t *Tx) MarkInflight(id int64) error {
	res, err := t.exec(`UPDATE outbox SET state = 'inflight', updated_at = ? WHERE id = ? AND state <> 'done'`, t.nowNanos(), id)
	if err != nil {
		return fmt.Errorf("marking outbox item %d inflight: %w", id, err)
	}
	if err := mustAffect(res, id); err != nil {
		return fmt.Errorf("marking outbox item %d inflight: %w", id, err)
	}
	return nil
}

// openItem is what resolving an item needs to know about it.
type openItem struct {
	stream, entity, erpKey, fingerprint, crmID string
	op                                         Op
	nextOp                                     sql.NullString
	nextPayload                                []byte
	nextFingerprint                            sql.NullString
	nextRunID                                  sql.NullInt64
}

func (t *Tx) loadOpen(id int64) (openItem, error) {
	st, err := t.stmt(`SELECT stream, entity, erp_key, op, fingerprint, crm_id, next_op, next_payload, next_fingerprint, next_run_id
		FROM outbox WHERE id = ? AND state <> 'done'`)
	if err != nil {
		return openItem{}, err
	}
	var it openItem
	err = st.QueryRowContext(t.ctx, id).Scan(&it.stream, &it.entity, &it.erpKey, &it.op, &it.fingerprint, &it.crmID,
		&it.nextOp, &it.nextPayload, &it.nextFingerprint, &it.nextRunID)
	if errors.Is(err, sql.ErrNoRows) {
		return openItem{}, fmt.Errorf("%w: id %d", ErrNotOpen, id)
	}
	return it, err
}

// Complete records that the target confirmed item id: the item becomes done
// and the record's identity gets crmID, fingerprint and synced_at = now, in
// this transaction. Empty crmID or fingerprint keep the item's own. A
// delete or mark flags the identity deleted; other ops clear the flag.
func (t *Tx) Complete(id int64, crmID, fingerprint string) error {
	it, err := t.loadOpen(id)
	if err != nil {
		return fmt.Errorf("completing outbox item %d: %w", id, err)
	}
	if crmID == "" {
		crmID = it.crmID
	}
	if fingerprint == "" {
		fingerprint = it.fingerprint
	}
	now := t.nowNanos()
	if _, err := t.exec(`UPDATE outbox SET state = 'done', crm_id = ?, fingerprint = ?, updated_at = ?, sent_keys = '',
		next_op = NULL, next_payload = NULL, next_fingerprint = NULL, next_run_id = NULL WHERE id = ?`,
		crmID, fingerprint, now, id); err != nil {
		return fmt.Errorf("completing outbox item %d: %w", id, err)
	}
	deleted := it.op == OpDelete || it.op == OpMark
	if _, err := t.exec(upsertIdentity, it.entity, it.erpKey, crmID, fingerprint, now, deleted); err != nil {
		return fmt.Errorf("completing outbox item %d: recording identity: %w", id, err)
	}
	if err := t.releaseWaiters(it.entity, it.erpKey); err != nil {
		return err
	}
	if !it.nextOp.Valid || it.nextFingerprint.String == fingerprint {
		return nil
	}
	op := Op(it.nextOp.String)
	if op == OpCreate && crmID != "" {
		op = OpUpdate
	}
	if _, err := t.exec(`INSERT INTO outbox (stream, entity, erp_key, op, payload, fingerprint, state,
		crm_id, run_id, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, 'pending', ?, ?, ?, ?)`,
		it.stream, it.entity, it.erpKey, op, it.nextPayload, it.nextFingerprint.String, crmID, it.nextRunID.Int64, now, now); err != nil {
		return fmt.Errorf("completing outbox item %d: queueing its follow-up: %w", id, err)
	}
	return nil
}

// Fail records a failed attempt at item id, to be retried at nextAttemptAt.
// countAttempt=false (rate limited: the request never got a fair chance)
// leaves attempts unchanged and the item pending rather than failed, so it
// stays out of the error list. If a follow-up is waiting, it replaces the
// failed write (pending, zero attempts, due at nextAttemptAt).
func (t *Tx) Fail(id int64, errText string, level Level, nextAttemptAt time.Time, countAttempt bool) error {
	it, err := t.loadOpen(id)
	if err != nil {
		return fmt.Errorf("failing outbox item %d: %w", id, err)
	}
	if it.nextOp.Valid {
		return t.applyFollowUp(id, errText, level, nextAttemptAt)
	}
	state, inc := StateFailed, 1
	if !countAttempt {
		state, inc = StatePending, 0
	}
	if _, err := t.exec(`UPDATE outbox SET state = ?, attempts = attempts + ?, next_attempt_at = ?, last_error = ?, level = ?,
		updated_at = ? WHERE id = ?`, state, inc, toNanos(nextAttemptAt), errText, level, t.nowNanos(), id); err != nil {
		return fmt.Errorf("failing outbox item %d: %w", id, err)
	}
	return nil
}

// Park gives up on item id after a failed attempt (counted): it stays open,
// listed by Errors, until a newer write for the record is enqueued or
// RetryParked is called. If a follow-up is waiting, it replaces the parked
// write instead (pending, zero attempts, due now).
func (t *Tx) Park(id int64, errText string, level Level) error {
	it, err := t.loadOpen(id)
	if err != nil {
		return fmt.Errorf("parking outbox item %d: %w", id, err)
	}
	if it.nextOp.Valid {
		return t.applyFollowUp(id, errText, level, time.Time{})
	}
	return t.park(id, it, errText, level, "", "")
}

// Wait parks item id (level skip) until the record (entity, key) it needs
// changes: bad ERP data in a dependency is fixed in the ERP, so retrying
// before then only repeats the dependency's error. When that record's
// outbox item is completed, replaced by a newer write or parked (for
// another reason), every item waiting on it is made pending, due now.
func (t *Tx) Wait(id int64, errText, entity, key string) error {
	it, err := t.loadOpen(id)
	if err != nil {
		return fmt.Errorf("parking outbox item %d: %w", id, err)
	}
	if it.nextOp.Valid {
		return t.applyFollowUp(id, errText, LevelSkip, time.Time{})
	}
	return t.park(id, it, errText, LevelSkip, entity, key)
}

func (t *Tx) park(id int64, it openItem, errText string, level Level, waitsEntity, waitsKey string) error {
	if _, err := t.exec(`UPDATE outbox SET state = 'parked', attempts = attempts + 1, last_error = ?, level = ?, updated_at = ?,
		waits_on_entity = ?, waits_on_key = ? WHERE id = ?`, errText, level, t.nowNanos(), waitsEntity, waitsKey, id); err != nil {
		return fmt.Errorf("parking outbox item %d: %w", id, err)
	}
	return t.releaseWaiters(it.entity, it.erpKey)
}

// releaseWaiters makes the items waiting on (entity, key) pending, due now.
func (t *Tx) releaseWaiters(entity, key string) error {
	// Due at once, whatever the clock of the run that sends it. It runs for
	// every record queued or completed: "waits_on_key <> ''" repeats the
	// condition of the partial index outbox_waits_on, which SQLite uses only
	// when the query states it (it does not infer it from "= ?"); without
	// it every call scanned the whole outbox, done items included.
	if _, err := t.exec(`UPDATE outbox SET state = 'pending', attempts = 0, next_attempt_at = 0, updated_at = ?,
		waits_on_entity = '', waits_on_key = '' WHERE waits_on_key = ? AND waits_on_key <> '' AND waits_on_entity = ? AND state = 'parked'`,
		t.nowNanos(), key, entity); err != nil {
		return fmt.Errorf("releasing the records waiting on %s %s: %w", entity, key, err)
	}
	return nil
}

func (t *Tx) applyFollowUp(id int64, errText string, level Level, next time.Time) error {
	if _, err := t.exec(`UPDATE outbox SET op = next_op, payload = next_payload, fingerprint = next_fingerprint,
		run_id = next_run_id, next_op = NULL, next_payload = NULL, next_fingerprint = NULL, next_run_id = NULL,
		state = 'pending', attempts = 0, next_attempt_at = ?, last_error = ?, level = ?, updated_at = ?,
		waits_on_entity = '', waits_on_key = '' WHERE id = ?`,
		toNanos(next), errText, level, t.nowNanos(), id); err != nil {
		return fmt.Errorf("applying follow-up of outbox item %d: %w", id, err)
	}
	return nil
}

// SetSentKeys replaces the natural keys recorded as sent for item id (see
// OutboxItem.SentKeys); nil clears them. The engine adds a create's keys in
// the transaction that marks it inflight, before the request leaves, and
// takes them back when the request never left.
func (t *Tx) SetSentKeys(id int64, keys []json.RawMessage) error {
	text := ""
	if len(keys) > 0 {
		b, err := json.Marshal(keys)
		if err != nil {
			return fmt.Errorf("encoding sent keys of outbox item %d: %w", id, err)
		}
		text = string(b)
	}
	res, err := t.exec(`UPDATE outbox SET sent_keys = ? WHERE id = ? AND state <> 'done'`, text, id)
	if err != nil {
		return fmt.Errorf("recording sent keys of outbox item %d: %w", id, err)
	}
	if err := mustAffect(res, id); err != nil {
		return fmt.Errorf("recording sent keys of outbox item %d: %w", id, err)
	}
	return nil
}

func mustAffect(res sql.Result, id int64) error {
	n, err := res.RowsAffected()
	if err != nil {
		return err
	}
	if n == 0 {
		return fmt.Errorf("%w: id %d", ErrNotOpen, id)
	}
	return nil
}
