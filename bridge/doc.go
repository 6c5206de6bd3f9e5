// Package bridge is the sync engine: it reads changed ERP records stream by
// stream, maps them, skips the unchanged ones by fingerprint and writes the
// rest to the CRM through a per-record outbox, committing the identity map,
// the outbox state and the cursor in the order that makes a crash at any
// point replay at most one page, idempotently.
//
// The engine knows the ERP only through erp.Source and the target system
// only through Target, which a registered target-system component provides
// (bridge/component; RD Station CRM: rdstation/crm/target). It names no
// vendor. Its error classes are in errors.go; the won-deal direction is
// bridge/inbound.
//
// # Commit order
//
// For every record that needs a write:
//
//  1. the outbox item is stored and marked inflight — a page's items in one
//     transaction, before any is sent;
//  2. the Target is called: before any create it looks for an existing CRM
//     record by natural key (adoption), so a retried create never doubles;
//  3. on success the item is completed and the identity (CRM id +
//     fingerprint) stored together — confirmations are recorded in batches
//     (Options.CompleteBatch), always before the cursor moves; on failure
//     the item is failed (retried on a later run with backoff; a 429 costs
//     no attempt) or parked. A stop puts items never sent back to pending.
//
// After every record of a page is done, failed or parked, the stream's cursor
// moves past the page. A crash before step 3 leaves an inflight item that the
// next run resolves by natural-key lookup; a crash before the cursor moves
// replays the page, whose unchanged records cost nothing.
package bridge
