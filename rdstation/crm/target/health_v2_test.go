package target

import (
	"context"
	"testing"

	"github.com/erpbridge/erpbridge/rdstation/rdsim"
)

// The health monitor's view of v2: a ping through the grant, counted.
func TestHealthV2(t *testing.T) {
	sim := rdsim.New(rdsim.Options{RequestsPerMinute: -1})
	_, v2 := twoClients(t, sim)
	sys := NewSystemV2(v2)
	if err := sys.Health().Ping(context.Background()); err != nil {
		t.Fatal(err)
	}
	if n := sys.APICalls(); n != 1 || sys.Health().Stats().Requests != 1 {
		t.Fatalf("%d calls counted, want 1", n)
	}
	sim.ExpireCRMv2AccessTokens()
	if err := sys.Health().Ping(context.Background()); err != nil {
		t.Fatalf("a ping after the access token expired renews it: %v", err)
	}
}
