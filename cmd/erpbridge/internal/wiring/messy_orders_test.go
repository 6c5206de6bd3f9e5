package wiring

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/erpbridge/erpbridge/erp/protheus/access"
	ordersstream "github.com/erpbridge/erpbridge/erp/protheus/streams/orders"

	"github.com/erpbridge/erpbridge/cmd/erpbridge/internal/components"

	"github.com/shopspring/decimal"

	"github.com/erpbridge/erpbridge/bridge"
	"github.com/erpbridge/erpbridge/bridge/store"
	"github.com/erpbridge/erpbridge/cmd/erpbridge/internal/config"
	"github.com/erpbridge/erpbridge/erp"
	"github.com/erpbridge/erpbridge/erp/protheus/fixture"
	"github.com/erpbridge/erpbridge/rdstation/crm"
	"github.com/erpbridge/erpbridge/rdstation/rdsim"
)

// messyOrdersConfig is ordersConfig with the default history window.
var messyOrdersConfig = strings.Replace(ordersConfig, "history_days = 0\n", "", 1)

// withOrders adds keys to the [streams.orders] table of an orders config.
func withOrders(cfg, keys string) string {
	return strings.Replace(cfg, "[streams.orders.stages]", keys+"[streams.orders.stages]", 1)
}

// messyCustomer is the A1_NOME of fixture.MessyOrders.Customer.
const messyCustomer = "METAIS E CABOS MESSY LTDA"

// newMessyHarness is an orders harness whose ERP also has the messy orders
// (fixture.AddMessyOrders), opened with cfg (an orders configuration) on a
// simulator with switches sw.
func newMessyHarness(t *testing.T, be erpBackend, cfg string, sw rdsim.Switches) (*harness, fixture.MessyOrders) {
	t.Helper()
	var m fixture.MessyOrders
	h := newHarness(t, be, harnessOptions{
		extraConfig: cfg,
		fields:      []crm.CustomFieldInput{{Label: "Pedido ERP", Type: "text", For: "deal"}},
		seed: &rdsim.SeedData{
			Users:    []rdsim.User{{Name: "Vendedor Um", Email: sellerEmail, Active: true}},
			Deals:    []rdsim.Deal{{ID: fixture.CRMDealID, Name: "Negócio ganho no CRM", Win: ptr(true)}},
			Products: []rdsim.Product{{Name: "Impostos e frete", Visible: true}},
		},
		prepare: func(h *harness) {
			var err error
			if m, err = h.erp.AddMessyOrders(h.ctx, h.clk.Now()); err != nil {
				t.Fatal(err)
			}
			h.sim.SetSwitches(sw)
		},
	})
	return h, m
}

// orderNum is the C5_NUM of an order key.
func orderNum(key string) string { return erp.SplitKey(key)[1] }

// messyDealName is the deal name of a messy order of the messy customer.
func messyDealName(key string) string { return "Pedido " + orderNum(key) + " · " + messyCustomer }

// crmLines reads a deal back from the CRM: each line as "product name|its
// total", and the deal's amount_total, as the CRM computes them.
func crmLines(h *harness, dealID string) ([]string, decimal.Decimal) {
	h.t.Helper()
	d, err := h.crm.GetDeal(h.ctx, dealID)
	if err != nil {
		h.t.Fatal(err)
	}
	names := map[string]string{}
	for _, p := range h.sim.State().Products {
		names[p.ID] = p.Name
	}
	var out []string
	for _, dp := range d.Products {
		out = append(out, names[dp.ProductID]+"|"+dp.Total.String())
	}
	slices.Sort(out)
	return out, d.AmountTotal.Decimal
}

// TestMessyOrderTotalsToTheCent: orders whose lines have fractional
// quantities, prices of up to 7 decimals and float noise reach a CRM that
// keeps, cuts or refuses fractional amounts; line by line and deal by deal
// the CRM's totals equal the ERP's C6_VALOR, summed here with decimal
// arithmetic from the rows themselves.
func TestMessyOrderTotalsToTheCent(t *testing.T) {
	for _, mode := range []string{rdsim.AmountsDecimal, rdsim.AmountsTruncate, rdsim.AmountsReject} {
		t.Run(mode, func(t *testing.T) {
			h, m := newMessyHarness(t, sqliteBackend, messyOrdersConfig, rdsim.Switches{DealProductAmounts: mode})
			h.mustSync("first sync")
			checkMessyTotals(t, h, m, mode)
		})
	}
}

