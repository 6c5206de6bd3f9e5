package target

import (
	"testing"
	"time"

	"github.com/erpbridge/erpbridge/bridge/clock"
)

// TestBudgetWindowsReachTheSharedBudget: [crm.budget] windows apply to the
// account's budget, and a reloaded configuration replaces them.
func TestBudgetWindowsReachTheSharedBudget(t *testing.T) {
	fc := clock.NewFake(time.Date(2026, 3, 2, 23, 30, 0, 0, time.UTC)) // 20:30 in São Paulo
	c := Default()
	c.BaseURL, c.Token = "http://127.0.0.1:1/api/v1", "budget-windows-test-token"
	c.Budget = Budget{TimeZone: "America/Sao_Paulo", Windows: []BudgetWindow{{From: "20:00", To: "06:00", RequestsPerMinute: 115}}}
	cl, err := c.NewClient(Options{Clock: fc})
	if err != nil {
		t.Fatal(err)
	}
	st := cl.Budget().State()
	if st.ConfiguredPerMinute != 115 || st.ReservedPerMinute != 5 || st.Window != "20:00-06:00 America/Sao_Paulo 115/min" {
		t.Errorf("at 20:30 in São Paulo: %+v, want the night window's 115/min", st)
	}
	c.Budget.Windows = nil // a reload without windows
	if cl, err = c.NewClient(Options{Clock: fc}); err != nil {
		t.Fatal(err)
	}
	if st := cl.Budget().State(); st.ConfiguredPerMinute != 100 || st.Window != "" || st.ReservedPerMinute != 20 {
		t.Errorf("after the reload: %+v, want the base 100/min", st)
	}
}
