package erpjob_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/erpbridge/erpbridge/erp/protheus/erpjob"
	"github.com/erpbridge/erpbridge/erp/protheus/fixture"
)

func dec(s string) decimal.Decimal { return decimal.RequireFromString(s) }

func item(product, qty, price string) fixture.StagedItem {
	return fixture.StagedItem{Product: product, Qty: dec(qty), Price: dec(price)}
}

func sqliteERP(t *testing.T) fixture.ERP {
	fx, _ := fixture.NewSQLite(t, fixture.Options{Customers: 40})
	return fx
}

// stagingRow is a ZB1 row as the bridge reads it back.
type stagingRow struct{ status, num, erro string }

func readStaging(t *testing.T, fx fixture.ERP, recno int64) stagingRow {
	t.Helper()
	var r stagingRow
	if err := fx.DB.QueryRowContext(context.Background(), fmt.Sprintf("SELECT ZB1_STATUS, ZB1_NUMPED, ZB1_ERRO FROM ZB1010 WHERE R_E_C_N_O_ = %d", recno)).
		Scan(&r.status, &r.num, &r.erro); err != nil {
		t.Fatal(err)
	}
	r.num = strings.TrimSpace(r.num)
	return r
}

func count(t *testing.T, fx fixture.ERP, query string) int {
	t.Helper()
	var n int
	if err := fx.DB.QueryRowContext(context.Background(), query).Scan(&n); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return n
}

const deal = "65b2000000000000000000aa"

func TestRun(t *testing.T) {
	many := make([]fixture.StagedItem, 150)
	for i := range many {
		many[i] = item(fmt.Sprintf("PA%04d", 1+i%4), "1", "10.30")
	}
	tests := []struct {
		name      string
		opts      erpjob.Options
		order     fixture.StagedOrder
		wantNum   string // "" = rejected
		wantItems int
		wantErr   []string // substrings of ZB1_ERRO
	}{
		{name: "valid deal becomes the next order",
			order:   fixture.StagedOrder{Customer: "000003", Loja: "01", Seller: "000004", PaymentTerms: "002", Items: []fixture.StagedItem{item("PA0001", "2", "10.30"), item("PA0002", "0.5", "1999.99")}},
			wantNum: "000012", wantItems: 2},
		{name: "more than 100 items",
			order:   fixture.StagedOrder{Customer: "000003", Loja: "01", Items: many},
			wantNum: "000012", wantItems: 150},
		{name: "unknown customer",
			order:   fixture.StagedOrder{Customer: "999999", Loja: "01", Items: []fixture.StagedItem{item("PA0001", "1", "1")}},
			wantErr: []string{"C5_CLIENTE: cliente 999999/01 não cadastrado"}},
		{name: "blocked customer",
			order:   fixture.StagedOrder{Customer: "000025", Loja: "01", Items: []fixture.StagedItem{item("PA0001", "1", "1")}},
			wantErr: []string{"cliente 000025/01 bloqueado"}},
		{name: "every bad item is reported",
			order: fixture.StagedOrder{Customer: "000003", Loja: "01", Seller: "000099", Items: []fixture.StagedItem{
				item("PA9999", "1", "1"), item("PA0005", "1", "1"), item("PA0001", "0", "1"), item("PA0002", "1", "0"), item("PA0040", "1", "1")}},
			wantErr: []string{"vendedor 000099", "item 01: produto PA9999 não cadastrado", "item 02: produto PA0005 bloqueado",
				"C6_QTDVEN item 03", "C6_PRCVEN item 04", "item 05: produto PA0040 não cadastrado"}},
		{name: "no items",
			order:   fixture.StagedOrder{Customer: "000003", Loja: "01"},
			wantErr: []string{"pedido sem itens"}},
		{name: "TES and payment terms default from SB1 and SA1",
			opts:    erpjob.Options{RequireTES: true, RequirePaymentTerms: true},
			order:   fixture.StagedOrder{Customer: "000003", Loja: "01", Items: []fixture.StagedItem{item("PA0001", "1", "1")}},
			wantNum: "000012", wantItems: 1},
		{name: "TES and payment terms required without defaults",
			opts:    erpjob.Options{RequireTES: true, RequirePaymentTerms: true, NoDefaults: true},
			order:   fixture.StagedOrder{Customer: "000003", Loja: "01", Items: []fixture.StagedItem{item("PA0001", "1", "1")}},
			wantErr: []string{"C5_CONDPAG", "C6_TES item 01"}},
		{name: "a deal that already has an order keeps it",
			order:   fixture.StagedOrder{DealID: fixture.CRMDealID, Customer: "000003", Loja: "01", Items: []fixture.StagedItem{item("PA0001", "1", "1")}},
			wantNum: "000010", wantItems: 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			fx := sqliteERP(t)
			if tt.order.DealID == "" {
				tt.order.DealID = deal
			}
			orders := count(t, fx, "SELECT COUNT(*) FROM SC5010")
			recno, err := fx.StageOrder(ctx, tt.order)
			if err != nil {
				t.Fatal(err)
			}
			out, err := erpjob.Run(ctx, fx, tt.opts)
			if err != nil || len(out) != 1 {
				t.Fatalf("Run = %+v, %v; want one outcome", out, err)
			}
			got := readStaging(t, fx, recno)
			if tt.wantNum == "" {
				if got.status != fixture.StagingError || out[0].Status != fixture.StagingError || got.num != "" {
					t.Errorf("staging row %+v, outcome %+v; want an error", got, out[0])
				}
				for _, w := range tt.wantErr {
					if !strings.Contains(got.erro, w) {
						t.Errorf("ZB1_ERRO %q lacks %q", got.erro, w)
					}
				}
				if n := count(t, fx, "SELECT COUNT(*) FROM SC5010"); n != orders {
					t.Errorf("a rejected deal created an order (%d → %d)", orders, n)
				}
				return
			}
			if got.status != fixture.StagingDone || got.num != tt.wantNum || got.erro != "" || out[0].Num != tt.wantNum {
				t.Errorf("staging row %+v, outcome %+v; want done with %s", got, out[0], tt.wantNum)
			}
			q := fmt.Sprintf("SELECT COUNT(*) FROM SC5010 WHERE C5_FILIAL = '01' AND C5_XCRMID = '%s' AND D_E_L_E_T_ = ' '", tt.order.DealID)
			if n := count(t, fx, q); n != 1 {
				t.Errorf("%d orders carry the deal id, want 1", n)
			}
			q = fmt.Sprintf("SELECT COUNT(*) FROM SC6010 WHERE C6_FILIAL = '01' AND C6_NUM = '%s' AND C6_TES <> '   '", tt.wantNum)
			if n := count(t, fx, q); n != tt.wantItems {
				t.Errorf("order %s has %d items with a TES, want %d", tt.wantNum, n, tt.wantItems)
			}
			if out, err := erpjob.Run(ctx, fx, tt.opts); err != nil || len(out) != 0 {
				t.Errorf("a second Run = %+v, %v; want nothing to do", out, err)
			}
		})
	}
}

