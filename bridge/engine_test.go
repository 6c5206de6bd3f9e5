package bridge

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/erpbridge/erpbridge/bridge/priority"
	"github.com/erpbridge/erpbridge/bridge/store"
	"github.com/erpbridge/erpbridge/erp"
)

// These tests drive the engine through exact interleavings with an
// in-memory ERP table and CRM; the real ones (SQLite/PostgreSQL fixture and
// the RD Station simulator) are exercised in cmd/erpbridge/internal/wiring.

// ---- fake ERP: rows keyed by key; stamp = global sequence ----
type row struct {
	key     string
	name    string
	deleted bool
	seq     int64
	retry   bool // mapper asks for Retry
}

type fakeSrc struct {
	rows map[string]*row
	seq  int64
}

func (s *fakeSrc) set(key, name string, deleted bool) {
	s.seq++
	r := s.rows[key]
	if r == nil {
		r = &row{key: key}
		s.rows[key] = r
	}
	r.name, r.deleted, r.seq = name, deleted, s.seq
}
func (s *fakeSrc) rec(r *row) erp.Record {
	st := time.Unix(r.seq, 0).UTC()
	return erp.Record{Key: r.key, Recno: r.seq, Deleted: r.deleted, Stamp: &st,
		Fields: map[string]any{"name": r.name, "retry": r.retry}}
}
func (s *fakeSrc) Incremental() bool { return true }
func (s *fakeSrc) Checkpoint(context.Context) (erp.Position, error) {
	return erp.Position(strconv.FormatInt(s.seq, 10)), nil
}
func (s *fakeSrc) sorted(after int64) []erp.Record {
	var out []erp.Record
	for _, r := range s.rows {
		if r.seq > after {
			out = append(out, s.rec(r))
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Recno < out[j].Recno })
	return out
}
func (s *fakeSrc) Changes(_ context.Context, since erp.Position, _ int) iter.Seq2[erp.Page, error] {
	n, _ := strconv.ParseInt(string(since), 10, 64)
	return func(yield func(erp.Page, error) bool) {
		recs := s.sorted(n)
		if len(recs) == 0 {
			return
		}
		yield(erp.Page{Records: recs, Next: erp.Position(strconv.FormatInt(recs[len(recs)-1].Recno, 10))}, nil)
	}
}
func (s *fakeSrc) FullPass(ctx context.Context, after erp.Position, n int) iter.Seq2[erp.Page, error] {
	return s.Changes(ctx, after, n)
}
func (s *fakeSrc) Lookup(_ context.Context, key string) (erp.Record, bool, error) {
	r, ok := s.rows[key]
	if !ok {
		return erp.Record{}, false, nil
	}
	return s.rec(r), true, nil
}
func (s *fakeSrc) Find(context.Context, []erp.Match, int) ([]erp.Record, error) { return nil, nil }
func (s *fakeSrc) Close() error                                                 { return nil }

// ---- fake mapper ----
type fakeMapper struct{ retryDeleted bool }

func (m *fakeMapper) Map(_ context.Context, rec erp.Record, _ Resolver) Mapped {
	n := rec.Fields["name"].(string)
	return Mapped{Payload: Payload{"name": n}, Fingerprint: "fp:" + n}
}
func (m *fakeMapper) MapDeleted(_ context.Context, rec erp.Record, _ Resolver) Mapped {
	if m.retryDeleted {
		return Mapped{Retry: errors.New("dependency temporarily unavailable")}
	}
	n := "[DEL] " + rec.Fields["name"].(string)
	return Mapped{Payload: Payload{"name": n}, Fingerprint: "fp:" + n}
}

// ---- fake CRM ----
type fakeCRM struct {
	recs   map[string]string // id -> name
	n      int
	failUp int // fail the next N writes with a 500-like error
	// loseUp applies the next N creates and loses their response.
	loseUp int
	// levels are the priorities the writes came with, in order.
	levels []priority.Level
}

func (t *fakeCRM) Entity() string           { return "organization" }
func (t *fakeCRM) KeysOf(p Payload) Payload { return Payload{"name": p["name"]} }
func (t *fakeCRM) Find(_ context.Context, p Payload, _ bool) (string, bool, error) {
	for id, n := range t.recs {
		if n == p["name"] {
			return id, true, nil
		}
	}
	return "", false, nil
}
func (t *fakeCRM) Create(ctx context.Context, p Payload) (string, error) {
	t.levels = append(t.levels, priority.From(ctx))
	if t.failUp > 0 {
		t.failUp--
		return "", errors.New("HTTP 500")
	}
	t.n++
	id := fmt.Sprint("crm", t.n)
	t.recs[id] = p["name"].(string)
	if t.loseUp > 0 {
		t.loseUp--
		return "", fmt.Errorf("%w: connection reset after the request was sent", ErrOutcomeUnknown)
	}
	return id, nil
}
func (t *fakeCRM) Update(ctx context.Context, id string, p Payload) error {
	t.levels = append(t.levels, priority.From(ctx))
	if t.failUp > 0 {
		t.failUp--
		return errors.New("HTTP 500")
	}
	t.recs[id] = p["name"].(string)
	return nil
}

