package crm

import (
	"context"
	"testing"
	"time"

	"github.com/erpbridge/erpbridge/bridge/clock"
)

// TestSetRateAppliesToTheSharedBudget: a reloaded configuration changes the
// rate of the budget every client of the account shares, from then on.
func TestSetRateAppliesToTheSharedBudget(t *testing.T) {
	fc := clock.NewFake(testStart)
	b := SharedBudget("test-set-rate", BudgetConfig{RequestsPerMinute: 60, Burst: 1, Clock: fc})
	spend := func(calls int) time.Duration {
		t.Helper()
		start := fc.Now()
		for range calls {
			if err := b.Wait(context.Background()); err != nil {
				t.Fatal(err)
			}
		}
		return fc.Now().Sub(start)
	}
	near := func(got, want time.Duration) bool {
		d := got - want
		return d > -10*time.Millisecond && d < 10*time.Millisecond
	}

	if got := spend(31); !near(got, 30*time.Second) {
		t.Fatalf("31 calls at 60/min took %v, want 30s", got)
	}
	if b.SetRate(60, 1) {
		t.Error("SetRate with the same settings reported a change")
	}
	// The same key, as wiring asks for it again on a reload: the same budget.
	again := SharedBudget("test-set-rate", BudgetConfig{RequestsPerMinute: 120, Burst: 1, Clock: fc})
	if again != b || !again.SetRate(120, 1) {
		t.Fatal("SetRate(120, 1) on the shared budget reported no change")
	}
	if rpm, burst := b.Rate(); rpm != 120 || burst != 1 {
		t.Errorf("Rate() = %d, %d, want 120, 1", rpm, burst)
	}
	if got := spend(30); !near(got, 15*time.Second) {
		t.Errorf("30 calls at 120/min took %v, want 15s", got)
	}
	if !b.SetRate(-1, 5) {
		t.Fatal("SetRate(unlimited) reported no change")
	}
	if got := spend(50); got != 0 {
		t.Errorf("50 unlimited calls took %v, want none", got)
	}
	if !b.SetRate(0, 0) {
		t.Fatal("SetRate(defaults) reported no change")
	}
	if rpm, burst := b.Rate(); rpm != DefaultRequestsPerMinute || burst != DefaultBurst {
		t.Errorf("Rate() = %d, %d, want the defaults", rpm, burst)
	}
}
