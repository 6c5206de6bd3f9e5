package target

import (
	"context"
	"fmt"

	"github.com/erpbridge/erpbridge/rdstation/crm"
)

// DealsFromMarketing looks at the newest deals (one page of 200, newest
// first) for deals RD Station's own CRM⇄Marketing integration made
// (from_rdsm_integration): their count in the page, and one deal's name.
// Deals from it mean the account's native integration is on, and would
// count the bridge's Marketing SALE events a second time.
func (s *System) DealsFromMarketing(ctx context.Context) (n, seen int, example string, err error) {
	page, err := s.C.ListDeals(ctx, crm.DealQuery{Order: "created_at", Direction: "desc", Limit: 200})
	if err != nil {
		return 0, 0, "", fmt.Errorf("reading the newest CRM deals: %w", classify(err))
	}
	for _, d := range page.Items {
		if d.FromRDSM {
			if n == 0 {
				example = d.Name
			}
			n++
		}
	}
	return n, len(page.Items), example, nil
}
