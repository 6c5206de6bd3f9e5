package restsim_test

import (
	"encoding/json"
	"net/http"
	"testing"

	"github.com/erpbridge/erpbridge/erp/protheus/advpl"
	"github.com/erpbridge/erpbridge/erp/protheus/restsim"
)

// TestOrderRouteVersion: the order route answers the version of the
// sources it was compiled from, as erpbridge_orders.tlpp does: GET
// /rest/orders/version (behind the same credentials) and a header on its
// answers; a route compiled from older sources answers 404.
func TestOrderRouteVersion(t *testing.T) {
	get := func(t *testing.T, e *env, auth bool) (*http.Response, restsim.RouteVersion) {
		t.Helper()
		req, err := http.NewRequest(http.MethodGet, e.url+"/orders"+advpl.VersionPath, nil)
		if err != nil {
			t.Fatal(err)
		}
		if auth {
			req.SetBasicAuth(user, password)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var v restsim.RouteVersion
		if resp.StatusCode == http.StatusOK {
			if err := json.NewDecoder(resp.Body).Decode(&v); err != nil {
				t.Fatal(err)
			}
		}
		return resp, v
	}
	e := newEnv(t, restsim.Options{})
	resp, v := get(t, e, true)
	if resp.StatusCode != http.StatusOK || v.Version != advpl.Version || resp.Header.Get(advpl.VersionHeader) != advpl.Version {
		t.Errorf("GET version: %d %+v header %q, want 200 and %s", resp.StatusCode, v, resp.Header.Get(advpl.VersionHeader), advpl.Version)
	}
	if resp, _ := get(t, e, false); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("GET version without credentials: %d, want 401", resp.StatusCode)
	}
	needOrders(t, e)
	status, _, err := e.post(t, http.DefaultClient, orderBody("eeeeeeeeeeeeeeeeeeeeeee1", "000001", "01", `{"product":"PA0001","quantity":1}`))
	if err != nil || status != http.StatusCreated {
		t.Fatalf("POST: %d %v", status, err)
	}

	old := newEnv(t, restsim.Options{OrderRouteVersion: "0.9.0"})
	if _, v := get(t, old, true); v.Version != "0.9.0" {
		t.Errorf("an older route answers %+v, want 0.9.0", v)
	}
	none := newEnv(t, restsim.Options{OrderRouteVersion: restsim.NoRouteVersion})
	if resp, _ := get(t, none, true); resp.StatusCode != http.StatusNotFound || resp.Header.Get(advpl.VersionHeader) != "" {
		t.Errorf("a route without a version answers %d with header %q, want 404 and none", resp.StatusCode, resp.Header.Get(advpl.VersionHeader))
	}
}
