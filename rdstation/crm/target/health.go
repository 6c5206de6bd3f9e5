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
