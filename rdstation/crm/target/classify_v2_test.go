package target

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/erpbridge/erpbridge/bridge"
	"github.com/erpbridge/erpbridge/rdstation/rdsim"
)

// A v2 grant RD refused stops the run (bridge.ErrFatal) saying to
// authorize again; it is not a record's failure to retry.
func TestV2RefusedGrantIsFatal(t *testing.T) {
	sim := rdsim.New(rdsim.Options{RequestsPerMinute: -1})
	_, v2 := twoClients(t, sim)
	tg := NewProductsV2(v2)
	if _, err := tg.Create(context.Background(), bridge.Payload{"name": "Antes"}); err != nil {
		t.Fatal(err)
	}
	// The refresh token dies (rotated out by another app instance, or 14
	// days unused) and the access token expires.
	sim.ExpireCRMv2AccessTokens()
	sim.RevokeCRMv2RefreshTokens()
	_, err := tg.Create(context.Background(), bridge.Payload{"name": "Depois"})
	if !errors.Is(err, bridge.ErrFatal) || !strings.Contains(err.Error(), "erpbridge crm authorize") {
		t.Fatalf("refused grant: %v, want bridge.ErrFatal naming `erpbridge crm authorize`", err)
	}
}
