package bridge

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/erpbridge/erpbridge/bridge/priority"
	"github.com/erpbridge/erpbridge/bridge/store"
	"github.com/erpbridge/erpbridge/erp"
	"go.uber.org/zap"
)

// run is one sync of one stream.
type run struct {
	e       *Engine
	s       *Stream
	dry     bool
	id      int64
	log     *zap.Logger
	stats   store.RunStats
	samples []Sample
	perAct  map[string]int
	depth   int  // on-demand sync nesting
	skipped bool // a record was left out on purpose (Mapped.Skip)
	// outcome is what record decided for the last record: what an
	// on-demand dependency's caller (Resolve) needs to know.
	outcome outcome

	pending     []completion    // confirmed writes not yet recorded (see complete)
	pendingKeys map[string]bool // their ERP keys
	planned     []plannedWrite  // writes decided for the current page (see write)
	plannedKeys map[string]bool // their ERP keys
	inPage      bool            // records are being handled as a page
	// resolved holds, while a page is handled, the CRM ids Resolve found
	// for records of other entities, keyed by entity and ERP key.
	resolved map[string]string
	// warned holds, while a page is handled, the warnings its records
	// have in the store (see noteWarnings).
	warned map[string]map[store.WarningKind]string
	// warnedN counts the records written without some of what they map
	// to (Report.Warned).
	warnedN int64
	// dryWritten holds, in a dry run, the fingerprint of every record the
	// run counted as a create or an update: read again in the same run (in
	// the poll's overlap and as a changed customer's order, say) it is
	// unchanged, as the real run finds it once written.
	dryWritten map[string]string
	// drySt, in a dry run, is what the run's streams would have created.
	drySt *dryState
	// prog is the run's progress as the observer last saw it (Stream,
	// RunID, Kind, Total, StartedAt set when the pass starts); unsent
	// counts the writes of the page being sent that have not left yet.
	prog   Progress
	unsent int64
	// stamps are the ERP change times of the page's records, by key: a
	// write confirmed for one tells the observer how fresh it is.
	stamps map[string]time.Time
}

func newRun(e *Engine, s *Stream, dry bool) *run {
	return &run{e: e, s: s, dry: dry, log: e.opts.Logger.With(zap.String("stream", s.Name)), perAct: map[string]int{}}
}

// fullCursor is the store key holding an interrupted full pass's progress.
func fullCursor(stream string) string { return stream + "#full" }

// fullProgress is what fullCursor stores: where the pass is, and the
// incremental checkpoint taken when it started.
type fullProgress struct {
	After      erp.Position `json:"after"`
	Checkpoint erp.Position `json:"checkpoint"`
}

func (r *run) execute(ctx context.Context, full bool) Report {
	ctx = WithStream(ctx, r.s.Name) // the target's request metrics carry it
	st := r.e.store
	start := r.e.opts.Now()
	calls := r.e.opts.APICalls
	if r.s.APICalls != nil {
		calls = r.s.APICalls
	}
	calls0 := calls()
	rep := Report{Stream: r.s.Name, Kind: store.RunIncremental}

	cur, hasCursor, err := st.Cursor(ctx, r.s.Name)
	if err != nil {
		rep.Err = fmt.Errorf("reading cursor: %w", err)
		return rep
	}
	if !full && hasCursor && r.s.MappingHash != "" {
		last, _, err := st.Meta(ctx, mappingKey(r.s.Name))
		if err != nil {
			rep.Err = fmt.Errorf("reading mapping hash: %w", err)
			return rep
		}
		if last != r.s.MappingHash {
			// Records the poll would not read carry payloads of the old
			// mapping: map them all again (unchanged ones cost nothing).
			r.log.Info("the mapping changed since the last full pass: reading every record again; only changed payloads are sent")
			full = true
		}
	}
	if full || !hasCursor || cur.Position == "" || !r.s.Source.Incremental() {
		full = true
		rep.Kind = store.RunFull
	}
	// A poll of what changed goes before a backfill in the target's
	// shared request budget (bridge/priority).
	if full {
		ctx = priority.With(ctx, priority.Backfill)
	} else {
		ctx = priority.With(ctx, priority.Incremental)
	}
	if r.dry {
		rep.Kind = store.RunDry
	} else {
		if r.id, err = st.StartRun(ctx, r.s.Name, rep.Kind); err != nil {
			rep.Err = fmt.Errorf("starting run: %w", err)
			return rep
		}
		r.log = r.log.With(zap.Int64("run_id", r.id))
	}
	rep.RunID = r.id
	r.prog = Progress{Stream: r.s.Name, RunID: r.id, Kind: rep.Kind, StartedAt: start,
		Total: r.countPass(ctx, full, r.passFrom(ctx, full, erp.Position(cur.Position)))}
	r.tick()

	if !r.dry {
		err = r.drainOutbox(ctx)
		if ferr := r.flush(ctx); err == nil {
			err = ferr
		}
	}
	if err == nil {
		if full {
			err = r.fullPass(ctx)
		} else {
			err = r.incremental(ctx, erp.Position(cur.Position))
		}
	}
	if ferr := r.flush(ctx); err == nil && ferr != nil {
		err = fmt.Errorf("recording synced records: %w", ferr)
	}
	r.stats.APICalls = calls() - calls0
	rep.Stats, rep.Samples, rep.Warned = r.stats, r.samples, r.warnedN
	rep.Duration = r.e.opts.Now().Sub(start)
	// A stop request is not a failure: what was done is recorded, and the
	// next run goes on from the cursor.
	if err != nil && ctx.Err() != nil && errors.Is(err, ctx.Err()) {
		rep.Interrupted, err = true, nil
	}
	rep.Err = err
	if err != nil {
		rep.Stats.Err = err.Error()
	}
	if !r.dry {
		// Persist the run even when the stop request cancelled ctx.
		end := st.FinishRun
		if rep.Interrupted {
			end = st.InterruptRun
		}
		if ferr := end(context.WithoutCancel(ctx), r.id, rep.Stats); ferr != nil && rep.Err == nil {
			rep.Err = fmt.Errorf("finishing run: %w", ferr)
		}
	}
	r.tick()
	lvl, msg := zap.InfoLevel, "run finished"
	switch {
	case rep.Err != nil:
		lvl = zap.ErrorLevel
	case rep.Interrupted:
		msg = "run interrupted by a stop request; the next run goes on from where it stopped"
	}
	r.log.Log(lvl, msg, zap.String("kind", string(rep.Kind)), zap.Int64("read", rep.Stats.Read),
		zap.Int64("created", rep.Stats.Created), zap.Int64("updated", rep.Stats.Updated),
		zap.Int64("unchanged", rep.Stats.Unchanged), zap.Int64("skipped", rep.Stats.Skipped),
		zap.Int64("failed", rep.Stats.Failed), zap.Int64("api_calls", rep.Stats.APICalls),
		zap.Duration("duration", rep.Duration), zap.Error(rep.Err))
	return rep
}

