package bridge

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"slices"
	"strings"
	"testing"

	"github.com/erpbridge/erpbridge/bridge/store"
	"github.com/erpbridge/erpbridge/erp"
)

// A: CRM refuses the integration (ErrFatal) on the 2nd write of a page.
type fatalCRM struct {
	fakeCRM
	calls, fatalAt int
	liveFinds      int
}

func (t *fatalCRM) Find(ctx context.Context, p Payload, live bool) (string, bool, error) {
	if live {
		t.liveFinds++
	}
	return t.fakeCRM.Find(ctx, p, live)
}
func (t *fatalCRM) Create(ctx context.Context, p Payload) (string, error) {
	t.calls++
	if t.calls == t.fatalAt {
		return "", fmt.Errorf("%w: 401", ErrFatal)
	}
	return t.fakeCRM.Create(ctx, p)
}

// The CRM refuses the integration (a 401) on the second write of a page:
// the run stops with the refusal, the first write is recorded, the refused
// one waits without losing an attempt, and the three that never left go
// back to pending — not inflight, without sent keys — so the next run sends
// them without a live lookup and nothing is doubled.
func TestAFatalErrorMidBatchLeavesNothingUnsentInflight(t *testing.T) {
	ctx := context.Background()
	v := newEnv(t, DeletesIgnore)
	crm := &fatalCRM{fakeCRM: fakeCRM{recs: map[string]string{}}, fatalAt: 2}
	v.e.streams["customers"].Target = crm
	for i := 0; i < 5; i++ {
		v.src.set(fmt.Sprint("K", i), fmt.Sprint("n", i), false)
	}
	_, err := v.e.Sync(ctx, "customers", SyncOptions{})
	if !errors.Is(err, ErrFatal) {
		t.Fatalf("sync error = %v; want the CRM's refusal", err)
	}
	if crm.calls != 2 || fmt.Sprint(crm.recs) != "map[crm1:n0]" {
		t.Fatalf("%d creates, CRM %v; want the run stopped at the refused second create", crm.calls, crm.recs)
	}
	if id, ok, err := v.st.Identity(ctx, "organization", "K0"); err != nil || !ok || id.CRMID != "crm1" {
		t.Errorf("identity of K0 = %+v, %v, %v; want crm1 recorded before the run stopped", id, ok, err)
	}
	items, err := v.st.OpenItems(ctx, store.OutboxFilter{})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]store.OutboxItem{}
	for _, it := range items {
		got[it.ERPKey] = it
	}
	if len(items) != 4 || len(got) != 4 {
		t.Fatalf("open items %+v; want K1 to K4 once each", items)
	}
	for key, it := range got {
		switch {
		case it.State != store.StatePending || it.Attempts != 0:
			t.Errorf("%s is %s with %d attempts; want pending with none", key, it.State, it.Attempts)
		case key == "K1" && !strings.Contains(it.LastError, "401"):
			t.Errorf("K1's error %q; want the refusal", it.LastError)
		case key != "K1" && (it.LastError != "" || len(it.SentKeys) != 0):
			t.Errorf("%s never left, yet carries error %q and sent keys %s", key, it.LastError, it.SentKeys)
		}
	}

	crm.fatalAt = -1
	rep := v.sync()
	if rep.Stats.Created != 4 {
		t.Errorf("the next run: %+v; want the 4 waiting records created", rep.Stats)
	}
	if crm.liveFinds != 1 {
		t.Errorf("%d live lookups on the next run; want 1 (K1, which was sent), none for the writes that never left", crm.liveFinds)
	}
	want := map[string]bool{"n0": true, "n1": true, "n2": true, "n3": true, "n4": true}
	for _, n := range crm.recs {
		if !want[n] {
			t.Errorf("CRM record %q is unexpected or doubled", n)
		}
		delete(want, n)
	}
	if len(want) != 0 || len(crm.recs) != 5 {
		t.Errorf("the CRM holds %v; want n0 to n4 once each", crm.recs)
	}
	if items, err := v.st.OpenItems(ctx, store.OutboxFilter{}); err != nil || len(items) != 0 {
		t.Errorf("open items after the next run: %+v (%v)", items, err)
	}
}

