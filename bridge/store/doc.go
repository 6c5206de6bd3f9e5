// Package store is erpbridge's local checkpoint store: one embedded SQLite
// file (modernc.org/sqlite, no cgo) holding, per stream, the read cursor;
// per ERP record, the identity map (ERP key → CRM id + fingerprint); the
// outbox of writes still to be confirmed; and the history of runs.
//
// # Durability
//
// The file runs in WAL mode with synchronous=NORMAL (FULL with
// [WithSynchronousFull]): a committed transaction survives a process crash;
// after an OS crash or power loss NORMAL may lose the last few commits but
// never corrupts the file. Both cases replay at most the last page, which
// the engine's fingerprints make idempotent.
//
// [Open] never deletes, truncates or recreates an existing file. It checks an
// existing file through a read-only connection first: a file that is empty,
// is not a SQLite database or fails PRAGMA quick_check ([ErrCorrupt]), that
// belongs to another application ([ErrNotStore]), or that carries a schema
// newer than this binary knows ([ErrTooNew]) is refused with an error naming
// the path and what to do, and is left byte-for-byte as found. Schema steps
// are embedded in the binary, recorded in PRAGMA user_version, and each runs
// in its own transaction.
//
// # The marker
//
// Once a store first records sync progress, a marker file is written
// beside it (erpbridge.db.marker) with the store's id. [Open] refuses, with
// [ErrStoreLost], a store file that has no trace of a sync while its marker
// says it had synced (its -wal file deleted before a checkpoint, the file
// deleted or replaced alone), or that is another store: starting over
// silently would re-read and resend everything. Deleting the whole data
// folder starts over on purpose. A write refused because the file is
// read-only names the file and what to do.
//
// # Commit order
//
// [Store.Update] runs a function in one write transaction. Everything a
// [Tx] does in that function — closing an outbox item, upserting the
// identity with the CRM id and fingerprint ([Tx.Complete]), failing or
// parking items, enqueueing new ones, moving the cursor ([Tx.SetCursor]) —
// commits together or not at all. The engine builds its promise that the
// cursor only moves past rows that are done, or queued or parked in the
// outbox, on the order of its Updates: a page's rows are recorded before the
// Update that moves the cursor, so a crash in between replays the page.
//
// # Outbox: one open item per record
//
// At most one item per (entity, ERP key) is open (state other than done).
// [Tx.Enqueue] for a key that already has an open item replaces that item's
// op, payload and fingerprint and makes it pending again with zero attempts
// and no error, so a fix made in the ERP clears a failed or parked item.
// If the open item is inflight (its request may be on the wire), the newer
// write is instead stored on the item as a follow-up and the inflight one is
// left alone. When the inflight item resolves:
//   - [Tx.Complete]: the follow-up becomes a new pending item (a follow-up
//     "create" becomes an "update" of the CRM id just confirmed); it is
//     dropped if its fingerprint equals the one just written.
//   - [Tx.Fail] or [Tx.Park]: the follow-up replaces the failed payload and
//     the item goes back to pending with zero attempts (due at the failure's
//     next-attempt time), since newer data supersedes what failed.
//
// Failures: [Tx.Fail] with countAttempt=false (a 429) leaves attempts as
// they were and the item pending, so it never shows as an error; with true
// the item is failed and counted. [Tx.Park] counts the attempt and parks the
// item until a newer write or [Store.RetryParked]. Items left inflight by a
// crash come back from [Store.Due]; their outcome is unknown.
//
// # Runs
//
// [Store.StartRun] marks earlier unfinished runs of the same stream
// interrupted, and the engine calls [Store.RecoverRuns] once at start-up, so
// a run cut short by a crash reads as [RunInterrupted].
//
// # Time
//
// Times are stored as UTC Unix nanoseconds (INTEGER; 0 = unset) and
// returned in UTC.
//
// # Concurrency
//
// One [Store] is safe for concurrent use. Reads run in parallel with a write
// (WAL); writes are serialised in the process and, across processes (the
// CLI next to the service), by SQLite's lock with a busy timeout.
package store
