package bridge

import (
	"context"
	"errors"
	"iter"
	"strings"
	"testing"
	"time"

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
