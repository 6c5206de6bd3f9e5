package wiring

import (
	"testing"
)

// TestDryRunOfAFirstSyncSeesTheContactsItWouldCreate: on a fresh store, the
// dry run of the first sync must count what the real run does. Customer
// 000031's own contact (customer_email) has no valid e-mail, so it goes by
// its name in its organization, which SU5 contact 000031 — created by the
// contacts stream earlier in the same run — has: the real run refuses it
// (skipped, its natural key belongs to another ERP record); the dry run,
// which created nothing, finds no such contact and counts a create.
// (Found by TestMessyEstateEndToEndPostgresIntegration.)
func TestDryRunOfAFirstSyncSeesTheContactsItWouldCreate(t *testing.T) {
	h, _ := messyHarness(t, sqliteBackend, "")
	dryThenReal(t, h, "first sync")
}
