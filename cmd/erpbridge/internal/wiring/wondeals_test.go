package wiring

import (
	"fmt"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/shopspring/decimal"

	wondeals "github.com/erpbridge/erpbridge/bridge/inbound"
	"github.com/erpbridge/erpbridge/bridge/store"
	"github.com/erpbridge/erpbridge/erp"
	"github.com/erpbridge/erpbridge/erp/protheus/erpjob"
	"github.com/erpbridge/erpbridge/erp/protheus/fixture"
	"github.com/erpbridge/erpbridge/erp/protheus/restsim"
	"github.com/erpbridge/erpbridge/erp/sqlerp"
	"github.com/erpbridge/erpbridge/rdstation/crm"
	"github.com/erpbridge/erpbridge/rdstation/rdsim"
)

// wonDealsConfig sends won deals to the staging table of filial 01.
const wonDealsConfig = ordersConfig + `
[won_deals]
enabled = true
sink = "staging"
filial = "01"
payment_terms = "001"
`

// wonDeal creates a deal in the CRM for an organization and products the
// bridge synced (ERP keys), with exact quantities and prices, and wins it.
func wonDeal(h *harness, name, customerKey string, lines map[string][2]string) string {
	h.t.Helper()
	id := newDeal(h, "", name, customerKey, lines)
	if _, err := h.crm.WinDeal(h.ctx, id); err != nil {
		h.t.Fatal(err)
	}
	return id
}

// newDeal creates a deal like wonDeal, open, in stage (blank: the first
// stage of the first pipeline).
func newDeal(h *harness, stage, name, customerKey string, lines map[string][2]string) string {
	h.t.Helper()
	in := crm.DealCreate{Deal: crm.DealInput{Name: name, DealStageID: stage}}
	if customerKey != "" {
		id, ok, err := h.bridge.Store.Identity(h.ctx, "organization", customerKey)
		if err != nil || !ok {
			h.t.Fatalf("customer %s is not synced: %v", customerKey, err)
		}
		in.OrganizationID = id.CRMID
	}
	for key, qp := range lines {
		pid := key
		if strings.Contains(key, "|") {
			id, ok, err := h.bridge.Store.Identity(h.ctx, "product", key)
			if err != nil || !ok {
				h.t.Fatalf("product %s is not synced: %v", key, err)
			}
			pid = id.CRMID
		}
		in.Products = append(in.Products, crm.DealProductInput{ProductID: pid,
			Amount: crm.DecimalPtr(decimal.RequireFromString(qp[0])), Price: crm.DecimalPtr(decimal.RequireFromString(qp[1]))})
	}
	d, err := h.crm.CreateDeal(h.ctx, in)
	if err != nil {
		h.t.Fatalf("creating deal %q: %v", name, err)
	}
	return d.ID
}

func productKey(cod string) string { return erp.JoinKey(fixture.SharedFilial, cod) }

// stagedOrders reads ZB1 rows by deal id: status, order number, error.
func stagedOrders(h *harness) map[string][3]string {
	h.t.Helper()
	out := map[string][3]string{}
	for _, r := range queryRows(h.ctx, h.t, h.erp.DB, "SELECT ZB1_DEALID, ZB1_STATUS, ZB1_NUMPED, ZB1_ERRO FROM ZB1010 WHERE D_E_L_E_T_ = ' '") {
		if _, dup := out[r[0]]; dup {
			h.t.Errorf("deal %s staged twice", r[0])
		}
		out[r[0]] = [3]string{r[1], r[2], r[3]}
	}
	return out
}

// ordersOfDeal counts live SC5 orders per C5_XCRMID.
func ordersOfDeal(h *harness) map[string]int {
	h.t.Helper()
	out := map[string]int{}
	for _, r := range queryRows(h.ctx, h.t, h.erp.DB, "SELECT C5_XCRMID, COUNT(*) FROM SC5010 WHERE D_E_L_E_T_ = ' ' AND TRIM(C5_XCRMID) <> '' GROUP BY C5_XCRMID") {
		var n int
		fmt.Sscan(r[1], &n)
		out[r[0]] = n
	}
	return out
}