func TestMessyOrderTotalsPostgresIntegration(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test: needs PostgreSQL (ERPBRIDGE_TEST_PG_DSN); skipped under -short")
	}
	h, m := newMessyHarness(t, postgresBackend, messyOrdersConfig, rdsim.Switches{DealProductAmounts: rdsim.AmountsTruncate})
	h.mustSync("first sync")
	checkMessyTotals(t, h, m, rdsim.AmountsTruncate)
}

func checkMessyTotals(t *testing.T, h *harness, m fixture.MessyOrders, mode string) {
	t.Helper()
	nums := make([]string, len(m.Messy))
	for i, k := range m.Messy {
		nums[i] = "'" + orderNum(k) + "'"
	}
	want := map[string][]string{}             // order → "product name|C6_VALOR"
	wantTotal := map[string]decimal.Decimal{} // order → Σ C6_VALOR
	for _, r := range queryRows(h.ctx, t, h.erp.DB, `SELECT C6_NUM, B1_DESC, B1_COD, C6_VALOR FROM SC6010
		JOIN SB1010 ON B1_COD = C6_PRODUTO AND SB1010.D_E_L_E_T_ = ' '
		WHERE C6_FILIAL = '01' AND SC6010.D_E_L_E_T_ = ' ' AND C6_NUM IN (`+strings.Join(nums, ",")+`)`) {
		value := decimal.RequireFromString(r[3]).Round(2) // a FLOAT of the cent (N 12,2)
		want[r[0]] = append(want[r[0]], strings.TrimSpace(r[1])+" ("+r[2]+")|"+value.String())
		wantTotal[r[0]] = wantTotal[r[0]].Add(value)
	}
	if len(want) != len(m.Messy) {
		t.Fatalf("read the lines of %d messy orders, want %d", len(want), len(m.Messy))
	}
	deals := dealsByName(h.sim.State())
	kept, folded := 0, 0
	for _, key := range m.Messy {
		num := orderNum(key)
		d, ok := deals[messyDealName(key)]
		if !ok {
			t.Errorf("order %s: no deal", num)
			continue
		}
		have, total := crmLines(h, d.ID)
		slices.Sort(want[num])
		if !slices.Equal(have, want[num]) {
			t.Errorf("order %s: CRM lines (product|total)\n have %v\n want %v", num, have, want[num])
		}
		if !total.Equal(wantTotal[num]) {
			t.Errorf("order %s: CRM deal total %s, want %s (Σ C6_VALOR)", num, total, wantTotal[num])
		}
		for _, p := range d.Products {
			switch {
			case !p.Discount.IsZero():
				t.Errorf("order %s: a line with a discount %s", num, p.Discount)
			case !p.Amount.IsInteger():
				kept++
			case p.Amount.Equal(decimal.NewFromInt(1)):
				folded++
			}
		}
		if n := len(h.sim.Notes(d.ID)); n > 1 {
			t.Errorf("order %s: %d notes after one sync, want at most 1", num, n)
		}
	}
	if mode == rdsim.AmountsDecimal && kept == 0 {
		t.Error("no fractional quantity reached a CRM that keeps them")
	}
	if mode != rdsim.AmountsDecimal && kept > 0 {
		t.Errorf("%d lines kept a fractional quantity on a CRM that does not", kept)
	}
	if folded == 0 {
		t.Error("no line was sent folded: the messy lines are not messy")
	}

	// Nothing changed: nothing is written, no note twice.
	before := h.sim.Counts().Writes
	h.mustSync("second sync")
	if w := h.sim.Counts().Writes - before; w != 0 {
		t.Errorf("an unchanged ERP cost %d CRM writes", w)
	}
}

