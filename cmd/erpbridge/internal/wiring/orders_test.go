package wiring

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/shopspring/decimal"

	"github.com/erpbridge/erpbridge/bridge"
	"github.com/erpbridge/erpbridge/erp"
	"github.com/erpbridge/erpbridge/erp/protheus"
	"github.com/erpbridge/erpbridge/erp/protheus/fixture"
	"github.com/erpbridge/erpbridge/rdstation/crm"
	"github.com/erpbridge/erpbridge/rdstation/rdsim"
)

// ordersConfig enables the orders stream with a stage for every status of
// the simulator's default pipeline, over the fixture's whole history (its
// orders are from 2024).
const ordersConfig = `
[streams.orders]
enabled = true
filial = "01"
history_days = 0
order_number_field = "Pedido ERP"
lost_reason = "Sem interesse"
cancelled_reason = "Preço"
default_owner = "` + rdsim.DefaultAdminEmail + `"
[streams.orders.stages]
open = "Sem contato"
released = "Contato feito"
blocked = "Identificação do interesse"
partially_invoiced = "Apresentação"
invoiced = "Proposta enviada"
residue_eliminated = "Proposta enviada"
`

// sellerEmail is the A3_EMAIL of fixture seller 000001, a CRM user in
// these tests.
const sellerEmail = "vendedor1@exemplo.com.br"

func newOrdersHarness(t *testing.T, be erpBackend) *harness {
	t.Helper()
	return newHarness(t, be, harnessOptions{
		extraConfig: ordersConfig,
		fields:      []crm.CustomFieldInput{{Label: "Pedido ERP", Type: "text", For: "deal"}},
		seed: &rdsim.SeedData{
			Users: []rdsim.User{{Name: "Vendedor Um", Email: sellerEmail, Active: true}},
			// The deal the fixture's CRM-made order (C5_XCRMID) came from.
			Deals: []rdsim.Deal{{ID: fixture.CRMDealID, Name: "Negócio ganho no CRM", Win: ptr(true)}},
		},
	})
}

func ptr[T any](v T) *T { return &v }

// orderRow is one SC5 order as the test reads it from the ERP.
type orderRow struct {
	num, customerName, seller string
	deleted                   bool
	crmID                     string
	items                     []itemRow
}

type itemRow struct {
	product    string
	qty, price decimal.Decimal
}

// readOrders reads the orders of fixture.OrderFilial straight from the ERP.
func readOrders(h *harness) map[string]orderRow {
	h.t.Helper()
	out := map[string]orderRow{}
	for _, r := range queryRows(h.ctx, h.t, h.erp.DB, `SELECT C5_NUM, A1_NOME, C5_VEND1, SC5010.D_E_L_E_T_, C5_XCRMID FROM SC5010
		JOIN SA1010 ON A1_COD = C5_CLIENTE AND A1_LOJA = C5_LOJACLI AND SA1010.D_E_L_E_T_ = ' '
		WHERE C5_FILIAL = '01' ORDER BY SC5010.R_E_C_N_O_`) {
		out[r[0]] = orderRow{num: r[0], customerName: latin1(strings.TrimSpace(r[1])), seller: r[2], deleted: r[3] == "*", crmID: strings.TrimSpace(r[4])}
	}
	for _, r := range queryRows(h.ctx, h.t, h.erp.DB, `SELECT C6_NUM, B1_DESC, B1_COD, C6_QTDVEN, C6_PRCVEN FROM SC6010
		JOIN SB1010 ON B1_COD = C6_PRODUTO AND SB1010.D_E_L_E_T_ = ' '
		WHERE C6_FILIAL = '01' AND SC6010.D_E_L_E_T_ = ' ' ORDER BY SC6010.R_E_C_N_O_`) {
		o := out[r[0]]
		// CRM product names carry the code: "PRODUTO ACABADO 0004 (PA0004)".
		o.items = append(o.items, itemRow{product: strings.TrimSpace(r[1]) + " (" + r[2] + ")",
			qty: decimal.RequireFromString(r[3]).Round(2), price: decimal.RequireFromString(r[4]).Round(2)})
		out[r[0]] = o
	}
	return out
}

// dealsByName indexes the simulator's deals.
func dealsByName(st rdsim.State) map[string]rdsim.Deal {
	out := map[string]rdsim.Deal{}
	for _, d := range st.Deals {
		out[d.Name] = d
	}
	return out
}