type env struct {
	t      *testing.T
	src    *fakeSrc
	crm    *fakeCRM
	mapper *fakeMapper
	e      *Engine
	st     *store.Store
	now    time.Time
}

func newEnv(t *testing.T, deletes Deletes) *env {
	v := &env{t: t, src: &fakeSrc{rows: map[string]*row{}}, crm: &fakeCRM{recs: map[string]string{}}, mapper: &fakeMapper{},
		now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	st, err := store.Open(context.Background(), filepath.Join(t.TempDir(), "s.db"), store.WithNow(func() time.Time { return v.now }))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	v.st = st
	v.e, err = New(st, []*Stream{{Name: "customers", Source: v.src, Mapper: v.mapper, Target: v.crm, Mode: ModeUpsert, Deletes: deletes}},
		Options{Now: func() time.Time { return v.now }})
	if err != nil {
		t.Fatal(err)
	}
	return v
}
func (v *env) sync() Report {
	rep, err := v.e.Sync(context.Background(), "customers", SyncOptions{})
	if err != nil {
		v.t.Fatal(err)
	}
	return rep
}

// A change that reverts a record to its last synced state while a newer
// write is failed in the outbox: the stale write wins for good.
func TestRevertWhileAWriteWaitsIsNotLost(t *testing.T) {
	v := newEnv(t, DeletesIgnore)
	v.src.set("K", "v1", false)
	v.sync()
	v.src.set("K", "v2", false)
	v.crm.failUp = 1
	v.sync() // update v2 fails -> failed item, cursor moves on
	v.src.set("K", "v1", false)
	v.sync() // fingerprint == identity (v1): Unchanged, failed v2 item untouched
	v.now = v.now.Add(3 * time.Hour)
	v.sync() // drain sends v2
	v.now = v.now.Add(3 * time.Hour)
	v.sync()
	for id, n := range v.crm.recs {
		t.Logf("CRM %s = %q, ERP = %q", id, n, v.src.rows["K"].name)
		if n != v.src.rows["K"].name {
			t.Errorf("LOST CHANGE: CRM holds %q, ERP %q", n, v.src.rows["K"].name)
		}
	}
}

// A record deleted in the ERP while its first create is failed: the
// waiting create is never sent; the mark looks for what the unconfirmed
// create may have made, finds nothing, and the item is settled (nothing
// left open to send later), and nothing is marked (the CRM never had the
// record).
func TestDeleteWhileTheCreateWaitsIsNotSentAsLive(t *testing.T) {
	v := newEnv(t, DeletesMark)
	v.src.set("K", "acme", false)
	v.crm.failUp = 1
	v.sync()
	v.src.set("K", "acme", true)
	if rep := v.sync(); rep.Stats.Skipped != 1 || rep.Stats.Failed != 0 {
		t.Errorf("the poll reading the delete: %+v; want the record skipped", rep.Stats)
	}
	if open, err := v.st.OpenItems(context.Background(), store.OutboxFilter{}); err != nil || len(open) != 0 {
		t.Errorf("the waiting create: %+v; want it settled, not left to be sent", open)
	}
	v.now = v.now.Add(3 * time.Hour)
	v.sync()
	if len(v.crm.recs) != 0 {
		t.Errorf("CRM %v; want nothing", v.crm.recs)
	}
	for id, n := range v.crm.recs {
		t.Logf("CRM %s = %q (ERP deleted=%v)", id, n, v.src.rows["K"].deleted)
		if n == "acme" {
			t.Errorf("LOST DELETE: CRM record %s created unmarked for a deleted ERP record", id)
		}
	}
}

// A delete mark deferred (Retry) is re-mapped as a live record; the row is
// deleted, so the item is parked "no longer in the ERP" and the mark never sent.
func TestDeferredDeleteMarkIsSent(t *testing.T) {
	v := newEnv(t, DeletesMark)
	v.src.set("K", "acme", false)
	v.sync()
	v.src.set("K", "acme", true)
	v.mapper.retryDeleted = true
	v.sync()
	v.mapper.retryDeleted = false
	v.now = v.now.Add(3 * time.Hour)
	v.sync()
	v.now = v.now.Add(3 * time.Hour)
	v.sync()
	items, _ := v.st.OpenItems(context.Background(), store.OutboxFilter{})
	for _, it := range items {
		t.Logf("open item %s %s %s level=%s err=%q", it.ERPKey, it.Op, it.State, it.Level, it.LastError)
	}
	for id, n := range v.crm.recs {
		if n != "[DEL] acme" {
			t.Errorf("LOST DELETE: CRM %s = %q, never marked", id, n)
		}
	}
}

// A create whose response was lost, then a rename of its ERP record before
// the next run: the record the lost create made carries the old name, and
// must be found by it (what was sent), not duplicated under the new one.
func TestLostCreateThenRenameMakesOneRecord(t *testing.T) {
	for _, rounds := range []int{1, 3} {
		t.Run(fmt.Sprintf("%d lost creates", rounds), func(t *testing.T) {
			v := newEnv(t, DeletesIgnore)
			for i := range rounds {
				v.src.set("K", fmt.Sprintf("acme %d", i), false)
				v.crm.loseUp = 1
				v.sync()
				// The next poll comes before the failed create's retry is due:
				// the changed record replaces the waiting write.
				v.now = v.now.Add(30 * time.Second)
			}
			v.src.set("K", "acme renamed", false)
			v.sync()
			v.now = v.now.Add(3 * time.Hour)
			v.sync()
			if len(v.crm.recs) != 1 {
				t.Fatalf("CRM holds %d records for one ERP record: %v", len(v.crm.recs), v.crm.recs)
			}
			for id, n := range v.crm.recs {
				if n != "acme renamed" {
					t.Errorf("CRM %s = %q, want the ERP's current name", id, n)
				}
			}
			items, err := v.st.OpenItems(context.Background(), store.OutboxFilter{})
			if err != nil {
				t.Fatal(err)
			}
			if len(items) != 0 {
				t.Errorf("%d open outbox items after the record converged: %+v", len(items), items)
			}
		})
	}
}

// suffixMapper maps like fakeMapper with a suffix: a changed mapping.
type suffixMapper struct {
	fakeMapper
	suffix string
}

func (m *suffixMapper) Map(ctx context.Context, rec erp.Record, r Resolver) Mapped {
	n := rec.Fields["name"].(string) + m.suffix
	return Mapped{Payload: Payload{"name": n}, Fingerprint: "fp:" + n}
}

// A mapping change reaches every record on the next run, not only the
// records the next poll happens to read, and costs nothing for records
// whose payload it does not change.
func TestAMappingChangeReachesEveryRecordOnTheNextRun(t *testing.T) {
	v := newEnv(t, DeletesIgnore)
	for i := range 5 {
		v.src.set(fmt.Sprint("K", i), fmt.Sprint("acme ", i), false)
	}
	engine := func(hash, suffix string) {
		t.Helper()
		var err error
		v.e, err = New(v.st, []*Stream{{Name: "customers", Source: v.src, Mapper: &suffixMapper{suffix: suffix},
			Target: v.crm, Mode: ModeUpsert, Deletes: DeletesIgnore, MappingHash: hash}}, Options{Now: func() time.Time { return v.now }})
		if err != nil {
			t.Fatal(err)
		}
	}
	engine("h1", "")
	if rep := v.sync(); rep.Stats.Created != 5 {
		t.Fatalf("first sync created %d, want 5", rep.Stats.Created)
	}
	if rep := v.sync(); rep.Kind != store.RunIncremental || rep.Stats.Read != 0 {
		t.Fatalf("second sync: %s reading %d rows, want an incremental poll reading nothing", rep.Kind, rep.Stats.Read)
	}
	engine("h2", " S/A") // the mapping changed; no ERP row did
	rep := v.sync()
	if rep.Kind != store.RunFull || rep.Stats.Updated != 5 {
		t.Fatalf("after the mapping changed: %s run updated %d, want a full pass updating 5", rep.Kind, rep.Stats.Updated)
	}
	for id, n := range v.crm.recs {
		if !strings.HasSuffix(n, " S/A") {
			t.Errorf("CRM %s = %q: the new mapping did not reach it", id, n)
		}
	}
	if rep := v.sync(); rep.Kind != store.RunIncremental || rep.Stats.Updated != 0 {
		t.Fatalf("the run after: %s, %d updated; want an incremental poll writing nothing", rep.Kind, rep.Stats.Updated)
	}
	engine("h3", " S/A") // settings changed, payloads did not: a full pass that writes nothing
	if rep := v.sync(); rep.Kind != store.RunFull || rep.Stats.Updated+rep.Stats.Created != 0 || rep.Stats.Unchanged != 5 {
		t.Fatalf("hash changed, payloads not: %s run, %+v; want a full pass with 5 unchanged", rep.Kind, rep.Stats)
	}
}
