package wiring

import (
	"fmt"
	"strings"
	"testing"

	"github.com/shopspring/decimal"

	"github.com/erpbridge/erpbridge/erp"
	"github.com/erpbridge/erpbridge/erp/protheus/fixture"
	"github.com/erpbridge/erpbridge/erp/protheus/streams"
)

// TestRelinkedContactMovesOnThePoll: an AC8 link changed to another
// customer (SU5 untouched, its stamp outside the poll's overlap) moves the
// contact to that customer's organization on the next poll.
func TestRelinkedContactMovesOnThePoll(t *testing.T) {
	h := newHarness(t, sqliteBackend, harnessOptions{})
	for _, table := range []string{"SU5010", "AC8010"} { // stamped an hour ago, and kept so
		if _, err := h.erp.DB.ExecContext(h.ctx, "UPDATE "+table+" SET S_T_A_M_P_ = strftime('%Y-%m-%d %H:%M:%f','now','-1 hour')"); err != nil {
			t.Fatal(err)
		}
	}
	// One unrelated contact changes now: the cursor's high-water mark is
	// recent, so the poll's overlap does not reach the aged rows.
	if _, err := h.erp.DB.ExecContext(h.ctx, "UPDATE SU5010 SET U5_CODCONT = U5_CODCONT WHERE U5_CODCONT = '000001'"); err != nil {
		t.Fatal(err)
	}
	h.mustSync("first sync")
	orgOf := func(email string) string {
		for _, c := range h.sim.State().Contacts {
			for _, e := range c.Emails {
				if strings.EqualFold(e.Email, email) {
					return c.OrganizationID
				}
			}
		}
		t.Fatalf("no contact %s in the CRM", email)
		return ""
	}
	const email = "elisa.silva4@exemplo.com.br" // contact 000004, linked to customer 000004/01 only
	before := orgOf(email)
	target, ok, err := h.bridge.Store.Identity(h.ctx, "organization", customerKey("000001", "01"))
	if err != nil || !ok {
		t.Fatalf("customer 000001/01 is not synced: %v", err)
	}
	if before == "" || before == target.CRMID {
		t.Fatalf("contact 000004 starts in organization %q", before)
	}
	if _, err := h.erp.DB.ExecContext(h.ctx, "UPDATE AC8010 SET AC8_CODENT = '00000101' WHERE AC8_CODCON = '000004' AND AC8_ENTIDA = 'SA1'"); err != nil {
		t.Fatal(err)
	}
	stats := h.mustSync("sync after relinking contact 000004")
	if got := orgOf(email); got != target.CRMID {
		t.Errorf("contact 000004 after its AC8 link moved to 000001/01: organization %s, want %s", got, target.CRMID)
	}
	if r := stats["contacts"]; r.Updated != 1 {
		t.Errorf("contacts after one relink: %+v, want one update", r)
	}
}

// ageStamps stamps every row of tables an hour ago, and changes one
// unrelated row of each now: the cursors' high-water marks are recent, so
// the next polls' overlap does not reach the aged rows.
func ageStamps(t *testing.T, h *harness, tables ...string) {
	t.Helper()
	fresh := map[string]string{
		"SA1010": "A1_COD = '000200'", "SC5010": "C5_FILIAL = '01' AND C5_NUM = '000006'",
		"SC6010": "C6_FILIAL = '01' AND C6_NUM = '000006'", "SU5010": "U5_CODCONT = '000001'", "AC8010": "AC8_CODCON = '000001'",
	}
	for _, table := range tables {
		execERP(t, h, "UPDATE "+table+" SET S_T_A_M_P_ = strftime('%Y-%m-%d %H:%M:%f','now','-1 hour')")
		execERP(t, h, "UPDATE "+table+" SET R_E_C_N_O_ = R_E_C_N_O_ WHERE "+fresh[table])
	}
}

// TestRenamedCustomerRenamesItsDealsOnThePoll: a customer renamed in SA1
// (SC5 and SC6 untouched) renames its orders' deals on the same poll, not
// at the nightly full pass; a rewrite of its invoicing statistics alone
// re-reads none of them.
func TestRenamedCustomerRenamesItsDealsOnThePoll(t *testing.T) {
	h := newOrdersHarness(t, sqliteBackend)
	ageStamps(t, h, "SA1010", "SC5010", "SC6010", "SU5010", "AC8010")
	h.mustSync("first sync")
	const renamed = "CLIENTE RENOMEADO LTDA"
	orders := len(queryRows(h.ctx, t, h.erp.DB, "SELECT C5_NUM FROM SC5010 WHERE C5_FILIAL = '01' AND C5_CLIENTE = '000003' AND D_E_L_E_T_ = ' '"))
	if orders == 0 {
		t.Fatal("customer 000003 has no orders")
	}
	if err := h.erp.RenameCustomer(h.ctx, "000003", "01", renamed); err != nil {
		t.Fatal(err)
	}
	stats := h.mustSync("sync after renaming customer 000003")
	if _, ok := dealsByName(h.sim.State())["Pedido 000001 · "+renamed]; !ok {
		t.Errorf("order 000001's deal is not renamed after its customer: %v", sortedKeys(dealsByName(h.sim.State())))
	}
	if r := stats["orders"]; int(r.Updated) != orders {
		t.Errorf("orders after renaming their customer: %+v, want its %d orders updated", r, orders)
	}

	quiet := h.mustSync("sync without changes")["orders"].Read // the overlap's re-reads
	execERP(t, h, "UPDATE SA1010 SET A1_ULTCOM = '20991231' WHERE A1_COD = '000003'")
	stats = h.mustSync("sync after invoicing statistics moved")
	if r := stats["orders"]; r.Read != quiet {
		t.Errorf("orders after a statistics-only SA1 change: %+v, want %d read as without it", r, quiet)
	}
}

