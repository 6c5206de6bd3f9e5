package store

import (
	"context"
	"fmt"
	"testing"
	"time"
)

// Listings return at most the limit asked for, and their documented
// default for a limit of 0.
func TestListingLimits(t *testing.T) {
	ctx := context.Background()
	s, clk := openTest(t)
	seedIdentities(t, s, "organization", 1001)
	update(t, s, func(tx *Tx) error {
		for i := range 1001 {
			if _, err := tx.Enqueue(OutboxItem{Stream: "customers", Entity: "organization", ERPKey: fmt.Sprint(i), Op: OpCreate}); err != nil {
				return err
			}
		}
		return nil
	})
	for range 51 {
		if _, err := s.StartRun(ctx, "customers", RunIncremental); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct {
		limit                  int
		identities, due, lasts int // what each listing returns
	}{{10, 10, 10, 10}, {0, 1000, 1000, 50}} {
		t.Run(fmt.Sprint("limit ", tc.limit), func(t *testing.T) {
			if ids, err := s.ListIdentities(ctx, "organization", "", tc.limit); err != nil || len(ids) != tc.identities {
				t.Errorf("ListIdentities = %d, %v; want %d", len(ids), err, tc.identities)
			}
			if due, err := s.Due(ctx, "customers", clk.Now(), tc.limit); err != nil || len(due) != tc.due {
				t.Errorf("Due = %d, %v; want %d", len(due), err, tc.due)
			}
			if runs, err := s.LastRuns(ctx, tc.limit); err != nil || len(runs) != tc.lasts {
				t.Errorf("LastRuns = %d, %v; want %d", len(runs), err, tc.lasts)
			}
		})
	}
}

// Pruning keeps what is younger than its window: done items and finished
// runs are deleted only once they are older than it.
func TestPruningKeepsWhatIsYoungerThanItsWindow(t *testing.T) {
	ctx := context.Background()
	s, clk := openTest(t)
	var item int64
	update(t, s, func(tx *Tx) error {
		var err error
		if item, err = tx.Enqueue(OutboxItem{Stream: "customers", Entity: "organization", ERPKey: "K", Op: OpCreate}); err != nil {
			return err
		}
		return tx.Complete(item, "crm-1", "fp")
	})
	for range 2 {
		id, _ := s.StartRun(ctx, "customers", RunIncremental)
		if err := s.FinishRun(ctx, id, RunStats{}); err != nil {
			t.Fatal(err)
		}
	}
	clk.Advance(24 * time.Hour)
	if n, err := s.PruneDone(ctx, 7*24*time.Hour); err != nil || n != 0 {
		t.Errorf("PruneDone of a day-old item with a week's window = %d, %v; want 0", n, err)
	}
	if n, err := s.PruneRuns(ctx, 7*24*time.Hour); err != nil || n != 0 {
		t.Errorf("PruneRuns of day-old runs with a week's window = %d, %v; want 0", n, err)
	}
	clk.Advance(7 * 24 * time.Hour)
	if n, err := s.PruneDone(ctx, 7*24*time.Hour); err != nil || n != 1 {
		t.Errorf("PruneDone after 8 days = %d, %v; want 1", n, err)
	}
	if n, err := s.PruneRuns(ctx, 7*24*time.Hour); err != nil || n != 1 {
		t.Errorf("PruneRuns after 8 days = %d, %v; want 1 (the stream's newest run is kept)", n, err)
	}
}

// Complete records the fingerprint and CRM id it is given, and keeps the
// item's own when given none.
func TestCompleteRecordsWhatItIsGiven(t *testing.T) {
	ctx := context.Background()
	s, _ := openTest(t)
	update(t, s, func(tx *Tx) error {
		a, err := tx.Enqueue(OutboxItem{Stream: "customers", Entity: "organization", ERPKey: "A", Op: OpUpdate,
			CRMID: "crm-a", Fingerprint: "fp-queued"})
		if err != nil {
			return err
		}
		b, err := tx.Enqueue(OutboxItem{Stream: "customers", Entity: "organization", ERPKey: "B", Op: OpUpdate,
			CRMID: "crm-b", Fingerprint: "fp-b"})
		if err != nil {
			return err
		}
		if err := tx.Complete(a, "crm-a2", "fp-sent"); err != nil {
			return err
		}
		return tx.Complete(b, "", "")
	})
	for key, want := range map[string][2]string{"A": {"crm-a2", "fp-sent"}, "B": {"crm-b", "fp-b"}} {
		id, ok, err := s.Identity(ctx, "organization", key)
		if err != nil || !ok || id.CRMID != want[0] || id.Fingerprint != want[1] {
			t.Errorf("identity of %s = %+v, %v, %v; want %s, %s", key, id, ok, err, want[0], want[1])
		}
	}
}
