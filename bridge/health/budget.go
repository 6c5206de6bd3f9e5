package health

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/erpbridge/erpbridge/bridge/store"
)

// Budget is a target system's request budget (the CRM account's requests a
// minute, shared with the account's other integrations), as the metrics,
// the status page and `erpbridge status` show it.
type Budget struct {
	// At is when it was read.
	At time.Time `json:"at"`
	// AccountLimit is the account's limit, all integrations together.
	AccountLimit int `json:"account_limit"`
	// Unlimited: no client-side budget (simulators and benchmarks).
	Unlimited bool `json:"unlimited,omitempty"`
	// ConfiguredPerMinute is the rate configured now (a time window's,
	// named by Window, when one applies); Burst the burst in force.
	ConfiguredPerMinute int    `json:"configured_per_minute"`
	Window              string `json:"window,omitempty"`
	Burst               int    `json:"burst"`
	// ReservedPerMinute is what the configured rate leaves to the account's
	// other integrations.
	ReservedPerMinute int `json:"reserved_per_minute"`
	// CurrentPerMinute is the adaptive rate: below the configured one after
	// 429s, climbing back.
	CurrentPerMinute float64 `json:"current_per_minute"`
	// UsedLastMinute counts the requests sent in the last 60 s.
	UsedLastMinute int `json:"used_last_minute"`
	// PausedUntil is the end of the pause a 429 imposed (zero: none).
	PausedUntil time.Time `json:"paused_until,omitzero"`
	// RateLimited counts the 429s the budget has seen.
	RateLimited int64 `json:"rate_limited"`
	// WaitedSeconds is the time callers spent waiting for the budget, by
	// priority (backfill, incremental, urgent); PausedSeconds the time the
	// account was paused by 429s.
	WaitedSeconds map[string]float64 `json:"waited_seconds"`
	PausedSeconds float64            `json:"paused_seconds"`
}

// BudgetReporter is implemented by a CRM (see CRM) whose requests draw
// from a rate budget.
type BudgetReporter interface {
	Budget() Budget
}

// metaBudget is the checkpoint store's meta key of the last budget a
// process recorded, for `erpbridge status`.
const metaBudget = "health.crm_budget"

// KeepBudget records b in the checkpoint store, for `erpbridge status`
// (which connects to nothing).
func KeepBudget(ctx context.Context, st *store.Store, b Budget) error {
	text, err := json.Marshal(b)
	if err != nil {
		return fmt.Errorf("recording the CRM budget: %w", err)
	}
	return st.Update(ctx, func(tx *store.Tx) error { return tx.SetMeta(metaBudget, string(text)) })
}

// KeptBudget returns the budget KeepBudget last recorded; false when none
// was.
func KeptBudget(ctx context.Context, st *store.Store) (Budget, bool, error) {
	text, ok, err := st.Meta(ctx, metaBudget)
	if err != nil || !ok {
		return Budget{}, false, err
	}
	var b Budget
	if err := json.Unmarshal([]byte(text), &b); err != nil {
		return Budget{}, false, fmt.Errorf("reading the recorded CRM budget: %w", err)
	}
	return b, true, nil
}

// Budget returns the attached bridge's CRM budget, or the last one seen
// before a Detach; false when there is none.
func (m *Monitor) Budget() (Budget, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.target != nil {
		if r, ok := m.target.CRM.(BudgetReporter); ok {
			m.lastBudget = r.Budget()
			m.hasBudget = true
		}
	}
	return m.lastBudget, m.hasBudget
}

// Status is what the status page (/status) answers.
type Status struct {
	// CRMBudget is the CRM account's request budget (nil: no CRM).
	CRMBudget *Budget `json:"crm_budget"`
}