func stageNamed(t *testing.T, st rdsim.State, name string) string {
	t.Helper()
	for _, s := range st.Stages {
		if s.Name == name {
			return s.ID
		}
	}
	t.Fatalf("no stage %q", name)
	return ""
}

// TestOrdersBecomeDeals syncs the fixture's orders and checks every deal
// against the ERP: name, stage, outcome, owner, organization, the order
// number field and exact deal products.
func TestOrdersBecomeDeals(t *testing.T) {
	h := newOrdersHarness(t, sqliteBackend)
	checkOrdersBecomeDeals(t, h)
}

func TestOrdersBecomeDealsPostgresIntegration(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test: needs PostgreSQL (ERPBRIDGE_TEST_PG_DSN); skipped under -short")
	}
	checkOrdersBecomeDeals(t, newOrdersHarness(t, postgresBackend))
}

func checkOrdersBecomeDeals(t *testing.T, h *harness) {
	stats := h.mustSync("first sync")
	orders := readOrders(h)
	st := h.sim.State()
	deals := dealsByName(st)
	products := map[string]string{} // id → name
	for _, p := range st.Products {
		products[p.ID] = p.Name
	}
	orgs := map[string]string{}
	for _, o := range st.Organizations {
		orgs[o.ID] = o.Name
	}
	var numberField string
	for _, f := range st.CustomFields {
		if f.Label == "Pedido ERP" {
			numberField = f.ID
		}
	}
	var seller, admin string
	for _, u := range st.Users {
		switch u.Email {
		case sellerEmail:
			seller = u.ID
		case rdsim.DefaultAdminEmail:
			admin = u.ID
		}
	}
	statusOf := map[string]protheus.Status{}
	for status, keys := range h.exp.OrderKeys {
		for _, k := range keys {
			statusOf[strings.TrimPrefix(k, fixture.OrderFilial+"|")] = status
		}
	}
	stageFor := map[protheus.Status]string{
		protheus.StatusOpen: "Sem contato", protheus.StatusReleased: "Contato feito", protheus.StatusBlocked: "Identificação do interesse",
		protheus.StatusPartiallyInvoiced: "Apresentação", protheus.StatusInvoiced: "Proposta enviada", protheus.StatusResidueEliminated: "Proposta enviada",
	}

	created := 0
	for num, o := range orders {
		name := fmt.Sprintf("Pedido %s · %s", num, o.customerName)
		d, ok := deals[name]
		switch {
		case o.deleted:
			if ok {
				t.Errorf("deleted order %s became deal %q", num, name)
			}
			continue
		case o.crmID != "":
			if ok {
				t.Errorf("order %s made from CRM deal %s became a second deal %q", num, o.crmID, name)
			}
			crmDeal := findDeal(st, o.crmID)
			if v := fieldValue(crmDeal.CustomFields, numberField); v != num {
				t.Errorf("CRM deal %s: order number field = %q, want %q", o.crmID, v, num)
			}
			if crmDeal.Name != "Negócio ganho no CRM" || crmDeal.Win == nil || !*crmDeal.Win {
				t.Errorf("CRM deal %s was changed beyond its order number: %+v", o.crmID, crmDeal)
			}
			continue
		case !ok:
			t.Errorf("order %s: no deal %q", num, name)
			continue
		}
		created++
		status := statusOf[num]
		if want := stageNamed(t, st, stageFor[status]); d.StageID != want {
			t.Errorf("deal %q (%s): stage %s, want %s", name, status, d.StageID, stageFor[status])
		}
		switch status {
		case protheus.StatusInvoiced:
			if d.Win == nil || !*d.Win {
				t.Errorf("deal %q: invoiced order not won (win=%v)", name, d.Win)
			}
		case protheus.StatusResidueEliminated:
			if d.Win == nil || *d.Win || d.LostReasonID == "" {
				t.Errorf("deal %q: residue-eliminated order not lost with a reason (win=%v reason=%q)", name, d.Win, d.LostReasonID)
			}
		default:
			if d.Win != nil {
				t.Errorf("deal %q: %s order has outcome %v", name, status, *d.Win)
			}
		}
		if v := fieldValue(d.CustomFields, numberField); v != num {
			t.Errorf("deal %q: order number field = %q, want %q", name, v, num)
		}
		if !strings.HasPrefix(orgs[d.OrganizationID], o.customerName) {
			t.Errorf("deal %q: organization %q, want the customer %q", name, orgs[d.OrganizationID], o.customerName)
		}
		wantOwner := admin
		if o.seller == "000001" {
			wantOwner = seller
		}
		if d.UserID != wantOwner {
			t.Errorf("deal %q: owner %s, want %s (seller %s)", name, d.UserID, wantOwner, o.seller)
		}
		var have, want []string
		for _, p := range d.Products {
			have = append(have, products[p.ProductID]+"|"+p.Amount.String()+"|"+p.Price.String())
		}
		for _, it := range o.items {
			want = append(want, it.product+"|"+it.qty.String()+"|"+it.price.String())
		}
		slices.Sort(have)
		slices.Sort(want)
		if !slices.Equal(have, want) {
			t.Errorf("deal %q: products\n have %v\n want %v", name, have, want)
		}
	}
	if got := stats["orders"].Created; int(got) != created || created < 9 {
		t.Errorf("orders created %d deals, %d expected (at least 9)", got, created)
	}
	if n := len(st.Deals); n != created+1 {
		t.Errorf("the CRM has %d deals, want %d (one per order plus the CRM's own)", n, created+1)
	}

	// Nothing changed: nothing is written.
	before := h.sim.Counts().Writes
	again := h.mustSync("second sync")
	if w := h.sim.Counts().Writes - before; w != 0 {
		t.Errorf("an unchanged ERP cost %d CRM writes (orders: %+v)", w, again["orders"])
	}

	// Status changes move the stage; item changes touch the products only.
	openName := fmt.Sprintf("Pedido %s · %s", "000001", orders["000001"].customerName)
	relName := fmt.Sprintf("Pedido %s · %s", "000002", orders["000002"].customerName)
	if _, err := h.erp.InvoiceOrder(h.ctx, "000001"); err != nil {
		t.Fatal(err)
	}
	// 7.5 × 40.3 is a whole cent: the line keeps its quantity (a half cent would go as 1 × C6_VALOR).
	if err := h.erp.ChangeItemQty(h.ctx, "000002", "01", decimal.RequireFromString("7.5")); err != nil {
		t.Fatal(err)
	}
	beforeRel := deals[relName]
	h.mustSync("sync after invoicing 000001 and changing an item of 000002")
	st = h.sim.State()
	after := dealsByName(st)
	if d := after[openName]; d.StageID != stageNamed(t, st, "Proposta enviada") || d.Win == nil || !*d.Win {
		t.Errorf("invoiced order's deal: stage %s win %v, want the invoiced stage and won", d.StageID, d.Win)
	}
	rel := after[relName]
	if rel.StageID != beforeRel.StageID || rel.UserID != beforeRel.UserID || rel.OrganizationID != beforeRel.OrganizationID || rel.Win != nil {
		t.Errorf("an item change moved more than the products: before %+v after %+v", beforeRel, rel)
	}
	found := false
	for _, p := range rel.Products {
		if p.Amount.Equal(decimal.RequireFromString("7.5")) {
			found = true
		}
	}
	if !found || len(rel.Products) != len(beforeRel.Products) {
		t.Errorf("deal %q products after the item change: %+v, want item 01 at 7.5 and %d lines", relName, rel.Products, len(beforeRel.Products))
	}
	if n := len(st.Deals); n != created+1 {
		t.Errorf("the CRM has %d deals after the changes, want %d", n, created+1)
	}

}

