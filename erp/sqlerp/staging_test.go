package sqlerp

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/shopspring/decimal"

	"github.com/erpbridge/erpbridge/erp"
)

// testStagingSpec is a ZB1/ZB2-shaped spec (sqlerp cannot import the
// Protheus preset: it imports sqlerp).
func testStagingSpec() StagingSpec {
	ch := func(name string, w int) StagingColumn { return StagingColumn{Name: name, Width: w} }
	num := func(name string, w, d int) StagingColumn { return StagingColumn{Name: name, Width: w, Decimals: d} }
	return StagingSpec{
		Header: StagingHeader{
			Table: "ZB1010", Filial: ch("ZB1_FILIAL", 2), DealID: ch("ZB1_DEALID", 24), OrderType: ch("ZB1_TIPO", 1),
			Customer: ch("ZB1_CLIENT", 6), Store: ch("ZB1_LOJA", 2), Seller: ch("ZB1_VEND", 6), PaymentTerms: ch("ZB1_CONDPG", 3),
			PriceTable: ch("ZB1_TABELA", 3), Message: ch("ZB1_MENNOT", 60), Status: ch("ZB1_STATUS", 1),
			OrderNumber: ch("ZB1_NUMPED", 6), Error: ch("ZB1_ERRO", 0), CreatedDate: ch("ZB1_DTINC", 8), CreatedTime: ch("ZB1_HRINC", 8),
		},
		Items: StagingItems{
			Table: "ZB2010", Filial: ch("ZB2_FILIAL", 2), DealID: ch("ZB2_DEALID", 24), Item: ch("ZB2_ITEM", 2),
			Product: ch("ZB2_PRODUT", 15), Quantity: num("ZB2_QTDVEN", 9, 2), UnitPrice: num("ZB2_PRCVEN", 11, 2),
			ListPrice: num("ZB2_PRUNIT", 11, 2), Value: num("ZB2_VALOR", 12, 2), TES: ch("ZB2_TES", 3), Operation: ch("ZB2_OPER", 2),
		},
		Filial:   "01",
		Statuses: StagingStatuses{Waiting: "0", Processing: "1", Done: "2", Error: "3"},
		ItemCode: func(n int) (string, error) {
			if n < 1 || n > 99 {
				return "", fmt.Errorf("item %d out of range", n)
			}
			return fmt.Sprintf("%02d", n), nil
		},
		RecnoColumn: "R_E_C_N_O_", DeletedColumn: "D_E_L_E_T_", RecDelColumn: "R_E_C_D_E_L_",
	}
}

func dec(s string) decimal.Decimal { return decimal.RequireFromString(s) }

func decp(s string) *decimal.Decimal { d := dec(s); return &d }

func testOrder() erp.Order {
	return erp.Order{
		DealID: "65a1f0c2e4b0a1b2c3d4e5f6", Customer: "000003", Store: "01", Seller: "000001", PaymentTerms: "001",
		PriceTable: "001", OrderType: "N", Message: "Deal: 20 cadeiras",
		Items: []erp.OrderItem{
			{Product: "PA0001", Quantity: dec("2.35"), UnitPrice: decp("10.10"), TES: "501"},
			{Product: "PA0002", Quantity: dec("1"), Operation: "01"}, // no price: the job prices it
		},
	}
}

// TestGoldenStagingStatements pins the staging sink's statements, per dialect.
// Regenerate with: go test ./erp/sqlerp -run TestGoldenStagingStatements -update
func TestGoldenStagingStatements(t *testing.T) {
	staged := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	for _, d := range Dialects() {
		sink := &StagingSink{d: d, spec: testStagingSpec()}
		header, items, err := sink.rows(testOrder(), staged)
		if err != nil {
			t.Fatal(err)
		}
		spec := sink.spec
		statements := map[string]Statement{
			"lookup":             stagingLookupStatement(d, spec, "65a1f0c2e4b0a1b2c3d4e5f6"),
			"next_recno_header":  stagingNextRecnoStatement(d, spec, spec.Header.Table),
			"insert_header":      stagingInsertStatement(d, spec, spec.Header.Table, header, 7),
			"insert_item":        stagingInsertStatement(d, spec, spec.Items.Table, items[0], 12),
			"insert_item_no_prc": stagingInsertStatement(d, spec, spec.Items.Table, items[1], 13),
		}
		for name, st := range statements {
			t.Run(d.Name()+"/"+name, func(t *testing.T) {
				checkGolden(t, filepath.Join("testdata", "staging", d.Name(), name+".sql"), st)
			})
		}
	}
}

