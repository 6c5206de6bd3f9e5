package target

import (
	"context"

	"github.com/erpbridge/erpbridge/bridge/health"
	"github.com/erpbridge/erpbridge/rdstation/crm"
)

// Health is the RD Station CRM client as the health monitor sees it.
type Health struct{ C *crm.Client }

var _ health.CRM = Health{}

// Stats implements health.CRM.
func (h Health) Stats() health.Stats {
	st := h.C.Stats()
	return health.Stats{Requests: st.Requests, ByMethod: st.ByMethod, RateLimited: st.RateLimited,
		Retries: st.Retries, OutcomeUnknown: st.OutcomeUnknown}
}

// Ping implements health.CRM with GET /token/check.
func (h Health) Ping(ctx context.Context) error {
	_, err := h.C.CheckToken(ctx)
	return err
}

var _ health.BudgetReporter = Health{}

// Budget implements health.BudgetReporter: the account's shared budget the
// client draws from.
func (h Health) Budget() health.Budget {
	st := h.C.Budget().State()
	b := health.Budget{At: st.At, AccountLimit: st.AccountLimit, Unlimited: st.Unlimited,
		ConfiguredPerMinute: st.ConfiguredPerMinute, Window: st.Window, Burst: st.Burst,
		ReservedPerMinute: st.ReservedPerMinute, CurrentPerMinute: st.CurrentPerMinute,
		UsedLastMinute: st.UsedLastMinute, PausedUntil: st.PausedUntil, RateLimited: st.RateLimited,
		PausedSeconds: st.Paused.Seconds(), WaitedSeconds: make(map[string]float64, len(st.Waited))}
	for p, d := range st.Waited {
		b.WaitedSeconds[p] = d.Seconds()
	}
	return b
}