func findDeal(st rdsim.State, id string) rdsim.Deal {
	for _, d := range st.Deals {
		if d.ID == id {
			return d
		}
	}
	return rdsim.Deal{}
}

func fieldValue(values []rdsim.CustomFieldValue, id string) string {
	for _, v := range values {
		if v.CustomFieldID == id {
			return fmt.Sprint(v.Value)
		}
	}
	return ""
}

// fixedResolver answers every dependency with an id made from its key.
type fixedResolver struct{}

func (fixedResolver) Resolve(_ context.Context, stream, key string) (string, error) {
	return stream + ":" + key, nil
}

// TestPreparedPageMapsLikePerRecordReads: a record mapped with its page's
// related rows read at once (orders: SC6 items and SA1 customers; products:
// DA1 prices; contacts: AC8 links) has the same payload fingerprint as one
// mapped with its own reads; else every record would look changed. The
// prepared page is what maps it: with the related table gone, the page's
// records still map the same.
func TestPreparedPageMapsLikePerRecordReads(t *testing.T) {
	h := newOrdersHarness(t, sqliteBackend)
	related := map[string]string{"orders": "SC6010", "products": "DA1010", "contacts": "AC8010"}
	prepared := 0
	for _, st := range streamsOf(t, h) {
		pp, ok := st.Mapper.(bridge.PagePreparer)
		if !ok {
			continue
		}
		prepared++
		t.Run(st.Name, func(t *testing.T) {
			var recs []erp.Record
			for page, err := range st.Source.FullPass(h.ctx, "", 1000) {
				if err != nil {
					t.Fatal(err)
				}
				recs = append(recs, page.Records...)
			}
			alone := make([]bridge.Mapped, len(recs))
			for i, r := range recs {
				alone[i] = st.Mapper.Map(h.ctx, r, fixedResolver{})
			}
			pp.PreparePage(h.ctx, recs)
			table := related[st.Name]
			if table == "" {
				t.Fatalf("no related table known for %s", st.Name)
			}
			execERP(t, h, "ALTER TABLE "+table+" RENAME TO hidden_"+table)
			defer execERP(t, h, "ALTER TABLE hidden_"+table+" RENAME TO "+table)
			for i, r := range recs {
				got := st.Mapper.Map(h.ctx, r, fixedResolver{})
				if got.Fingerprint != alone[i].Fingerprint || fmt.Sprint(got.Errors) != fmt.Sprint(alone[i].Errors) || got.Skip != alone[i].Skip {
					t.Errorf("%s: prepared %s %v, alone %s %v", r.Key, got.Fingerprint, got.Errors, alone[i].Fingerprint, alone[i].Errors)
				}
			}
		})
	}
	if prepared != 3 {
		t.Errorf("%d streams prepare their pages, want 3 (contacts, products, orders)", prepared)
	}
}

