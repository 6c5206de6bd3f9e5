package store

import (
	"regexp"
	"slices"
	"strings"
	"testing"
)

// fullScan matches a query plan step that reads a whole table row by row
// ("SCAN outbox"), not one that searches or walks an index.
var fullScan = regexp.MustCompile(`^SCAN (\w+)$`)

// TestPerRecordStatementsSearchIndexes: every statement the write path runs
// once per record (queue, send, complete, fail, park, wait, look up) finds
// its rows through an index. A full scan there costs the size of the outbox
// (which keeps done items) per record: a backfill becomes quadratic, as it
// did when releasing waiters scanned the outbox on every Enqueue and
// Complete (100,000 rows ran at under 40 rows/s past the 30,000th).
func TestPerRecordStatementsSearchIndexes(t *testing.T) {
	s, _ := openTest(t)
	dep := enqueue(t, s, orgItem("000033", "bad"))
	other := enqueue(t, s, orgItem("000034", "v1"))
	waiter := enqueue(t, s, OutboxItem{Stream: "contacts", Entity: "contact", ERPKey: "01|000033", Op: OpUpdate})
	update(t, s, func(tx *Tx) error {
		if err := tx.Park(dep, "name too short", LevelSkip); err != nil {
			return err
		}
		if err := tx.Wait(waiter, "waits for customers 000033", "organization", "000033"); err != nil {
			return err
		}
		if err := tx.MarkInflight(other); err != nil {
			return err
		}
		if _, err := tx.Enqueue(orgItem("000034", "v2")); err != nil { // a follow-up of an inflight item
			return err
		}
		if err := tx.Complete(other, "crm-34", "fp-v1"); err != nil {
			return err
		}
		if _, err := tx.Enqueue(orgItem("000033", "fixed")); err != nil {
			return err
		}
		return tx.PutIdentity(Identity{Entity: "organization", ERPKey: "000033", CRMID: "crm-33", Fingerprint: "fp"})
	})
	due, err := s.Due(t.Context(), "customers", s.now(), 10)
	if err != nil {
		t.Fatal(err)
	}
	for _, it := range due {
		update(t, s, func(tx *Tx) error { return tx.Fail(it.ID, "HTTP 500", LevelError, s.now(), true) })
	}
	if _, err := s.Identities(t.Context(), "organization", []string{"000033", "000034"}); err != nil {
		t.Fatal(err)
	}

	checked := 0
	for _, q := range cachedStatements(s) {
		if !strings.Contains(q, "WHERE") {
			continue
		}
		checked++
		for _, step := range queryPlan(t, s, q) {
			if m := fullScan.FindStringSubmatch(step); m != nil {
				t.Errorf("a per-record statement scans all of %s (%q):\n%s", m[1], step, q)
			}
		}
	}
	if checked < 5 {
		t.Fatalf("checked the plans of %d statements, want the write path's (at least 5)", checked)
	}
}

// cachedStatements is the text of every statement the store has prepared.
func cachedStatements(s *Store) []string {
	s.stmts.mu.Lock()
	defer s.stmts.mu.Unlock()
	var qs []string
	for q := range s.stmts.m {
		qs = append(qs, q)
	}
	slices.Sort(qs)
	return qs
}

// queryPlan is SQLite's plan for q, one detail line per step; its
// parameters are NULL, which does not change the plan.
func queryPlan(t *testing.T, s *Store, q string) []string {
	t.Helper()
	rows, err := s.db.QueryContext(t.Context(), "EXPLAIN QUERY PLAN "+q, make([]any, strings.Count(q, "?"))...)
	if err != nil {
		t.Fatalf("explaining %q: %v", q, err)
	}
	defer rows.Close()
	var steps []string
	for rows.Next() {
		var id, parent, unused int
		var detail string
		if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
			t.Fatalf("reading the plan of %q: %v", q, err)
		}
		steps = append(steps, detail)
	}
	if err := rows.Err(); err != nil {
		t.Fatalf("reading the plan of %q: %v", q, err)
	}
	if len(steps) == 0 {
		t.Fatalf("no plan for %q", q)
	}
	return steps
}