// passFrom is where the pass reads from: the incremental cursor, or an
// interrupted full pass's progress (what fullPass resumes from).
func (r *run) passFrom(ctx context.Context, full bool, pos erp.Position) erp.Position {
	if !full {
		return pos
	}
	if r.dry {
		return ""
	}
	c, ok, err := r.e.store.Cursor(ctx, fullCursor(r.s.Name))
	if err != nil || !ok || c.Position == "" {
		return ""
	}
	var prog fullProgress
	if json.Unmarshal([]byte(c.Position), &prog) != nil {
		return ""
	}
	return prog.After
}

// incremental reads the changes since pos, committing the cursor per page.
func (r *run) incremental(ctx context.Context, pos erp.Position) error {
	changes := func(ctx context.Context) iter.Seq2[erp.Page, error] {
		return r.s.Source.Changes(ctx, pos, r.e.opts.PageSize)
	}
	return r.pages(ctx, changes, "changes", "cursor", r.s.Name, func(p erp.Page) string { return string(p.Next) })
}

// pages handles every page pages reads and, once a page's writes are
// recorded, moves the store cursor named cursor to where position says
// (not in a dry run). reading and saving name the two in errors.
func (r *run) pages(ctx context.Context, pages func(context.Context) iter.Seq2[erp.Page, error],
	reading, saving, cursor string, position func(erp.Page) string) error {
	for page, err := range prefetch(ctx, pages) {
		if err != nil {
			return fmt.Errorf("reading %s: %w", reading, err)
		}
		if err := r.page(ctx, page.Records); err != nil {
			return err
		}
		if r.dry {
			continue
		}
		pos := position(page)
		if err := r.e.store.Update(context.WithoutCancel(ctx), func(tx *store.Tx) error {
			return tx.SetCursor(cursor, pos)
		}); err != nil {
			return fmt.Errorf("saving %s: %w", saving, err)
		}
	}
	return ctx.Err()
}

// fullPass reads every row. It resumes an interrupted pass, and afterwards
// moves the incremental cursor to the checkpoint taken when the pass began,
// so no change made during the pass is missed.
func (r *run) fullPass(ctx context.Context) error {
	st := r.e.store
	var prog fullProgress
	if c, ok, err := st.Cursor(ctx, fullCursor(r.s.Name)); err != nil {
		return fmt.Errorf("reading full-pass progress: %w", err)
	} else if ok && c.Position != "" && !r.dry {
		if err := json.Unmarshal([]byte(c.Position), &prog); err != nil {
			return fmt.Errorf("decoding full-pass progress %q: %w", c.Position, err)
		}
		r.log.Info("resuming interrupted full pass")
	} else if r.s.Source.Incremental() {
		cp, err := r.s.Source.Checkpoint(ctx)
		if err != nil {
			return fmt.Errorf("taking checkpoint: %w", err)
		}
		prog.Checkpoint = cp
	}
	resume := prog.After
	pages := func(ctx context.Context) iter.Seq2[erp.Page, error] {
		return r.s.Source.FullPass(ctx, resume, r.e.opts.PageSize)
	}
	if err := r.pages(ctx, pages, "full pass", "full-pass progress", fullCursor(r.s.Name), func(p erp.Page) string {
		prog.After = p.Next
		b, _ := json.Marshal(prog)
		return string(b)
	}); err != nil {
		return err
	}
	if r.dry {
		return nil
	}
	return st.Update(ctx, func(tx *store.Tx) error {
		if r.s.Source.Incremental() {
			if err := tx.SetCursor(r.s.Name, string(prog.Checkpoint)); err != nil {
				return err
			}
		}
		if err := tx.SetCursor(fullCursor(r.s.Name), ""); err != nil {
			return err
		}
		if r.s.MappingHash != "" {
			if err := tx.SetMeta(mappingKey(r.s.Name), r.s.MappingHash); err != nil {
				return err
			}
		}
		return tx.SetFullPassAt(r.s.Name, r.e.opts.Now())
	})
}

