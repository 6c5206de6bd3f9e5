package target

import (
	"context"

	"github.com/erpbridge/erpbridge/bridge/component"
	"github.com/erpbridge/erpbridge/bridge/health"
	crmv2 "github.com/erpbridge/erpbridge/rdstation/crm/v2"
)

// HealthV2 is the CRM API v2 client as the health monitor sees it.
type HealthV2 struct{ C *crmv2.Client }

var (
	_ health.CRM               = HealthV2{}
	_ component.HealthReporter = (*SystemV2)(nil)
	_ component.CallCounter    = (*SystemV2)(nil)
)

// Stats implements health.CRM.
func (h HealthV2) Stats() health.Stats {
	st := h.C.Stats()
	return health.Stats{Requests: st.Requests, ByMethod: st.ByMethod, RateLimited: st.RateLimited,
		Retries: st.Retries, OutcomeUnknown: st.OutcomeUnknown}
}

// Ping implements health.CRM with one page of one user: the grant works.
func (h HealthV2) Ping(ctx context.Context) error {
	for _, err := range h.C.Users(ctx, crmv2.Query{PageSize: 1}) {
		return err
	}
	return nil
}

// Health implements component.HealthReporter.
func (s *SystemV2) Health() health.CRM { return HealthV2{C: s.C} }

// APICalls implements component.CallCounter.
func (s *SystemV2) APICalls() int64 { return s.C.Stats().Requests }
