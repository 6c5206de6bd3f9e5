package store

import (
	"testing"
	"time"
)

// TestWaitingItemsAreReleasedWhenTheirDependencyChanges: a record parked
// waiting on another record's bad data becomes due as soon as that
// record's outbox item is completed, replaced by a newer write or parked
// for another reason — and not before.
func TestWaitingItemsAreReleasedWhenTheirDependencyChanges(t *testing.T) {
	contact := func() OutboxItem {
		return OutboxItem{Stream: "contacts", Entity: "contact", ERPKey: "01|000033", Op: OpUpdate}
	}
	tests := []struct {
		name    string
		change  func(tx *Tx, dep int64) error
		release bool
	}{
		{"dependency synced", func(tx *Tx, dep int64) error { return tx.Complete(dep, "crm-1", "fp") }, true},
		{"dependency changed in the ERP", func(tx *Tx, dep int64) error {
			_, err := tx.Enqueue(orgItem("000033", "fixed"))
			return err
		}, true},
		{"dependency parked for another reason", func(tx *Tx, dep int64) error {
			return tx.Park(dep, "not sent: deleted in the ERP", LevelSkip)
		}, true},
		{"another record synced", func(tx *Tx, dep int64) error {
			other, err := tx.Enqueue(orgItem("000034", "v1"))
			if err != nil {
				return err
			}
			return tx.Complete(other, "crm-2", "fp")
		}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, clk := openTest(t)
			dep := enqueue(t, s, orgItem("000033", "bad"))
			update(t, s, func(tx *Tx) error { return tx.Park(dep, "name too short", LevelSkip) })
			waiter := enqueue(t, s, contact())
			update(t, s, func(tx *Tx) error { return tx.Wait(waiter, "waits for customers 000033", "organization", "000033") })
			if got := item(t, s, waiter); got.State != StateParked || got.WaitsOnKey != "000033" || got.Level != LevelSkip {
				t.Fatalf("waiting item = %s/%s on %q, want parked/skip on 000033", got.State, got.Level, got.WaitsOnKey)
			}
			update(t, s, func(tx *Tx) error { return tt.change(tx, dep) })
			due, err := s.Due(t.Context(), "contacts", clk.Now().Add(-time.Hour), 10)
			if err != nil {
				t.Fatal(err)
			}
			if released := len(due) == 1 && due[0].ID == waiter; released != tt.release {
				t.Fatalf("waiting item due = %v (due items %+v), want %v", released, due, tt.release)
			}
		})
	}
}
