package store

import (
	"context"
	"database/sql"
	"fmt"
)

// migrations are the schema steps in order; step i (0-based) brings the
// file to user_version i+1. Append only: never edit a released step.
var migrations = []string{
	// 1: cursors, identities, outbox, runs.
	`
CREATE TABLE cursors (
	stream       TEXT    NOT NULL PRIMARY KEY,
	position     TEXT    NOT NULL DEFAULT '',
	full_pass_at INTEGER NOT NULL DEFAULT 0,
	updated_at   INTEGER NOT NULL DEFAULT 0
) STRICT;

CREATE TABLE identities (
	entity      TEXT    NOT NULL,
	erp_key     TEXT    NOT NULL,
	crm_id      TEXT    NOT NULL DEFAULT '',
	fingerprint TEXT    NOT NULL DEFAULT '',
	synced_at   INTEGER NOT NULL DEFAULT 0,
	deleted     INTEGER NOT NULL DEFAULT 0,
	PRIMARY KEY (entity, erp_key)
) STRICT, WITHOUT ROWID;
CREATE INDEX identities_crm_id ON identities (entity, crm_id) WHERE crm_id <> '';

CREATE TABLE outbox (
	id               INTEGER NOT NULL PRIMARY KEY,
	stream           TEXT    NOT NULL,
	entity           TEXT    NOT NULL,
	erp_key          TEXT    NOT NULL,
	op               TEXT    NOT NULL,
	payload          BLOB,
	fingerprint      TEXT    NOT NULL DEFAULT '',
	state            TEXT    NOT NULL,
	attempts         INTEGER NOT NULL DEFAULT 0,
	next_attempt_at  INTEGER NOT NULL DEFAULT 0,
	last_error       TEXT    NOT NULL DEFAULT '',
	level            TEXT    NOT NULL DEFAULT '',
	crm_id           TEXT    NOT NULL DEFAULT '',
	run_id           INTEGER NOT NULL DEFAULT 0,
	created_at       INTEGER NOT NULL,
	updated_at       INTEGER NOT NULL,
	-- follow-up: a newer write enqueued while this item was inflight
	next_op          TEXT,
	next_payload     BLOB,
	next_fingerprint TEXT,
	next_run_id      INTEGER,
	CHECK (state IN ('pending', 'inflight', 'failed', 'parked', 'done')),
	CHECK (op IN ('create', 'update', 'delete', 'mark'))
) STRICT;
CREATE UNIQUE INDEX outbox_open_key ON outbox (entity, erp_key) WHERE state <> 'done';
CREATE INDEX outbox_open_stream ON outbox (stream, state, next_attempt_at) WHERE state <> 'done';
CREATE INDEX outbox_open_order ON outbox (id) WHERE state <> 'done';
CREATE INDEX outbox_done_age ON outbox (updated_at) WHERE state = 'done';

CREATE TABLE runs (
	id          INTEGER NOT NULL PRIMARY KEY,
	stream      TEXT    NOT NULL,
	kind        TEXT    NOT NULL,
	started_at  INTEGER NOT NULL,
	finished_at INTEGER NOT NULL DEFAULT 0,
	duration_ns INTEGER NOT NULL DEFAULT 0,
	interrupted INTEGER NOT NULL DEFAULT 0,
	read_n      INTEGER NOT NULL DEFAULT 0,
	created_n   INTEGER NOT NULL DEFAULT 0,
	updated_n   INTEGER NOT NULL DEFAULT 0,
	unchanged_n INTEGER NOT NULL DEFAULT 0,
	skipped_n   INTEGER NOT NULL DEFAULT 0,
	failed_n    INTEGER NOT NULL DEFAULT 0,
	deleted_n   INTEGER NOT NULL DEFAULT 0,
	api_calls   INTEGER NOT NULL DEFAULT 0,
	err         TEXT    NOT NULL DEFAULT ''
) STRICT;
CREATE INDEX runs_stream ON runs (stream, id);
CREATE INDEX runs_unfinished ON runs (stream) WHERE finished_at = 0 AND interrupted = 0;
`,
	// 2: writebacks (won CRM deals on their way to ERP orders).
	`
CREATE TABLE writebacks (
	deal_id         TEXT    NOT NULL PRIMARY KEY,
	deal_name       TEXT    NOT NULL DEFAULT '',
	state           TEXT    NOT NULL,
	order_number    TEXT    NOT NULL DEFAULT '',
	error           TEXT    NOT NULL DEFAULT '',
	noted           TEXT    NOT NULL DEFAULT '',
	attempts        INTEGER NOT NULL DEFAULT 0,
	next_attempt_at INTEGER NOT NULL DEFAULT 0,
	created_at      INTEGER NOT NULL,
	updated_at      INTEGER NOT NULL,
	CHECK (state IN ('submitting', 'waiting', 'done', 'rejected', 'invalid', 'written'))
) STRICT, WITHOUT ROWID;
CREATE INDEX writebacks_open ON writebacks (state, next_attempt_at) WHERE state <> 'written';
`,
	// 3: meta (facts about the store itself: the CRM account it serves, the
	// mapping each stream was last synced with); per outbox item, the
	// natural keys of every payload sent whose outcome is not known yet, so
	// a lost create is resolved by what was sent, not only by the record's
	// current values; the record an item waits on; and warnings.
	`
CREATE TABLE meta (
	key        TEXT    NOT NULL PRIMARY KEY,
	value      TEXT    NOT NULL DEFAULT '',
	updated_at INTEGER NOT NULL DEFAULT 0
) STRICT, WITHOUT ROWID;
ALTER TABLE outbox ADD COLUMN sent_keys TEXT NOT NULL DEFAULT '';
-- a record parked because a record it needs has bad ERP data waits on it:
-- released when that record changes (see Tx.Wait)
ALTER TABLE outbox ADD COLUMN waits_on_entity TEXT NOT NULL DEFAULT '';
ALTER TABLE outbox ADD COLUMN waits_on_key TEXT NOT NULL DEFAULT '';
CREATE INDEX outbox_waits_on ON outbox (waits_on_entity, waits_on_key) WHERE waits_on_key <> '';
-- warnings: problems of records that were sent anyway (a field left out
-- for its invalid ERP value, a natural key another record owns)
CREATE TABLE warnings (
	entity     TEXT    NOT NULL,
	erp_key    TEXT    NOT NULL,
	kind       TEXT    NOT NULL,
	stream     TEXT    NOT NULL,
	text       TEXT    NOT NULL,
	created_at INTEGER NOT NULL,
	updated_at INTEGER NOT NULL,
	PRIMARY KEY (entity, erp_key, kind),
	CHECK (kind IN ('fields', 'key'))
) STRICT, WITHOUT ROWID;
CREATE INDEX warnings_stream ON warnings (stream, updated_at);
`,
}

