package bridge

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/erpbridge/erpbridge/bridge/store"
	"github.com/erpbridge/erpbridge/erp"
)

// creditMapper maps a customer's limit onto the organization the
// customers stream made.
type creditMapper struct{}

func (creditMapper) Map(ctx context.Context, rec erp.Record, r Resolver) Mapped {
	id, err := r.Resolve(ctx, "customers", rec.Key)
	if errors.Is(err, ErrNoDependency) {
		return Mapped{Skip: true, SkipReason: "not in the CRM"}
	} else if err != nil {
		return Mapped{Retry: err}
	}
	limit := rec.Fields["name"].(string) // the fake ERP's one column
	return Mapped{Payload: Payload{"limit": limit, FacetOf: id}, Fingerprint: "fp:" + limit + "@" + id}
}

func (creditMapper) MapDeleted(context.Context, erp.Record, Resolver) Mapped {
	return Mapped{Skip: true, SkipReason: "deletes are ignored"}
}

// partTarget records the updates of the organizations' other fields.
type partTarget struct {
	fakeCRM
	updates map[string][]Payload // CRM id → payloads
}

func (t *partTarget) Update(_ context.Context, id string, p Payload) error {
	if _, ok := t.recs[id]; !ok {
		return ErrGone
	}
	t.updates[id] = append(t.updates[id], p)
	return nil
}

// TestFacetUpdatesAndNeverCreates: a facet stream writes its fields on the
// records the owning stream made (never its FacetOf key), creates none,
// costs nothing when unchanged, and leaves a record the owner skipped.
func TestFacetUpdatesAndNeverCreates(t *testing.T) {
	ctx := context.Background()
	customers := &fakeSrc{rows: map[string]*row{}}
	credit := &fakeSrc{rows: map[string]*row{}}
	orgs := &fakeCRM{recs: map[string]string{}}
	part := &partTarget{fakeCRM: fakeCRM{recs: orgs.recs}, updates: map[string][]Payload{}}
	st, err := store.Open(ctx, filepath.Join(t.TempDir(), "s.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	e, err := New(st, []*Stream{
		{Name: "customers", Source: customers, Mapper: &fakeMapper{}, Target: orgs, Mode: ModeUpsert, Deletes: DeletesIgnore},
		{Name: "credit", Source: credit, Mapper: creditMapper{}, Target: NewFacet(part, "organization.credit"),
			Mode: ModeUpdateOnly, Deletes: DeletesIgnore, DependsOn: []string{"customers"}},
	}, Options{Now: func() time.Time { return time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC) }})
	if err != nil {
		t.Fatal(err)
	}
	customers.set("A", "Acme", false)
	credit.set("A", "1000.00", false)
	credit.set("B", "5.00", false) // no customer B: not in the CRM
	sync := func() map[string]store.RunStats {
		t.Helper()
		reps, err := e.SyncAll(ctx, SyncOptions{})
		if err != nil {
			t.Fatal(err)
		}
		out := map[string]store.RunStats{}
		for _, r := range reps {
			out[r.Stream] = r.Stats
		}
		return out
	}
	first := sync()
	if len(orgs.recs) != 1 {
		t.Fatalf("organizations %v, want Acme alone (the facet creates none)", orgs.recs)
	}
	var acme string
	for id := range orgs.recs {
		acme = id
	}
	if got := part.updates[acme]; len(got) != 1 || got[0]["limit"] != "1000.00" || got[0][FacetOf] != nil {
		t.Fatalf("updates of %s: %v, want the limit alone", acme, got)
	}
	if c := first["credit"]; c.Updated != 1 || c.Created != 0 || c.Skipped != 1 {
		t.Errorf("credit: %+v, want A updated and B skipped", c)
	}
	if c := sync()["credit"]; c.Updated+c.Created != 0 {
		t.Errorf("an unchanged credit position was written again: %+v", c)
	}
	credit.set("A", "0.00", false)
	if c := sync()["credit"]; c.Updated != 1 {
		t.Errorf("a changed limit: %+v, want one update", c)
	}
	if got := part.updates[acme]; len(got) != 2 || got[1]["limit"] != "0.00" {
		t.Errorf("updates of %s: %v", acme, got)
	}
	id, ok, err := st.Identity(ctx, "organization.credit", "A")
	if err != nil || !ok || id.CRMID != acme {
		t.Errorf("the facet's identity of A: %+v %v %v, want %s", id, ok, err, acme)
	}
}
