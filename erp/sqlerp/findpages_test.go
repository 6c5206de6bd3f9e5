package sqlerp_test

import (
	"context"
	"slices"
	"testing"

	"github.com/erpbridge/erpbridge/erp"
	"github.com/erpbridge/erpbridge/erp/protheus"
	"github.com/erpbridge/erpbridge/erp/protheus/fixture"
	"github.com/erpbridge/erpbridge/erp/sqlerp"
)

// TestFindPages reads the 120 items of the fixture's large order page by
// page: every row once, in record order, no page over its size, the same
// rows one Find reads.
func TestFindPages(t *testing.T) {
	fx, ex := fixture.NewSQLite(t, fixture.Options{})
	exerciseFindPages(t, fx, sqlerp.SQLite{}, ex)
}

func TestFindPagesPostgresIntegration(t *testing.T) {
	fx, _ := fixture.NewPostgres(t)
	ex, err := fx.Load(context.Background(), fixture.Options{})
	if err != nil {
		t.Fatal(err)
	}
	exerciseFindPages(t, fx, sqlerp.Postgres{}, ex)
}

func exerciseFindPages(t *testing.T, fx fixture.ERP, d sqlerp.Dialect, ex fixture.Expect) {
	src := newSource(t, fx, d, protheus.OrderItems, fixture.OrderFilial)
	num := erp.SplitKey(ex.LargeOrderKey)[1]
	all, err := src.Find(context.Background(), protheus.ItemsOf(num), 1000)
	if err != nil || len(all) != ex.LargeOrderItems {
		t.Fatalf("Find: %d rows, %v; want %d", len(all), err, ex.LargeOrderItems)
	}
	var got []int64
	for recs, err := range src.FindPages(context.Background(), protheus.ItemsOf(num), 25) {
		if err != nil {
			t.Fatal(err)
		}
		if len(recs) > 25 {
			t.Fatalf("a page of %d rows, page size 25", len(recs))
		}
		for _, r := range recs {
			got = append(got, r.Recno)
		}
	}
	want := make([]int64, len(all))
	for i, r := range all {
		want[i] = r.Recno
	}
	if !slices.Equal(got, want) {
		t.Errorf("FindPages read records %v, want %v", got, want)
	}
}
