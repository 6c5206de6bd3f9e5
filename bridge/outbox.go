package bridge

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/erpbridge/erpbridge/bridge/store"
	"go.uber.org/zap"
)

// plannedWrite is a write decided for a record, to be queued and sent.
type plannedWrite struct {
	item        store.OutboxItem
	fixIdentity bool
	// sentBefore are the item's sent keys before this write added its own
	// (see sentKeys): restored if the write never leaves.
	sentBefore []json.RawMessage
	addedKey   bool
}

// write queues a write for p and sends it: at once for an on-demand
// dependency, else with the rest of its page (see sendPlanned). prior is
// the record's open item, if any (looked up with the page, or after an
// earlier row of the page with the same key was settled: see page).
func (r *run) write(ctx context.Context, item store.OutboxItem, p Payload, prior *store.OutboxItem) error {
	body, err := json.Marshal(p)
	if err != nil {
		return fmt.Errorf("encoding payload of %s: %w", item.ERPKey, err)
	}
	item.Payload = body
	w := plannedWrite{item: item}
	if prior != nil {
		w.item.SentKeys = prior.SentKeys
	}
	if prior != nil && r.attempted(*prior) {
		// An earlier attempt may have reached the CRM: its create must then
		// be resolved against the CRM itself (see apply).
		w.item.State = store.StateInflight
		// An inflight item keeps its own op and takes ours as a follow-up:
		// the identity's deleted flag must follow what we send.
		w.fixIdentity = prior.State == store.StateInflight
	}
	r.planned = append(r.planned, w)
	if r.plannedKeys == nil {
		r.plannedKeys = map[string]bool{}
	}
	r.plannedKeys[item.ERPKey] = true
	if r.depth > 0 || !r.inPage {
		return r.sendPlanned(ctx)
	}
	return nil
}