// SchemaVersion is the schema version (PRAGMA user_version) this binary
// writes and the newest it can open.
func SchemaVersion() int { return len(migrations) }

// migrate applies the missing steps, each in its own write transaction that
// re-reads user_version, so two processes opening a new file at once do not
// run a step twice.
func migrate(ctx context.Context, db *sql.DB, path string) error {
	for i, step := range migrations {
		version := i + 1
		if err := migrateStep(ctx, db, path, version, step); err != nil {
			return fmt.Errorf("migrating %s to schema version %d: %w", path, version, err)
		}
	}
	return nil
}

func migrateStep(ctx context.Context, db *sql.DB, path string, version int, step string) (err error) {
	tx, err := db.BeginTx(ctx, nil) // BEGIN IMMEDIATE (see dsn)
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			_ = tx.Rollback()
		}
	}()
	var current int
	if err := tx.QueryRowContext(ctx, "PRAGMA user_version").Scan(&current); err != nil {
		return err
	}
	if current > len(migrations) {
		return tooNew(path, current)
	}
	if current >= version {
		return tx.Rollback()
	}
	if _, err := tx.ExecContext(ctx, step); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, fmt.Sprintf("PRAGMA application_id = %d; PRAGMA user_version = %d", applicationID, version)); err != nil {
		return err
	}
	return tx.Commit()
}