// TestUnblockedCustomerLinksItsContactOnThePoll: a contact whose only
// customer is blocked is not synced (streams.contacts.unlinked), and goes to
// the CRM with its organization on the poll that syncs the customer once
// it is unblocked; SU5 and AC8 are untouched.
func TestUnblockedCustomerLinksItsContactOnThePoll(t *testing.T) {
	h := newHarness(t, sqliteBackend, harnessOptions{})
	execERP(t, h, "UPDATE SA1010 SET A1_MSBLQL = '1' WHERE A1_COD = '000004' AND A1_LOJA = '01'")
	ageStamps(t, h, "SA1010", "SU5010", "AC8010")
	h.mustSync("first sync")
	const email = "elisa.silva4@exemplo.com.br" // contact 000004, linked to customer 000004/01 only
	orgOf := func() (string, bool) {
		for _, c := range h.sim.State().Contacts {
			for _, e := range c.Emails {
				if strings.EqualFold(e.Email, email) {
					return c.OrganizationID, true
				}
			}
		}
		return "", false
	}
	if org, ok := orgOf(); ok {
		t.Fatalf("the blocked customer's contact is in the CRM (organization %q): want it left out", org)
	}
	execERP(t, h, "UPDATE SA1010 SET A1_MSBLQL = '2' WHERE A1_COD = '000004' AND A1_LOJA = '01'")
	stats := h.mustSync("sync after unblocking customer 000004")
	target, ok, err := h.bridge.Store.Identity(h.ctx, "organization", customerKey("000004", "01"))
	if err != nil || !ok {
		t.Fatalf("customer 000004/01 is not synced after unblocking: %v", err)
	}
	if got, ok := orgOf(); !ok || got != target.CRMID {
		t.Errorf("contact 000004 after its customer was unblocked: organization %q, want %s", got, target.CRMID)
	}
	if r := stats["contacts"]; r.Created != 1 {
		t.Errorf("contacts: %+v, want the one contact of the customer created", r)
	}
}

// TestCustomersOrdersArePaged: the orders of a changed customer are read
// and handed on in pages of the poll's size, however many there are.
func TestCustomersOrdersArePaged(t *testing.T) {
	h := newOrdersHarness(t, sqliteBackend)
	const n = 53
	for i := range n {
		if _, err := h.erp.AddOrder(h.ctx, fixture.NewOrder{Num: fmt.Sprintf("8%05d", i), Customer: "000003", Loja: "01", Seller: "000001",
			Items: []fixture.NewOrderItem{{Product: "PA0001", Qty: decimal.NewFromInt(1), Price: decimal.NewFromInt(10)}}}); err != nil {
			t.Fatal(err)
		}
	}
	rs := streamsOf(t, h)["orders"].Source.(*streams.Related)
	var sa1 *streams.Relation
	for _, r := range rs.Relations() {
		if r.Name() == "SA1" {
			sa1 = &r
		}
	}
	if sa1 == nil {
		t.Fatal("orders do not follow SA1")
	}
	cust, ok, err := sa1.Source().Lookup(h.ctx, customerKey("000003", "01"))
	if err != nil || !ok {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	pages := 0
	if err := sa1.Follow(h.ctx, []erp.Record{cust}, 7, func(p []erp.Record) bool {
		pages++
		if len(p) > 7 {
			t.Errorf("a page of %d orders, page size 7", len(p))
		}
		for _, r := range p {
			if seen[r.Key] {
				t.Errorf("order %s handed on twice", r.Key)
			}
			seen[r.Key] = true
		}
		return true
	}); err != nil {
		t.Fatal(err)
	}
	if len(seen) < n+1 || pages < (n+1)/7 {
		t.Errorf("%d orders in %d pages, want the customer's %d+ in pages of 7", len(seen), pages, n+1)
	}
}

// TestFollowedRowsCountOnceCommitted: a changed customer's orders are read
// again by every poll that starts from a cursor before it (a run that
// failed, a page read ahead but not handled), and no more once a cursor
// past it is committed, while it stays in the poll's overlap.
func TestFollowedRowsCountOnceCommitted(t *testing.T) {
	h := newOrdersHarness(t, sqliteBackend)
	ageStamps(t, h, "SA1010", "SC5010", "SC6010")
	rs := streamsOf(t, h)["orders"].Source.(*streams.Related)
	since, err := rs.Checkpoint(h.ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := h.erp.RenameCustomer(h.ctx, "000003", "01", "CLIENTE RENOMEADO LTDA"); err != nil {
		t.Fatal(err)
	}
	poll := func(from erp.Position) (int, erp.Position) {
		t.Helper()
		n, last := 0, from
		for page, err := range rs.Changes(h.ctx, from, 100) {
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range page.Records {
				if streams.Str(r, "C5_CLIENTE") == "000003" {
					n++
				}
			}
			last = page.Next
		}
		return n, last
	}
	first, next := poll(since)
	if first == 0 {
		t.Fatal("the renamed customer's orders were not read")
	}
	if again, _ := poll(since); again != first { // the first poll's cursor was never committed
		t.Errorf("a poll from the same cursor read %d of the customer's orders, want %d again", again, first)
	}
	if n, _ := poll(next); n != 0 { // committed past the rename, which is still in the overlap
		t.Errorf("a poll from a cursor past the rename read %d of its orders again, want 0", n)
	}
}
