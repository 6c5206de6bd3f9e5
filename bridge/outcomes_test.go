package bridge

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/erpbridge/erpbridge/bridge/store"
	"github.com/erpbridge/erpbridge/erp"
)

// outcomeMapper maps like fakeMapper, but skips the names in skip and
// asks to be retried for those in retry.
type outcomeMapper struct {
	fakeMapper
	skip, retry map[string]bool
}

func (m *outcomeMapper) Map(ctx context.Context, rec erp.Record, r Resolver) Mapped {
	n := rec.Fields["name"].(string)
	switch {
	case m.skip[n]:
		return Mapped{Skip: true, SkipReason: "blocked in the ERP"}
	case m.retry[n]:
		return Mapped{Retry: errors.New("the organization is not synced yet")}
	}
	return m.fakeMapper.Map(ctx, rec, r)
}

// A run's report counts what happened to each record, as `erpbridge
// status` and the metrics show it: created, updated, marked deleted,
// skipped on purpose, failed (a write that failed, a record that waits),
// and the CRM requests it cost.
func TestARunCountsWhatHappened(t *testing.T) {
	ctx := context.Background()
	v := newEnv(t, DeletesMark)
	var calls int64
	crm := &countingCRM{fakeCRM: fakeCRM{recs: map[string]string{}}}
	var err error
	v.e, err = New(v.st, []*Stream{{Name: "customers", Source: v.src, Target: crm, Mode: ModeUpsert, Deletes: DeletesMark,
		Mapper: &outcomeMapper{skip: map[string]bool{"blocked": true}, retry: map[string]bool{"waits": true}}}},
		Options{Now: func() time.Time { return v.now }, APICalls: func() int64 { return calls + int64(len(crm.calls)) }})
	if err != nil {
		t.Fatal(err)
	}
	calls = 1000 // what the client counted before the run
	v.src.set("A", "acme", false)
	v.src.set("B", "globex", false)
	v.src.set("D", "doomed", false)
	rep := v.sync()
	if rep.Stats.Created != 3 || rep.Stats.APICalls != 6 { // a find and a create each
		t.Fatalf("first run: %+v; want 3 created with 6 CRM calls", rep.Stats)
	}
	v.src.set("A", "acme 2", false)  // updated
	v.src.set("D", "doomed", true)   // marked deleted
	v.src.set("S", "blocked", false) // skipped
	v.src.set("W", "waits", false)   // waits for a retry
	crm.calls = nil
	rep = v.sync()
	want := store.RunStats{Read: 4, Updated: 1, Deleted: 1, Skipped: 1, Failed: 1, APICalls: 2}
	if rep.Stats != want {
		t.Errorf("second run: %+v; want %+v", rep.Stats, want)
	}
	items, err := v.st.OpenItems(ctx, store.OutboxFilter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(items) != 1 || items[0].ERPKey != "W" || items[0].State != store.StateFailed || items[0].Attempts != 1 ||
		items[0].LastError != "the organization is not synced yet" || !items[0].NextAttemptAt.Equal(v.now.Add(time.Minute)) {
		t.Errorf("open items %+v; want W failed once with its reason, retried in a minute", items)
	}
	if id, _, _ := v.st.Identity(ctx, "organization", "D"); !id.Deleted || crm.recs[id.CRMID] != "[DEL] doomed" {
		t.Errorf("D: identity %+v, CRM %q; want marked deleted", id, crm.recs[id.CRMID])
	}
}

// A write that keeps failing is tried MaxAttempts times, backing off, and
// then parked at level error (listed by erpbridge errors); nothing is
// parked earlier.
func TestAFailingWriteIsParkedAfterMaxAttempts(t *testing.T) {
	ctx := context.Background()
	v := newEnv(t, DeletesIgnore)
	var err error
	v.e, err = New(v.st, []*Stream{{Name: "customers", Source: v.src, Mapper: v.mapper, Target: v.crm, Mode: ModeUpsert,
		Deletes: DeletesIgnore}}, Options{Now: func() time.Time { return v.now }, MaxAttempts: 3})
	if err != nil {
		t.Fatal(err)
	}
	v.src.set("K", "acme", false)
	v.crm.failUp = 100
	for attempt, wait := range []time.Duration{time.Minute, 2 * time.Minute} {
		if rep := v.sync(); rep.Stats.Failed != 1 {
			t.Fatalf("attempt %d: %+v; want the failure counted", attempt+1, rep.Stats)
		}
		it := onlyItem(t, v.st)
		if it.State != store.StateFailed || it.Attempts != attempt+1 || !it.NextAttemptAt.Equal(v.now.Add(wait)) {
			t.Fatalf("after attempt %d: %s, %d attempts, next %v; want failed, %d, in %v",
				attempt+1, it.State, it.Attempts, it.NextAttemptAt, attempt+1, wait)
		}
		v.now = it.NextAttemptAt
	}
	v.sync()
	it := onlyItem(t, v.st)
	if it.State != store.StateParked || it.Level != store.LevelError || it.Attempts != 3 || it.LastError != "HTTP 500" {
		t.Errorf("after the third failure: %+v; want parked at level error after 3 attempts", it)
	}
	if errs, err := v.st.Errors(ctx, store.OutboxFilter{}); err != nil || len(errs) != 1 {
		t.Errorf("erpbridge errors lists %+v (%v); want the parked write", errs, err)
	}
}

// A run sends every due write, however many: the outbox is drained in
// rounds of 200.
func TestADrainSendsEveryDueWrite(t *testing.T) {
	v := newEnv(t, DeletesIgnore)
	const n = 450
	for i := range n {
		v.src.set(fmt.Sprintf("K%03d", i), fmt.Sprintf("n%03d", i), false)
	}
	v.crm.failUp = n
	if rep := v.sync(); rep.Stats.Failed != n {
		t.Fatalf("first run: %+v; want every create failed", rep.Stats)
	}
	v.now = v.now.Add(time.Hour)
	if rep := v.sync(); rep.Stats.Created != n || len(v.crm.recs) != n {
		t.Errorf("the run after: %+v, %d in the CRM; want all %d due writes sent", rep.Stats, len(v.crm.recs), n)
	}
}

// A CRM record that another ERP record owns is never adopted: two ERP
// records with one natural key stay two CRM records (organizations), or
// the second is not sent, naming the owner, and counted skipped — a policy
// outcome, not a failure (a target whose key is exclusive).
func TestARecordOwnedByAnotherERPRecordIsNeverAdopted(t *testing.T) {
	for _, tc := range []struct {
		name      string
		exclusive bool
	}{{"organizations", false}, {"contacts", true}} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			v := newEnv(t, DeletesIgnore)
			var target Target = v.crm
			if tc.exclusive {
				target = &exclusiveCRM{v.crm}
			}
			v.e.streams["customers"].Target = target
			v.src.set("K1", "acme", false)
			v.sync()
			v.src.set("K2", "acme", false) // same name, another ERP record
			rep := v.sync()
			k1, _, _ := v.st.Identity(ctx, "organization", "K1")
			k2, _, _ := v.st.Identity(ctx, "organization", "K2")
			if k1.CRMID != "crm1" || k2.CRMID == "crm1" {
				t.Fatalf("identities K1 %q, K2 %q: K2 took K1's CRM record", k1.CRMID, k2.CRMID)
			}
			if !tc.exclusive {
				if len(v.crm.recs) != 2 || k2.CRMID != "crm2" || rep.Stats.Created != 1 {
					t.Errorf("CRM %v, K2 %q, stats %+v; want a second record for K2", v.crm.recs, k2.CRMID, rep.Stats)
				}
				return
			}
			it := onlyItem(t, v.st)
			if len(v.crm.recs) != 1 || it.ERPKey != "K2" || it.State != store.StateParked || it.Level != store.LevelSkip ||
				!strings.Contains(it.LastError, "already belongs to ERP record K1") || rep.Stats.Skipped != 1 || rep.Stats.Failed != 0 {
				t.Errorf("CRM %v, outbox %+v, stats %+v; want K2 not sent, naming K1, and counted as skipped", v.crm.recs, it, rep.Stats)
			}
		})
	}
}

