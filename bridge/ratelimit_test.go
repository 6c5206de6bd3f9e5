package bridge

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/erpbridge/erpbridge/bridge/store"
)

// limitedCRM answers its next limited writes with a 429, then its next
// failing writes with a 500, then as fakeCRM does.
type limitedCRM struct {
	fakeCRM
	limited, failing int
	writes           int // every Create or Update that reached it
}

func (t *limitedCRM) refuse() error {
	t.writes++
	switch {
	case t.limited > 0:
		t.limited--
		return fmt.Errorf("%w: HTTP 429, retry after 60s", ErrRateLimited)
	case t.failing > 0:
		t.failing--
		return errors.New("HTTP 500")
	}
	return nil
}

func (t *limitedCRM) Create(ctx context.Context, p Payload) (string, error) {
	if err := t.refuse(); err != nil {
		return "", err
	}
	return t.fakeCRM.Create(ctx, p)
}

func (t *limitedCRM) Update(ctx context.Context, id string, p Payload) error {
	if err := t.refuse(); err != nil {
		return err
	}
	return t.fakeCRM.Update(ctx, id, p)
}

// A 429 never costs an attempt: a record that meets more 429s than the
// attempt limit is never parked nor listed as an error, waits for the
// budget between tries, and goes out once the budget allows — even when an
// ordinary failure comes on top of the 429s.
func TestRateLimitedWritesNeverUseUpAttempts(t *testing.T) {
	for _, tc := range []struct {
		name      string
		op        store.Op
		extra500s int // ordinary failures after the 429s
	}{
		{"a create meets only 429s", store.OpCreate, 0},
		{"a create meets 429s, then a 500", store.OpCreate, 1},
		{"an update meets only 429s", store.OpUpdate, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			v := newEnv(t, DeletesIgnore)
			crm := &limitedCRM{fakeCRM: fakeCRM{recs: map[string]string{}}}
			v.e.streams["customers"].Target = crm
			const maxAttempts = 10 // Options.MaxAttempts' default
			v.src.set("K", "acme", false)
			if tc.op == store.OpUpdate {
				v.sync()
				v.src.set("K", "acme renamed", false)
			}
			crm.limited, crm.failing = maxAttempts+3, tc.extra500s

			for try := 1; try <= maxAttempts+3; try++ {
				rep := v.sync()
				if rep.Stats.Failed != 0 {
					t.Fatalf("429 #%d counted as a failed record: %+v", try, rep.Stats)
				}
				it := onlyItem(t, v.st)
				if it.State != store.StatePending || it.Attempts != 0 {
					t.Fatalf("after 429 #%d the write is %s with %d attempts; want pending with none", try, it.State, it.Attempts)
				}
				if want := v.now.Add(time.Minute); !it.NextAttemptAt.Equal(want) {
					t.Fatalf("after 429 #%d the write is due at %v; want a budget delay later, %v", try, it.NextAttemptAt, want)
				}
				if errs, err := v.st.Errors(ctx, store.OutboxFilter{}); err != nil || len(errs) != 0 {
					t.Fatalf("after 429 #%d erpbridge errors lists %+v (%v); want nothing", try, errs, err)
				}
				// The budget is spent: a run before the delay sends nothing.
				writes := crm.writes
				v.now = v.now.Add(30 * time.Second)
				v.sync()
				if crm.writes != writes {
					t.Fatalf("a run within the budget delay after 429 #%d sent the write again", try)
				}
				v.now = v.now.Add(30 * time.Second)
			}
			for range tc.extra500s {
				v.sync()
				it := onlyItem(t, v.st)
				if it.State != store.StateFailed || it.Attempts != 1 {
					t.Fatalf("after a 500 on top of the 429s the write is %s with %d attempts; want failed with 1 (not parked)",
						it.State, it.Attempts)
				}
				v.now = it.NextAttemptAt
			}
			rep := v.sync()
			if rep.Stats.Created+rep.Stats.Updated != 1 {
				t.Errorf("the run after the budget came back: %+v; want the record sent", rep.Stats)
			}
			if items, err := v.st.OpenItems(ctx, store.OutboxFilter{}); err != nil || len(items) != 0 {
				t.Errorf("open outbox items after the record went out: %+v (%v)", items, err)
			}
			want := "acme"
			if tc.op == store.OpUpdate {
				want = "acme renamed"
			}
			if len(crm.recs) != 1 || crm.recs["crm1"] != want {
				t.Errorf("the CRM holds %v; want crm1 = %q alone", crm.recs, want)
			}
		})
	}
}

// onlyItem returns the store's one open outbox item.
func onlyItem(t *testing.T, st *store.Store) store.OutboxItem {
	t.Helper()
	items, err := st.OpenItems(context.Background(), store.OutboxFilter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(items) != 1 {
		t.Fatalf("%d open outbox items, want 1: %+v", len(items), items)
	}
	return items[0]
}
