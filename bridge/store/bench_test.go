package store

import (
	"context"
	"fmt"
	"testing"
)

// BenchmarkIdentitiesLookup looks up a page of 1,000 keys among 20,000.
func BenchmarkIdentitiesLookup(b *testing.B) {
	ctx := context.Background()
	s, _ := openTest(b)
	seedIdentities(b, s, "organization", 20000)
	keys := make([]string, 1000)
	for i := range keys {
		keys[i] = fmt.Sprintf("%06d", i*17%20000)
	}
	b.ResetTimer()
	for b.Loop() {
		got, err := s.Identities(ctx, "organization", keys)
		if err != nil || len(got) != len(keys) {
			b.Fatalf("got %d, %v", len(got), err)
		}
	}
	b.ReportMetric(float64(b.N*len(keys))/b.Elapsed().Seconds(), "lookups/s")
}

// BenchmarkCompleteBatch completes 1,000 enqueued items in one Update.
func BenchmarkCompleteBatch(b *testing.B) {
	ctx := context.Background()
	s, _ := openTest(b)
	const batch = 1000
	n := 0
	for b.Loop() {
		b.StopTimer()
		ids := make([]int64, batch)
		update(b, s, func(tx *Tx) error {
			for i := range ids {
				var err error
				if ids[i], err = tx.Enqueue(orgItem(fmt.Sprintf("%08d", n), `{"name":"ACME LTDA"}`)); err != nil {
					return err
				}
				n++
			}
			return nil
		})
		b.StartTimer()
		err := s.Update(ctx, func(tx *Tx) error {
			for _, id := range ids {
				if err := tx.Complete(id, fmt.Sprint("crm-", id), "fp"); err != nil {
					return err
				}
			}
			return tx.SetCursor("customers", fmt.Sprint(n))
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*batch)/b.Elapsed().Seconds(), "completes/s")
}
