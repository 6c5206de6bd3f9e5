package store

import (
	"context"
	"testing"
)

// TestSentIsForgottenWithTheFingerprints: what a target recorded it sent
// is kept per record, replaced, forgotten on request, and forgotten for a
// whole entity (only that one) by a resync.
func TestSentIsForgottenWithTheFingerprints(t *testing.T) {
	s, _ := openTest(t)
	ctx := context.Background()
	set := func(entity, id, v string) {
		t.Helper()
		if err := s.SetSent(ctx, entity, id, v); err != nil {
			t.Fatal(err)
		}
	}
	get := func(entity, id string) (string, bool) {
		t.Helper()
		v, ok, err := s.Sent(ctx, entity, id)
		if err != nil {
			t.Fatal(err)
		}
		return v, ok
	}
	set("deal", "d1", `{"l":"a"}`)
	set("deal", "d1", `{"l":"b"}`)
	set("deal", "d2", `{"l":"c"}`)
	set("deals", "x", "other entity, same prefix")
	set("organization", "o1", "kept")
	if v, ok := get("deal", "d1"); !ok || v != `{"l":"b"}` {
		t.Fatalf("Sent(deal d1) = %q %v, want the last one", v, ok)
	}
	set("deal", "d2", "")
	if _, ok := get("deal", "d2"); ok {
		t.Fatal("an empty state did not forget d2")
	}
	if _, err := s.ForgetFingerprints(ctx, "deal"); err != nil {
		t.Fatal(err)
	}
	if _, ok := get("deal", "d1"); ok {
		t.Error("a resync of deals kept what was sent to d1")
	}
	for _, k := range [][2]string{{"deals", "x"}, {"organization", "o1"}} {
		if _, ok := get(k[0], k[1]); !ok {
			t.Errorf("a resync of deals forgot %s %s", k[0], k[1])
		}
	}
	if _, err := s.ForgetCRM(ctx); err != nil {
		t.Fatal(err)
	}
	if _, ok := get("organization", "o1"); ok {
		t.Error("ForgetCRM kept what was sent")
	}
}