func TestRunWritesExactMoney(t *testing.T) {
	ctx := context.Background()
	fx := sqliteERP(t)
	x := 0.1
	noisy := decimal.NewFromFloat(x + 0.2) // 0.30000000000000004, as a float-fed sink might write
	if _, err := fx.StageOrder(ctx, fixture.StagedOrder{DealID: deal, Customer: "000003", Loja: "01", PaymentTerms: "001",
		Items: []fixture.StagedItem{{Product: "PA0001", Qty: dec("3"), Price: noisy}, item("PA0002", "0.5", "1999.99")}}); err != nil {
		t.Fatal(err)
	}
	if _, err := erpjob.Run(ctx, fx, erpjob.Options{}); err != nil {
		t.Fatal(err)
	}
	var prc, valor float64
	if err := fx.DB.QueryRowContext(ctx, "SELECT C6_PRCVEN, C6_VALOR FROM SC6010 WHERE C6_NUM = '000012' AND C6_ITEM = '01'").Scan(&prc, &valor); err != nil {
		t.Fatal(err)
	}
	if prc != 0.3 || valor != 0.9 {
		t.Errorf("item 01: C6_PRCVEN %v, C6_VALOR %v; want 0.3 and 0.9", prc, valor)
	}
	if err := fx.DB.QueryRowContext(ctx, "SELECT C6_VALOR FROM SC6010 WHERE C6_NUM = '000012' AND C6_ITEM = '02'").Scan(&valor); err != nil || valor != 1000 {
		t.Errorf("item 02: C6_VALOR %v (%v), want 1000 (0.5 × 1999.99 rounded)", valor, err)
	}
}