// page handles one page of records. It stops between records when ctx is
// done; the caller then does not move the cursor, so the page is replayed.
// Every write of the page is recorded before it returns.
func (r *run) page(ctx context.Context, recs []erp.Record) (err error) {
	r.inPage = true
	r.resolved = map[string]string{}
	r.stamps = make(map[string]time.Time, len(recs))
	for _, rec := range recs {
		if rec.Stamp != nil {
			r.stamps[rec.Key] = *rec.Stamp
		}
	}
	defer func() {
		r.inPage, r.resolved, r.warned = false, nil, nil
		if err == nil {
			err = r.sendPlanned(ctx)
		}
		r.planned = nil
		clear(r.plannedKeys)
		if ferr := r.flush(ctx); err == nil && ferr != nil {
			err = fmt.Errorf("recording synced records: %w", ferr)
		}
	}()
	keys := make([]string, len(recs))
	for i, rec := range recs {
		keys[i] = rec.Key
	}
	ids, err := r.e.store.Identities(ctx, r.s.Target.Entity(), keys)
	if err != nil {
		return fmt.Errorf("looking up identities: %w", err)
	}
	opens, err := r.e.store.OpenItemsByKey(ctx, r.s.Target.Entity(), keys)
	if err != nil {
		return fmt.Errorf("looking up waiting writes: %w", err)
	}
	if r.warned, err = r.e.store.WarningTexts(ctx, r.s.Target.Entity(), keys); err != nil {
		return fmt.Errorf("looking up warnings: %w", err)
	}
	if pp, ok := r.s.Mapper.(PagePreparer); ok {
		pp.PreparePage(ctx, recs)
		// Forgotten when the page is done: a record mapped later (a retry,
		// an on-demand dependency) reads what it needs as it is then.
		defer pp.PreparePage(ctx, nil)
	}
	for _, rec := range recs {
		if err := ctx.Err(); err != nil {
			return err
		}
		r.stats.Read++
		id, has := ids[rec.Key]
		var open *store.OutboxItem
		if it, ok := opens[rec.Key]; ok {
			open = &it
		}
		if r.plannedKeys[rec.Key] || r.pendingKeys[rec.Key] {
			// An earlier row of this page has the same key and a write (a
			// table whose unique key is not enforced, a route listing a
			// record twice): send and record it, and decide this row from
			// what it left — the page's snapshot is stale.
			var err error
			if id, has, open, err = r.settleRow(ctx, rec.Key); err != nil {
				return err
			}
		}
		if err := r.record(ctx, rec, id, has, open); err != nil {
			return err
		}
		r.tick()
	}
	return nil
}

// settleRow sends and records this run's write for key, then reads the
// record's identity and open outbox item as they are now.
func (r *run) settleRow(ctx context.Context, key string) (store.Identity, bool, *store.OutboxItem, error) {
	if err := r.settleKey(ctx, key); err != nil {
		return store.Identity{}, false, nil, err
	}
	entity := r.s.Target.Entity()
	id, has, err := r.e.store.Identity(ctx, entity, key)
	if err != nil {
		return id, has, nil, fmt.Errorf("looking up identity of %s: %w", key, err)
	}
	opens, err := r.e.store.OpenItemsByKey(ctx, entity, []string{key})
	if err != nil {
		return id, has, nil, fmt.Errorf("looking up the waiting write of %s: %w", key, err)
	}
	if it, ok := opens[key]; ok {
		return id, has, &it, nil
	}
	return id, has, nil, nil
}

