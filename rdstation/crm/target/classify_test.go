package target

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/erpbridge/erpbridge/bridge"
	"github.com/erpbridge/erpbridge/rdstation/crm"
)

// TestClassifyPutsEveryClientErrorInItsEngineClass: each kind of error the
// RD Station CRM client returns lands in the engine class the engine acts
// on (or in none, for a failure that is only retried), and the client's
// own error stays reachable under it.
func TestClassifyPutsEveryClientErrorInItsEngineClass(t *testing.T) {
	classes := []error{bridge.ErrRejected, bridge.ErrRateLimited, bridge.ErrOutcomeUnknown, bridge.ErrGone,
		bridge.ErrFatal, bridge.ErrListingCapped, bridge.ErrKeyTaken}
	reqErr := func(kind error, status int) error {
		return fmt.Errorf("creating organization: %w", &crm.Error{Kind: kind, Method: "POST", Path: "/organizations", Status: status})
	}
	for _, tc := range []struct {
		name  string
		err   error
		class error // nil: no class
	}{
		{"422 validation", reqErr(crm.ErrValidation, 422), bridge.ErrRejected},
		{"400 bad request", reqErr(crm.ErrBadRequest, 400), bridge.ErrRejected},
		{"413 too large", reqErr(crm.ErrTooLarge, 413), bridge.ErrRejected},
		{"429 for too long", reqErr(crm.ErrRateLimited, 429), bridge.ErrRateLimited},
		{"write sent, no answer", reqErr(crm.ErrOutcomeUnknown, 0), bridge.ErrOutcomeUnknown},
		{"write answered 5xx", reqErr(crm.ErrOutcomeUnknown, 502), bridge.ErrOutcomeUnknown},
		{"401 token refused", reqErr(crm.ErrUnauthorized, 401), bridge.ErrFatal},
		{"403 forbidden", reqErr(crm.ErrForbidden, 403), bridge.ErrFatal},
		{"404 not found", reqErr(crm.ErrNotFound, 404), bridge.ErrGone},
		{"listing capped", &crm.ListingCappedError{Path: "/organizations", Reached: 10000, Total: 12000}, bridge.ErrListingCapped},
		{"read answered 5xx after retries", reqErr(crm.ErrServer, 503), nil},
		{"cancelled", &crm.Error{Method: "GET", Path: "/deals", Err: context.Canceled}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := classify(tc.err)
			for _, c := range classes {
				if want := c == tc.class; errors.Is(got, c) != want {
					t.Errorf("classify(%v): errors.Is(%q) = %v, want %v", tc.err, c, !want, want)
				}
			}
			if !errors.Is(got, tc.err) {
				t.Errorf("classify(%v) = %v: the client's error is lost", tc.err, got)
			}
			if tc.class == nil && got != tc.err {
				t.Errorf("classify(%v) = %v, want it unchanged", tc.err, got)
			}
		})
	}
	if err := classify(nil); err != nil {
		t.Errorf("classify(nil) = %v", err)
	}
}