// TestRunAfterRestage: the bridge re-stages a deal (its earlier row
// deleted) that the job already turned into an order: no second order.
func TestRunAfterRestage(t *testing.T) {
	ctx := context.Background()
	fx := sqliteERP(t)
	order := fixture.StagedOrder{DealID: deal, Customer: "000003", Loja: "01", Items: []fixture.StagedItem{item("PA0001", "1", "5")}}
	first, err := fx.StageOrder(ctx, order)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := erpjob.Run(ctx, fx, erpjob.Options{}); err != nil {
		t.Fatal(err)
	}
	for _, stmt := range []string{
		"UPDATE ZB1010 SET D_E_L_E_T_ = '*', R_E_C_D_E_L_ = R_E_C_N_O_",
		"UPDATE ZB2010 SET D_E_L_E_T_ = '*', R_E_C_D_E_L_ = R_E_C_N_O_",
	} {
		if _, err := fx.DB.ExecContext(ctx, stmt); err != nil {
			t.Fatal(err)
		}
	}
	second, err := fx.StageOrder(ctx, order)
	if err != nil {
		t.Fatal(err)
	}
	out, err := erpjob.Run(ctx, fx, erpjob.Options{})
	if err != nil || len(out) != 1 || !out[0].Reused {
		t.Fatalf("Run = %+v, %v; want the existing order reused", out, err)
	}
	a, b := readStaging(t, fx, first), readStaging(t, fx, second)
	if a.num != "000012" || b.num != a.num || b.status != fixture.StagingDone {
		t.Errorf("first row %+v, second row %+v; want both done with 000012", a, b)
	}
	if n := count(t, fx, "SELECT COUNT(*) FROM SC5010 WHERE C5_XCRMID = '"+deal+"'"); n != 1 {
		t.Errorf("%d orders for the deal, want 1", n)
	}
}

func TestRunLimitAndCancel(t *testing.T) {
	ctx := context.Background()
	fx := sqliteERP(t)
	for i := range 3 {
		if _, err := fx.StageOrder(ctx, fixture.StagedOrder{DealID: fmt.Sprintf("65b2%020d", i), Customer: "000003", Loja: "01",
			Items: []fixture.StagedItem{item("PA0001", "1", "5")}}); err != nil {
			t.Fatal(err)
		}
	}
	if out, err := erpjob.Run(ctx, fx, erpjob.Options{Limit: 2}); err != nil || len(out) != 2 {
		t.Fatalf("Run with limit 2 = %d outcomes, %v", len(out), err)
	}
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := erpjob.Run(cancelled, fx, erpjob.Options{}); err == nil {
		t.Error("Run on a cancelled context succeeded")
	}
	if n := count(t, fx, "SELECT COUNT(*) FROM ZB1010 WHERE ZB1_STATUS = '0'"); n != 1 {
		t.Errorf("%d rows waiting after a cancelled Run, want the last one still waiting", n)
	}
}

// TestERPJobPostgresIntegration runs the job on PostgreSQL, two jobs at
// once over the same waiting rows: every deal gets exactly one order.
func TestERPJobPostgresIntegration(t *testing.T) {
	fx, _ := fixture.NewPostgres(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if _, err := fx.Load(ctx, fixture.Options{Customers: 40}); err != nil {
		t.Fatal(err)
	}
	const deals = 8
	for i := range deals {
		customer := "000003"
		if i == 5 {
			customer = "999999" // one rejection
		}
		if _, err := fx.StageOrder(ctx, fixture.StagedOrder{DealID: fmt.Sprintf("65b3%020d", i), Customer: customer, Loja: "01",
			Items: []fixture.StagedItem{item("PA0001", "1", "10.30"), item("PA0002", "2", "0.3")}}); err != nil {
			t.Fatal(err)
		}
	}
	var wg sync.WaitGroup
	results := make([][]erpjob.Outcome, 2)
	errs := make([]error, 2)
	for w := range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[w], errs[w] = erpjob.Run(ctx, fx, erpjob.Options{})
		}()
	}
	wg.Wait()
	if errs[0] != nil || errs[1] != nil {
		t.Fatal(errs)
	}
	if n := len(results[0]) + len(results[1]); n != deals {
		t.Errorf("two jobs handled %d rows, want %d (each once)", n, deals)
	}
	for _, c := range []struct {
		query string
		want  int
	}{
		{"SELECT COUNT(*) FROM SC5010 WHERE C5_XCRMID LIKE '65b3%'", deals - 1},
		{"SELECT COUNT(DISTINCT C5_XCRMID) FROM SC5010 WHERE C5_XCRMID LIKE '65b3%'", deals - 1},
		{"SELECT COUNT(*) FROM ZB1010 WHERE ZB1_STATUS = '2' AND ZB1_NUMPED <> '      '", deals - 1},
		{"SELECT COUNT(*) FROM ZB1010 WHERE ZB1_STATUS = '3' AND ZB1_ERRO LIKE '%999999/01%'", 1},
		{"SELECT COUNT(*) FROM SC6010 WHERE C6_NUM IN (SELECT ZB1_NUMPED FROM ZB1010) AND C6_TES = '501'", 2 * (deals - 1)},
	} {
		if got := count(t, fx, c.query); got != c.want {
			t.Errorf("%s = %d, want %d", c.query, got, c.want)
		}
	}
}
