package wiring

import (
	"fmt"
	"strings"
	"testing"

	"github.com/erpbridge/erpbridge/bridge"
	"github.com/erpbridge/erpbridge/bridge/component"
	"github.com/erpbridge/erpbridge/erp"
	"github.com/erpbridge/erpbridge/erp/protheus/streams"
	"github.com/erpbridge/erpbridge/rdstation/crm"
	"github.com/erpbridge/erpbridge/rdstation/rdsim"
	"go.uber.org/zap"
)

// streamsOf opens the harness's streams afresh, on a connection of their
// own, beside the harness's bridge.
func streamsOf(t *testing.T, h *harness) map[string]*bridge.Stream {
	acc, err := OpenERP(h.ctx, h.cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { acc.Close() })
	got, err := Provision(h.ctx, h.cfg, &component.Env{ERP: acc, CRM: h.bridge.CRM, Store: h.bridge.Store,
		Log: zap.NewNop(), Clock: h.clk, Configs: h.cfg.Components()})
	t.Cleanup(func() { got.Close() })
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]*bridge.Stream{}
	for _, s := range got.Streams {
		out[s.Name] = s
	}
	return out
}

func allRecords(t *testing.T, h *harness, s erp.Source) []erp.Record {
	var recs []erp.Record
	for page, err := range s.FullPass(h.ctx, "", 1000) {
		if err != nil {
			t.Fatal(err)
		}
		recs = append(recs, page.Records...)
	}
	return recs
}

func execERP(t *testing.T, h *harness, q string) {
	t.Helper()
	if _, err := h.erp.DB.ExecContext(h.ctx, q); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
}

// A prepared page is forgotten when the page is done (the engine calls
// PreparePage(nil)): a later Map of the same order (a retried record in the
// next run) reads the items as they are then.
func TestPreparedPageIsForgottenAfterThePage(t *testing.T) {
	h := newOrdersHarness(t, sqliteBackend)
	st := streamsOf(t, h)["orders"]
	om := st.Mapper.(interface {
		bridge.Mapper
		bridge.PagePreparer
	})
	var rec erp.Record
	recs := allRecords(t, h, st.Source)
	for _, r := range recs {
		if strings.TrimSpace(streams.Str(r, "C5_NUM")) == "000009" {
			rec = r
		}
	}
	om.PreparePage(h.ctx, recs)
	before := om.Map(h.ctx, rec, fixedResolver{})
	om.PreparePage(h.ctx, nil)
	execERP(t, h, "UPDATE SC6010 SET C6_QTDVEN = 77 WHERE C6_FILIAL = '01' AND C6_NUM = '000009'")
	cached := om.Map(h.ctx, rec, fixedResolver{})
	fresh := streamsOf(t, h)["orders"].Mapper.Map(h.ctx, rec, fixedResolver{})
	if cached.Fingerprint != fresh.Fingerprint || cached.Fingerprint == before.Fingerprint {
		t.Errorf("after the page, Map used the page's SC6 rows: before %s, after the change %s, a fresh mapper %s", before.Fingerprint, cached.Fingerprint, fresh.Fingerprint)
	}
}

// Many deleted DA1 versions before the live price: the product maps to the
// same price read alone or with its page.
func TestPreparedPriceMatchesPerProductRead(t *testing.T) {
	h := newHarness(t, sqliteBackend, harnessOptions{})
	var code string
	if err := h.erp.DB.QueryRowContext(h.ctx, "SELECT DA1_CODPRO FROM DA1010 WHERE D_E_L_E_T_ = ' ' AND DA1_CODTAB = '001' ORDER BY R_E_C_N_O_ LIMIT 1").Scan(&code); err != nil {
		t.Fatal(err)
	}
	execERP(t, h, "CREATE TEMP TABLE t AS SELECT * FROM DA1010 WHERE DA1_CODPRO = '"+code+"' AND DA1_CODTAB = '001' AND D_E_L_E_T_ = ' ' LIMIT 1")
	execERP(t, h, "UPDATE DA1010 SET D_E_L_E_T_ = '*', R_E_C_D_E_L_ = R_E_C_N_O_ WHERE DA1_CODPRO = '"+code+"'")
	for i := 1; i <= 21; i++ {
		execERP(t, h, fmt.Sprintf("UPDATE t SET R_E_C_N_O_ = %d, R_E_C_D_E_L_ = %d, D_E_L_E_T_ = '*'", 100000+i, 100000+i))
		execERP(t, h, "INSERT INTO DA1010 SELECT * FROM t")
	}
	execERP(t, h, "UPDATE t SET R_E_C_N_O_ = 200000, R_E_C_D_E_L_ = 0, D_E_L_E_T_ = ' '")
	execERP(t, h, "INSERT INTO DA1010 SELECT * FROM t")
	st := streamsOf(t, h)["products"]
	var rec erp.Record
	recs := allRecords(t, h, st.Source)
	for _, r := range recs {
		if strings.TrimSpace(streams.Str(r, "B1_COD")) == strings.TrimSpace(code) {
			rec = r
		}
	}
	alone := st.Mapper.Map(h.ctx, rec, fixedResolver{})
	st.Mapper.(bridge.PagePreparer).PreparePage(h.ctx, recs)
	prepared := st.Mapper.Map(h.ctx, rec, fixedResolver{})
	if alone.Fingerprint != prepared.Fingerprint {
		t.Errorf("product %s alone %v, prepared %v", code, alone.Payload["base_price"], prepared.Payload["base_price"])
	}
}