func TestStagingSpecValidate(t *testing.T) {
	tests := []struct {
		name   string
		change func(*StagingSpec)
		want   string // substring of the error; "" = valid
	}{
		{"valid", func(*StagingSpec) {}, ""},
		{"bad table name", func(s *StagingSpec) { s.Header.Table = "ZB1010; DROP TABLE SC5010" }, "header table"},
		{"char column without width", func(s *StagingSpec) { s.Items.Product.Width = 0 }, "ZB2_PRODUT: character columns need a width"},
		{"missing column name", func(s *StagingSpec) { s.Header.Seller.Name = "" }, "header column"},
		{"numeric size", func(s *StagingSpec) { s.Items.Value = StagingColumn{Name: "ZB2_VALOR", Width: 2, Decimals: 2} }, "ZB2_VALOR: bad size"},
		{"duplicate status", func(s *StagingSpec) { s.Statuses.Done = "0" }, `status code "0" used twice`},
		{"blank status", func(s *StagingSpec) { s.Statuses.Error = " " }, "every code must be set"},
		{"status too wide", func(s *StagingSpec) { s.Statuses.Error = "ER" }, "wider than 1"},
		{"filial too wide", func(s *StagingSpec) { s.Filial = "0101" }, "filial"},
		{"no item codes", func(s *StagingSpec) { s.ItemCode = nil }, "item code"},
		{"no recdel column", func(s *StagingSpec) { s.RecDelColumn = "" }, "recdel column"},
		{"short date", func(s *StagingSpec) { s.Header.CreatedDate.Width = 6 }, "needs width 8"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := testStagingSpec()
			tt.change(&s)
			_, err := NewStagingSink(nil, SQLite{}, s)
			if err == nil {
				t.Fatal("NewStagingSink without a database succeeded")
			}
			err = s.Validate()
			switch {
			case tt.want == "" && err != nil:
				t.Errorf("Validate = %v, want nil", err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
				t.Errorf("Validate = %v, want an error containing %q", err, tt.want)
			}
		})
	}
}

func TestStagingRowsRefuseWhatDoesNotFit(t *testing.T) {
	tests := []struct {
		name   string
		change func(*erp.Order)
		want   string
	}{
		{"no deal id", func(o *erp.Order) { o.DealID = "  " }, "no deal id"},
		{"deal id too long", func(o *erp.Order) { o.DealID = strings.Repeat("a", 25) }, "ZB1_DEALID"},
		{"customer too long", func(o *erp.Order) { o.Customer = "0000001" }, "ZB1_CLIENT"},
		{"product too long", func(o *erp.Order) { o.Items[0].Product = strings.Repeat("P", 16) }, "ZB2_PRODUT"},
		{"quantity too large", func(o *erp.Order) { o.Items[0].Quantity = dec("1000000") }, "ZB2_QTDVEN: 1000000 does not fit N 9,2"},
		{"value too large", func(o *erp.Order) {
			o.Items[0].Quantity, o.Items[0].UnitPrice = dec("999999"), decp("99999999")
		}, "ZB2_VALOR"},
		{"too many items", func(o *erp.Order) {
			for range 100 {
				o.Items = append(o.Items, o.Items[0])
			}
		}, "numbering items"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := testOrder()
			tt.change(&o)
			_, _, err := (&StagingSink{d: Postgres{}, spec: testStagingSpec()}).rows(o, time.Now())
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("rows = %v, want an error containing %q", err, tt.want)
			}
		})
	}
}

func TestStagingRowsRoundAndTruncate(t *testing.T) {
	o := testOrder()
	o.Message = strings.Repeat("é", 70)
	o.Items[0].Quantity, o.Items[0].UnitPrice = dec("2.345"), decp("10.104")
	header, items, err := (&StagingSink{d: Postgres{}, spec: testStagingSpec()}).rows(o, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if msg := header.args[8].(string); msg != strings.Repeat("é", 60) {
		t.Errorf("message %q, want the first 60 characters", msg)
	}
	// qty 2.35 (rounded half away from zero) × price 10.10 = 23.735 → 23.74
	if got := items[0].args[4:8]; !cmp.Equal(got, []any{2.35, 10.1, 10.1, 23.74}) {
		t.Errorf("quantity, price, list price, value = %v; want [2.35 10.1 10.1 23.74]", got)
	}
	if got := items[1].args[4:8]; !cmp.Equal(got, []any{1.0, 0.0, 0.0, 0.0}) {
		t.Errorf("an item without a price: %v; want price and value 0", got)
	}
}

func TestStagingResult(t *testing.T) {
	s := &StagingSink{spec: testStagingSpec()}
	tests := []struct {
		name              string
		status, num, memo any
		want              erp.OrderResult
		wantErr           bool
	}{
		{"waiting", "0", "      ", nil, erp.OrderResult{State: erp.OrderWaiting}, false},
		{"processing", "1", "      ", nil, erp.OrderResult{State: erp.OrderWaiting}, false},
		{"done", "2", "000123", "", erp.OrderResult{State: erp.OrderDone, Number: "000123"}, false},
		{"error as text", "3", "      ", "C6_PRODUTO item 02: bloqueado\n", erp.OrderResult{State: erp.OrderRejected, Error: "C6_PRODUTO item 02: bloqueado"}, false},
		{"error as bytes (a DBAccess memo)", []byte("3"), []byte("      "), []byte("C5_CLIENTE: não cadastrado"), erp.OrderResult{State: erp.OrderRejected, Error: "C5_CLIENTE: não cadastrado"}, false},
		{"error without text", "3", "      ", nil, erp.OrderResult{State: erp.OrderRejected, Error: "rejected by the ERP job, which gave no reason"}, false},
		{"done without number", "2", "      ", nil, erp.OrderResult{}, true},
		{"unknown status", "9", "      ", nil, erp.OrderResult{}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := s.result(tt.status, tt.num, tt.memo)
			if (err != nil) != tt.wantErr || got != tt.want {
				t.Errorf("result = %+v, %v; want %+v (error %v)", got, err, tt.want, tt.wantErr)
			}
		})
	}
}