type exclusiveCRM struct{ *fakeCRM }

func (exclusiveCRM) ExclusiveKey() bool { return true }

// A delete mark deferred (its mapping asked for a retry) whose record came
// back alive before the retry is sent as the live record's update: the
// CRM record carries the live name and is not flagged deleted, so the next
// pass costs nothing.
func TestADeferredMarkWhoseRecordCameBackIsSentAsAnUpdate(t *testing.T) {
	ctx := context.Background()
	v := newEnv(t, DeletesMark)
	v.src.set("K", "acme", false)
	v.sync()
	v.src.set("K", "acme", true)
	v.mapper.retryDeleted = true
	v.sync()
	if it := onlyItem(t, v.st); it.Op != store.OpMark || it.State != store.StateFailed {
		t.Fatalf("the deferred mark: %+v", it)
	}
	v.mapper.retryDeleted = false
	v.src.rows["K"].deleted, v.src.rows["K"].name = false, "acme revived" // undeleted; the poll has not read it yet
	v.now = v.now.Add(3 * time.Hour)
	v.sync()
	id, _, _ := v.st.Identity(ctx, "organization", "K")
	if id.Deleted || v.crm.recs[id.CRMID] != "acme revived" {
		t.Errorf("identity %+v, CRM %q; want the live record sent, not flagged deleted", id, v.crm.recs[id.CRMID])
	}
	v.src.set("K", "acme revived", false)
	if rep := v.sync(); rep.Stats.Unchanged != 1 || rep.Stats.Updated != 0 {
		t.Errorf("the poll after: %+v; want the record unchanged", rep.Stats)
	}
}