// TestItemOnlyChangeMovesTheDeal: a partial delivery writes only SC6 (the
// header's stamp stays old, outside the poll's overlap); the next poll
// still moves the order's deal to the partially invoiced stage.
func TestItemOnlyChangeMovesTheDeal(t *testing.T) {
	h := newOrdersHarness(t, sqliteBackend)
	for _, table := range []string{"SC5010", "SC6010"} { // stamped an hour ago, and kept so
		if _, err := h.erp.DB.ExecContext(h.ctx, "UPDATE "+table+" SET S_T_A_M_P_ = strftime('%Y-%m-%d %H:%M:%f','now','-1 hour')"); err != nil {
			t.Fatal(err)
		}
	}
	// One unrelated order changes now: the cursor's high-water mark is
	// recent, so the poll's overlap does not reach the aged rows.
	if _, err := h.erp.DB.ExecContext(h.ctx, "UPDATE SC5010 SET C5_NUM = C5_NUM WHERE C5_FILIAL = '01' AND C5_NUM = '000006'"); err != nil {
		t.Fatal(err)
	}
	h.mustSync("first sync")
	name := fmt.Sprintf("Pedido 000009 · %s", readOrders(h)["000009"].customerName)
	st := h.sim.State()
	if d := dealsByName(st)[name]; d.StageID != stageNamed(t, st, "Sem contato") {
		t.Fatalf("deal %q starts in stage %s, want the open stage", name, d.StageID)
	}
	if _, err := h.erp.DB.ExecContext(h.ctx, "UPDATE SC6010 SET C6_QTDENT = 1 WHERE C6_FILIAL = '01' AND C6_NUM = '000009' AND C6_ITEM = '01'"); err != nil {
		t.Fatal(err)
	}
	stats := h.mustSync("sync after a partial delivery of 000009")
	st = h.sim.State()
	if d := dealsByName(st)[name]; d.StageID != stageNamed(t, st, "Apresentação") {
		t.Errorf("deal %q after a partial delivery (SC6 only): stage %s, want the partially invoiced stage", name, d.StageID)
	}
	if r := stats["orders"]; r.Updated != 1 || r.Created != 0 {
		t.Errorf("the poll after one item change: %+v, want that one order updated (the rest re-read in the overlap, unchanged)", r)
	}
}