// sendPlanned queues the planned writes and marks them inflight in one
// transaction — each is a row before it is sent — then sends them one by
// one. A stop between two sends leaves the rest inflight: the next run
// resolves them by natural key before anything else.
func (r *run) sendPlanned(ctx context.Context) error {
	if len(r.planned) == 0 {
		return nil
	}
	planned := r.planned
	r.planned = nil
	clear(r.plannedKeys)
	err := r.e.store.Update(context.WithoutCancel(ctx), func(tx *store.Tx) error {
		for i := range planned {
			id, err := tx.Enqueue(planned[i].item)
			if err != nil {
				return err
			}
			planned[i].item.ID = id
			if err := tx.MarkInflight(id); err != nil {
				return err
			}
			// A create's natural keys are recorded before it leaves (an
			// Unrepeatable target's right before, in apply).
			w := &planned[i]
			if unrepeatable(r.s.Target) {
				continue
			}
			if keys, added, err := r.sentKeys(w.item, w.item.Payload); err != nil {
				return err
			} else if added {
				if err := tx.SetSentKeys(id, keys); err != nil {
					return err
				}
				w.sentBefore, w.addedKey, w.item.SentKeys = w.item.SentKeys, true, keys
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("queueing %d writes: %w", len(planned), err)
	}
	left := int64(len(planned)) // not sent yet: not done for the progress
	r.unsent += left
	defer func() { r.unsent -= left }()
	for i, w := range planned {
		if err := ctx.Err(); err != nil {
			return r.unsend(ctx, planned[i:], err)
		}
		if err := r.deliver(ctx, w.item, w.fixIdentity); err != nil {
			// The run stops (a refused token, a store error): what never
			// left goes back to pending rather than sitting inflight.
			return r.unsend(ctx, planned[i+1:], err)
		}
		left--
		r.unsent--
		r.tick()
	}
	return nil
}

// sentKeys returns item's sent keys with the natural keys of body (a JSON
// payload) added, and whether they were not there yet. Only creates record
// keys: an update names its record by CRM id.
func (r *run) sentKeys(item store.OutboxItem, body []byte) ([]json.RawMessage, bool, error) {
	if item.Op != store.OpCreate || len(body) == 0 {
		return item.SentKeys, false, nil
	}
	var p Payload
	if err := json.Unmarshal(body, &p); err != nil {
		return nil, false, fmt.Errorf("decoding payload of %s: %w", item.ERPKey, err)
	}
	return r.addKeys(item, p)
}

func (r *run) addKeys(item store.OutboxItem, p Payload) ([]json.RawMessage, bool, error) {
	key, err := json.Marshal(r.s.Target.KeysOf(p))
	if err != nil {
		return nil, false, fmt.Errorf("encoding natural keys of %s: %w", item.ERPKey, err)
	}
	for _, k := range item.SentKeys {
		if string(k) == string(key) {
			return item.SentKeys, false, nil
		}
	}
	return append(slices.Clip(item.SentKeys), key), true, nil
}

// recordSent records p's natural keys on item before a create leaves, in
// its own transaction (writes of a page record theirs when they are queued).
func (r *run) recordSent(ctx context.Context, item *store.OutboxItem, p Payload) error {
	keys, added, err := r.addKeys(*item, p)
	if err != nil || !added {
		return err
	}
	if err := r.e.store.Update(context.WithoutCancel(ctx), func(tx *store.Tx) error {
		return tx.SetSentKeys(item.ID, keys)
	}); err != nil {
		return fmt.Errorf("recording what is sent for %s: %w", item.ERPKey, err)
	}
	item.SentKeys = keys
	return nil
}

// settleKey sends and records this run's waiting write for key, if any, so
// a later decision about the same record starts from its outcome.
func (r *run) settleKey(ctx context.Context, key string) error {
	if !r.plannedKeys[key] && !r.pendingKeys[key] {
		return nil
	}
	if err := r.sendPlanned(ctx); err != nil {
		return err
	}
	return r.flush(ctx)
}

// unsend puts writes that were queued but never sent (a stop came first)
// back to pending, so nothing is left inflight that never left. One whose
// record had an earlier attempt keeps an error text, so the next run still
// resolves it live (see attempted).
func (r *run) unsend(ctx context.Context, ws []plannedWrite, cause error) error {
	if len(ws) == 0 {
		return cause
	}
	now := r.e.opts.Now()
	err := r.e.store.Update(context.WithoutCancel(ctx), func(tx *store.Tx) error {
		for _, w := range ws {
			text := ""
			if r.attempted(w.item) {
				text = "not sent: the bridge stopped (an earlier attempt may have reached the CRM)"
			}
			if err := tx.Fail(w.item.ID, text, store.LevelNone, now, false); err != nil {
				return err
			}
			if w.addedKey { // never sent: its keys prove nothing
				if err := tx.SetSentKeys(w.item.ID, w.sentBefore); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("putting back %d unsent writes: %w", len(ws), err)
	}
	return cause
}

// drainOutbox sends the stream's due items: earlier failures whose time has
// come and inflight items a crash left behind.
func (r *run) drainOutbox(ctx context.Context) error {
	const batch = 200
	seen := map[int64]bool{}
	for round := 0; round < 1000; round++ {
		// Record what the last round confirmed first: it must not come back
		// as inflight and crowd the next round out.
		if err := r.flush(ctx); err != nil {
			return err
		}
		items, err := r.e.store.Due(ctx, r.s.Name, r.e.opts.Now(), batch)
		if err != nil {
			return fmt.Errorf("reading outbox: %w", err)
		}
		progress := false
		for _, it := range items {
			if seen[it.ID] {
				continue
			}
			seen[it.ID] = true
			progress = true
			if err := ctx.Err(); err != nil {
				return err
			}
			if err := r.send(ctx, it); err != nil {
				return err
			}
			r.tick()
		}
		if !progress || len(items) < batch {
			return nil
		}
	}
	return nil
}

// send performs one outbox item against the Target and records the outcome.
// The CRM call may outlive a stop request by Options.Grace so the record is
// finished and persisted.
func (r *run) send(ctx context.Context, item store.OutboxItem) error {
	if err := r.e.store.Update(context.WithoutCancel(ctx), func(tx *store.Tx) error { return tx.MarkInflight(item.ID) }); err != nil {
		return fmt.Errorf("marking %s inflight: %w", item.ERPKey, err)
	}
	return r.deliver(ctx, item, false)
}

// deliver performs an item already marked inflight.
// fixIdentity rewrites the identity after Complete, for an item whose stored
// op differs from the one sent (Complete decides the deleted flag by the
// stored op).
func (r *run) deliver(ctx context.Context, item store.OutboxItem, fixIdentity bool) error {
	st := r.e.store
	persist := context.WithoutCancel(ctx)
	var p Payload
	if len(item.Payload) > 0 {
		if err := json.Unmarshal(item.Payload, &p); err != nil {
			return st.Update(persist, func(tx *store.Tx) error {
				return tx.Park(item.ID, fmt.Sprintf("decoding stored payload: %v", err), store.LevelError)
			})
		}
	}
	if p == nil {
		// Queued without a payload (bad data, or a dependency that failed):
		// read the record again and map it as it is now.
		var done bool
		var err error
		stored := item.Op
		if item, p, done, err = r.remap(ctx, item); done || err != nil {
			return err
		}
		// A waiting mark whose record came back alive is sent as an update.
		fixIdentity = fixIdentity || (stored == store.OpMark) != (item.Op == store.OpMark)
	}
	callCtx, cancel := graceContext(ctx, r.e.opts.Grace)
	defer cancel()

	log := r.log.With(zap.String("erp_key", item.ERPKey))
	out, err := r.apply(callCtx, item, p)
	crmID, created, skipped := out.crmID, out.created, out.skipped
	if crmID != "" {
		log = log.With(zap.String("crm_id", crmID))
	}
	now := r.e.opts.Now()
	switch {
	case err == nil:
		c := completion{item: item, crmID: crmID, fixIdentity: fixIdentity, at: now}
		if _, shares := r.s.Target.(SharedKeys); shares && item.Op != store.OpMark {
			// What this write left out replaces what the last one did.
			c.setKeyNote = true
			if len(out.dropped) > 0 {
				c.keyNote = "synced without " + strings.Join(out.dropped, ", ")
				r.warnedN++
				log.Warn("record sent without a natural key another ERP record has", zap.String("reason", c.keyNote))
			}
		}
		if err := r.complete(ctx, c); err != nil {
			return err
		}
		if changed, ok := r.stamps[item.ERPKey]; ok && !skipped && r.depth == 0 {
			r.e.opts.Observer.Wrote(Write{Stream: r.s.Name, ERPKey: item.ERPKey, CRMID: crmID,
				Op: item.Op, Created: created, ERPChangedAt: changed, At: now})
		}
		switch {
		case skipped:
			r.stats.Skipped++
		case created:
			r.stats.Created++
			log.Debug("record created")
		case item.Op == store.OpMark:
			r.stats.Deleted++
			log.Debug("record marked deleted")
		default:
			r.stats.Updated++
			log.Debug("record updated")
		}
		return nil
	case errors.Is(err, ErrUnresolvable):
		// Never sent again blindly: a person finds out (errors resolve).
		r.stats.Failed++
		log.Error("the outcome of an earlier attempt cannot be known; parked for the operator", zap.Error(err))
		return st.Update(persist, func(tx *store.Tx) error { return tx.Park(item.ID, err.Error(), store.LevelError) })
	case errors.Is(err, ErrDeferred):
		// The target's quota of this record: it waits, other records go on.
		until := now.Add(r.e.opts.RateLimitDelay)
		if de := (*DeferError)(nil); errors.As(err, &de) && de.Until.After(now) {
			until = de.Until
		}
		r.stats.Skipped++
		log.Warn("deferred by the target; will retry", zap.Time("next_attempt", until), zap.Error(err))
		return st.Update(persist, func(tx *store.Tx) error {
			return tx.Fail(item.ID, err.Error(), store.LevelError, until, false)
		})
	case errors.Is(err, ErrRateLimited):
		// Not a failure of the record: it waits (pending) for the budget.
		log.Warn("rate limited; will retry", zap.Error(err))
		return st.Update(persist, func(tx *store.Tx) error {
			return tx.Fail(item.ID, err.Error(), store.LevelError, now.Add(r.e.opts.RateLimitDelay), false)
		})
	case errors.Is(err, ErrFatal):
		log.Error("the target system refuses the integration; stopping the run", zap.Error(err))
		if ferr := st.Update(persist, func(tx *store.Tx) error {
			return tx.Fail(item.ID, err.Error(), store.LevelError, now, false)
		}); ferr != nil {
			return ferr
		}
		return err
	case errors.Is(err, ErrKeyTaken):
		// A policy outcome, not a failure: listed once (parked) until the
		// record changes or errors retry.
		r.stats.Skipped++
		log.Warn("record not sent: its natural key belongs to another ERP record", zap.Error(err))
		return st.Update(persist, func(tx *store.Tx) error { return tx.Park(item.ID, err.Error(), store.LevelSkip) })
	case errors.Is(err, ErrRejected):
		r.stats.Failed++
		log.Warn("record rejected by the CRM", zap.Error(err))
		return st.Update(persist, func(tx *store.Tx) error { return tx.Park(item.ID, err.Error(), store.LevelSkip) })
	default:
		r.stats.Failed++
		failures := item.Attempts + 1
		if failures >= r.e.opts.MaxAttempts {
			log.Error("giving up after repeated failures", zap.Int("attempts", failures), zap.Error(err))
			return st.Update(persist, func(tx *store.Tx) error { return tx.Park(item.ID, err.Error(), store.LevelError) })
		}
		next := now.Add(r.e.opts.Backoff(failures))
		log.Warn("write failed; will retry", zap.Int("attempts", failures), zap.Time("next_attempt", next), zap.Error(err))
		return st.Update(persist, func(tx *store.Tx) error {
			return tx.Fail(item.ID, err.Error(), store.LevelError, next, true)
		})
	}
}

// completion is a write the CRM confirmed, waiting to be recorded.
type completion struct {
	item        store.OutboxItem
	crmID       string
	fixIdentity bool
	at          time.Time
	// keyNote says which natural keys the write left out (see SharedKeys),
	// recorded as the record's key warning when setKeyNote ("" clears it).
	keyNote    string
	setKeyNote bool
}

// complete records a confirmed write. Completions are committed in batches
// (Options.CompleteBatch) and always before the cursor moves past their
// page: a crash in between leaves the items inflight, and the next run
// resolves them by natural key — the same as a crash right after the CRM
// answered. On-demand dependencies are recorded at once (their caller reads
// their identity next).
func (r *run) complete(ctx context.Context, c completion) error {
	r.pending = append(r.pending, c)
	if r.pendingKeys == nil {
		r.pendingKeys = map[string]bool{}
	}
	r.pendingKeys[c.item.ERPKey] = true
	if r.depth > 0 || len(r.pending) >= r.e.opts.CompleteBatch {
		return r.flush(ctx)
	}
	return nil
}

// flush commits the pending completions in one transaction.
func (r *run) flush(ctx context.Context) error {
	if len(r.pending) == 0 {
		return nil
	}
	err := r.e.store.Update(context.WithoutCancel(ctx), func(tx *store.Tx) error {
		for _, c := range r.pending {
			it := c.item
			if err := tx.Complete(it.ID, c.crmID, it.Fingerprint); err != nil {
				return fmt.Errorf("recording %s as synced: %w", it.ERPKey, err)
			}
			if c.setKeyNote {
				if err := tx.SetWarning(store.Warning{Stream: it.Stream, Entity: it.Entity, ERPKey: it.ERPKey,
					Kind: store.WarningKey, Text: c.keyNote}); err != nil {
					return err
				}
			}
			if !c.fixIdentity {
				continue
			}
			// The identity is deleted exactly when what was sent is a mark.
			var err error
			if it.Op == store.OpMark {
				err = tx.MarkDeleted(it.Entity, it.ERPKey)
			} else {
				err = tx.PutIdentity(store.Identity{Entity: it.Entity, ERPKey: it.ERPKey, CRMID: c.crmID,
					Fingerprint: it.Fingerprint, SyncedAt: c.at})
			}
			if err != nil {
				return fmt.Errorf("recording %s as synced: %w", it.ERPKey, err)
			}
		}
		return nil
	})
	r.pending = r.pending[:0]
	clear(r.pendingKeys)
	return err
}

// remap reads an item's record from the ERP and maps it again. done means
// the item was settled here (parked, or failed again) and nothing is to be
// sent.
func (r *run) remap(ctx context.Context, item store.OutboxItem) (store.OutboxItem, Payload, bool, error) {
	st, persist := r.e.store, context.WithoutCancel(ctx)
	settle := func(fn func(tx *store.Tx) error) (store.OutboxItem, Payload, bool, error) {
		return item, nil, true, st.Update(persist, fn)
	}
	rec, found, err := r.s.Source.Lookup(ctx, item.ERPKey)
	if err != nil {
		return item, nil, true, fmt.Errorf("reading %s again: %w", item.ERPKey, err)
	}
	id, has, err := st.Identity(ctx, item.Entity, item.ERPKey)
	if err != nil {
		return item, nil, true, fmt.Errorf("looking up identity of %s: %w", item.ERPKey, err)
	}
	// A create the CRM never confirmed may have made the record: a deleted
	// record's is marked (resolved by the keys it was sent with, see apply).
	unconfirmed := len(item.SentKeys) > 0
	mark := found && rec.Deleted && (item.Op == store.OpMark || r.s.Deletes == DeletesMark && unconfirmed)
	switch {
	case !found:
		return settle(func(tx *store.Tx) error { return tx.Park(item.ID, "no longer in the ERP", store.LevelSkip) })
	case rec.Deleted && !mark:
		return settle(func(tx *store.Tx) error { return tx.Park(item.ID, "not sent: deleted in the ERP", store.LevelSkip) })
	case mark && (!has || id.CRMID == "" || id.Deleted) && !unconfirmed:
		return settle(func(tx *store.Tx) error { return tx.Park(item.ID, "nothing to mark: not in the CRM", store.LevelSkip) })
	}
	var m Mapped
	if mark {
		m = r.s.Mapper.MapDeleted(ctx, rec, r)
	} else {
		m = r.s.Mapper.Map(ctx, rec, r)
		if m.Retry == nil {
			if err := r.noteWarnings(ctx, item.ERPKey, m); err != nil {
				return item, nil, true, err
			}
		}
	}
	switch {
	case len(m.Errors) > 0:
		r.stats.Failed++
		return settle(func(tx *store.Tx) error { return tx.Park(item.ID, errorsText(m.Errors), store.LevelSkip) })
	case m.Retry != nil:
		if errors.Is(m.Retry, ErrFatal) {
			return item, nil, true, m.Retry
		}
		if dep := (*DependencyError)(nil); errors.As(m.Retry, &dep) && errors.Is(dep, ErrDependencyRejected) {
			// Still waiting on the dependency's bad data (not a new failure).
			r.stats.Skipped++
			return settle(func(tx *store.Tx) error { return tx.Wait(item.ID, m.Retry.Error(), dep.Entity, dep.Key) })
		}
		r.stats.Failed++
		level := waitLevel(m.Retry)
		if level == store.LevelError && item.Attempts+1 >= r.e.opts.MaxAttempts {
			return settle(func(tx *store.Tx) error { return tx.Park(item.ID, m.Retry.Error(), level) })
		}
		next := r.e.opts.Now().Add(r.e.opts.Backoff(item.Attempts + 1))
		return settle(func(tx *store.Tx) error { return tx.Fail(item.ID, m.Retry.Error(), level, next, true) })
	case m.Skip:
		r.stats.Skipped++
		return settle(func(tx *store.Tx) error { return tx.Park(item.ID, m.SkipReason, store.LevelSkip) })
	}
	item.Fingerprint = m.Fingerprint
	switch {
	case mark:
		item.Op, item.CRMID = store.OpMark, ""
		if has && !id.Deleted {
			item.CRMID = id.CRMID
		}
	case has && id.CRMID != "" && !unrepeatable(r.s.Target):
		item.Op, item.CRMID = store.OpUpdate, id.CRMID
	default:
		item.Op, item.CRMID = store.OpCreate, ""
	}
	return item, m.Payload, false, nil
}

// applied is what the Target did with an item.
type applied struct {
	crmID            string
	created, skipped bool
	// dropped names the natural keys left out of the payload because
	// other ERP records own them (SharedKeys targets).
	dropped []string
}

// maxDrops bounds the natural keys one write may leave out.
const maxDrops = 10

// apply calls the Target for one item. Before any create it looks for an
// existing record by natural key, which also resolves a create whose
// outcome was unknown (timeout, crash) without doubling it.
func (r *run) apply(ctx context.Context, item store.OutboxItem, p Payload) (out applied, err error) {
	t := r.s.Target
	if item.Op == store.OpMark && item.CRMID == "" {
		return r.markUnconfirmed(ctx, item, p)
	}
	switch item.Op {
	case store.OpUpdate, store.OpMark:
		if item.Op == store.OpUpdate {
			if p, out.dropped, err = r.dropTaken(ctx, item, p); err != nil {
				return applied{}, err
			}
		}
		err = t.Update(ctx, item.CRMID, p)
		if !errors.Is(err, ErrGone) {
			out.crmID = item.CRMID
			return out, err
		}
		if item.Op == store.OpMark {
			return applied{skipped: true}, nil // nothing left to mark
		}
		r.log.Warn("CRM record is gone; creating it again", zap.String("erp_key", item.ERPKey), zap.String("crm_id", item.CRMID))
		fallthrough
	case store.OpCreate:
		// An earlier attempt may have created the record: ask the CRM itself.
		live := r.attempted(item) || item.Op != store.OpCreate
		for {
			id, found, ferr := r.find(ctx, item, p, live)
			if ferr != nil {
				return applied{}, fmt.Errorf("looking up existing record: %w", ferr)
			}
			if !found {
				break
			}
			adopted, owner, err := r.adopt(ctx, item, id, p)
			switch {
			case err == nil && adopted:
				out.crmID = id
				out.created = upserts(t) && item.Op == store.OpCreate
				return out, nil
			case err != nil:
				return applied{}, err
			case owner != "" && exclusive(t):
				var ok bool
				if p, ok = r.dropKey(p, owner, &out); ok {
					continue // look again without it
				}
				return applied{}, keyTaken(t, owner)
			}
			break // another ERP record owns it, or it is gone: create our own
		}
		if r.s.Mode == ModeUpdateOnly {
			return applied{skipped: true}, nil
		}
		if err := r.recordSent(ctx, &item, p); err != nil {
			return applied{}, err
		}
		id, err := t.Create(ctx, p) // (shadows the named result: every path returns explicitly)
		if err != nil && unrepeatable(t) && !errors.Is(err, ErrOutcomeUnknown) {
			// It definitely did not happen: it may be sent again.
			if cerr := r.e.store.Update(context.WithoutCancel(ctx), func(tx *store.Tx) error {
				return tx.SetSentKeys(item.ID, nil)
			}); cerr != nil {
				return applied{}, fmt.Errorf("recording that %s was not sent: %w", item.ERPKey, cerr)
			}
		}
		var ex *ExistsError
		if errors.As(err, &ex) {
			// The CRM refused the create because the natural key is taken.
			adopted, owner, aerr := r.adopt(ctx, item, ex.CRMID, p)
			switch {
			case aerr != nil:
				return applied{}, aerr
			case adopted:
				out.crmID = ex.CRMID
				return out, nil
			case owner != "":
				return applied{}, fmt.Errorf("%w: the CRM already has this %s, owned by ERP record %s: make the two differ (e.g. mapping unique_name)",
					ErrRejected, naturalKeyName(t), owner)
			}
			return applied{}, fmt.Errorf("%w: %w", ErrRejected, err)
		}
		out.crmID, out.created = id, err == nil
		return out, err
	}
	return applied{}, fmt.Errorf("unknown outbox operation %q", item.Op)
}

// markUnconfirmed marks a record deleted in the ERP whose create the CRM
// never confirmed (its answer lost, a kill): the record that create may have
// made is found by the keys it was sent with and marked, unless another ERP
// record owns it. With none found, nothing was made: nothing to mark.
func (r *run) markUnconfirmed(ctx context.Context, item store.OutboxItem, p Payload) (applied, error) {
	id, found, err := r.find(ctx, item, p, true)
	if err != nil {
		return applied{}, fmt.Errorf("looking up existing record: %w", err)
	}
	if !found {
		return applied{skipped: true}, nil
	}
	adopted, _, err := r.adopt(ctx, item, id, p)
	if err != nil {
		return applied{}, err
	}
	if !adopted {
		return applied{skipped: true}, nil
	}
	return applied{crmID: id}, nil
}

// keyTaken is the error of a record whose natural key owner has: the
// bridge's refusal (an ErrRejected that never reached the CRM).
func keyTaken(t Target, owner string) error {
	return keyTakenError{fmt.Sprintf("not sent: %v: the CRM record with this %s already belongs to ERP record %s",
		ErrKeyTaken, naturalKeyName(t), owner)}
}

type keyTakenError struct{ msg string }

func (e keyTakenError) Error() string        { return e.msg }
func (e keyTakenError) Is(target error) bool { return target == ErrKeyTaken || target == ErrRejected }

// dropKey leaves out of p the natural key owner has, when the target can
// send the record without it (SharedKeys), noting it in out.
func (r *run) dropKey(p Payload, owner string, out *applied) (Payload, bool) {
	sk, ok := r.s.Target.(SharedKeys)
	if !ok || len(out.dropped) >= maxDrops {
		return p, false
	}
	q, key, ok := sk.DropKey(p)
	if !ok {
		return p, false
	}
	out.dropped = append(out.dropped, fmt.Sprintf("%s (ERP record %s has it)", key, owner))
	return q, true
}

// dropTaken leaves out of an update's payload the natural keys that CRM
// records of other ERP records have (SharedKeys targets), so a record sent
// without a shared e-mail does not get it back with its next change. It
// asks the target's index (live false), as a create does.
func (r *run) dropTaken(ctx context.Context, item store.OutboxItem, p Payload) (Payload, []string, error) {
	t := r.s.Target
	if _, ok := t.(SharedKeys); !ok || !exclusive(t) {
		return p, nil, nil
	}
	var out applied
	for {
		id, found, err := t.Find(ctx, p, false)
		if err != nil {
			return nil, nil, fmt.Errorf("looking up existing record: %w", err)
		}
		if !found || id == item.CRMID {
			return p, out.dropped, nil
		}
		owner, err := r.owner(ctx, item, id)
		if err != nil {
			return nil, nil, err
		}
		if owner == "" {
			return p, out.dropped, nil
		}
		var ok bool
		if p, ok = r.dropKey(p, owner, &out); !ok {
			return nil, nil, keyTaken(t, owner)
		}
	}
}

// find looks for the record item writes: by p's natural keys, and, when an
// earlier create may have reached the CRM (live), by the keys of every
// create sent for it since the last confirmed write: the ERP record may
// have changed since (a rename, a new e-mail), and what the lost create
// made carries the keys it was sent with.
func (r *run) find(ctx context.Context, item store.OutboxItem, p Payload, live bool) (string, bool, error) {
	id, found, err := r.s.Target.Find(ctx, p, live)
	if err != nil || found || !live || len(item.SentKeys) == 0 {
		return id, found, err
	}
	current, err := json.Marshal(r.s.Target.KeysOf(p))
	if err != nil {
		return "", false, fmt.Errorf("encoding natural keys of %s: %w", item.ERPKey, err)
	}
	for i := len(item.SentKeys) - 1; i >= 0; i-- { // the newest first
		if string(item.SentKeys[i]) == string(current) {
			continue
		}
		var keys Payload
		if err := json.Unmarshal(item.SentKeys[i], &keys); err != nil {
			return "", false, fmt.Errorf("decoding keys sent for %s: %w", item.ERPKey, err)
		}
		if id, found, err := r.s.Target.Find(ctx, keys, true); err != nil || found {
			return id, found, err
		}
	}
	return "", false, nil
}

// adopt makes the CRM record crmID this item's, unless another ERP record
// owns it (owner is then that record's key): two ERP records must never
// merge into one CRM record. adopted is false with no error when the record
// is taken, or gone from the CRM since it was indexed.
func (r *run) adopt(ctx context.Context, item store.OutboxItem, crmID string, p Payload) (adopted bool, owner string, err error) {
	if owner, err = r.owner(ctx, item, crmID); owner != "" || err != nil {
		return false, owner, err
	}
	err = r.s.Target.Update(ctx, crmID, p)
	if errors.Is(err, ErrGone) {
		return false, "", nil
	}
	return err == nil, "", err
}

// owner is the key of the ERP record other than item's that owns the CRM
// record crmID, "" when none does.
func (r *run) owner(ctx context.Context, item store.OutboxItem, crmID string) (string, error) {
	entity := r.s.Target.Entity()
	// Writes confirmed this page but not recorded yet own their records too.
	for _, c := range r.pending {
		if c.crmID == crmID && c.item.Entity == entity && c.item.ERPKey != item.ERPKey {
			return c.item.ERPKey, nil
		}
	}
	other, taken, err := r.e.store.IdentityByCRMID(ctx, entity, crmID)
	if err != nil {
		return "", fmt.Errorf("checking who owns %s: %w", crmID, err)
	}
	if taken && other.ERPKey != item.ERPKey {
		return other.ERPKey, nil
	}
	return "", nil
}

// exclusive reports whether a natural key another ERP record owns is a
// conflict for t (contacts: one e-mail is one person) rather than a reason
// to create a record of our own.
func exclusive(t Target) bool {
	x, ok := t.(ExclusiveKey)
	return ok && x.ExclusiveKey()
}

func naturalKeyName(t Target) string {
	if n, ok := t.(NaturalKeyNamer); ok {
		return n.NaturalKey()
	}
	return "natural key"
}

// attempted reports whether an item may already have reached the CRM: it
// was sent before (its attempts, or its last error, which `errors retry`
// keeps while resetting the attempts), or it is inflight.
func attempted(it store.OutboxItem) bool {
	return it.Attempts > 0 || it.LastError != "" || it.State == store.StateInflight
}

// attempted is the package's attempted for the run's target: for an
// Unrepeatable target, only a create recorded as leaving (its sent keys)
// may have reached it (see Unrepeatable).
func (r *run) attempted(it store.OutboxItem) bool {
	if unrepeatable(r.s.Target) {
		return len(it.SentKeys) > 0
	}
	return attempted(it)
}

// unrepeatable reports whether t's creates must never be sent twice.
func unrepeatable(t Target) bool {
	u, ok := t.(Unrepeatable)
	return ok && u.Unrepeatable()
}

// graceContext returns a context that is not cancelled by ctx directly but
// only grace after ctx is done, so an in-flight call can finish.
func graceContext(ctx context.Context, grace time.Duration) (context.Context, context.CancelFunc) {
	inner, cancel := context.WithCancel(context.WithoutCancel(ctx))
	stop := context.AfterFunc(ctx, func() {
		t := time.AfterFunc(grace, cancel)
		context.AfterFunc(inner, func() { t.Stop() })
	})
	return inner, func() { stop(); cancel() }
}
