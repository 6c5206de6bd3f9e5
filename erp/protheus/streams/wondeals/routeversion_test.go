package wondeals

import (
	"context"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/erpbridge/erpbridge/erp/protheus/advpl"
	"github.com/erpbridge/erpbridge/erp/protheus/fixture"
	"github.com/erpbridge/erpbridge/erp/protheus/restsim"
	"github.com/erpbridge/erpbridge/erp/sqlerp"
)

// TestCheckOrderRouteVersion: `erpbridge check` with the rest sink asks
// the order route which version of the ERP-side sources it was compiled
// from: this erpbridge's is fine; another (an RPO compiled from an older
// copy), or none (a route older than the version, or written by hand), is
// a warning with the fix.
func TestCheckOrderRouteVersion(t *testing.T) {
	fx, _ := fixture.NewSQLite(t, fixture.Options{Customers: 40})
	for _, tc := range []struct {
		name, routeVersion string
		warn               bool
		want               string
	}{
		{"same", "", false, "order route compiled from erpbridge's ERP-side sources version " + advpl.Version + ", this erpbridge's"},
		{"older", "0.9.0", true, "the order route was compiled from erpbridge's ERP-side sources version 0.9.0; this erpbridge ships " + advpl.Version},
		{"none", restsim.NoRouteVersion, true, "the order route does not say its version (GET "},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sim, err := restsim.New(context.Background(), fx.DB, sqlerp.SQLite{}, restsim.Options{User: "erp", Password: "pw", OrderRouteVersion: tc.routeVersion})
			if err != nil {
				t.Fatal(err)
			}
			srv := httptest.NewServer(sim)
			defer srv.Close()
			c := Default()
			c.On, c.Sink = true, SinkREST
			c.REST.URL, c.REST.User, c.REST.Password = srv.URL+restsim.BasePath+"/orders", "erp", "pw"
			route := checkOrderRoute(context.Background(), c)
			if route.Problem || route.Warn {
				t.Fatalf("the route itself: %s", route)
			}
			f := checkOrderRouteVersion(context.Background(), c)
			if f.Warn != tc.warn || !strings.Contains(f.Text, tc.want) || tc.warn && !strings.Contains(f.Fix, "erpbridge_orders.tlpp") {
				t.Errorf("got %s, want warn %v with %q and the fix", f, tc.warn, tc.want)
			}
		})
	}
}
