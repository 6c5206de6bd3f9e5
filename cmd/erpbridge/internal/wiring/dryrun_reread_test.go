package wiring

import (
	"testing"

	"github.com/erpbridge/erpbridge/rdstation/rdsim"
)

// TestDryRunCountsARecordReadTwiceOnce: a record a run reads twice (an
// order whose rows are inside the poll's overlap, and whose customer was
// renamed: read by its own table and again as the customer's order) is one
// update in the real run (the second read finds it written) and must be one
// in the dry run too, not one per read. (Found by
// TestMessyEstateEndToEndPostgresIntegration: the dry run announced 84
// deal updates, the real run made 28.)
func TestDryRunCountsARecordReadTwiceOnce(t *testing.T) {
	h, _ := newMessyHarness(t, sqliteBackend, messyOrdersConfig, rdsim.Switches{})
	h.mustSync("first sync")
	dryThenReal(t, h, "with nothing changed")
	if err := h.erp.RenameCustomer(h.ctx, "MSY001", "01", "METAIS E CABOS RENOMEADA LTDA"); err != nil {
		t.Fatal(err)
	}
	dryThenReal(t, h, "after the messy orders' customer is renamed")
}
