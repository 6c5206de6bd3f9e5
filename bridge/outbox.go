package bridge

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/erpbridge/erpbridge/bridge/store"
	"go.uber.org/zap"
)

// write stores an outbox item for p and sends it.
func (r *run) write(ctx context.Context, item store.OutboxItem, p Payload) error {
	body, err := json.Marshal(p)
	if err != nil {
		return fmt.Errorf("encoding payload of %s: %w", item.ERPKey, err)
	}
	item.Payload = body
	// An open item for the record means an earlier attempt may have reached
	// the CRM: its create must then be resolved against the CRM itself.
	prior, err := r.e.store.OpenItems(ctx, store.OutboxFilter{Entity: item.Entity, ERPKey: item.ERPKey, Limit: 1})
	if err != nil {
		return fmt.Errorf("reading the outbox of %s: %w", item.ERPKey, err)
	}
	for _, p := range prior {
		if attempted(p) {
			item.State = store.StateInflight // resolve live, see apply
		}
	}
	// Queue and mark inflight in one transaction: one commit fewer per write.
	err = r.e.store.Update(context.WithoutCancel(ctx), func(tx *store.Tx) error {
		if item.ID, err = tx.Enqueue(item); err != nil {
			return err
		}
		return tx.MarkInflight(item.ID)
	})
	if err != nil {
		return fmt.Errorf("queueing %s: %w", item.ERPKey, err)
	}
	return r.deliver(ctx, item)
}

// drainOutbox sends the stream's due items: earlier failures whose time has
// come and inflight items a crash left behind.
func (r *run) drainOutbox(ctx context.Context) error {
	const batch = 200
	seen := map[int64]bool{}
	for round := 0; round < 1000; round++ {
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
	return r.deliver(ctx, item)
}

// deliver performs an item already marked inflight.
func (r *run) deliver(ctx context.Context, item store.OutboxItem) error {
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
		if item, p, done, err = r.remap(ctx, item); done || err != nil {
			return err
		}
	}
	callCtx, cancel := graceContext(ctx, r.e.opts.Grace)
	defer cancel()

	log := r.log.With(zap.String("erp_key", item.ERPKey))
	crmID, created, skipped, err := r.apply(callCtx, item, p)
	if crmID != "" {
		log = log.With(zap.String("crm_id", crmID))
	}
	now := r.e.opts.Now()
	switch {
	case err == nil:
		// Complete also flags the identity deleted for a mark.
		err := st.Update(persist, func(tx *store.Tx) error { return tx.Complete(item.ID, crmID, item.Fingerprint) })
		if err != nil {
			return fmt.Errorf("recording %s as synced: %w", item.ERPKey, err)
		}
		switch {
		case skipped:
			r.stats.Skipped++
		case created:
			r.stats.Created++
		case item.Op == store.OpMark:
			r.stats.Deleted++
		default:
			r.stats.Updated++
		}
		return nil
	case errors.Is(err, ErrRateLimited):
		r.stats.Failed++
		log.Warn("rate limited; will retry", zap.Error(err))
		return st.Update(persist, func(tx *store.Tx) error {
			return tx.Fail(item.ID, err.Error(), store.LevelError, now.Add(r.e.opts.RateLimitDelay), false)
		})
	case errors.Is(err, ErrFatal):
		log.Error("the CRM refuses the integration; stopping the run", zap.Error(err))
		if ferr := st.Update(persist, func(tx *store.Tx) error {
			return tx.Fail(item.ID, err.Error(), store.LevelError, now, false)
		}); ferr != nil {
			return ferr
		}
		return err
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
	if !found || rec.Deleted {
		return settle(func(tx *store.Tx) error { return tx.Park(item.ID, "no longer in the ERP", store.LevelSkip) })
	}
	m := r.s.Mapper.Map(ctx, rec, r)
	switch {
	case len(m.Errors) > 0:
		msgs := make([]string, len(m.Errors))
		for i, e := range m.Errors {
			msgs[i] = e.Error()
		}
		r.stats.Failed++
		return settle(func(tx *store.Tx) error { return tx.Park(item.ID, strings.Join(msgs, "; "), store.LevelSkip) })
	case m.Retry != nil:
		r.stats.Failed++
		level := waitLevel(m.Retry)
		if level == store.LevelError && item.Attempts+1 >= r.e.opts.MaxAttempts {
			return settle(func(tx *store.Tx) error { return tx.Park(item.ID, m.Retry.Error(), level) })
		}
		// Waiting on a dependency's bad data never parks: it follows once fixed.
		next := r.e.opts.Now().Add(r.e.opts.Backoff(item.Attempts + 1))
		return settle(func(tx *store.Tx) error { return tx.Fail(item.ID, m.Retry.Error(), level, next, true) })
	case m.Skip:
		r.stats.Skipped++
		return settle(func(tx *store.Tx) error { return tx.Park(item.ID, m.SkipReason, store.LevelSkip) })
	}
	id, has, err := st.Identity(ctx, item.Entity, item.ERPKey)
	if err != nil {
		return item, nil, true, fmt.Errorf("looking up identity of %s: %w", item.ERPKey, err)
	}
	item.Op, item.CRMID, item.Fingerprint = store.OpCreate, "", m.Fingerprint
	if has && id.CRMID != "" {
		item.Op, item.CRMID = store.OpUpdate, id.CRMID
	}
	return item, m.Payload, false, nil
}

// apply calls the Target for one item. Before any create it looks for an
// existing record by natural key, which also resolves a create whose
// outcome was unknown (timeout, crash) without doubling it.
func (r *run) apply(ctx context.Context, item store.OutboxItem, p Payload) (crmID string, created, skipped bool, err error) {
	t := r.s.Target
	switch item.Op {
	case store.OpUpdate, store.OpMark:
		err = t.Update(ctx, item.CRMID, p)
		if !errors.Is(err, ErrGone) {
			return item.CRMID, false, false, err
		}
		if item.Op == store.OpMark {
			return "", false, true, nil // nothing left to mark
		}
		r.log.Warn("CRM record is gone; creating it again", zap.String("erp_key", item.ERPKey), zap.String("crm_id", item.CRMID))
		fallthrough
	case store.OpCreate:
		// An earlier attempt may have created the record: ask the CRM itself.
		live := attempted(item) || item.Op != store.OpCreate
		id, found, ferr := t.Find(ctx, p, live)
		if ferr != nil {
			return "", false, false, fmt.Errorf("looking up existing record: %w", ferr)
		}
		if found {
			// Never adopt a CRM record that belongs to another ERP record:
			// two ERP records (e.g. two lojas with one CNPJ) must not merge.
			other, taken, err := r.e.store.IdentityByCRMID(ctx, t.Entity(), id)
			if err != nil {
				return "", false, false, fmt.Errorf("checking who owns %s: %w", id, err)
			}
			found = !taken || other.ERPKey == item.ERPKey
		}
		if found {
			return id, false, false, t.Update(ctx, id, p)
		}
		if r.s.Mode == ModeUpdateOnly {
			return "", false, true, nil
		}
		id, err = t.Create(ctx, p)
		return id, err == nil, false, err
	}
	return "", false, false, fmt.Errorf("unknown outbox operation %q", item.Op)
}

// attempted reports whether an item may already have reached the CRM: it
// was sent before (its attempts, or its last error, which `errors retry`
// keeps while resetting the attempts), or it is inflight.
func attempted(it store.OutboxItem) bool {
	return it.Attempts > 0 || it.LastError != "" || it.State == store.StateInflight
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