// record decides what one ERP record needs and does it. open is the
// record's write still waiting in the outbox, if any: a record with one is
// never taken for unchanged, and the waiting write is replaced by the
// record as it is now, or settled, never sent stale. Only store failures
// (and a CRM that refuses the integration) are returned: everything about
// the record itself ends in the outbox.
func (r *run) record(ctx context.Context, rec erp.Record, id store.Identity, has bool, open *store.OutboxItem) error {
	if rec.Deleted {
		return r.deleted(ctx, rec, id, has, open)
	}
	if err := rec.KeyError(); err != nil {
		// Never an identity: the key identifies nothing.
		return r.rejectData(ctx, rec.Key, "", []error{err}, open)
	}
	m := r.s.Mapper.Map(ctx, rec, r)
	r.outcome = outcomeWrite
	if m.Retry == nil {
		if err := r.noteWarnings(ctx, rec.Key, m); err != nil {
			return err
		}
	}
	switch {
	case m.Skip:
		r.stats.Skipped++
		r.skipped, r.outcome = true, outcomeSkip
		r.sample("skip", rec.Key, id.CRMID, nil, m.SkipReason)
		return r.settleOpen(ctx, open, "not sent: "+m.SkipReason)
	case len(m.Errors) > 0:
		return r.rejectData(ctx, rec.Key, id.CRMID, m.Errors, open)
	case m.Retry != nil:
		return r.deferRecord(ctx, rec.Key, id.CRMID, m.Retry, store.OpUpdate, open)
	case open == nil && has && id.Fingerprint != "" && id.Fingerprint == m.Fingerprint && !id.Deleted,
		r.dry && m.Fingerprint != "" && r.dryWritten[rec.Key] == m.Fingerprint:
		r.stats.Unchanged++
		r.outcome = outcomeUnchanged
		return nil
	case open != nil && open.State == store.StateParked && len(open.Payload) > 0 && open.Fingerprint == m.Fingerprint &&
		!open.HasFollowUp:
		// This very payload was refused (or given up on): it waits for the
		// ERP record to change, or for `erpbridge errors retry`, never
		// resent as it is by reading the row again.
		r.stats.Skipped++
		r.sample("skip", rec.Key, id.CRMID, nil, "unchanged since it was refused: "+open.LastError)
		return nil
	case open != nil && open.State == store.StateFailed && open.Fingerprint == m.Fingerprint &&
		open.NextAttemptAt.After(r.e.opts.Now()):
		// The same write already waits for its retry: leave its backoff be.
		// Nothing failed in this run.
		r.stats.Skipped++
		r.sample("skip", rec.Key, id.CRMID, nil, "waits for its retry: "+open.LastError)
		return nil
	}
	op := store.OpCreate
	if has && id.CRMID != "" && !unrepeatable(r.s.Target) { // an event is never updated: each is a create
		if r.s.Mode == ModeCreateOnly {
			r.stats.Unchanged++
			return nil
		}
		op = store.OpUpdate
	}
	if len(m.Warnings) > 0 {
		r.warnedN++
	}
	if r.dry {
		if r.dryWritten == nil {
			r.dryWritten = map[string]string{}
		}
		r.dryWritten[rec.Key] = m.Fingerprint
		return r.dryWrite(ctx, op, rec.Key, id.CRMID, m.Payload, errorsText(m.Warnings))
	}
	return r.write(ctx, store.OutboxItem{
		Stream: r.s.Name, Entity: r.s.Target.Entity(), ERPKey: rec.Key, Op: op,
		Fingerprint: m.Fingerprint, CRMID: id.CRMID, RunID: r.id,
	}, m.Payload, open)
}

// noteWarnings records the warnings of a record's mapping, replacing the
// last ones: what it left out of its payload (Mapped.Warnings), or, for a
// record it skips, why it is not sent. They are listed, level skip, until
// the record maps without them. Only a change is written.
func (r *run) noteWarnings(ctx context.Context, key string, m Mapped) error {
	if r.dry {
		return nil
	}
	text := errorsText(m.Warnings)
	switch {
	case text == "":
	case m.Skip:
		text = "not synced: " + text
	default:
		text = "synced without the invalid field(s): " + text
	}
	entity := r.s.Target.Entity()
	had := r.warned[key]
	if r.warned == nil { // a record outside a page (a dependency, a retry)
		texts, err := r.e.store.WarningTexts(ctx, entity, []string{key})
		if err != nil {
			return fmt.Errorf("looking up warnings of %s: %w", key, err)
		}
		had = texts[key]
	}
	if had[store.WarningFields] == text {
		return nil
	}
	if r.warned != nil {
		if r.warned[key] == nil {
			r.warned[key] = map[store.WarningKind]string{}
		}
		r.warned[key][store.WarningFields] = text
	}
	if text != "" {
		r.log.Warn("record listed with a warning", zap.String("erp_key", key), zap.String("reason", text))
	}
	return r.e.store.Update(context.WithoutCancel(ctx), func(tx *store.Tx) error {
		return tx.SetWarning(store.Warning{Stream: r.s.Name, Entity: entity, ERPKey: key, Kind: store.WarningFields, Text: text})
	})
}

// forgetWarnings clears every warning of a record deleted in the ERP (it
// is not sent any more), when the page says it has any.
func (r *run) forgetWarnings(ctx context.Context, key string) error {
	if r.dry || len(r.warned[key]) == 0 {
		return nil
	}
	delete(r.warned, key)
	return r.e.store.Update(context.WithoutCancel(ctx), func(tx *store.Tx) error {
		for _, kind := range []store.WarningKind{store.WarningFields, store.WarningKey} {
			if err := tx.SetWarning(store.Warning{Entity: r.s.Target.Entity(), ERPKey: key, Kind: kind}); err != nil {
				return err
			}
		}
		return nil
	})
}

