package store

import (
	"context"
	"errors"
	"testing"
	"time"
)

func TestRuns(t *testing.T) {
	ctx := context.Background()
	clk := newTestClock()
	path := t.TempDir() + "/state.db"
	s := openAt(t, path, clk)

	if _, ok, err := s.LastRun(ctx, "customers"); ok || err != nil {
		t.Fatalf("LastRun before any run = %v, %v", ok, err)
	}
	ok1, err := s.StartRun(ctx, "customers", RunIncremental)
	if err != nil {
		t.Fatal(err)
	}
	clk.Advance(1500 * time.Millisecond)
	stats := RunStats{Read: 1000, Created: 3, Updated: 7, Unchanged: 985, Skipped: 2, Failed: 3, APICalls: 12}
	if err := s.FinishRun(ctx, ok1, stats); err != nil {
		t.Fatal(err)
	}
	failed, _ := s.StartRun(ctx, "products", RunFull)
	clk.Advance(time.Second)
	if err := s.FinishRun(ctx, failed, RunStats{Read: 5, Err: "reading SB1 page: connection reset"}); err != nil {
		t.Fatal(err)
	}
	crashed, _ := s.StartRun(ctx, "orders", RunIncremental)
	running, _ := s.StartRun(ctx, "contacts", RunDry)

	last, ok, err := s.LastRun(ctx, "customers")
	if err != nil || !ok || last.Status != RunOK || last.Stats != stats || last.Duration != 1500*time.Millisecond ||
		last.Kind != RunIncremental || last.FinishedAt.Sub(last.StartedAt) != last.Duration {
		t.Errorf("LastRun(customers) = %+v, %v, %v", last, ok, err)
	}
	if err := s.FinishRun(ctx, 999, RunStats{}); !errors.Is(err, ErrNoRun) {
		t.Errorf("FinishRun(unknown) = %v, want ErrNoRun", err)
	}

	// The process dies; the next engine recovers on start-up.
	s.Close()
	s = openAt(t, path, clk)
	if n, err := s.RecoverRuns(ctx); err != nil || n != 2 {
		t.Fatalf("RecoverRuns = %d, %v; want 2", n, err)
	}
	again, _ := s.StartRun(ctx, "contacts", RunDry)

	runs, err := s.LastRuns(ctx, 10)
	if err != nil {
		t.Fatal(err)
	}
	want := map[int64]RunStatus{ok1: RunOK, failed: RunFailed, crashed: RunInterrupted, running: RunInterrupted, again: RunRunning}
	if len(runs) != len(want) || runs[0].ID != again {
		t.Fatalf("LastRuns = %d runs, first %d; want %d, newest first", len(runs), runs[0].ID, len(want))
	}
	for _, r := range runs {
		if r.Status != want[r.ID] {
			t.Errorf("run %d (%s) status = %s, want %s", r.ID, r.Stream, r.Status, want[r.ID])
		}
	}
	if r, _, _ := s.LastRun(ctx, "products"); r.Stats.Err == "" || r.Status != RunFailed {
		t.Errorf("failed run = %+v", r)
	}
}

func TestStartRunInterruptsEarlierRunOfSameStream(t *testing.T) {
	ctx := context.Background()
	s, _ := openTest(t)
	first, _ := s.StartRun(ctx, "customers", RunIncremental)
	other, _ := s.StartRun(ctx, "products", RunIncremental)
	s.StartRun(ctx, "customers", RunIncremental)
	runs, err := s.LastRuns(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range runs {
		want := RunRunning
		if r.ID == first {
			want = RunInterrupted
		}
		if r.Status != want {
			t.Errorf("run %d status %s, want %s (other stream's run %d must stay running)", r.ID, r.Status, want, other)
		}
	}
}

func TestPruneRunsKeepsNewestPerStream(t *testing.T) {
	ctx := context.Background()
	s, clk := openTest(t)
	for range 3 {
		id, _ := s.StartRun(ctx, "customers", RunIncremental)
		s.FinishRun(ctx, id, RunStats{})
	}
	clk.Advance(40 * 24 * time.Hour)
	n, err := s.PruneRuns(ctx, 30*24*time.Hour)
	if err != nil || n != 2 {
		t.Errorf("PruneRuns = %d, %v; want 2", n, err)
	}
	if _, ok, _ := s.LastRun(ctx, "customers"); !ok {
		t.Error("prune removed the stream's last run")
	}
}
