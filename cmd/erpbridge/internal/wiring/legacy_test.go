package wiring

import (
	"context"
	"database/sql"
	"encoding/json"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/erpbridge/erpbridge/bridge/store"
	"github.com/erpbridge/erpbridge/erp/protheus/access"
	"github.com/erpbridge/erpbridge/rdstation/rdsim"
)

// legacyStore is a checkpoint store and CRM made by the last one-company
// version (testdata/legacy-store/generate_test.go.txt says how): its ERP
// keys are table keys without the company.
const legacyStore = "testdata/legacy-store"

// TestLegacyStoreMigratesWithZeroWrites upgrades a store synced by the
// previous version: the bridge prefixes its keys with the company it
// served, once, and the next syncs send nothing (every record is found
// again under its new key, with the fingerprint it was sent with).
func TestLegacyStoreMigratesWithZeroWrites(t *testing.T) {
	ctx := context.Background()
	dataDir := t.TempDir()
	dump, err := os.ReadFile(filepath.Join(legacyStore, "store.sql"))
	if err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("sqlite", filepath.Join(dataDir, StoreFile))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.ExecContext(ctx, string(dump)); err != nil {
		t.Fatalf("loading the legacy store: %v", err)
	}
	before := legacyKeys(t, db)
	var mark int
	if err := db.QueryRowContext(ctx, `SELECT COUNT(*) FROM meta WHERE key = ?`, access.KeysMeta).Scan(&mark); err != nil || mark != 0 {
		t.Fatalf("the legacy store has %d %s marks (%v): it is not one of the previous version", mark, access.KeysMeta, err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	if len(before) < 500 {
		t.Fatalf("the legacy store holds %d identities, want the fixture's (over 500)", len(before))
	}
	var seed rdsim.SeedData
	b, err := os.ReadFile(filepath.Join(legacyStore, "crm.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &seed); err != nil {
		t.Fatalf("reading the legacy CRM: %v", err)
	}
	cfg, err := os.ReadFile(filepath.Join(legacyStore, "config.toml"))
	if err != nil {
		t.Fatal(err)
	}

	h := newHarness(t, sqliteBackend, harnessOptions{extraConfig: string(cfg), seed: &seed, dataDir: dataDir})
	for round := 1; round <= 2; round++ {
		h.sim.ResetCounts()
		stats := h.mustSync("sync after the upgrade")
		if c := h.sim.Counts(); c.Writes != 0 {
			t.Fatalf("round %d: the sync after the upgrade made %d writes (%v), want 0", round, c.Writes, c.ByRoute)
		}
		for s, st := range stats {
			if st.Created+st.Updated+st.Failed+st.Deleted != 0 || st.Err != "" {
				t.Errorf("round %d, stream %s: %+v, want nothing created, updated, failed or deleted", round, s, st)
			}
		}
		if stats["customers"].Read == 0 {
			t.Errorf("round %d: customers read nothing: the migrated cursor hides the ERP", round)
		}
	}

	v, ok, err := h.bridge.Store.Meta(h.ctx, access.KeysMeta)
	if err != nil || !ok || v != access.KeysEstate {
		t.Fatalf("store meta %s = %q, %v, %v; want %q", access.KeysMeta, v, ok, err, access.KeysEstate)
	}
	after := identityKeys(t, h.bridge.Store)
	want := make([]string, len(before))
	for i, k := range before {
		e, key, _ := strings.Cut(k, " ")
		want[i] = e + " 01|" + key
	}
	sort.Strings(want)
	if strings.Join(after, "\n") != strings.Join(want, "\n") {
		t.Fatalf("identities after the upgrade: %d keys, want the %d legacy ones with the company 01 before each (first %q, want %q)",
			len(after), len(want), after[:min(3, len(after))], want[:3])
	}
}

// legacyKeys lists entity/key of every identity of an unmigrated store.
func legacyKeys(t *testing.T, db *sql.DB) []string {
	t.Helper()
	rows, err := db.Query(`SELECT entity, erp_key FROM identities`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var e, k string
		if err := rows.Scan(&e, &k); err != nil {
			t.Fatal(err)
		}
		out = append(out, e+" "+k)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// identityKeys lists "entity 01|key" of every identity of st, sorted.
func identityKeys(t *testing.T, st *store.Store) []string {
	t.Helper()
	var out []string
	for _, e := range []string{"organization", "contact", "product", "deal"} {
		after := ""
		for range 100 {
			ids, err := st.ListIdentities(context.Background(), e, after, 1000)
			if err != nil {
				t.Fatal(err)
			}
			if len(ids) == 0 {
				break
			}
			for _, id := range ids {
				out = append(out, e+" "+id.ERPKey)
			}
			after = ids[len(ids)-1].ERPKey
		}
	}
	sort.Strings(out)
	return out
}
