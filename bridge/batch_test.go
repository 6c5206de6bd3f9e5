package bridge

import (
	"context"
	"errors"
	"fmt"
	"iter"
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

func TestAFatalErrorMidBatchLeavesNothingUnsentInflight(t *testing.T) {
	v := newEnv(t, DeletesIgnore)
	crm := &fatalCRM{fakeCRM: fakeCRM{recs: map[string]string{}}, fatalAt: 2}
	v.e.streams["customers"].Target = crm
	for i := 0; i < 5; i++ {
		v.src.set(fmt.Sprint("K", i), fmt.Sprint("n", i), false)
	}
	_, err := v.e.Sync(context.Background(), "customers", SyncOptions{})
	t.Logf("sync err: %v", err)
	items, _ := v.st.OpenItems(context.Background(), store.OutboxFilter{})
	for _, it := range items {
		t.Logf("open %s state=%s attempts=%d err=%q", it.ERPKey, it.State, it.Attempts, it.LastError)
	}
	t.Logf("creates called=%d", crm.calls)
	crm.fatalAt = -1
	v.sync()
	t.Logf("live finds on next run=%d, crm recs=%d", crm.liveFinds, len(crm.recs))
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
	v := newEnv(t, DeletesIgnore)
	src := &dupSrc{fakeSrc{rows: map[string]*row{}}}
	src.set("K", "acme2", false)
	crm := &blindCRM{fakeCRM: fakeCRM{recs: map[string]string{}}}
	v.e.streams["customers"].Source = src
	v.e.streams["customers"].Target = crm
	rep, err := v.e.Sync(context.Background(), "customers", SyncOptions{Full: true})
	t.Logf("err=%v stats=%+v", err, rep.Stats)
	t.Logf("CRM records: %v", crm.recs)
	if len(crm.recs) > 1 {
		t.Errorf("DUPLICATE: %d CRM records for one ERP key", len(crm.recs))
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
	v := newEnv(t, DeletesIgnore)
	crm := &blindOnly{fakeCRM{recs: map[string]string{}}}
	v.e.streams["customers"].Target = crm
	v.e.streams["customers"].Mapper = &selfMapper{}
	v.src.set("K", "k", false)
	v.src.set("L", "l", false)
	rep, err := v.e.Sync(context.Background(), "customers", SyncOptions{})
	t.Logf("err=%v stats=%+v CRM=%v", err, rep.Stats, crm.recs)
	if len(crm.recs) != 2 {
		t.Errorf("DUPLICATE: %d CRM records for 2 ERP records", len(crm.recs))
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

func TestAStopMidBatchReplaysWithoutDoubling(t *testing.T) {
	v := newEnv(t, DeletesIgnore)
	ctx, cancel := context.WithCancel(context.Background())
	crm := &stopCRM{fakeCRM: fakeCRM{recs: map[string]string{}}, cancel: cancel}
	v.e.streams["customers"].Target = crm
	for i := 0; i < 5; i++ {
		v.src.set(fmt.Sprint("K", i), fmt.Sprint("n", i), false)
	}
	_, err := v.e.Sync(ctx, "customers", SyncOptions{})
	t.Logf("err=%v", err)
	items, _ := v.st.OpenItems(context.Background(), store.OutboxFilter{})
	for _, it := range items {
		t.Logf("open %s state=%s attempts=%d err=%q", it.ERPKey, it.State, it.Attempts, it.LastError)
	}
	v.sync()
	t.Logf("CRM=%v", crm.recs)
	if len(crm.recs) != 5 {
		t.Errorf("got %d", len(crm.recs))
	}
}