// deleted handles a soft-deleted ERP record.
func (r *run) deleted(ctx context.Context, rec erp.Record, id store.Identity, has bool, open *store.OutboxItem) error {
	inCRM := has && id.CRMID != "" && !id.Deleted
	// A create of the record that the CRM never confirmed (its answer lost,
	// a kill) may have made the CRM record all the same: marking resolves it
	// by the keys it was sent with (see apply), never leaves it unmarked.
	unconfirmed := open != nil && len(open.SentKeys) > 0
	crmID := id.CRMID
	if !inCRM {
		crmID = ""
	}
	if open == nil && (r.s.Deletes == DeletesIgnore || !inCRM) && len(r.warned[rec.Key]) == 0 {
		r.stats.Skipped++
		return nil
	}
	// Protheus re-creates a deleted key as a new row: the live row wins
	// (and the waiting write, if any, is its own).
	if live, ok, err := r.s.Source.Lookup(ctx, rec.Key); err != nil {
		return fmt.Errorf("looking up %s: %w", rec.Key, err)
	} else if ok && !live.Deleted {
		r.stats.Skipped++
		return nil
	}
	if err := r.forgetWarnings(ctx, rec.Key); err != nil {
		return err
	}
	if r.s.Deletes == DeletesIgnore || !inCRM && !unconfirmed {
		// A write still waiting for a record deleted since: never send it.
		r.stats.Skipped++
		return r.settleOpen(ctx, open, "not sent: deleted in the ERP")
	}
	m := r.s.Mapper.MapDeleted(ctx, rec, r)
	switch {
	case m.Skip:
		r.stats.Skipped++
		return r.settleOpen(ctx, open, "not sent: deleted in the ERP ("+m.SkipReason+")")
	case len(m.Errors) > 0:
		return r.rejectData(ctx, rec.Key, crmID, m.Errors, open)
	case m.Retry != nil:
		return r.deferRecord(ctx, rec.Key, crmID, m.Retry, store.OpMark, open)
	}
	if r.dry {
		r.countDry("mark")
		r.sample("mark", rec.Key, crmID, m.Payload, "deleted in the ERP")
		return nil
	}
	return r.write(ctx, store.OutboxItem{
		Stream: r.s.Name, Entity: r.s.Target.Entity(), ERPKey: rec.Key, Op: store.OpMark,
		Fingerprint: m.Fingerprint, CRMID: crmID, RunID: r.id,
	}, m.Payload, open)
}

// rejectData parks a record whose ERP data cannot be mapped (level skip)
// until its ERP row changes: read again unchanged (a full pass, the poll's
// overlap) it is still listed once, and nothing fails in that run.
func (r *run) rejectData(ctx context.Context, key, crmID string, errs []error, open *store.OutboxItem) error {
	var dep *DependencyError
	for _, e := range errs {
		if errors.As(e, &dep) && errors.Is(dep, ErrDependencyRejected) {
			break
		}
		dep = nil
	}
	return r.park(ctx, key, crmID, errorsText(errs), store.OpUpdate, dep, open)
}

// park records that a record cannot be sent as it is (bad ERP data: its
// own, or dep's) and waits, without a payload, for its row (or dep) to
// change. A record found again exactly as it waits is left alone: it is
// listed once, and nothing failed in this run.
func (r *run) park(ctx context.Context, key, crmID, text string, op store.Op, dep *DependencyError, open *store.OutboxItem) error {
	r.outcome = outcomeRefused
	if waitingAs(open, text, dep) {
		r.stats.Skipped++
		r.sample("skip", key, crmID, nil, "unchanged since it was refused: "+text)
		return nil
	}
	r.stats.Failed++
	r.sample("fail", key, crmID, nil, text)
	if r.dry {
		r.countDry("fail")
		return nil
	}
	r.log.Warn("record rejected", zap.String("erp_key", key), zap.String("crm_id", crmID), zap.String("reason", text))
	if err := r.settleKey(ctx, key); err != nil {
		return err
	}
	return r.e.store.Update(context.WithoutCancel(ctx), func(tx *store.Tx) error {
		id, err := tx.Enqueue(store.OutboxItem{
			Stream: r.s.Name, Entity: r.s.Target.Entity(), ERPKey: key, Op: op,
			CRMID: crmID, RunID: r.id,
		})
		if err != nil {
			return err
		}
		if dep != nil {
			return tx.Wait(id, text, dep.Entity, dep.Key)
		}
		return tx.Park(id, text, store.LevelSkip)
	})
}

// waitingAs reports whether open already waits, parked without a payload,
// for exactly this reason (and on this dependency).
func waitingAs(open *store.OutboxItem, text string, dep *DependencyError) bool {
	if open == nil || open.State != store.StateParked || open.Level != store.LevelSkip ||
		len(open.Payload) > 0 || open.LastError != text || open.HasFollowUp {
		return false
	}
	if dep == nil {
		return open.WaitsOnKey == ""
	}
	return open.WaitsOnEntity == dep.Entity && open.WaitsOnKey == dep.Key
}

// errorsText is what a record's mapping errors read as in the outbox.
func errorsText(errs []error) string {
	msgs := make([]string, len(errs))
	for i, e := range errs {
		msgs[i] = e.Error()
	}
	return strings.Join(msgs, "; ")
}

