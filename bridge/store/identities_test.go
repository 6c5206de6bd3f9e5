package store

import (
	"context"
	"fmt"
	"sort"
	"testing"
	"time"
)

func seedIdentities(t testing.TB, s *Store, entity string, n int) {
	t.Helper()
	update(t, s, func(tx *Tx) error {
		for i := range n {
			key := fmt.Sprintf("%06d", i)
			if err := tx.PutIdentity(Identity{Entity: entity, ERPKey: key, CRMID: "crm-" + key, Fingerprint: "fp-" + key}); err != nil {
				return err
			}
		}
		return nil
	})
}

func TestIdentitiesBatchLookup(t *testing.T) {
	ctx := context.Background()
	s, _ := openTest(t)
	seedIdentities(t, s, "organization", 1500)
	seedIdentities(t, s, "product", 10)

	many := make([]string, 0, 1300)
	for i := 200; i < 1500; i++ {
		many = append(many, fmt.Sprintf("%06d", i))
	}
	tests := []struct {
		name   string
		entity string
		keys   []string
		want   []string
	}{
		{"no keys", "organization", nil, nil},
		{"all present", "organization", []string{"000001", "000002"}, []string{"000001", "000002"}},
		{"some missing", "organization", []string{"000003", "999999", "x"}, []string{"000003"}},
		{"duplicates", "organization", []string{"000004", "000004"}, []string{"000004"}},
		{"other entity's keys do not leak", "product", []string{"000005", "000011"}, []string{"000005"}},
		{"keys with quotes and unicode", "organization", []string{`a"b`, "ção'"}, nil},
		{"a page of 1,300", "organization", many, many},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := s.Identities(ctx, tt.entity, tt.keys)
			if err != nil {
				t.Fatal(err)
			}
			var keys []string
			for k, id := range got {
				if id.ERPKey != k || id.Entity != tt.entity || id.CRMID != "crm-"+k || id.Fingerprint != "fp-"+k {
					t.Errorf("identity %q = %+v", k, id)
				}
				keys = append(keys, k)
			}
			sort.Strings(keys)
			if fmt.Sprint(keys) != fmt.Sprint(tt.want) && !(len(keys) == 0 && len(tt.want) == 0) {
				t.Errorf("found %d keys %v…, want %d", len(keys), head(keys), len(tt.want))
			}
		})
	}
}

func head(s []string) []string {
	if len(s) > 5 {
		return s[:5]
	}
	return s
}

func TestIdentityLookups(t *testing.T) {
	ctx := context.Background()
	s, clk := openTest(t)
	update(t, s, func(tx *Tx) error {
		if err := tx.PutIdentity(Identity{Entity: "contact", ERPKey: "C1", CRMID: "crm-c1", Fingerprint: "f", SyncedAt: clk.Now()}); err != nil {
			return err
		}
		// adopted record: CRM id known, never synced by us
		return tx.PutIdentity(Identity{Entity: "contact", ERPKey: "C2", CRMID: "crm-c2"})
	})

	if id, ok, err := s.IdentityByCRMID(ctx, "contact", "crm-c2"); err != nil || !ok || id.ERPKey != "C2" {
		t.Errorf("IdentityByCRMID = %+v, %v, %v", id, ok, err)
	}
	if _, ok, err := s.IdentityByCRMID(ctx, "organization", "crm-c2"); err != nil || ok {
		t.Errorf("IdentityByCRMID in another entity found %v, %v", ok, err)
	}
	if _, ok, err := s.Identity(ctx, "contact", "nope"); err != nil || ok {
		t.Errorf("Identity(missing) = %v, %v", ok, err)
	}

	// An empty CRM id in PutIdentity keeps the known one; MarkDeleted keeps it too.
	update(t, s, func(tx *Tx) error {
		if err := tx.PutIdentity(Identity{Entity: "contact", ERPKey: "C1", Fingerprint: "g"}); err != nil {
			return err
		}
		if err := tx.MarkDeleted("contact", "C2"); err != nil {
			return err
		}
		return tx.MarkDeleted("contact", "never-seen") // no identity: nothing to do
	})
	if id, _, _ := s.Identity(ctx, "contact", "C1"); id.CRMID != "crm-c1" || id.Fingerprint != "g" {
		t.Errorf("after PutIdentity without CRM id: %+v", id)
	}
	if id, _, _ := s.Identity(ctx, "contact", "C2"); !id.Deleted || id.CRMID != "crm-c2" {
		t.Errorf("after MarkDeleted: %+v", id)
	}
	if _, ok, _ := s.Identity(ctx, "contact", "never-seen"); ok {
		t.Error("MarkDeleted created an identity")
	}
}

func TestForgetFingerprintsKeepsCRMIDs(t *testing.T) {
	ctx := context.Background()
	s, _ := openTest(t)
	seedIdentities(t, s, "organization", 30)
	seedIdentities(t, s, "product", 5)

	n, err := s.ForgetFingerprints(ctx, "organization")
	if err != nil || n != 30 {
		t.Fatalf("ForgetFingerprints = %d, %v; want 30", n, err)
	}
	got, err := s.Identities(ctx, "organization", []string{"000000", "000029"})
	if err != nil {
		t.Fatal(err)
	}
	for k, id := range got {
		if id.Fingerprint != "" || id.CRMID != "crm-"+k {
			t.Errorf("after resync %s = %+v; want no fingerprint, CRM id kept", k, id)
		}
	}
	if id, _, _ := s.Identity(ctx, "product", "000001"); id.Fingerprint == "" {
		t.Error("ForgetFingerprints cleared another entity")
	}
	total, withCRM, err := s.CountIdentities(ctx, "organization")
	if err != nil || total != 30 || withCRM != 30 {
		t.Errorf("CountIdentities = %d, %d, %v", total, withCRM, err)
	}
}

func TestListIdentitiesPages(t *testing.T) {
	ctx := context.Background()
	s, _ := openTest(t)
	seedIdentities(t, s, "organization", 25)
	var all []string
	after := ""
	for range 10 { // bounded
		page, err := s.ListIdentities(ctx, "organization", after, 10)
		if err != nil {
			t.Fatal(err)
		}
		if len(page) == 0 {
			break
		}
		for _, id := range page {
			all = append(all, id.ERPKey)
		}
		after = page[len(page)-1].ERPKey
	}
	if len(all) != 25 || all[0] != "000000" || all[24] != "000024" || !sort.StringsAreSorted(all) {
		t.Errorf("paged %d keys: %v", len(all), all)
	}
}

func TestCursors(t *testing.T) {
	ctx := context.Background()
	s, clk := openTest(t)
	if _, ok, err := s.Cursor(ctx, "customers"); ok || err != nil {
		t.Fatalf("Cursor before any set = %v, %v", ok, err)
	}
	full := clk.Now().Add(-time.Hour)
	update(t, s, func(tx *Tx) error {
		if err := tx.SetFullPassAt("customers", full); err != nil {
			return err
		}
		return tx.SetCursor("customers", "pos-1")
	})
	clk.Advance(time.Hour)
	update(t, s, func(tx *Tx) error { return tx.SetCursor("customers", "pos-2") })
	c, ok, err := s.Cursor(ctx, "customers")
	want := Cursor{Stream: "customers", Position: "pos-2", FullPassAt: full, UpdatedAt: clk.Now()}
	if err != nil || !ok || c != want {
		t.Errorf("Cursor = %+v, %v, %v; want %+v", c, ok, err, want)
	}
	all, err := s.Cursors(ctx)
	if err != nil || len(all) != 1 || all[0] != want {
		t.Errorf("Cursors = %+v, %v", all, err)
	}
}