// B: same key twice in one page; first POST outcome unknown (created, but
// error returned); non-live Find is blind (index built before).
type dupSrc struct{ fakeSrc }

func (s *dupSrc) Changes(_ context.Context, since erp.Position, _ int) iter.Seq2[erp.Page, error] {
	return func(yield func(erp.Page, error) bool) {
		if since != "" {
			return
		}
		a := erp.Record{Key: "K", Recno: 1, Fields: map[string]any{"name": "acme", "retry": false}}
		b := erp.Record{Key: "K", Recno: 2, Fields: map[string]any{"name": "acme2", "retry": false}}
		yield(erp.Page{Records: []erp.Record{a, b}, Next: "2"}, nil)
	}
}
func (s *dupSrc) FullPass(ctx context.Context, after erp.Position, n int) iter.Seq2[erp.Page, error] {
	return s.Changes(ctx, after, n)
}

type blindCRM struct {
	fakeCRM
	first bool
}

func (t *blindCRM) Find(ctx context.Context, p Payload, live bool) (string, bool, error) {
	if !live {
		return "", false, nil
	}
	// live: any record ever created for K (names acme*)
	for id := range t.recs {
		return id, true, nil
	}
	return "", false, nil
}
func (t *blindCRM) Create(ctx context.Context, p Payload) (string, error) {
	id, err := t.fakeCRM.Create(ctx, p)
	if !t.first {
		t.first = true
		return "", errors.New("POST timeout (outcome unknown)")
	}
	return id, err
}

func TestSameKeyTwiceInAPageAfterALostCreateIsNotDoubled(t *testing.T) {
	ctx := context.Background()
	v := newEnv(t, DeletesIgnore)
	src := &dupSrc{fakeSrc{rows: map[string]*row{}}}
	src.set("K", "acme2", false)
	crm := &blindCRM{fakeCRM: fakeCRM{recs: map[string]string{}}}
	v.e.streams["customers"].Source = src
	v.e.streams["customers"].Target = crm
	rep, err := v.e.Sync(ctx, "customers", SyncOptions{Full: true})
	if err != nil {
		t.Fatal(err)
	}
	// The lost create made crm1; the second row of the page finds it live
	// and adopts it with the newer payload.
	if fmt.Sprint(crm.recs) != "map[crm1:acme2]" {
		t.Errorf("CRM records %v; want crm1 alone, holding the newer row (acme2)", crm.recs)
	}
	if id, ok, err := v.st.Identity(ctx, "organization", "K"); err != nil || !ok || id.CRMID != "crm1" {
		t.Errorf("identity of K = %+v, %v, %v; want crm1", id, ok, err)
	}
	if rep.Stats.Read != 2 || rep.Stats.Updated != 1 || rep.Stats.Failed != 1 {
		t.Errorf("stats %+v; want 2 rows read, the lost create failed once, then the adoption as an update", rep.Stats)
	}
	if items, err := v.st.OpenItems(ctx, store.OutboxFilter{}); err != nil || len(items) != 0 {
		t.Errorf("open outbox items %+v (%v); want none", items, err)
	}
}

// C: self-resolving stream, drain: K's completion pending when L's remap resolves K.
type selfMapper struct {
	fakeMapper
}

func (m *selfMapper) Map(ctx context.Context, rec erp.Record, r Resolver) Mapped {
	if rec.Key == "L" {
		id, err := r.Resolve(ctx, "customers", "K")
		if err != nil || id == "" {
			return Mapped{Retry: fmt.Errorf("waits for K: %v", err)}
		}
		return Mapped{Payload: Payload{"name": "l", "parent": id}, Fingerprint: "fp:l" + id}
	}
	return m.fakeMapper.Map(ctx, rec, r)
}

type blindOnly struct{ fakeCRM }

func (t *blindOnly) Find(ctx context.Context, p Payload, live bool) (string, bool, error) {
	if !live {
		return "", false, nil // index built before this run: blind to records created since
	}
	return t.fakeCRM.Find(ctx, p, live)
}

