package bridge

import (
	"context"
	"errors"
	"iter"
	"strconv"
	"testing"
	"time"

	"github.com/erpbridge/erpbridge/bridge/store"
	"github.com/erpbridge/erpbridge/erp"
)

// pagedSrc reads its full pass in pages of n rows; reading page failAt
// (counted over every pass) fails like a dropped connection.
type pagedSrc struct {
	*fakeSrc
	failAt, reads int
}

func (s *pagedSrc) FullPass(_ context.Context, after erp.Position, n int) iter.Seq2[erp.Page, error] {
	a, _ := strconv.ParseInt(string(after), 10, 64)
	return func(yield func(erp.Page, error) bool) {
		recs := s.sorted(a)
		for i := 0; i < len(recs); i += n {
			if s.reads++; s.reads == s.failAt {
				yield(erp.Page{}, errors.New("connection reset by peer"))
				return
			}
			pg := recs[i:min(i+n, len(recs))]
			if !yield(erp.Page{Records: pg, Next: erp.Position(strconv.FormatInt(pg[len(pg)-1].Recno, 10))}, nil) {
				return
			}
		}
	}
}

// A full pass cut by a failed read resumes after its last handled page,
// and then starts polling from where the ERP stood when the pass began.
func TestAnInterruptedFullPassResumes(t *testing.T) {
	ctx := context.Background()
	v := newEnv(t, DeletesIgnore)
	src := &pagedSrc{fakeSrc: v.src, failAt: 2}
	for i := 1; i <= 5; i++ {
		v.src.set("K"+strconv.Itoa(i), "n"+strconv.Itoa(i), false)
	}
	e, err := New(v.st, []*Stream{{Name: "customers", Source: src, Mapper: v.mapper, Target: v.crm,
		Mode: ModeUpsert, Deletes: DeletesIgnore}}, Options{PageSize: 2, Now: func() time.Time { return v.now }})
	if err != nil {
		t.Fatal(err)
	}

	rep, err := e.Sync(ctx, "customers", SyncOptions{})
	if err == nil || rep.Stats.Read != 2 {
		t.Fatalf("first pass: read %d, err %v; want 2 read, then the failed read", rep.Stats.Read, err)
	}
	if _, ok, _ := v.st.Cursor(ctx, "customers"); ok {
		t.Fatal("an interrupted full pass set the polling cursor")
	}

	v.src.set("K6", "n6", false) // added after the pass began
	rep, err = e.Sync(ctx, "customers", SyncOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Kind != store.RunFull || rep.Stats.Read != 4 || rep.Stats.Created != 4 {
		t.Errorf("second pass: %s, %+v; want a full pass reading and creating the 4 rows left", rep.Kind, rep.Stats)
	}
	if len(v.crm.recs) != 6 {
		t.Errorf("CRM holds %d records; want 6", len(v.crm.recs))
	}
	cur, _, err := v.st.Cursor(ctx, "customers")
	if err != nil {
		t.Fatal(err)
	}
	if cur.Position != "5" || cur.FullPassAt.IsZero() {
		t.Errorf("polling cursor = %q (full pass at %v); want the first pass's checkpoint 5, and a full pass time",
			cur.Position, cur.FullPassAt)
	}
	if prog, _, _ := v.st.Cursor(ctx, fullCursor("customers")); prog.Position != "" {
		t.Errorf("full-pass progress %q is kept after the pass", prog.Position)
	}
}
