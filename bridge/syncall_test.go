package bridge

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"strings"
	"testing"
	"time"

	"github.com/erpbridge/erpbridge/bridge/store"
	"github.com/erpbridge/erpbridge/erp"
)

// brokenSrc is an ERP table that cannot be read.
type brokenSrc struct{ *fakeSrc }

var errUnreadable = errors.New("reading SA1 page: connection refused")

func (brokenSrc) Changes(context.Context, erp.Position, int) iter.Seq2[erp.Page, error] {
	return func(yield func(erp.Page, error) bool) { yield(erp.Page{}, errUnreadable) }
}
func (s brokenSrc) FullPass(ctx context.Context, after erp.Position, n int) iter.Seq2[erp.Page, error] {
	return s.Changes(ctx, after, n)
}

// SyncAll runs every stream: one whose ERP table cannot be read does not
// stop the others, and the error it returns names the stream that failed
// (and its cause); a cancelled SyncAll says it was cancelled.
func TestSyncAllGoesOnAfterAFailedStreamAndNamesIt(t *testing.T) {
	v := newEnv(t, DeletesIgnore)
	products := &fakeSrc{rows: map[string]*row{}}
	productCRM := &fakeCRM{recs: map[string]string{}}
	var err error
	v.e, err = New(v.st, []*Stream{
		{Name: "customers", Source: brokenSrc{v.src}, Mapper: v.mapper, Target: v.crm, Mode: ModeUpsert, Deletes: DeletesIgnore},
		{Name: "products", Source: products, Mapper: v.mapper, Target: &productTarget{productCRM}, Mode: ModeUpsert, Deletes: DeletesIgnore},
	}, Options{Now: func() time.Time { return v.now }})
	if err != nil {
		t.Fatal(err)
	}
	products.set("P1", "widget", false)
	reps, err := v.e.SyncAll(context.Background(), SyncOptions{})
	if err == nil || !errors.Is(err, errUnreadable) || !strings.Contains(err.Error(), "syncing customers") {
		t.Errorf("SyncAll error %v; want it to name customers and the unreadable table", err)
	}
	if len(reps) != 2 || reps[1].Stream != "products" || reps[1].Stats.Created != 1 || len(productCRM.recs) != 1 {
		t.Errorf("reports %+v, products in the CRM %v; want products synced after customers failed", reps, productCRM.recs)
	}

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := v.e.SyncAll(ctx, SyncOptions{}); !errors.Is(err, context.Canceled) {
		t.Errorf("a cancelled SyncAll returned %v; want context.Canceled", err)
	}
}

// productTarget is a CRM entity other than organizations.
type productTarget struct{ *fakeCRM }

func (productTarget) Entity() string { return "product" }

// refusingCRM refuses the integration (a revoked token) on every write.
type refusingCRM struct{ *fakeCRM }

func (refusingCRM) Update(context.Context, string, Payload) error {
	return fmt.Errorf("%w: HTTP 401", ErrFatal)
}

// A refused token met while the run retries an earlier failed write (the
// outbox drain, before any ERP page) stops the run with that error: the
// sync fails, saying so, and the write stays due.
func TestARefusalDuringTheRetriesFailsTheRun(t *testing.T) {
	v := newEnv(t, DeletesIgnore)
	v.src.set("K", "acme", false)
	v.sync()
	v.src.set("K", "acme renamed", false)
	v.crm.failUp = 1
	if rep := v.sync(); rep.Stats.Failed != 1 {
		t.Fatalf("the update's first try: %+v; want it failed", rep.Stats)
	}
	v.now = v.now.Add(6 * time.Hour) // the failed write is due
	v.e.streams["customers"].Target = refusingCRM{v.crm}
	_, err := v.e.Sync(context.Background(), "customers", SyncOptions{})
	if !errors.Is(err, ErrFatal) {
		t.Fatalf("Sync = %v; want the refusal met while retrying", err)
	}
	if it := onlyItem(t, v.st); it.State == store.StateDone || v.crm.recs["crm1"] != "acme" {
		t.Errorf("outbox %+v, CRM %v; want the write still open and the CRM unchanged", it, v.crm.recs)
	}
}
