package wondeals

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/shopspring/decimal"

	"github.com/erpbridge/erpbridge/bridge"
	"github.com/erpbridge/erpbridge/erp"
	"github.com/erpbridge/erpbridge/erp/resterp"
)

// TestSinkErrorPutsEverySinkErrorInItsEngineClass: each error the ERP order
// sinks return that the won-deal flow acts on lands in its engine class,
// keeping the sink's own error (and, for a lost answer, its words).
func TestSinkErrorPutsEverySinkErrorInItsEngineClass(t *testing.T) {
	classes := []error{bridge.ErrFatal, bridge.ErrOutcomeUnknown, bridge.ErrRejected, bridge.ErrGone, bridge.ErrRateLimited}
	post := func(status int, err error) error {
		return fmt.Errorf("submitting order of deal d1: %w", &resterp.RequestError{Method: "POST", Path: "/rest/orders", Status: status, Err: err})
	}
	for _, tc := range []struct {
		name        string
		err         error
		class       error // nil: no class
		sameMessage bool
	}{
		{"route answers 401", post(401, resterp.ErrUnauthorized), bridge.ErrFatal, false},
		{"route answers 403", post(403, resterp.ErrUnauthorized), bridge.ErrFatal, false},
		{"no route there (404)", post(404, resterp.ErrNotFound), bridge.ErrFatal, false},
		{"route answers 500: the order may exist",
			fmt.Errorf("submitting order of deal d1: %w: %w", erp.ErrOrderOutcomeUnknown, &resterp.RequestError{Method: "POST", Path: "/rest/orders", Status: 500}),
			bridge.ErrOutcomeUnknown, true},
		{"staging commit failed: the row may be there",
			fmt.Errorf("staging deal d1: committing: %w: %w", erp.ErrOrderOutcomeUnknown, sql.ErrConnDone),
			bridge.ErrOutcomeUnknown, true},
		{"not sent (connection refused)", post(0, errors.New("not sent: connection refused")), nil, true},
		{"staging conflict after every attempt", errors.New("staging deal d1: UNIQUE constraint failed"), nil, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := sinkError(tc.err)
			for _, c := range classes {
				if want := c == tc.class; errors.Is(got, c) != want {
					t.Errorf("sinkError(%v): errors.Is(%q) = %v, want %v", tc.err, c, !want, want)
				}
			}
			if !errors.Is(got, tc.err) {
				t.Errorf("sinkError(%v) = %v: the sink's error is lost", tc.err, got)
			}
			if tc.sameMessage && got.Error() != tc.err.Error() {
				t.Errorf("sinkError(%v) says %q, want the sink's words", tc.err, got)
			}
		})
	}
	if err := sinkError(nil); err != nil {
		t.Errorf("sinkError(nil) = %v", err)
	}
}

// TestOrderRouteRefusingCredentialsStopsTheFlow: the rest sink the flow
// opens answers refused credentials as ErrFatal (the poll stops instead of
// failing every deal the same way).
func TestOrderRouteRefusingCredentialsStopsTheFlow(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		http.Error(w, `{"errorCode":401,"errorMessage":"unauthorized"}`, http.StatusUnauthorized)
	}))
	t.Cleanup(srv.Close)
	c := Default()
	c.Sink, c.REST.URL, c.REST.User, c.REST.Password = SinkREST, srv.URL+"/rest/orders", "bridge", "wrong"
	sink, err := openSink(c, "01", nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	_, err = sink.Submit(context.Background(), erp.Order{DealID: "d1", Customer: "000001", Store: "01",
		Items: []erp.OrderItem{{Product: "PA0001", Quantity: decimal.NewFromInt(1)}}})
	if !errors.Is(err, bridge.ErrFatal) || !errors.Is(err, resterp.ErrUnauthorized) {
		t.Fatalf("Submit to a route refusing the credentials: %v, want ErrFatal wrapping resterp.ErrUnauthorized", err)
	}
}