func TestWonDealsBecomeERPOrders(t *testing.T) {
	checkWonDeals(t, newWonDealsHarness(t, sqliteBackend))
}

func TestWonDealsBecomeERPOrdersPostgresIntegration(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test: needs PostgreSQL (ERPBRIDGE_TEST_PG_DSN); skipped under -short")
	}
	checkWonDeals(t, newWonDealsHarness(t, postgresBackend))
}

func newWonDealsHarness(t *testing.T, be erpBackend) *harness {
	t.Helper()
	return newHarness(t, be, harnessOptions{
		extraConfig: wonDealsConfig,
		fields:      []crm.CustomFieldInput{{Label: "Pedido ERP", Type: "text", For: "deal"}},
		seed: &rdsim.SeedData{
			Users: []rdsim.User{{Name: "Vendedor Um", Email: sellerEmail, Active: true}},
			Deals: []rdsim.Deal{{ID: fixture.CRMDealID, Name: "Negócio ganho no CRM", Win: ptr(true)}},
		},
	})
}

func runWon(h *harness, what string) wondeals.Report {
	h.t.Helper()
	rep, err := h.bridge.WonDeals.Run(h.ctx)
	h.t.Logf("%s: %+v", what, rep)
	if err != nil {
		h.t.Fatalf("%s: %v", what, err)
	}
	return rep
}