// TestOneBadItemDoesNotHoldTheOrderBack: an order with an item whose
// product is deleted becomes a deal with its other items and a note that
// names the item; the note is written again only when the items left out
// change.
func TestOneBadItemDoesNotHoldTheOrderBack(t *testing.T) {
	h, m := newMessyHarness(t, sqliteBackend, messyOrdersConfig, rdsim.Switches{})
	h.mustSync("first sync")
	name := messyDealName(m.DeletedProductOrder)
	d, ok := dealsByName(h.sim.State())[name]
	if !ok {
		t.Fatalf("no deal %q for the order with a deleted product (open items: %+v)", name, h.openItems())
	}
	have, _ := crmLines(h, d.ID)
	if len(have) != 2 || strings.Contains(strings.Join(have, " "), "MSYDEL") {
		t.Errorf("deal %q lines %v, want the two items whose products are live", name, have)
	}
	notes := h.sim.Notes(d.ID)
	if len(notes) != 1 || !strings.Contains(notes[0].Text, "item "+m.DeletedProductItem+", MSYDEL") || !strings.Contains(notes[0].Text, "left out") {
		t.Fatalf("notes %+v, want one naming item %s (MSYDEL) as left out", notes, m.DeletedProductItem)
	}
	for _, it := range h.openItems() {
		if it.ERPKey == m.DeletedProductOrder {
			t.Errorf("the order is in the outbox as %s: %s", it.State, it.LastError)
		}
	}

	// Read again (a full pass): the same item is left out, no new note.
	if _, err := h.bridge.Engine.SyncAll(h.ctx, fullSync); err != nil {
		t.Fatal(err)
	}
	if n := len(h.sim.Notes(d.ID)); n != 1 {
		t.Errorf("%d notes after a full pass that changed nothing, want 1", n)
	}

	// Another item names a product the ERP does not have (only SC6 is
	// written): the deal loses it, and a second note names both items.
	if _, err := h.erp.DB.ExecContext(h.ctx, "UPDATE SC6010 SET C6_PRODUTO = 'MSYNONE' WHERE C6_NUM = '"+orderNum(m.DeletedProductOrder)+"' AND C6_ITEM = '03'"); err != nil {
		t.Fatal(err)
	}
	h.mustSync("sync after item 03 names an unknown product")
	have, _ = crmLines(h, d.ID)
	notes = h.sim.Notes(d.ID)
	if len(have) != 1 || len(notes) != 2 || !strings.Contains(notes[1].Text, "item 03, MSYNONE") || !strings.Contains(notes[1].Text, "MSYDEL") {
		t.Errorf("after item 03 named an unknown product: lines %v, notes %+v; want one line and a second note naming both items", have, notes)
	}
}

// fullSync reads every row; dryRun writes nothing.
var (
	fullSync = bridge.SyncOptions{Full: true}
	dryRun   = bridge.SyncOptions{DryRun: true}
)