// Deleted copies of an order number before its live row: the order of a
// changed item is the live one.
func TestOwnerOfChangedItemIsTheLiveOrder(t *testing.T) {
	h := newOrdersHarness(t, sqliteBackend)
	execERP(t, h, "CREATE TEMP TABLE t AS SELECT * FROM SC5010 WHERE C5_FILIAL = '01' AND C5_NUM = '000009'")
	execERP(t, h, "UPDATE SC5010 SET D_E_L_E_T_ = '*', R_E_C_D_E_L_ = R_E_C_N_O_ WHERE C5_FILIAL = '01' AND C5_NUM = '000009'")
	for i := 1; i <= 25; i++ { // more than ownersPerValue
		execERP(t, h, fmt.Sprintf("UPDATE t SET R_E_C_N_O_ = %d, R_E_C_D_E_L_ = %d, D_E_L_E_T_ = '*'", 100000+i, 100000+i))
		execERP(t, h, "INSERT INTO SC5010 SELECT * FROM t")
	}
	execERP(t, h, "UPDATE t SET R_E_C_N_O_ = 200000, R_E_C_D_E_L_ = 0, D_E_L_E_T_ = ' '")
	execERP(t, h, "INSERT INTO SC5010 SELECT * FROM t")
	rs := streamsOf(t, h)["orders"].Source.(*streams.Related)
	sc6 := rs.Relations()[0]
	if sc6.Name() != "SC6" {
		t.Fatalf("the orders' first relation is %s, want SC6", sc6.Name())
	}
	var owners []erp.Record
	if err := sc6.Follow(h.ctx, []erp.Record{{Fields: map[string]erp.Value{"C6_NUM": "000009"}}}, 100, func(p []erp.Record) bool {
		owners = append(owners, p...)
		return true
	}); err != nil {
		t.Fatal(err)
	}
	if len(owners) != 1 || owners[0].Deleted {
		t.Errorf("owner of 000009: %d rows (%+v), want the live row", len(owners), owners)
	}
}

// SC6 without S_T_A_M_P_: orders still poll SC5 (item changes wait for the
// nightly full pass) instead of reading everything on every run.
func TestOrdersPollWithoutAnSC6Stamp(t *testing.T) {
	h := newHarness(t, sqliteBackend, harnessOptions{
		extraConfig: ordersConfig,
		fields:      []crm.CustomFieldInput{{Label: "Pedido ERP", Type: "text", For: "deal"}},
		seed: &rdsim.SeedData{
			Users: []rdsim.User{{Name: "Vendedor Um", Email: sellerEmail, Active: true}},
		},
		configFor: func(h *harness) string {
			execERP(h.t, h, "DROP INDEX ERPBRIDGE_SC6010_STAMP") // the index docs/protheus.md suggests
			execERP(h.t, h, "DROP TRIGGER SC6010_TR_STAMP")
			execERP(h.t, h, "ALTER TABLE SC6010 DROP COLUMN S_T_A_M_P_")
			return ""
		},
	})
	for i := 0; i < 2; i++ {
		reps, err := h.sync()
		if err != nil {
			t.Fatalf("sync %d: %v", i, err)
		}
		for _, r := range reps {
			if r.Stream == "orders" && i == 1 && r.Kind != "incremental" {
				t.Errorf("the second orders run is %s, want incremental (SC5 has its stamp)", r.Kind)
			}
		}
	}
}