// settleOpen parks a waiting write that must not go out any more (the
// record is now skipped, or deleted), with the reason.
func (r *run) settleOpen(ctx context.Context, open *store.OutboxItem, reason string) error {
	if open == nil || r.dry || open.State == store.StateParked {
		return nil
	}
	if err := r.settleKey(ctx, open.ERPKey); err != nil {
		return err
	}
	return r.e.store.Update(context.WithoutCancel(ctx), func(tx *store.Tx) error {
		// Parked without its payload: a retry (errors retry) reads the
		// record again and maps it as it is then, never sends what it no
		// longer is (a create of a customer deleted since).
		id, err := tx.Enqueue(store.OutboxItem{Stream: open.Stream, Entity: open.Entity, ERPKey: open.ERPKey,
			Op: open.Op, CRMID: open.CRMID, RunID: r.id})
		if err != nil {
			return err
		}
		return tx.Park(id, reason, store.LevelSkip)
	})
}

// deferRecord queues a record that cannot be mapped now, without payload:
// when its time comes it is read from the ERP and mapped again. op is what
// it waits to do (update, or mark for a deleted record). A cause that stops
// the run (ErrFatal), or a stop request, is returned instead.
func (r *run) deferRecord(ctx context.Context, key, crmID string, cause error, op store.Op, open *store.OutboxItem) error {
	if errors.Is(cause, ErrFatal) {
		return cause
	}
	if err := ctx.Err(); err != nil {
		return err // stopping: the page is replayed, nothing to report
	}
	if dep := (*DependencyError)(nil); errors.As(cause, &dep) && errors.Is(dep, ErrDependencyRejected) {
		// Bad data in the dependency is fixed in the ERP: wait for it.
		return r.park(ctx, key, crmID, cause.Error(), op, dep, open)
	}
	r.outcome = outcomeDeferred
	r.stats.Failed++
	r.sample("fail", key, crmID, nil, cause.Error())
	if r.dry {
		r.countDry("fail")
		return nil
	}
	r.log.Warn("record deferred", zap.String("erp_key", key), zap.Error(cause))
	if err := r.settleKey(ctx, key); err != nil {
		return err
	}
	next := r.e.opts.Now().Add(r.e.opts.Backoff(1))
	return r.e.store.Update(context.WithoutCancel(ctx), func(tx *store.Tx) error {
		id, err := tx.Enqueue(store.OutboxItem{
			Stream: r.s.Name, Entity: r.s.Target.Entity(), ERPKey: key, Op: op,
			CRMID: crmID, RunID: r.id,
		})
		if err != nil {
			return err
		}
		return tx.Fail(id, cause.Error(), waitLevel(cause), next, true)
	})
}

// waitLevel is the error level of a record waiting on cause: bad data in a
// dependency is "skip" (fixed in the ERP), anything else "error".
func waitLevel(cause error) store.Level {
	if errors.Is(cause, ErrDependencyRejected) {
		return store.LevelSkip
	}
	return store.LevelError
}

// outcome is what record decided for a record.
type outcome int

const (
	outcomeWrite     outcome = iota // a write (create, update, mark)
	outcomeUnchanged                // nothing to send
	outcomeSkip                     // left out on purpose (Mapped.Skip)
	outcomeRefused                  // bad ERP data, its own or a dependency's
	outcomeDeferred                 // waits for a retry
)

// dryWrite counts and samples what the real run would send for a record.
// A create the real run would turn into the adoption of an existing CRM
// record (found by natural key: a read, never a write) counts as the update
// it would be; under update_only, a create finding nothing is skipped.
//
// The records earlier streams of the same dry run would create are found
// as the real run finds them (a contact's name in its organization), and a
// natural key another ERP record owns is decided as the real run decides:
// sent without it, or refused.
func (r *run) dryWrite(ctx context.Context, op store.Op, key, crmID string, p Payload, note string) error {
	reason := note
	add := func(s string) { reason = strings.TrimPrefix(reason+"; "+s, "; ") }
	for drops := 0; op == store.OpCreate; drops++ {
		id, found, err := r.s.Target.Find(ctx, p, false)
		switch {
		case errors.Is(err, ErrFatal):
			return err
		case err != nil:
			add("the lookup before the create failed: " + err.Error())
		case found:
			owner, err := r.dryOwner(ctx, key, id)
			if err != nil {
				return err
			}
			if owner == "" && upserts(r.s.Target) {
				crmID = id // written by an upsert: new to the bridge, counted as a create
				break
			}
			if owner == "" {
				op, crmID = store.OpUpdate, id
				add("adopts the CRM record found by its " + naturalKeyName(r.s.Target))
				break
			}
			if !exclusive(r.s.Target) {
				break // another ERP record owns it: the real run creates its own
			}
			if sk, ok := r.s.Target.(SharedKeys); ok && drops < maxDrops {
				if q, k, ok := sk.DropKey(p); ok {
					p = q
					add("synced without " + k)
					continue
				}
			}
			r.stats.Skipped++
			r.sample("skip", key, "", p, keyTaken(r.s.Target, owner).Error())
			return nil
		case r.s.Mode == ModeUpdateOnly:
			r.stats.Skipped++
			r.sample("skip", key, "", p, "not in the CRM (update_only)")
			return nil
		}
		break
	}
	switch {
	case op == store.OpCreate && r.drySt != nil && upserts(r.s.Target) && crmID != "":
		r.drySt.own(r.s.Target.Entity(), crmID, key) // a later record with its key finds it taken
	case op == store.OpCreate && r.drySt != nil:
		crmID = r.drySt.pretend(ctx, r, key, p)
	}
	r.countDry(string(op))
	r.sample(string(op), key, crmID, p, reason)
	return nil
}