func TestResolvingARecordPlannedInTheSamePageIsNotDoubled(t *testing.T) {
	ctx := context.Background()
	v := newEnv(t, DeletesIgnore)
	crm := &blindOnly{fakeCRM{recs: map[string]string{}}}
	v.e.streams["customers"].Target = crm
	v.e.streams["customers"].Mapper = &selfMapper{}
	v.src.set("K", "k", false)
	v.src.set("L", "l", false)
	rep, err := v.e.Sync(ctx, "customers", SyncOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(crm.recs) != "map[crm1:k crm2:l]" {
		t.Errorf("CRM records %v; want K and L once each", crm.recs)
	}
	if rep.Stats.Created != 2 || rep.Stats.Failed != 0 {
		t.Errorf("stats %+v; want 2 created", rep.Stats)
	}
	l, ok, err := v.st.Identity(ctx, "organization", "L")
	if err != nil || !ok || l.CRMID != "crm2" || l.Fingerprint != "fp:lcrm1" {
		t.Errorf("identity of L = %+v, %v, %v; want crm2 sent with K's id crm1 as its parent", l, ok, err)
	}
	if items, err := v.st.OpenItems(ctx, store.OutboxFilter{}); err != nil || len(items) != 0 {
		t.Errorf("open outbox items %+v (%v); want none", items, err)
	}
}

// stop in the middle of sendPlanned
type stopCRM struct {
	fakeCRM
	n      int
	cancel func()
}

func (t *stopCRM) Create(ctx context.Context, p Payload) (string, error) {
	t.n++
	if t.n == 2 {
		t.cancel()
	}
	return t.fakeCRM.Create(ctx, p)
}

// A stop request during the second create of a page: that create finishes
// (the grace period) and is recorded with the first; the three writes that
// never left go back to pending — not inflight, with no error text and no
// sent keys — and the next run creates exactly those three.
func TestAStopMidBatchReplaysWithoutDoubling(t *testing.T) {
	v := newEnv(t, DeletesIgnore)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	crm := &stopCRM{fakeCRM: fakeCRM{recs: map[string]string{}}, cancel: cancel}
	v.e.streams["customers"].Target = crm
	for i := 0; i < 5; i++ {
		v.src.set(fmt.Sprint("K", i), fmt.Sprint("n", i), false)
	}
	rep, err := v.e.Sync(ctx, "customers", SyncOptions{})
	if err != nil || !rep.Interrupted {
		t.Fatalf("stopped run: err %v, interrupted %v; want an interrupted run without error", err, rep.Interrupted)
	}
	bg := context.Background()
	if fmt.Sprint(crm.recs) != "map[crm1:n0 crm2:n1]" {
		t.Fatalf("CRM after the stop = %v; want the first two creates", crm.recs)
	}
	for key, crmID := range map[string]string{"K0": "crm1", "K1": "crm2"} {
		if id, ok, err := v.st.Identity(bg, "organization", key); err != nil || !ok || id.CRMID != crmID {
			t.Errorf("identity of %s = %+v, %v, %v; want %s recorded before the run stopped", key, id, ok, err, crmID)
		}
	}
	items, err := v.st.OpenItems(bg, store.OutboxFilter{})
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, it := range items {
		keys = append(keys, it.ERPKey)
		if it.State != store.StatePending || it.Attempts != 0 || it.LastError != "" || len(it.SentKeys) != 0 {
			t.Errorf("%s after the stop: %s, %d attempts, error %q, sent keys %s; want pending as if never sent",
				it.ERPKey, it.State, it.Attempts, it.LastError, it.SentKeys)
		}
	}
	slices.Sort(keys)
	if fmt.Sprint(keys) != "[K2 K3 K4]" {
		t.Errorf("open items after the stop: %v; want K2, K3, K4", keys)
	}

	rep = v.sync()
	if rep.Interrupted || rep.Stats.Created != 3 || rep.Stats.Updated != 0 {
		t.Errorf("the next run: %+v; want the 3 waiting records created, nothing updated", rep.Stats)
	}
	if len(crm.recs) != 5 {
		t.Errorf("CRM after the next run = %v; want 5 records, none doubled", crm.recs)
	}
	if items, err := v.st.OpenItems(bg, store.OutboxFilter{}); err != nil || len(items) != 0 {
		t.Errorf("open items after the next run: %+v (%v)", items, err)
	}
}
