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
func testStagingSpec() StagingSpec { return namedStagingSpec("ZB1010", "ZB2010", "ZB1_", "ZB2_") }

// namedStagingSpec is the ZB1/ZB2 layout under other table names and
// field prefixes, as other staging aliases give it (SZ7: SZ7010, Z7_).
func namedStagingSpec(headerTable, itemsTable, h, i string) StagingSpec {
	ch := func(name string, w int) StagingColumn { return StagingColumn{Name: name, Width: w} }
	num := func(name string, w, d int) StagingColumn { return StagingColumn{Name: name, Width: w, Decimals: d} }
	return StagingSpec{
		Header: StagingHeader{
			Table: headerTable, Filial: ch(h+"FILIAL", 2), DealID: ch(h+"DEALID", 24), OrderType: ch(h+"TIPO", 1),
			Customer: ch(h+"CLIENT", 6), Store: ch(h+"LOJA", 2), Seller: ch(h+"VEND", 6), PaymentTerms: ch(h+"CONDPG", 3),
			PriceTable: ch(h+"TABELA", 3), Message: ch(h+"MENNOT", 60), Status: ch(h+"STATUS", 1),
			OrderNumber: ch(h+"NUMPED", 6), Error: ch(h+"ERRO", 0), CreatedDate: ch(h+"DTINC", 8), CreatedTime: ch(h+"HRINC", 8),
		},
		Items: StagingItems{
			Table: itemsTable, Filial: ch(i+"FILIAL", 2), DealID: ch(i+"DEALID", 24), Item: ch(i+"ITEM", 2),
			Product: ch(i+"PRODUT", 15), Quantity: num(i+"QTDVEN", 9, 2), UnitPrice: num(i+"PRCVEN", 11, 2),
			ListPrice: num(i+"PRUNIT", 11, 2), Value: num(i+"VALOR", 12, 2), TES: ch(i+"TES", 3), Operation: ch(i+"OPER", 2),
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

// TestGoldenStagingStatements pins the staging sink's statements, per
// dialect, for the default tables and for tables of other aliases (SZ7/SZ8:
// every statement names SZ7010/SZ8010 and Z7_/Z8_ fields, under sz7/).
// Regenerate with: go test ./erp/sqlerp -run TestGoldenStagingStatements -update
func TestGoldenStagingStatements(t *testing.T) {
	staged := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	for _, named := range []struct {
		dir  string
		spec StagingSpec
	}{{"", testStagingSpec()}, {"sz7", namedStagingSpec("SZ7010", "SZ8010", "Z7_", "Z8_")}} {
		for _, d := range Dialects() {
			sink := &StagingSink{d: d, spec: named.spec}
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
				t.Run(d.Name()+"/"+named.dir+"/"+name, func(t *testing.T) {
					if named.dir != "" && (strings.Contains(st.SQL, "ZB1") || strings.Contains(st.SQL, "ZB2")) {
						t.Errorf("a statement for SZ7/SZ8 names ZB1 or ZB2: %s", st.SQL)
					}
					checkGolden(t, filepath.Join("testdata", "staging", d.Name(), named.dir, name+".sql"), st)
				})
			}
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
		{"numeric N 3,2", func(s *StagingSpec) { s.Items.Value = StagingColumn{Name: "ZB2_VALOR", Width: 3, Decimals: 2} }, ""},
		{"whole numbers", func(s *StagingSpec) { s.Items.Quantity.Decimals = 0 }, ""},
		{"numeric width unknown", func(s *StagingSpec) { s.Items.Value = StagingColumn{Name: "ZB2_VALOR", Decimals: 2} }, ""},
		{"negative width", func(s *StagingSpec) { s.Items.Value.Width = -1 }, "ZB2_VALOR: bad size"},
		{"negative decimals", func(s *StagingSpec) { s.Items.Value.Decimals = -1 }, "ZB2_VALOR: bad size"},
		{"short time", func(s *StagingSpec) { s.Header.CreatedTime.Width = 5 }, "needs width 8"},
		{"duplicate status", func(s *StagingSpec) { s.Statuses.Done = "0" }, `status code "0" used twice`},
		{"blank status", func(s *StagingSpec) { s.Statuses.Error = " " }, "every code must be set"},
		{"status too wide", func(s *StagingSpec) { s.Statuses.Error = "ER" }, "wider than 1"},
		{"filial too wide", func(s *StagingSpec) { s.Filial = "0101" }, "filial"},
		{"no item codes", func(s *StagingSpec) { s.ItemCode = nil }, "item code"},
		{"no recdel column", func(s *StagingSpec) { s.RecDelColumn = "" }, "recdel column"},
		{"short date", func(s *StagingSpec) { s.Header.CreatedDate.Width = 6 }, "needs width 8"},
		{"bad job column", func(s *StagingSpec) { s.JobColumns = []ColumnSpec{{Name: "ZB1_TENTAT; --", Kind: KindNumber}} }, "header job column"},
		{"bad optional column", func(s *StagingSpec) { s.OptionalColumns = []string{"S_T_A_M_P_ "} }, "optional column"},
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

// TestStagingLayoutDiffs compares catalogs as each database spells its
// types with a layout: SQL Server's VARBINARY(MAX) memo (width -1, read as
// 0), Oracle's VARCHAR2/NUMBER/BLOB, PostgreSQL's CHARACTER VARYING, and
// what differs is named.
func TestStagingLayoutDiffs(t *testing.T) {
	layout := []ColumnSpec{{Name: "ZB1_DEALID", Kind: KindChar, Width: 24}, {Name: "ZB1_DTPROC", Kind: KindDate},
		{Name: "ZB1_ERRO", Kind: KindMemo}, {Name: "ZB1_TENTAT", Kind: KindNumber}, {Name: "R_E_C_N_O_", Kind: KindInt}}
	for _, tc := range []struct {
		name string
		cat  []CatalogColumn
		want []string
	}{
		{"sqlserver", []CatalogColumn{{"ZB1_DEALID", "VARCHAR", 24}, {"ZB1_DTPROC", "VARCHAR", 8}, {"ZB1_ERRO", "VARBINARY", 0},
			{"ZB1_TENTAT", "FLOAT", 0}, {"R_E_C_N_O_", "INT", 0}, {"S_T_A_M_P_", "DATETIME", 0}}, nil},
		{"a character column of unknown width (varchar(max))", []CatalogColumn{{"ZB1_DEALID", "VARCHAR", 0}, {"ZB1_DTPROC", "VARCHAR", 8},
			{"ZB1_ERRO", "VARBINARY", 0}, {"ZB1_TENTAT", "FLOAT", 0}, {"R_E_C_N_O_", "INT", 0}}, nil},
		{"sqlserver varchar(max) memo", []CatalogColumn{{"ZB1_DEALID", "VARCHAR", 24}, {"ZB1_DTPROC", "VARCHAR", 8}, {"ZB1_ERRO", "VARCHAR", 0},
			{"ZB1_TENTAT", "FLOAT", 0}, {"R_E_C_N_O_", "INT", 0}}, nil},
		{"oracle", []CatalogColumn{{"ZB1_DEALID", "VARCHAR2", 24}, {"ZB1_DTPROC", "VARCHAR2", 8}, {"ZB1_ERRO", "BLOB", 0},
			{"ZB1_TENTAT", "FLOAT", 0}, {"R_E_C_N_O_", "NUMBER", 0}, {"S_T_A_M_P_", "TIMESTAMP(6)", 0}}, nil},
		{"postgres", []CatalogColumn{{"ZB1_DEALID", "CHARACTER VARYING", 24}, {"ZB1_DTPROC", "CHARACTER VARYING", 8}, {"ZB1_ERRO", "BYTEA", 0},
			{"ZB1_TENTAT", "DOUBLE PRECISION", 0}, {"R_E_C_N_O_", "INTEGER", 0}}, nil},
		{"differences", []CatalogColumn{{"ZB1_DEALID", "CHARACTER VARYING", 20}, {"ZB1_DTPROC", "DATE", 0}, {"ZB1_ERRO", "VARCHAR", 250},
			{"ZB1_TENTAT", "VARCHAR2", 3}, {"ZB1_COD", "VARCHAR2", 6}, {"I_N_S_D_T_", "TIMESTAMP", 0}},
			[]string{"lacks R_E_C_N_O_", "ZB1_DEALID is CHARACTER VARYING(20), not 24 characters wide",
				"ZB1_DTPROC is DATE, not a character column", "ZB1_ERRO is VARCHAR(250), not a memo (text or binary) column",
				"ZB1_TENTAT is VARCHAR2(3), not a numeric column", "has columns the layout does not: ZB1_COD, I_N_S_D_T_"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := layoutDiffs(tc.cat, layout, []string{"S_T_A_M_P_"})
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("differences (-want +got):\n%s", diff)
			}
		})
	}
}

// A staging sink needs a database and a dialect, and takes a valid spec.
func TestNewStagingSinkNeedsADatabaseAndADialect(t *testing.T) {
	db, _, err := Open("sqlite", "file:"+filepath.Join(t.TempDir(), "erp.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := NewStagingSink(db, SQLite{}, testStagingSpec()); err != nil {
		t.Errorf("a database, a dialect and a valid spec: %v", err)
	}
	if _, err := NewStagingSink(db, nil, testStagingSpec()); err == nil {
		t.Error("a sink without a dialect was made")
	}
	if _, err := NewStagingSink(nil, SQLite{}, testStagingSpec()); err == nil {
		t.Error("a sink without a database was made")
	}
}

// A numeric column takes what its width holds, and nothing more: N 3,0
// holds 999, N 4,2 (the point counts) 9.99; a column of unknown width (0) takes any
// value a float64 carries exactly.
func TestFloatArgsFitTheirColumn(t *testing.T) {
	for _, tc := range []struct {
		width, decimals int
		v               string
		fits            bool
	}{
		{3, 0, "999", true},
		{3, 0, "1000", false},
		{4, 2, "9.99", true},
		{4, 2, "10", false},
		{0, 2, "123456789.12", true},
	} {
		_, err := floatArg(StagingColumn{Name: "ZB2_X", Width: tc.width, Decimals: tc.decimals}, dec(tc.v))
		if fits := err == nil; fits != tc.fits {
			t.Errorf("%s in N %d,%d: %v; want it to fit %v", tc.v, tc.width, tc.decimals, err, tc.fits)
		}
	}
}
