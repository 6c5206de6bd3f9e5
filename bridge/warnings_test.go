package bridge

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/erpbridge/erpbridge/bridge/store"
	"github.com/erpbridge/erpbridge/erp"
)

// warnMapper leaves out a "phone" it finds invalid (a name with '!'): the
// record goes out without it, with a warning.
type warnMapper struct{ fakeMapper }

func (m *warnMapper) Map(ctx context.Context, rec erp.Record, r Resolver) Mapped {
	if n := rec.Fields["name"].(string); strings.HasPrefix(n, "orphan") {
		why := errors.New("customer " + rec.Key + ": linked to nothing")
		return Mapped{Skip: true, SkipReason: why.Error(), Warnings: []error{why}}
	}
	out := m.fakeMapper.Map(ctx, rec, r)
	if n := rec.Fields["name"].(string); strings.Contains(n, "!") {
		out.Warnings = []error{errors.New("customer " + rec.Key + ": field phone: \"!\" is not a phone")}
	}
	return out
}

// A record sent without an invalid field is synced, not failed; its warning
// is listed once however often it is read, and cleared when the field is
// fixed in the ERP (or the record is deleted there).
func TestWarningsAreListedOnceAndClearedWhenFixed(t *testing.T) {
	v := newEnv(t, DeletesIgnore)
	wm := &warnMapper{}
	v.e.streams["customers"].Mapper = wm
	ctx := context.Background()
	warnings := func() []store.Warning {
		t.Helper()
		ws, err := v.st.Warnings(ctx, store.OutboxFilter{})
		if err != nil {
			t.Fatal(err)
		}
		return ws
	}
	v.src.set("A", "acme!", false)
	v.src.set("B", "beta", false)
	rep := v.sync()
	if rep.Stats.Created != 2 || rep.Stats.Failed != 0 || rep.Warned != 1 {
		t.Fatalf("first sync: %+v, warned %d; want 2 created, none failed, 1 warned", rep.Stats, rep.Warned)
	}
	ws := warnings()
	if len(ws) != 1 || ws[0].ERPKey != "A" || ws[0].Kind != store.WarningFields || !strings.Contains(ws[0].Text, "phone") || ws[0].Stream != "customers" {
		t.Fatalf("warnings = %+v, want one fields warning of A naming the phone", ws)
	}
	first := ws[0].UpdatedAt

	// Read again (a full pass): unchanged, still one warning, untouched.
	v.now = v.now.Add(1)
	if _, err := v.e.Sync(ctx, "customers", SyncOptions{Full: true}); err != nil {
		t.Fatal(err)
	}
	if ws := warnings(); len(ws) != 1 || !ws[0].UpdatedAt.Equal(first) {
		t.Fatalf("after a full pass: %+v, want the same one warning", ws)
	}

	v.src.set("A", "acme", false) // fixed in the ERP
	if rep := v.sync(); rep.Stats.Updated != 1 || rep.Warned != 0 {
		t.Fatalf("after the fix: %+v, warned %d", rep.Stats, rep.Warned)
	}
	if ws := warnings(); len(ws) != 0 {
		t.Fatalf("after the fix: warnings %+v, want none", ws)
	}

	v.src.set("B", "beta!", false)
	v.sync()
	v.src.set("B", "beta!", true) // deleted in the ERP: nothing of it is listed any more
	v.sync()
	if ws := warnings(); len(ws) != 0 {
		t.Fatalf("after the delete: warnings %+v, want none", ws)
	}
}

// A record skipped on purpose with a warning is listed (not synced, and
// why) until it is sent; it is a skip, not a failure.
func TestAListedSkip(t *testing.T) {
	v := newEnv(t, DeletesIgnore)
	v.e.streams["customers"].Mapper = &warnMapper{}
	v.src.set("A", "orphan", false)
	rep := v.sync()
	ws, err := v.st.Warnings(context.Background(), store.OutboxFilter{})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Stats.Skipped != 1 || rep.Stats.Failed != 0 || len(ws) != 1 || !strings.HasPrefix(ws[0].Text, "not synced: customer A: linked to nothing") {
		t.Fatalf("stats %+v, warnings %+v; want 1 skipped and listed as not synced, with why", rep.Stats, ws)
	}
	v.src.set("A", "acme", false)
	if rep := v.sync(); rep.Stats.Created != 1 {
		t.Fatalf("after the fix: %+v", rep.Stats)
	}
	if ws, _ := v.st.Warnings(context.Background(), store.OutboxFilter{}); len(ws) != 0 {
		t.Fatalf("after the fix: warnings %+v, want none", ws)
	}
}