// TestDeletedCustomersOrderIsReported: an order whose customer is
// soft-deleted gets no deal (not one without organization, silently): it
// is listed once at level skip, naming the customer.
func TestDeletedCustomersOrderIsReported(t *testing.T) {
	h, m := newMessyHarness(t, sqliteBackend, messyOrdersConfig, rdsim.Switches{})
	h.mustSync("first sync")
	for _, d := range h.sim.State().Deals {
		if strings.Contains(d.Name, orderNum(m.DeletedCustomerOrder)) {
			t.Errorf("the deleted customer's order became deal %q (organization %q)", d.Name, d.OrganizationID)
		}
	}
	items, err := h.bridge.Store.Errors(h.ctx, store.OutboxFilter{ERPKey: m.DeletedCustomerOrder, Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	if len(items) != 1 || items[0].Level != store.LevelSkip || !strings.Contains(items[0].LastError, "deleted in SA1") || !strings.Contains(items[0].LastError, "MSY002") {
		t.Fatalf("outbox for the deleted customer's order: %+v, want one item at level skip naming customer MSY002 as deleted", items)
	}
	h.mustSync("second sync")
	if items, _ := h.bridge.Store.Errors(h.ctx, store.OutboxFilter{ERPKey: m.DeletedCustomerOrder, Limit: 10}); len(items) != 1 {
		t.Errorf("%d outbox items after a second sync, want it listed once", len(items))
	}

	// The customer is restored (only SA1 is written): its order becomes a
	// deal on the next poll.
	if _, err := h.erp.DB.ExecContext(h.ctx, "UPDATE SA1010 SET D_E_L_E_T_ = ' ', R_E_C_D_E_L_ = 0 WHERE A1_COD = 'MSY002'"); err != nil {
		t.Fatal(err)
	}
	h.mustSync("sync after the customer is restored")
	found := false
	for _, d := range h.sim.State().Deals {
		found = found || strings.HasPrefix(d.Name, "Pedido "+orderNum(m.DeletedCustomerOrder)+" ")
	}
	if !found {
		t.Error("the restored customer's order did not become a deal on the next poll")
	}
	if items, _ := h.bridge.Store.Errors(h.ctx, store.OutboxFilter{ERPKey: m.DeletedCustomerOrder, Limit: 10}); len(items) != 0 {
		t.Errorf("the order is still listed after its customer was restored: %+v", items)
	}
}

// TestOrderTypesCurrenciesAndReceivables: by default only normal orders
// become deals (a return or beneficiamento names a supplier, so it never
// lands on the SA1 customer sharing the code); types, currencies and
// receivable_only choose which orders go.
func TestOrderTypesCurrenciesAndReceivables(t *testing.T) {
	tests := []struct {
		name, extra string
		want        func(m fixture.MessyOrders) map[string]bool // order key → becomes a deal
	}{
		{"defaults", "", func(m fixture.MessyOrders) map[string]bool {
			return map[string]bool{m.Return: false, m.Beneficiamento: false, m.ForeignCurrency: true, m.NoReceivable: true}
		}},
		{"returns, local currency, receivables only", "types = [\"N\", \"D\"]\ncurrencies = [1]\nreceivable_only = true\n", func(m fixture.MessyOrders) map[string]bool {
			return map[string]bool{m.Return: true, m.Beneficiamento: false, m.ForeignCurrency: false, m.NoReceivable: false}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, m := newMessyHarness(t, sqliteBackend, withOrders(messyOrdersConfig, tt.extra), rdsim.Switches{})
			stats := h.mustSync("first sync")
			names := map[string]bool{}
			for _, d := range h.sim.State().Deals {
				names[d.Name] = true
			}
			for key, want := range tt.want(m) {
				got := false
				for n := range names {
					got = got || strings.HasPrefix(n, "Pedido "+orderNum(key)+" ")
				}
				if got != want {
					t.Errorf("order %s became a deal: %v, want %v", key, got, want)
				}
			}
			if names["Pedido "+orderNum(m.Beneficiamento)+" · MESMO CODIGO DO FORNECEDOR LTDA"] {
				t.Error("a beneficiamento order landed on the SA1 customer sharing its supplier's code")
			}
			if stats["orders"].Skipped == 0 {
				t.Errorf("orders: %+v, want the left-out orders counted as skipped", stats["orders"])
			}
		})
	}
}

// TestHistoryWindow: by default the first run turns the last 90 days of
// orders into deals, not the whole history; the day of that first run is
// kept, a dry run counts the same without recording it, and an install
// whose deals predate the window keeps them in step.
func TestHistoryWindow(t *testing.T) {
	h, m := newMessyHarness(t, sqliteBackend, messyOrdersConfig, rdsim.Switches{})
	_ = h.bridge.Close()
	if err := os.Remove(filepath.Join(h.cfg.DataDir, StoreFile)); err != nil { // a fresh store
		t.Fatal(err)
	}

	// A dry run on a fresh store: what the first run will create.
	dry := h.open(messyOrdersConfig, true)
	reps, err := dry.Engine.SyncAll(h.ctx, dryRun)
	if err != nil {
		t.Fatal(err)
	}
	var dryOrders int64
	for _, r := range reps {
		if r.Stream == "orders" {
			dryOrders = r.Stats.Created + r.Stats.Updated
		}
	}
	_ = dry.Close()

	h.reopen(messyOrdersConfig)
	stats := h.mustSync("first sync")
	// (the order made from a CRM deal is an update of that deal, in both)
	if got := stats["orders"].Created + stats["orders"].Updated; got != dryOrders || got == 0 {
		t.Errorf("the first run created %d deals, the dry run said %d", got, dryOrders)
	}
	first, ok, err := h.bridge.Store.Meta(h.ctx, ordersstream.FirstRunMeta)
	if err != nil || !ok || first != h.clk.Now().UTC().Format(time.DateOnly) {
		t.Errorf("first run recorded as %q (%v, %v), want today", first, ok, err)
	}
	for _, d := range h.sim.State().Deals {
		if strings.HasPrefix(d.Name, "Pedido "+orderNum(m.Old)+" ") || strings.HasPrefix(d.Name, "Pedido 000001 ") {
			t.Errorf("deal %q: an order issued before the window became a deal", d.Name)
		}
	}

	// An install that made deals of its whole history, upgraded: its
	// deals keep syncing, older orders without one stay out.
	h2, m2 := newMessyHarness(t, sqliteBackend, ordersConfig, rdsim.Switches{}) // history_days = 0: every order, as before
	h2.mustSync("sync of the whole history")
	if _, ok, _ := h2.bridge.Store.Meta(h2.ctx, ordersstream.FirstRunMeta); ok {
		t.Error("history_days = 0 recorded a first run")
	}
	_ = h2.bridge.Close()
	h2.reopen(messyOrdersConfig) // the default window from now on
	if _, err := h2.erp.InvoiceOrder(h2.ctx, orderNum(m2.Old)); err != nil {
		t.Fatal(err)
	}
	if _, err := h2.erp.AddOrder(h2.ctx, fixture.NewOrder{Num: "699999", Customer: "MSY001", Loja: "01", Seller: "000001",
		Items: []fixture.NewOrderItem{{Product: "MSY004", Qty: decimal.NewFromInt(1), Price: decimal.NewFromInt(2)}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := h2.erp.DB.ExecContext(h2.ctx, "UPDATE SC5010 SET C5_EMISSAO = '20200101' WHERE C5_NUM = '699999'"); err != nil {
		t.Fatal(err)
	}
	h2.mustSync("sync after the upgrade")
	st := h2.sim.State()
	deals := dealsByName(st)
	if d := deals[messyDealName(m2.Old)]; d.Win == nil || !*d.Win {
		t.Errorf("the old order's deal after its invoice: win %v, want won (it has a deal: it keeps syncing)", d.Win)
	}
	if _, ok := deals[messyDealName(fixture.OrderKey("699999"))]; ok {
		t.Error("an order issued before the window, without a deal, became one after the upgrade")
	}
}

// TestInvoiceTotal: with total = "invoice", an invoiced order's deal totals
// its invoice's gross value (F2_VALBRUT, read here from SF2), the taxes and
// freight on a line of their own; other deals keep the items' total.
func TestInvoiceTotal(t *testing.T) {
	h, m := newMessyHarness(t, sqliteBackend, withOrders(messyOrdersConfig, "total = \"invoice\"\ninvoice_product = \"Impostos e frete\"\n"), rdsim.Switches{})
	h.mustSync("first sync")
	rows := queryRows(h.ctx, t, h.erp.DB, "SELECT F2_VALBRUT FROM SF2010 WHERE TRIM(F2_DOC) = '"+m.InvoiceDoc+"'")
	if len(rows) != 1 {
		t.Fatalf("SF2 rows %v", rows)
	}
	gross := decimal.RequireFromString(rows[0][0]).Round(2)
	d, ok := dealsByName(h.sim.State())[messyDealName(m.Invoiced)]
	if !ok {
		t.Fatal("no deal for the invoiced order")
	}
	lines, total := crmLines(h, d.ID)
	if !total.Equal(gross) || !strings.Contains(strings.Join(lines, " "), "Impostos e frete|") {
		t.Errorf("invoiced deal: total %s, lines %v; want F2_VALBRUT %s with an Impostos e frete line", total, lines, gross)
	}
	if n := h.sim.Notes(d.ID); len(n) != 1 || !strings.Contains(n[0].Text, "F2_VALBRUT") {
		t.Errorf("notes %+v, want one explaining the taxes and freight line", n)
	}
	other := dealsByName(h.sim.State())[messyDealName(m.Messy[0])]
	if lines, _ := crmLines(h, other.ID); strings.Contains(strings.Join(lines, " "), "Impostos") {
		t.Errorf("an order not invoiced got an invoice line: %v", lines)
	}
}

// TestOptionalOrderColumns: an ERP whose SC6 lacks the columns that only
// refine a value (C6_DESCONT, C6_VALDESC, C6_OPER, C6_PEDCLI) and whose
// SC5 lacks C5_MOEDA still syncs its orders, saying what it goes without.
func TestOptionalOrderColumns(t *testing.T) {
	h := newHarness(t, sqliteBackend, harnessOptions{
		extraConfig: ordersConfig,
		fields:      []crm.CustomFieldInput{{Label: "Pedido ERP", Type: "text", For: "deal"}},
		seed:        &rdsim.SeedData{Deals: []rdsim.Deal{{ID: fixture.CRMDealID, Name: "Negócio ganho no CRM", Win: ptr(true)}}},
		prepare: func(h *harness) {
			for _, stmt := range []string{"ALTER TABLE SC6010 DROP COLUMN C6_DESCONT", "ALTER TABLE SC6010 DROP COLUMN C6_VALDESC",
				"ALTER TABLE SC6010 DROP COLUMN C6_OPER", "ALTER TABLE SC6010 DROP COLUMN C6_PEDCLI", "ALTER TABLE SC5010 DROP COLUMN C5_MOEDA"} {
				if _, err := h.erp.DB.ExecContext(h.ctx, stmt); err != nil {
					t.Fatal(err)
				}
			}
		},
	})
	stats := h.mustSync("first sync")
	if stats["orders"].Created < 9 {
		t.Errorf("orders: %+v, want the fixture's orders as deals", stats["orders"])
	}
	text := warningsText(h.bridge)
	for _, col := range []string{"C6_DESCONT", "C6_VALDESC", "C6_OPER", "C6_PEDCLI", "C5_MOEDA"} {
		if !strings.Contains(text, col) {
			t.Errorf("warnings do not name %s: %s", col, text)
		}
	}
	if strings.Contains(text, "C6_UM") {
		t.Errorf("warnings name a column the table has: %s", text)
	}
}

// open opens a bridge on the harness's ERP and simulator with another
// orders configuration (extra replaces the harness's), in a dry run or not.
func (h *harness) open(extra string, dryRun bool) *Bridge {
	h.t.Helper()
	text := baseConfig(h.cfg.DataDir, components.ERP(h.cfg).Driver, components.ERP(h.cfg).DSN, components.CRM(h.cfg).BaseURL, extra)
	cfg, err := config.Parse([]byte(text), func(string) (string, bool) { return "", false })
	if err != nil {
		h.t.Fatalf("parsing config: %v\n%s", err, text)
	}
	if err := cfg.Validate(); err != nil {
		h.t.Fatalf("validating config: %v", err)
	}
	b, err := Open(h.ctx, cfg, Options{Clock: h.clk, DryRun: dryRun})
	if err != nil {
		h.t.Fatalf("opening bridge: %v", err)
	}
	return b
}

// reopen replaces the harness's bridge with one opened with extra.
func (h *harness) reopen(extra string) {
	h.t.Helper()
	b := h.open(extra, false)
	h.bridge = b
	h.cfg = b.Config
	h.t.Cleanup(func() { b.Close() })
}

// TestRESTOrdersGoWithoutSF4AndSF2: read through REST routes (which serve
// no SF4 or SF2), receivable_only and total = "invoice" fall back as
// documented, with a warning, instead of stopping the stream.
func TestRESTOrdersGoWithoutSF4AndSF2(t *testing.T) {
	o := ordersHarnessOptions(func(h *harness) string { return restConfig(serveRestsim(h, &requestLog{})) })
	cfg := o.configFor
	o.configFor = func(h *harness) string {
		return strings.Replace(cfg(h), ordersConfig, withOrders(ordersConfig, "receivable_only = true\ntotal = \"invoice\"\ninvoice_product = \"Impostos e frete\"\n"), 1)
	}
	o.seed.Products = []rdsim.Product{{Name: "Impostos e frete", Visible: true}}
	h := newHarness(t, sqliteBackend, o)
	if stats := h.mustSync("first sync"); stats["orders"].Created < 9 {
		t.Errorf("orders: %+v, want the fixture's orders as deals", stats["orders"])
	}
	text := warningsText(h.bridge)
	if !strings.Contains(text, "SF4010 is not read through erp.rest routes") || !strings.Contains(text, "SF2010 is not read through erp.rest routes") {
		t.Errorf("warnings: %s", text)
	}
	tables, err := Tables(h.cfg, components.ERP(h.cfg).Company)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := h.bridge.ERP.(*access.Access).Routes(tables); err != nil {
		t.Errorf("the REST routes with SF4 and SF2 configured: %v", err)
	}
}

// warningsText is what the bridge warned it goes without, one per line.
func warningsText(b *Bridge) string {
	var lines []string
	for _, w := range b.Warnings {
		lines = append(lines, w.Stream+": "+w.Text)
	}
	return strings.Join(lines, "\n")
}