func checkWonDeals(t *testing.T, h *harness) {
	// The seeded CRM deal the ERP's order 000010 was made from is in the
	// orders pipeline, so only what the ERP already has keeps it from the ERP.
	if _, err := h.crm.UpdateDeal(h.ctx, fixture.CRMDealID, crm.DealUpdate{DealStageID: simPipelines(t, h.sim)[rdsim.DefaultPipelineName][1]}); err != nil {
		t.Fatal(err)
	}
	h.mustSync("first sync")
	// Nothing won yet but deals from ERP orders and the CRM deal whose order
	// the ERP already has: nothing is sent.
	if rep := runWon(h, "first poll"); rep.Sent != 0 || rep.OtherPipeline != 0 {
		t.Fatalf("the first poll sent %d orders (%d deals of other pipelines); every won deal came from (or is in) the ERP", rep.Sent, rep.OtherPipeline)
	}

	good := wonDeal(h, "Venda CRM boa", customerKey("000001", "01"), map[string][2]string{
		productKey("PA0001"): {"2.35", "10.10"}, productKey("PA0002"): {"1", "0.07"}})
	blocked := wonDeal(h, "Venda com produto que o ERP bloqueia", customerKey("000002", "01"), map[string][2]string{
		productKey("PA0003"): {"1", "30"}})
	noCustomer := wonDeal(h, "Venda sem organização", "", map[string][2]string{productKey("PA0004"): {"1", "40"}})
	// A product created in the CRM only.
	crmOnly, err := h.crm.CreateProduct(h.ctx, crm.ProductInput{Name: "Serviço só do CRM", BasePrice: crm.DecimalPtr(decimal.NewFromInt(5))})
	if err != nil {
		t.Fatal(err)
	}
	unknownProduct := wonDeal(h, "Venda com produto desconhecido", customerKey("000003", "01"), map[string][2]string{crmOnly.ID: {"1", "5"}})
	// An organization created in the CRM only: no ERP customer.
	crmOrg, err := h.crm.CreateOrganization(h.ctx, crm.OrganizationInput{Name: "Empresa só do CRM"})
	if err != nil {
		t.Fatal(err)
	}
	in := crm.DealCreate{Deal: crm.DealInput{Name: "Venda para empresa sem cadastro no ERP"}, OrganizationID: crmOrg.ID}
	pa, _, _ := h.bridge.Store.Identity(h.ctx, "product", productKey("PA0004"))
	in.Products = []crm.DealProductInput{{ProductID: pa.CRMID, Amount: crm.DecimalPtr(decimal.NewFromInt(1)), Price: crm.DecimalPtr(decimal.NewFromInt(40))}}
	unmapped, err := h.crm.CreateDeal(h.ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := h.crm.WinDeal(h.ctx, unmapped.ID); err != nil {
		t.Fatal(err)
	}
	// The ERP blocks PA0003 after the deal was won: MATA410 will refuse it.
	if _, err := h.erp.DB.ExecContext(h.ctx, "UPDATE SB1010 SET B1_MSBLQL = '1' WHERE B1_COD = 'PA0003         '"); err != nil {
		t.Fatal(err)
	}

	rep := runWon(h, "poll after four wins")
	if rep.Sent != 2 || rep.Waiting != 2 || rep.Invalid != 3 {
		t.Errorf("poll: sent %d waiting %d invalid %d; want 2, 2, 3", rep.Sent, rep.Waiting, rep.Invalid)
	}
	staged := stagedOrders(h)
	if len(staged) != 2 || staged[good][0] != fixture.StagingWaiting || staged[blocked][0] != fixture.StagingWaiting {
		t.Fatalf("staging rows: %v; want the two complete deals waiting", staged)
	}
	// Exact decimals reach the staging items.
	items := queryRows(h.ctx, h.t, h.erp.DB, "SELECT ZB2_PRODUT, ZB2_QTDVEN, ZB2_PRCVEN FROM ZB2010 WHERE ZB2_DEALID = '"+good+"' ORDER BY ZB2_ITEM")
	if got := fmt.Sprint(items); !strings.Contains(got, "PA0001 2.35 10.1") || !strings.Contains(got, "PA0002 1 0.07") {
		t.Errorf("staged items of %s: %v, want PA0001 2.35 × 10.10 and PA0002 1 × 0.07", good, items)
	}
	problems, err := h.bridge.Store.WritebackProblems(h.ctx, 10)
	if err != nil {
		t.Fatal(err)
	}
	byDeal := map[string]store.Writeback{}
	for _, w := range problems {
		byDeal[w.DealID] = w
	}
	if w := byDeal[noCustomer]; w.State != store.WritebackInvalid || !strings.Contains(w.Error, "no organization") {
		t.Errorf("deal without organization: %+v, want invalid naming the organization", w)
	}
	if w := byDeal[unmapped.ID]; w.State != store.WritebackInvalid || !strings.Contains(w.Error, "Empresa só do CRM") || !strings.Contains(w.Error, "SA1") {
		t.Errorf("deal for an organization the ERP does not have: %+v, want invalid naming the organization", w)
	}
	if w := byDeal[unknownProduct]; w.State != store.WritebackInvalid || !strings.Contains(w.Error, "Serviço só do CRM") || !strings.Contains(w.Error, "SB1") {
		t.Errorf("deal with a CRM-only product: %+v, want invalid naming the product", w)
	}
	if notes := h.sim.Notes(unknownProduct); len(notes) != 1 || !strings.Contains(notes[0].Text, "Serviço só do CRM") {
		t.Errorf("notes on the deal with an unknown product: %+v, want one naming it", notes)
	}

	// The ERP job runs: one order made, one rejected.
	outcomes, err := erpjob.Run(h.ctx, h.erp, erpjob.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("ERP job: %+v", outcomes)
	rep = runWon(h, "poll after the ERP job")
	if rep.Ordered != 1 || rep.Rejected != 1 {
		t.Errorf("poll: ordered %d rejected %d; want 1 and 1", rep.Ordered, rep.Rejected)
	}
	st := h.sim.State()
	staged = stagedOrders(h)
	num := staged[good][1]
	if num == "" {
		t.Fatalf("the good deal has no order number in ZB1: %v", staged[good])
	}
	var numberField string
	for _, f := range st.CustomFields {
		if f.Label == "Pedido ERP" {
			numberField = f.ID
		}
	}
	if v := fieldValue(findDeal(st, good).CustomFields, numberField); v != num {
		t.Errorf("deal %s: order number field %q, want %q", good, v, num)
	}
	if notes := h.sim.Notes(blocked); len(notes) != 1 || !strings.Contains(notes[0].Text, "PA0003") {
		t.Errorf("notes on the rejected deal: %+v, want one with the ERP's reason naming PA0003", notes)
	}

	// Everything settled: more polls and syncs change nothing and double nothing.
	deals := len(st.Deals)
	before := h.sim.Counts().Writes
	for i := range 2 {
		runWon(h, fmt.Sprintf("settled poll %d", i+1))
	}
	h.mustSync("sync after the orders exist")
	if w := h.sim.Counts().Writes - before; w > 2 {
		// Two writes are expected: the product the ERP blocked, and the orders
		// stream linking the new SC5 order to its deal (number already there).
		t.Errorf("settled polls and syncs wrote %d times, want at most 2", w)
	}
	if n := len(h.sim.State().Deals); n != deals {
		t.Errorf("deals: %d, want %d (an ERP order made from a deal must not become a second deal)", n, deals)
	}
	for deal, n := range ordersOfDeal(h) {
		if n != 1 {
			t.Errorf("deal %s has %d ERP orders", deal, n)
		}
	}
}

// TestWonDealTimeoutAfterERPCreatedOrderMakesOneOrder sends won deals to
// the Protheus REST simulator, whose order route creates the order and then
// never answers: the sink sends again, gets the existing order, and the
// bridge ends with one order and its number on the deal. Later polls,
// which see the same won deal again in their overlap, send nothing.
// (A send whose every answer is lost stays "submitting" and is asked for
// again by the next run: the crash test in cmd/erpbridge covers that.)
func TestWonDealTimeoutAfterERPCreatedOrderMakesOneOrder(t *testing.T) {
	var rs *restsim.Sim
	h := newHarness(t, sqliteBackend, harnessOptions{
		extraConfig: ordersConfig,
		fields:      []crm.CustomFieldInput{{Label: "Pedido ERP", Type: "text", For: "deal"}},
		configFor: func(h *harness) string {
			var err error
			if rs, err = restsim.New(h.ctx, h.erp.DB, sqlerp.SQLite{}, restsim.Options{User: "bridge", Password: "s3cret"}); err != nil {
				t.Fatal(err)
			}
			srv := httptest.NewServer(rs)
			t.Cleanup(srv.Close)
			return `
[won_deals]
enabled = true
sink = "rest"
filial = "01"
payment_terms = "001"
[won_deals.rest]
url = "` + srv.URL + restsim.BasePath + `/orders"
user = "bridge"
password = "s3cret"
timeout = "300ms"
`
		},
	})
	h.mustSync("first sync")
	orders := func() map[string]int { return ordersOfDeal(h) }

	rs.TimeoutAfterCreate(1)
	first := wonDeal(h, "Venda REST 1", customerKey("000001", "01"), map[string][2]string{productKey("PA0001"): {"3", "10.30"}})
	if rep := runWon(h, "poll with one lost answer"); rep.Ordered != 1 {
		t.Errorf("poll: %+v, want the order number written back", rep)
	}
	for i := range 2 {
		if rep := runWon(h, fmt.Sprintf("overlapping poll %d", i+1)); rep.Sent != 0 || rep.Listed == 0 {
			t.Errorf("an overlapping poll sent %d orders (listed %d), want 0 of the deals it saw again", rep.Sent, rep.Listed)
		}
	}

	got := orders()
	st := h.sim.State()
	var numberField string
	for _, f := range st.CustomFields {
		if f.Label == "Pedido ERP" {
			numberField = f.ID
		}
	}
	for _, id := range []string{first} {
		if got[id] != 1 {
			t.Errorf("deal %s has %d ERP orders, want 1", id, got[id])
		}
		if v := fieldValue(findDeal(st, id).CustomFields, numberField); v == "" {
			t.Errorf("deal %s has no order number", id)
		}
	}
}
