package bridge

import (
	"context"
	"fmt"
	"slices"
	"testing"
)

// countingCRM counts the calls that reach the CRM.
type countingCRM struct {
	fakeCRM
	calls []string
}

func (t *countingCRM) Find(ctx context.Context, p Payload, live bool) (string, bool, error) {
	t.calls = append(t.calls, fmt.Sprint("find ", p["name"]))
	return t.fakeCRM.Find(ctx, p, live)
}

func (t *countingCRM) Create(ctx context.Context, p Payload) (string, error) {
	t.calls = append(t.calls, fmt.Sprint("create ", p["name"]))
	return t.fakeCRM.Create(ctx, p)
}

func (t *countingCRM) Update(ctx context.Context, id string, p Payload) error {
	t.calls = append(t.calls, fmt.Sprint("update ", id, " ", p["name"]))
	return t.fakeCRM.Update(ctx, id, p)
}

// The fingerprint decides what is sent: a record read again unchanged (its
// stamp moved, its payload did not, as invoicing does to SA1 all day) costs
// no CRM call, a changed one costs exactly its update, and a forgotten
// fingerprint (erpbridge resync) sends the record again.
func TestTheFingerprintDecidesWhatIsSent(t *testing.T) {
	ctx := context.Background()
	v := newEnv(t, DeletesIgnore)
	crm := &countingCRM{fakeCRM: fakeCRM{recs: map[string]string{}}}
	v.e.streams["customers"].Target = crm
	v.src.set("K1", "acme", false)
	v.src.set("K2", "globex", false)
	v.src.set("K3", "initech", false)
	if rep := v.sync(); rep.Stats.Created != 3 {
		t.Fatalf("first sync: %+v; want 3 created", rep.Stats)
	}
	ids := map[string]string{}
	for id, name := range crm.recs {
		ids[name] = id
	}

	steps := []struct {
		name  string
		act   func()
		full  bool
		read  int64
		unch  int64
		upd   int64
		calls []string // sorted
	}{
		{"K1 touched, K2 renamed: the poll sends K2 alone", func() {
			v.src.set("K1", "acme", false)
			v.src.set("K2", "globex 2", false)
		}, false, 2, 1, 1, []string{"update " + ids["globex"] + " globex 2"}},
		{"a full pass over an unchanged ERP costs nothing", func() {}, true, 3, 3, 0, nil},
		{"after resync every record is sent again", func() {
			if _, err := v.e.Resync(ctx, "customers"); err != nil {
				t.Fatal(err)
			}
		}, true, 3, 0, 3, []string{"update " + ids["acme"] + " acme", "update " + ids["globex"] + " globex 2",
			"update " + ids["initech"] + " initech"}},
		{"and then costs nothing again", func() {}, true, 3, 3, 0, nil},
	}
	for _, s := range steps {
		s.act()
		crm.calls = nil
		rep, err := v.e.Sync(ctx, "customers", SyncOptions{Full: s.full})
		if err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
		st := rep.Stats
		if st.Read != s.read || st.Unchanged != s.unch || st.Updated != s.upd || st.Created != 0 {
			t.Errorf("%s: %+v; want %d read, %d unchanged, %d updated", s.name, st, s.read, s.unch, s.upd)
		}
		slices.Sort(crm.calls)
		if fmt.Sprint(crm.calls) != fmt.Sprint(s.calls) {
			t.Errorf("%s: CRM calls %q; want %q", s.name, crm.calls, s.calls)
		}
	}
	if want := map[string]string{ids["acme"]: "acme", ids["globex"]: "globex 2", ids["initech"]: "initech"}; fmt.Sprint(crm.recs) != fmt.Sprint(want) {
		t.Errorf("the CRM holds %v; want %v", crm.recs, want)
	}
}
