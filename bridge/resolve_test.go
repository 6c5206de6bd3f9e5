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

// dealCRM is a CRM entity other than the dependencies' one, recording the
// dependency ids each record was sent with.
type dealCRM struct {
	fakeCRM
	sent map[string]string // record name -> "deps" as last sent
}

func (t *dealCRM) Entity() string { return "deal" }
func (t *dealCRM) Create(ctx context.Context, p Payload) (string, error) {
	t.sent[p["name"].(string)] = p["deps"].(string)
	return t.fakeCRM.Create(ctx, p)
}
func (t *dealCRM) Update(ctx context.Context, id string, p Payload) error {
	t.sent[p["name"].(string)] = p["deps"].(string)
	return t.fakeCRM.Update(ctx, id, p)
}

// depMapper links every record to the "customers" records in deps.
type depMapper struct {
	fakeMapper
	deps   []string
	before func(key string) // called before a record is mapped
}

func (m *depMapper) Map(ctx context.Context, rec erp.Record, r Resolver) Mapped {
	if m.before != nil {
		m.before(rec.Key)
	}
	ids := make([]string, len(m.deps))
	for i, d := range m.deps {
		id, err := r.Resolve(ctx, "customers", d)
		if err != nil {
			return Mapped{Retry: err}
		}
		ids[i] = id
	}
	n := rec.Fields["name"].(string)
	deps := strings.Join(ids, ",")
	return Mapped{Payload: Payload{"name": n, "deps": deps}, Fingerprint: "fp:" + n + ":" + deps}
}

// withOrders rebuilds v's engine with a second stream, "orders", mapped by
// m to deal records, after v's customers (sent to customers).
func (v *env) withOrders(m Mapper, customers Target) (*fakeSrc, *dealCRM) {
	v.t.Helper()
	orders := &fakeSrc{rows: map[string]*row{}}
	deals := &dealCRM{fakeCRM: fakeCRM{recs: map[string]string{}}, sent: map[string]string{}}
	var err error
	v.e, err = New(v.st, []*Stream{
		{Name: "customers", Source: v.src, Mapper: v.mapper, Target: customers, Mode: ModeUpsert, Deletes: DeletesIgnore},
		{Name: "orders", Source: orders, Mapper: m, Target: deals, Mode: ModeUpsert, Deletes: DeletesIgnore,
			DependsOn: []string{"customers"}},
	}, Options{Now: func() time.Time { return v.now }})
	if err != nil {
		v.t.Fatal(err)
	}
	return orders, deals
}

// The records of one page that link to the same records of another stream
// read each one's CRM id once: a dependency synced on demand by the first
// is not synced again for the next, and an id is read afresh on the next
// page.
func TestResolveReadsADependencyOncePerPage(t *testing.T) {
	ctx := context.Background()
	v := newEnv(t, DeletesIgnore)
	v.src.set("C1", "acme", false)
	v.sync() // C1 is crm1; C2 is synced on demand below
	v.src.set("C2", "globex", false)

	m := &depMapper{deps: []string{"C1", "C2"}}
	orders, deals := v.withOrders(m, v.crm)
	moveC1 := func(crmID string) {
		if err := v.st.Update(ctx, func(tx *store.Tx) error {
			return tx.PutIdentity(store.Identity{Entity: "organization", ERPKey: "C1", CRMID: crmID, Fingerprint: "fp:acme"})
		}); err != nil {
			t.Fatal(err)
		}
	}
	// C1's identity changes between the two records of the page: the
	// engine never does this itself, so it shows which look-ups were made.
	m.before = func(key string) {
		if key == "O2" {
			moveC1("crm-moved")
		}
	}
	orders.set("O1", "o1", false)
	orders.set("O2", "o2", false)
	if _, err := v.e.Sync(ctx, "orders", SyncOptions{}); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"o1": "crm1,crm2", "o2": "crm1,crm2"}
	if fmt.Sprint(deals.sent) != fmt.Sprint(want) {
		t.Errorf("first page sent %v; want %v", deals.sent, want)
	}
	if len(v.crm.recs) != 2 {
		t.Errorf("customers in the CRM = %v; want C1 and C2 once each", v.crm.recs)
	}

	m.before = nil
	orders.set("O3", "o3", false)
	if _, err := v.e.Sync(ctx, "orders", SyncOptions{}); err != nil {
		t.Fatal(err)
	}
	if got := deals.sent["o3"]; got != "crm-moved,crm2" {
		t.Errorf("next page sent deps %q; want the id as stored now, crm-moved,crm2", got)
	}
}

// A CRM that refuses the integration while a dependency is synced on demand
// stops the run: the record is not deferred, and the next record does not
// try again.
func TestAFatalErrorSyncingADependencyStopsTheRun(t *testing.T) {
	ctx := context.Background()
	v := newEnv(t, DeletesIgnore)
	v.src.set("C1", "acme", false) // not synced yet
	crm := &fatalCRM{fakeCRM: fakeCRM{recs: map[string]string{}}, fatalAt: 1}
	orders, deals := v.withOrders(&depMapper{deps: []string{"C1"}}, crm)
	orders.set("O1", "o1", false)
	orders.set("O2", "o2", false)

	_, err := v.e.Sync(ctx, "orders", SyncOptions{})
	if !errors.Is(err, ErrFatal) {
		t.Fatalf("sync error = %v; want the CRM's refusal", err)
	}
	if crm.calls != 1 || len(deals.sent) != 0 {
		t.Errorf("%d customer creates, deals sent %v; want the run stopped at the first refusal", crm.calls, deals.sent)
	}
	items, err := v.st.OpenItems(ctx, store.OutboxFilter{Stream: "orders"})
	if err != nil {
		t.Fatal(err)
	}
	if len(items) != 0 {
		t.Errorf("orders deferred: %+v; want none (the poll replays them)", items)
	}
}
