package bridge

import (
	"context"
	"fmt"
	"testing"

	"github.com/erpbridge/erpbridge/bridge/store"
)

// Two live rows with one key in one page (a table whose unique key is not
// enforced, a route that lists a record twice): the second row is decided
// from what the first one's write left, not from the page's stale snapshot
// — one CRM record, updated (upsert) or left alone (create_only).
func TestTwoRowsOfOneKeyInAPageMakeOneRecord(t *testing.T) {
	for _, tc := range []struct {
		mode  Mode
		want  string
		stats store.RunStats
	}{
		{ModeUpsert, "map[crm1:acme2]", store.RunStats{Read: 2, Created: 1, Updated: 1}},
		{ModeCreateOnly, "map[crm1:acme]", store.RunStats{Read: 2, Created: 1, Unchanged: 1}},
	} {
		t.Run(string(tc.mode), func(t *testing.T) {
			ctx := context.Background()
			v := newEnv(t, DeletesIgnore)
			src := &dupSrc{fakeSrc{rows: map[string]*row{}}}
			src.set("K", "acme2", false)
			v.e.streams["customers"].Source = src
			v.e.streams["customers"].Mode = tc.mode
			rep, err := v.e.Sync(ctx, "customers", SyncOptions{Full: true})
			if err != nil {
				t.Fatal(err)
			}
			if rep.Stats != tc.stats {
				t.Errorf("stats %+v; want %+v", rep.Stats, tc.stats)
			}
			if got := fmt.Sprint(v.crm.recs); got != tc.want {
				t.Errorf("CRM records %s; want %s", got, tc.want)
			}
			if id, ok, err := v.st.Identity(ctx, "organization", "K"); err != nil || !ok || id.CRMID != "crm1" {
				t.Errorf("identity of K = %+v, %v, %v; want crm1", id, ok, err)
			}
			if items, err := v.st.OpenItems(ctx, store.OutboxFilter{}); err != nil || len(items) != 0 {
				t.Errorf("open outbox items %+v (%v); want none", items, err)
			}
		})
	}
}
