package store

import (
	"context"
	"fmt"
	"sync"
	"testing"
)

// TestReadersWhileWriting runs status-style readers against a writer
// completing batches; run with -race.
func TestReadersWhileWriting(t *testing.T) {
	ctx := context.Background()
	s, _ := openTest(t)
	const batches, perBatch = 20, 50

	var wg sync.WaitGroup
	errs := make(chan error, 8)
	done := make(chan struct{})
	wg.Add(1)
	go func() { // the engine
		defer wg.Done()
		defer close(done)
		for b := range batches {
			err := s.Update(ctx, func(tx *Tx) error {
				for i := range perBatch {
					key := fmt.Sprintf("%03d-%03d", b, i)
					id, err := tx.Enqueue(orgItem(key, "v1"))
					if err != nil {
						return err
					}
					if err := tx.Complete(id, "crm-"+key, ""); err != nil {
						return err
					}
				}
				return tx.SetCursor("customers", fmt.Sprint(b))
			})
			if err != nil {
				errs <- err
				return
			}
		}
	}()
	for r := range 3 { // status page, metrics, CLI
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 500; i++ {
				select {
				case <-done:
					return
				default:
				}
				var err error
				switch r {
				case 0:
					_, err = s.Identities(ctx, "organization", []string{"000-001", "005-010", "019-049"})
				case 1:
					_, err = s.Count(ctx)
				case 2:
					_, _, err = s.Cursor(ctx, "customers")
				}
				if err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	total, withCRM, err := s.CountIdentities(ctx, "organization")
	if err != nil || total != batches*perBatch || withCRM != total {
		t.Errorf("identities = %d (%d with CRM id), %v; want %d", total, withCRM, err, batches*perBatch)
	}
}

// TestTwoStoresOnOneFile is the CLI writing (errors retry) while the
// service writes: SQLite's lock and the busy timeout serialise them.
func TestTwoStoresOnOneFile(t *testing.T) {
	ctx := context.Background()
	s, clk := openTest(t)
	cli := openAt(t, s.Path(), clk)
	id := enqueue(t, s, orgItem("000001", "v1"))
	update(t, s, func(tx *Tx) error { return tx.Park(id, "bad", LevelSkip) })

	var wg sync.WaitGroup
	wg.Add(1)
	var retryErr error
	go func() {
		defer wg.Done()
		_, retryErr = cli.RetryParked(ctx, OutboxFilter{})
	}()
	for i := range 20 {
		update(t, s, func(tx *Tx) error { return tx.SetCursor("products", fmt.Sprint(i)) })
	}
	wg.Wait()
	if retryErr != nil {
		t.Fatal(retryErr)
	}
	if it := item(t, s, id); it.State != StatePending {
		t.Errorf("item state after CLI retry = %s, want pending", it.State)
	}
}
