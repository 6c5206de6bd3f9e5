package bridge

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/erpbridge/erpbridge/bridge/store"
	"github.com/erpbridge/erpbridge/erp"
)

// chainMapper links each record of its stream to the record with the same
// key in the next stream (none for the last).
type chainMapper struct {
	fakeMapper
	next string
}

func (m *chainMapper) Map(ctx context.Context, rec erp.Record, r Resolver) Mapped {
	link := ""
	if m.next != "" {
		id, err := r.Resolve(ctx, m.next, rec.Key)
		if err != nil {
			return Mapped{Retry: err}
		}
		link = id
	}
	n := rec.Fields["name"].(string)
	return Mapped{Payload: Payload{"name": n, "deps": link}, Fingerprint: "fp:" + n + ":" + link}
}

// entityCRM is a fakeCRM of its own entity.
type entityCRM struct {
	fakeCRM
	entity string
}

func (t *entityCRM) Entity() string { return t.entity }

// Dependencies are synced on demand up to three levels deep; a record
// whose dependency chain goes deeper waits, saying so, instead of
// recursing without end.
func TestOnDemandDependenciesNestThreeDeep(t *testing.T) {
	for _, tc := range []struct {
		streams int
		deep    bool
	}{{4, false}, {5, true}} {
		t.Run(fmt.Sprint(tc.streams, " streams"), func(t *testing.T) {
			ctx := context.Background()
			v := newEnv(t, DeletesIgnore)
			var streams []*Stream
			crms := make([]*entityCRM, tc.streams)
			for i := range tc.streams {
				src := &fakeSrc{rows: map[string]*row{}}
				src.set("K", fmt.Sprint("n", i), false)
				next := ""
				if i+1 < tc.streams {
					next = fmt.Sprint("s", i+1)
				}
				crms[i] = &entityCRM{fakeCRM: fakeCRM{recs: map[string]string{}}, entity: fmt.Sprint("e", i)}
				var deps []string
				if next != "" {
					deps = []string{next}
				}
				streams = append(streams, &Stream{Name: fmt.Sprint("s", i), Source: src, Mapper: &chainMapper{next: next},
					Target: crms[i], Mode: ModeUpsert, Deletes: DeletesIgnore, DependsOn: deps})
			}
			var err error
			if v.e, err = New(v.st, streams, Options{Now: func() time.Time { return v.now }}); err != nil {
				t.Fatal(err)
			}
			rep, err := v.e.Sync(ctx, "s0", SyncOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if !tc.deep {
				for i, c := range crms {
					if len(c.recs) != 1 {
						t.Errorf("stream s%d: CRM %v; want its record synced (on demand)", i, c.recs)
					}
				}
				return
			}
			waiting := map[string]string{}
			items, err := v.st.OpenItems(ctx, store.OutboxFilter{})
			if err != nil {
				t.Fatal(err)
			}
			for _, it := range items {
				waiting[it.Stream] = it.LastError
			}
			if rep.Stats.Failed != 1 || !strings.Contains(waiting["s3"], "s4 K: dependencies nested too deep") ||
				!strings.Contains(waiting["s0"], "s1 K could not be synced") || len(crms[4].recs) != 0 || len(crms[0].recs) != 0 {
				t.Errorf("s0: %+v, waiting %q, s4's CRM %v; want s3's record waiting on s4, nested too deep, and s0's on s1",
					rep.Stats, waiting, crms[4].recs)
			}
		})
	}
}