// dryOwner is the ERP record other than key's that owns the CRM record
// crmID: one in the CRM, or one this dry run would have created.
func (r *run) dryOwner(ctx context.Context, key, crmID string) (string, error) {
	if owner, ok := r.drySt.owner(r.s.Target.Entity(), crmID); ok {
		if owner == key {
			return "", nil
		}
		return owner, nil
	}
	return r.owner(ctx, store.OutboxItem{Entity: r.s.Target.Entity(), ERPKey: key}, crmID)
}

func (r *run) countDry(act string) {
	switch act {
	case "create":
		r.stats.Created++
	case "update", "mark":
		r.stats.Updated++
	}
}

func (r *run) sample(act, key, crmID string, p Payload, reason string) {
	if !r.dry || r.perAct[act] >= r.e.opts.Samples {
		return
	}
	r.perAct[act]++
	r.samples = append(r.samples, Sample{Action: act, ERPKey: key, CRMID: crmID, Payload: p, Reason: reason})
}

// dryResolve decides, as the real run's on-demand sync would but writing
// nothing, what a dependency without a CRM id would become: left out (the
// caller goes on without it), refused for bad data, or created — a
// placeholder then shows in the printed payloads what the real run links.
func (r *run) dryResolve(ctx context.Context, s *Stream, rec erp.Record, id store.Identity, has bool) (string, error) {
	opens, err := r.e.store.OpenItemsByKey(ctx, s.Target.Entity(), []string{rec.Key})
	if err != nil {
		return "", fmt.Errorf("resolving %s %s: %w", s.Name, rec.Key, err)
	}
	var open *store.OutboxItem
	if it, ok := opens[rec.Key]; ok {
		open = &it
	}
	sub := newRun(r.e, s, true)
	sub.depth, sub.drySt = r.depth+1, r.drySt
	if err := sub.record(ctx, rec, id, has, open); err != nil {
		return "", err
	}
	switch sub.outcome {
	case outcomeSkip:
		return "", fmt.Errorf("%w: %s %s is skipped by its stream", ErrNoDependency, s.Name, rec.Key)
	case outcomeRefused:
		return "", &DependencyError{Stream: s.Name, Entity: s.Target.Entity(), Key: rec.Key,
			Err: fmt.Errorf("%w: %s %s (see its own entry in erpbridge errors list)", ErrDependencyRejected, s.Name, rec.Key)}
	case outcomeDeferred:
		return "", fmt.Errorf("%s %s could not be synced (see erpbridge errors)", s.Name, rec.Key)
	}
	return "<new " + s.Name + " " + rec.Key + ">", nil
}

