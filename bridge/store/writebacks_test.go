package store

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"
)

// TestWritebackProblemsAndRetry: problems are rejected, invalid and
// repeatedly failing sends (oldest first, then by deal id); retry makes
// those updated since a time due again, and nothing else.
func TestWritebackProblemsAndRetry(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)
	st, err := Open(ctx, filepath.Join(t.TempDir(), "s.db"), WithNow(func() time.Time { return now }))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	later := now.Add(100 * time.Hour) // not due by itself
	put := func(w Writeback) {
		t.Helper()
		if err := st.Update(ctx, func(tx *Tx) error { return tx.PutWriteback(w) }); err != nil {
			t.Fatal(err)
		}
	}
	put(Writeback{DealID: "old-rejected", State: WritebackRejected, Error: "x", NextAttemptAt: later})
	now = now.Add(2 * time.Hour)
	for _, w := range []Writeback{
		{DealID: "rejected", State: WritebackRejected, Error: "MATA410", NextAttemptAt: later},
		{DealID: "invalid", State: WritebackInvalid, Error: "no SA1", NextAttemptAt: later},
		{DealID: "failing", State: WritebackSubmitting, Error: "refused", Attempts: ProblemAttempts, NextAttemptAt: later},
		{DealID: "retrying", State: WritebackSubmitting, Error: "refused", Attempts: 1, NextAttemptAt: later},
		{DealID: "waiting", State: WritebackWaiting},
		{DealID: "written", State: WritebackWritten, OrderNumber: "000001"},
	} {
		put(w)
	}
	probs, err := st.WritebackProblems(ctx, 100)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, w := range probs {
		ids = append(ids, w.DealID)
	}
	if want := "[old-rejected failing invalid rejected]"; fmt.Sprint(ids) != want {
		t.Errorf("problems %v, want %s", ids, want)
	}
	n, err := st.RetryWritebacks(ctx, now.Add(-time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	if n != 3 {
		t.Errorf("retried %d, want the 3 problems updated since (not old-rejected)", n)
	}
	due, err := st.OpenWritebacks(ctx, now, Writeback{}, 100)
	if err != nil {
		t.Fatal(err)
	}
	ids = ids[:0]
	for _, w := range due {
		ids = append(ids, w.DealID)
	}
	if want := "[failing invalid rejected waiting]"; fmt.Sprint(ids) != want {
		t.Errorf("due after retry %v, want %s", ids, want)
	}
}
