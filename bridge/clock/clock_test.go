package clock

import (
	"context"
	"testing"
	"time"
)

func TestFakeSleepAdvances(t *testing.T) {
	start := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	f := NewFake(start)
	if err := f.Sleep(context.Background(), time.Minute); err != nil {
		t.Fatal(err)
	}
	if got := f.Now().Sub(start); got != time.Minute {
		t.Fatalf("after Sleep(1m) the clock moved %v", got)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := f.Sleep(ctx, time.Hour); err == nil {
		t.Fatal("Sleep on a cancelled context returned nil")
	}
	if got := f.Now().Sub(start); got != time.Minute {
		t.Fatalf("a cancelled Sleep moved the clock to %v", got)
	}
}

func TestRealSleepHonoursContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := (Real{}).Sleep(ctx, time.Hour); err == nil {
		t.Fatal("Real.Sleep on a cancelled context returned nil")
	}
}