// Resolve implements Resolver: the CRM id of a record of another stream,
// synced on demand when the CRM does not have it yet.
//
// Within a page, a CRM id found for another entity's record is kept for
// the rest of the page (orders of one page share customers and products):
// this run writes no identity of that entity but by an on-demand sync, and
// it syncs only records without a CRM id. Records of the run's own entity
// are always read again, as the page's own writes may change them.
func (r *run) Resolve(ctx context.Context, stream, key string) (string, error) {
	s, ok := r.e.streams[stream]
	if !ok {
		return "", fmt.Errorf("resolving %s %s: unknown stream", stream, key)
	}
	entity := s.Target.Entity()
	memo := func(string) {}
	if r.resolved != nil && entity != r.s.Target.Entity() {
		mk := entity + "\x00" + key
		if crmID, ok := r.resolved[mk]; ok {
			return crmID, nil
		}
		memo = func(crmID string) { r.resolved[mk] = crmID }
	}
	id, has, err := r.e.store.Identity(ctx, entity, key)
	if err != nil {
		return "", fmt.Errorf("resolving %s %s: %w", stream, key, err)
	}
	if has && id.CRMID != "" {
		memo(id.CRMID)
		return id.CRMID, nil
	}
	if has && id.Fingerprint != "" {
		return "", notInCRM(stream, key)
	}
	if r.depth >= 3 {
		return "", fmt.Errorf("resolving %s %s: dependencies nested too deep", stream, key)
	}
	if s == r.s {
		// A record of this run's own stream: its write may be planned or
		// confirmed but not recorded yet. Settle them, then look again.
		if err := r.sendPlanned(ctx); err != nil {
			return "", err
		}
		if err := r.flush(ctx); err != nil {
			return "", err
		}
		if id, has, err = r.e.store.Identity(ctx, s.Target.Entity(), key); err != nil {
			return "", fmt.Errorf("resolving %s %s: %w", stream, key, err)
		} else if has && id.CRMID != "" {
			return id.CRMID, nil
		}
	}
	rec, found, err := s.Source.Lookup(ctx, key)
	if err != nil {
		return "", fmt.Errorf("resolving %s %s: reading the ERP: %w", stream, key, err)
	}
	if !found || rec.Deleted {
		return "", fmt.Errorf("%w: %s %s is not in the ERP", ErrNoDependency, stream, key)
	}
	if r.dry {
		return r.dryResolve(ctx, s, rec, id, has)
	}
	opens, err := r.e.store.OpenItemsByKey(ctx, s.Target.Entity(), []string{key})
	if err != nil {
		return "", fmt.Errorf("resolving %s %s: %w", stream, key, err)
	}
	var open *store.OutboxItem
	if it, ok := opens[key]; ok {
		open = &it
	}
	sub := newRun(r.e, s, false)
	sub.id, sub.depth = r.id, r.depth+1
	sub.log = r.log.With(zap.String("on_demand", stream))
	if err := sub.record(ctx, rec, id, has, open); err != nil {
		return "", err
	}
	if sub.skipped {
		return "", fmt.Errorf("%w: %s %s is skipped by its stream", ErrNoDependency, stream, key)
	}
	r.log.Info("synced dependency on demand", zap.String("dependency", stream), zap.String("erp_key", key))
	id, has, err = r.e.store.Identity(ctx, s.Target.Entity(), key)
	if err != nil {
		return "", fmt.Errorf("resolving %s %s: %w", stream, key, err)
	}
	if has && id.CRMID == "" && id.Fingerprint != "" {
		return "", notInCRM(stream, key)
	}
	if !has || id.CRMID == "" {
		items, err := r.e.store.OpenItems(ctx, store.OutboxFilter{Entity: s.Target.Entity(), ERPKey: key, Limit: 1})
		if err == nil && len(items) > 0 && items[0].Level == store.LevelSkip {
			return "", &DependencyError{Stream: stream, Entity: s.Target.Entity(), Key: key,
				Err: fmt.Errorf("%w: %s %s (see its own entry in erpbridge errors list)", ErrDependencyRejected, stream, key)}
		}
		return "", fmt.Errorf("%s %s could not be synced (see erpbridge errors)", stream, key)
	}
	memo(id.CRMID)
	return id.CRMID, nil
}

// notInCRM is Resolve's answer for a record synced without a CRM record:
// its stream is update_only and found none to update.
func notInCRM(stream, key string) error {
	return fmt.Errorf("%w: %s %s is not in the CRM (update_only)", ErrNoDependency, stream, key)
}

// DryRunIndex is implemented by targets that find records by an index of
// the CRM's natural keys: a dry run adds the records it would create, so a
// later stream of the same dry run finds them as the real run would, and
// forgets them when it is done.
type DryRunIndex interface {
	// Pretend adds p to the index as the record crmID.
	Pretend(ctx context.Context, p Payload, crmID string) error
	// ForgetPretended removes every record Pretend added.
	ForgetPretended()
}

// dryState is what the streams of one dry run would have created.
type dryState struct {
	mu      sync.Mutex
	owners  map[string]map[string]string // entity → placeholder CRM id → ERP key
	targets []DryRunIndex
}

// pretend records a create the dry run counts and returns the placeholder
// CRM id it goes by.
func (d *dryState) pretend(ctx context.Context, r *run, key string, p Payload) string {
	id := "<new " + r.s.Name + " " + key + ">"
	d.mu.Lock()
	if d.owners == nil {
		d.owners = map[string]map[string]string{}
	}
	entity := r.s.Target.Entity()
	if d.owners[entity] == nil {
		d.owners[entity] = map[string]string{}
	}
	d.owners[entity][id] = key
	ix, ok := r.s.Target.(DryRunIndex)
	if ok && !slices.Contains(d.targets, ix) {
		d.targets = append(d.targets, ix)
	}
	d.mu.Unlock()
	if ok {
		if err := ix.Pretend(ctx, p, id); err != nil {
			r.log.Debug("dry run: a record it would create is not indexed", zap.String("erp_key", key), zap.Error(err))
		}
	}
	return id
}

// own records that the dry run would write the record crmID for key.
func (d *dryState) own(entity, crmID, key string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.owners == nil {
		d.owners = map[string]map[string]string{}
	}
	if d.owners[entity] == nil {
		d.owners[entity] = map[string]string{}
	}
	d.owners[entity][crmID] = key
}

// owner returns the ERP record a placeholder CRM id stands for.
func (d *dryState) owner(entity, crmID string) (string, bool) {
	if d == nil {
		return "", false
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	key, ok := d.owners[entity][crmID]
	return key, ok
}

// forget removes from the targets' indexes what the dry run added.
func (d *dryState) forget(*Engine) {
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, ix := range d.targets {
		ix.ForgetPretended()
	}
	d.targets = nil
}
