package store

import (
	"context"
	"encoding/json"
	"testing"
	"time"
)

// TestSentKeysOutliveEveryChangeButConfirmation: the natural keys of a
// create whose outcome is unknown must survive the record being changed
// (Enqueue), the attempt failing or being parked, a follow-up replacing
// the payload and `errors retry` — everything but the CRM confirming a
// write — or a lost create followed by a rename would create a second
// record.
func TestSentKeysOutliveEveryChangeButConfirmation(t *testing.T) {
	keys := []json.RawMessage{json.RawMessage(`{"name":"ACME (000001/01)"}`)}
	tests := []struct {
		name string
		then func(tx *Tx, id int64) error
		keep bool
	}{
		{"record changed", func(tx *Tx, id int64) error {
			_, err := tx.Enqueue(orgItem("000001", "renamed"))
			return err
		}, true},
		{"attempt failed", func(tx *Tx, id int64) error {
			return tx.Fail(id, "outcome unknown", LevelError, time.Now(), true)
		}, true},
		{"rate limited", func(tx *Tx, id int64) error {
			return tx.Fail(id, "429", LevelError, time.Now(), false)
		}, true},
		{"parked", func(tx *Tx, id int64) error { return tx.Park(id, "gave up", LevelError) }, true},
		{"follow-up replaces a failed attempt", func(tx *Tx, id int64) error {
			if _, err := tx.Enqueue(orgItem("000001", "renamed")); err != nil { // a follow-up: the item is inflight
				return err
			}
			return tx.Fail(id, "outcome unknown", LevelError, time.Now(), true)
		}, true},
		{"confirmed", func(tx *Tx, id int64) error { return tx.Complete(id, "crm-1", "") }, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			s, _ := openTest(t)
			id := enqueue(t, s, orgItem("000001", "v1"))
			update(t, s, func(tx *Tx) error {
				if err := tx.MarkInflight(id); err != nil {
					return err
				}
				return tx.SetSentKeys(id, keys)
			})
			update(t, s, func(tx *Tx) error { return tt.then(tx, id) })
			if _, err := s.RetryParked(ctx, OutboxFilter{}); err != nil {
				t.Fatal(err)
			}
			got := item(t, s, id)
			if tt.keep {
				if len(got.SentKeys) != 1 || string(got.SentKeys[0]) != string(keys[0]) {
					t.Fatalf("sent keys = %s, want %s kept", got.SentKeys, keys[0])
				}
				return
			}
			if len(got.SentKeys) != 0 {
				t.Fatalf("sent keys = %s after the CRM confirmed the write, want none", got.SentKeys)
			}
		})
	}
}

func TestSetSentKeysRefusesADoneItem(t *testing.T) {
	s, _ := openTest(t)
	id := enqueue(t, s, orgItem("000001", "v1"))
	update(t, s, func(tx *Tx) error { return tx.Complete(id, "crm-1", "") })
	err := s.Update(context.Background(), func(tx *Tx) error { return tx.SetSentKeys(id, nil) })
	if err == nil {
		t.Fatal("SetSentKeys on a done item: no error")
	}
}