// dropCRM wraps fakeCRM: its next dropUp creates never reach the CRM but
// end as if their answer was lost.
type dropCRM struct {
	*fakeCRM
	dropUp int
}

func (t *dropCRM) Create(ctx context.Context, p Payload) (string, error) {
	if t.dropUp > 0 {
		t.dropUp--
		return "", fmt.Errorf("%w: timeout", ErrOutcomeUnknown)
	}
	return t.fakeCRM.Create(ctx, p)
}

// A create that never arrived, then one under a new name whose answer was
// lost, then another rename: the record the lost create made is found by
// the name it was sent with — every create sent since the last confirmed
// write is looked for, not only the first.
func TestEveryLostCreatesKeysAreLookedFor(t *testing.T) {
	v := newEnv(t, DeletesIgnore)
	crm := &dropCRM{fakeCRM: v.crm}
	v.e.streams["customers"].Target = crm
	v.src.set("K", "acme 0", false)
	crm.dropUp = 1
	v.sync()
	v.now = v.now.Add(30 * time.Second)
	v.src.set("K", "acme 1", false)
	v.crm.loseUp = 1
	v.sync()
	if fmt.Sprint(v.crm.recs) != "map[crm1:acme 1]" {
		t.Fatalf("CRM %v; want the second create's record alone", v.crm.recs)
	}
	v.now = v.now.Add(30 * time.Second)
	v.src.set("K", "acme 2", false)
	v.sync()
	v.now = v.now.Add(3 * time.Hour)
	v.sync()
	if fmt.Sprint(v.crm.recs) != "map[crm1:acme 2]" {
		t.Errorf("CRM %v; want the lost create's record, renamed", v.crm.recs)
	}
}

// A dry run keeps Options.Samples sample payloads per action, and counts a
// create that would adopt a CRM record found by its natural key as the
// update it would be.
func TestADryRunKeepsSamplesPerAction(t *testing.T) {
	v := newEnv(t, DeletesIgnore)
	for i := range 6 {
		v.src.set(fmt.Sprint("K", i), fmt.Sprint("n", i), false)
	}
	v.crm.recs["crm9"] = "n5" // already in the CRM, not yet linked
	rep, err := v.e.Sync(context.Background(), "customers", SyncOptions{DryRun: true})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Stats.Created != 5 || rep.Stats.Updated != 1 || len(rep.Samples) != 4 {
		t.Errorf("dry run: %+v with %d samples; want 5 creates, 1 update, 3 + 1 samples", rep.Stats, len(rep.Samples))
	}
	for _, s := range rep.Samples {
		switch {
		case s.Payload["name"] == nil:
			t.Errorf("sample %+v without its payload", s)
		case s.Action == "update" && (s.ERPKey != "K5" || s.CRMID != "crm9" || !strings.Contains(s.Reason, "adopts")):
			t.Errorf("sample %+v; want K5 adopting crm9", s)
		}
	}
	if len(v.crm.recs) != 1 {
		t.Errorf("a dry run wrote %v", v.crm.recs)
	}
}

// findFailCRM wraps fakeCRM: a Find for the name failName fails while
// failFinds lasts.
type findFailCRM struct {
	*fakeCRM
	failName  string
	failFinds int
}

func (t *findFailCRM) Find(ctx context.Context, p Payload, live bool) (string, bool, error) {
	if p["name"] == t.failName && t.failFinds > 0 {
		t.failFinds--
		return "", false, errors.New("HTTP 500 searching organizations")
	}
	return t.fakeCRM.Find(ctx, p, live)
}

// A look-up that fails — here the one by a lost create's old name — never
// ends in a create: the write fails and is retried, and then finds the
// record.
func TestAFailedLookupNeverEndsInACreate(t *testing.T) {
	v := newEnv(t, DeletesIgnore)
	crm := &findFailCRM{fakeCRM: v.crm, failName: "acme 0"}
	v.e.streams["customers"].Target = crm
	v.src.set("K", "acme 0", false)
	v.crm.loseUp = 1
	v.sync()
	v.now = v.now.Add(30 * time.Second)
	v.src.set("K", "acme 1", false)
	crm.failFinds = 1
	if rep := v.sync(); rep.Stats.Failed != 1 || len(v.crm.recs) != 1 {
		t.Fatalf("with the look-up failing: %+v, CRM %v; want the write failed, nothing created", rep.Stats, v.crm.recs)
	}
	v.now = v.now.Add(3 * time.Hour)
	v.sync()
	if fmt.Sprint(v.crm.recs) != "map[crm1:acme 1]" {
		t.Errorf("CRM %v; want the lost create's record, renamed", v.crm.recs)
	}
}

