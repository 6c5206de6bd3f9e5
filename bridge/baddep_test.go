package bridge

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/erpbridge/erpbridge/bridge/store"
	"github.com/erpbridge/erpbridge/erp"
)

// badDataMapper refuses the customer records named in bad (bad ERP data).
type badDataMapper struct {
	fakeMapper
	bad map[string]bool
}

func (m *badDataMapper) Map(ctx context.Context, rec erp.Record, r Resolver) Mapped {
	if m.bad[rec.Key] {
		return Mapped{Errors: []error{fmt.Errorf("customer %s: field A1_CGC: not a valid CNPJ", rec.Key)}}
	}
	return m.fakeMapper.Map(ctx, rec, r)
}

// A record whose dependency has bad ERP data waits on it (level skip,
// pointing at the dependency's own entry), and one whose dependency could
// not be synced for another reason (the CRM failed) is retried.
func TestARecordWaitsOnItsDependencysBadData(t *testing.T) {
	ctx := context.Background()
	v := newEnv(t, DeletesIgnore)
	v.mapper = nil
	orders, _ := v.withOrders(&optionalDepMapper{}, v.crm)
	v.e.streams["customers"].Mapper = &badDataMapper{bad: map[string]bool{"C1": true}}
	v.src.set("C1", "acme", false)
	orders.set("O1", "o1", false)
	if _, err := v.e.Sync(ctx, "orders", SyncOptions{}); err != nil {
		t.Fatal(err)
	}
	items, err := v.st.OpenItems(ctx, store.OutboxFilter{Stream: "orders"})
	if err != nil {
		t.Fatal(err)
	}
	if len(items) != 1 || items[0].State != store.StateParked || items[0].Level != store.LevelSkip ||
		items[0].WaitsOnKey != "C1" || !strings.Contains(items[0].LastError, "see its own entry") {
		t.Fatalf("O1 waits as %+v; want parked at level skip, waiting on C1", items)
	}

	// Fixed in the ERP; now the CRM fails the customer's create.
	v.e.streams["customers"].Mapper = &fakeMapper{}
	v.src.set("C1", "acme", false)
	orders.set("O2", "o2", false)
	v.crm.failUp = 1
	if _, err := v.e.Sync(ctx, "orders", SyncOptions{}); err != nil {
		t.Fatal(err)
	}
	o2, _ := v.st.OpenItems(ctx, store.OutboxFilter{Stream: "orders", ERPKey: "O2"})
	if len(o2) != 1 || o2[0].State != store.StateFailed || o2[0].Level != store.LevelError ||
		!strings.Contains(o2[0].LastError, "could not be synced") {
		t.Errorf("O2 waits as %+v; want failed at level error, to be retried", o2)
	}
}

// A record refused for its own bad ERP data counts as failed in the run
// that finds it, and as skipped (not failed again) in a run that finds it
// unchanged; it is listed once, naming the field.
func TestARefusedRecordCountsFailedOnceThenSkipped(t *testing.T) {
	v := newEnv(t, DeletesIgnore)
	v.e.streams["customers"].Mapper = &badDataMapper{bad: map[string]bool{"C1": true}}
	v.src.set("C1", "acme", false)
	if rep := v.sync(); rep.Stats.Failed != 1 || rep.Stats.Skipped != 0 || rep.Stats.Created != 0 {
		t.Fatalf("first run: %+v; want the record counted failed once", rep.Stats)
	}
	if it := onlyItem(t, v.st); it.State != store.StateParked || !strings.Contains(it.LastError, "A1_CGC") {
		t.Fatalf("listed as %+v; want parked, naming A1_CGC", it)
	}
	v.src.set("C1", "acme", false) // read again, as it was
	if rep := v.sync(); rep.Stats.Failed != 0 || rep.Stats.Skipped != 1 {
		t.Errorf("a run finding it unchanged: %+v; want it skipped, not failed again", rep.Stats)
	}
}