// A write left inflight by a crash (here a delete mark), then the record
// read again alive: the live update is sent, and the identity follows
// what was sent — not flagged deleted — so the next poll costs nothing.
func TestAnUpdateOverACrashedMarkLeavesTheRecordLive(t *testing.T) {
	ctx := context.Background()
	v := newEnv(t, DeletesMark)
	v.src.set("K", "acme", false)
	v.sync()
	if err := v.st.Update(ctx, func(tx *store.Tx) error { // the crash
		id, err := tx.Enqueue(store.OutboxItem{Stream: "customers", Entity: "organization", ERPKey: "K", Op: store.OpMark,
			Payload: []byte(`{"name":"[DEL] acme"}`), Fingerprint: "fp:[DEL] acme", CRMID: "crm1"})
		if err != nil {
			return err
		}
		return tx.MarkInflight(id)
	}); err != nil {
		t.Fatal(err)
	}
	v.src.set("K", "acme 2", false)
	v.sync()
	id, _, _ := v.st.Identity(ctx, "organization", "K")
	if id.Deleted || id.CRMID != "crm1" || v.crm.recs["crm1"] != "acme 2" || len(v.crm.recs) != 1 {
		t.Fatalf("identity %+v, CRM %v; want crm1 updated to acme 2, not flagged deleted", id, v.crm.recs)
	}
	v.src.set("K", "acme 2", false)
	if rep := v.sync(); rep.Stats.Unchanged != 1 || rep.Stats.Updated != 0 {
		t.Errorf("the poll after: %+v; want the record unchanged", rep.Stats)
	}
}

// optionalDepMapper links each record to the "customers" record C1 when it
// is in the CRM, and goes on without the link when Resolve says it will
// not be (ErrNoDependency).
type optionalDepMapper struct{ fakeMapper }

func (m *optionalDepMapper) Map(ctx context.Context, rec erp.Record, r Resolver) Mapped {
	id, err := r.Resolve(ctx, "customers", "C1")
	if err != nil && !errors.Is(err, ErrNoDependency) {
		return Mapped{Retry: err}
	}
	n := rec.Fields["name"].(string)
	return Mapped{Payload: Payload{"name": n, "deps": id}, Fingerprint: "fp:" + n + ":" + id}
}

// A dependency of an update_only stream that the CRM does not have (its
// sync found nothing to update) is no dependency: the record that links to
// it goes out without the link, at once, instead of waiting for it.
func TestADependencyUpdateOnlyFoundNothingForIsNone(t *testing.T) {
	v := newEnv(t, DeletesIgnore)
	v.e.streams["customers"].Mode = ModeUpdateOnly
	v.src.set("C1", "acme", false)
	if rep := v.sync(); rep.Stats.Skipped != 1 || len(v.crm.recs) != 0 {
		t.Fatalf("update_only customers: %+v, CRM %v; want C1 skipped, nothing created", rep.Stats, v.crm.recs)
	}
	orders, deals := v.withOrders(&optionalDepMapper{}, v.crm)
	v.e.streams["customers"].Mode = ModeUpdateOnly
	orders.set("O1", "o1", false)
	rep, err := v.e.Sync(context.Background(), "orders", SyncOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Stats.Created != 1 || deals.sent["o1"] != "" || len(v.crm.recs) != 0 {
		t.Errorf("orders: %+v, sent %v, customers in the CRM %v; want O1 sent without a link", rep.Stats, deals.sent, v.crm.recs)
	}
}

// The same when the dependency is first synced on demand, by the record
// that links to it: update_only finds nothing to update, so the record
// goes out without the link in that run — it does not wait a retry.
func TestADependencyUpdateOnlyFindsNothingForOnDemandIsNone(t *testing.T) {
	ctx := context.Background()
	v := newEnv(t, DeletesIgnore)
	v.src.set("C1", "acme", false)
	orders, deals := v.withOrders(&optionalDepMapper{}, v.crm)
	v.e.streams["customers"].Mode = ModeUpdateOnly
	orders.set("O1", "o1", false)
	rep, err := v.e.Sync(ctx, "orders", SyncOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Stats.Created != 1 || rep.Stats.Failed != 0 || deals.sent["o1"] != "" || len(v.crm.recs) != 0 {
		t.Errorf("orders: %+v, sent %v, customers in the CRM %v; want O1 sent without a link", rep.Stats, deals.sent, v.crm.recs)
	}
	if items, err := v.st.OpenItems(ctx, store.OutboxFilter{}); err != nil || len(items) != 0 {
		t.Errorf("open items %+v (%v); want none", items, err)
	}
}
