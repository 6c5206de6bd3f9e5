package sqlerp

import (
	"math"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/erpbridge/erpbridge/erp"
)

func TestQuoteIdent(t *testing.T) {
	tests := []struct {
		in, want string
		ok       bool
	}{
		{"SA1010", "SA1010", true},
		{"a1_cod", "A1_COD", true},
		{"D_E_L_E_T_", "D_E_L_E_T_", true},
		{"_X", "_X", true},
		{"A23456789012345678901234567890", "A23456789012345678901234567890", true}, // 30 chars
		{"A234567890123456789012345678901", "", false},                             // 31 chars
		{"", "", false},
		{"1SA1", "", false},
		{"SA1010; DROP TABLE SA1010", "", false},
		{"A1_COD--", "", false},
		{"A1_COD' OR '1'='1", "", false},
		{`"A1_COD"`, "", false},
		{"[A1_COD]", "", false},
		{"A1 COD", "", false},
		{"dbo.SA1010", "", false},
		{"A1_CÓD", "", false},
		{"A1_COD\n", "", false},
	}
	for _, d := range Dialects() {
		for _, tt := range tests {
			got, err := d.QuoteIdent(tt.in)
			if (err == nil) != tt.ok || got != tt.want {
				t.Errorf("%s.QuoteIdent(%q) = %q, %v; want %q, ok=%v", d.Name(), tt.in, got, err, tt.want, tt.ok)
			}
		}
	}
}

func TestSpecValidateRejectsInjection(t *testing.T) {
	bad := []func(*TableSpec){
		func(s *TableSpec) { s.Physical = "SA1010 WHERE 1=1 --" },
		func(s *TableSpec) { s.KeyColumns = append(s.KeyColumns, "A1_COD)") },
		func(s *TableSpec) { s.Columns = append(s.Columns, ColumnSpec{Name: "A1_NOME/**/", Kind: KindChar}) },
		func(s *TableSpec) { s.FilialColumn = "A1_FILIAL OR 1=1" },
		func(s *TableSpec) { s.StampColumn = "S_T_A_M_P_;" },
		func(s *TableSpec) { s.RecnoColumn = "" },
		func(s *TableSpec) { s.KeyColumns = nil },
		func(s *TableSpec) { s.Columns = append(s.Columns, ColumnSpec{Name: "A1_X", Kind: "blob"}) },
		func(s *TableSpec) { s.Columns = append(s.Columns, ColumnSpec{Name: "a1_nome", Kind: KindChar}) },
	}
	if err := sa1Spec().Validate(); err != nil {
		t.Fatalf("valid spec rejected: %v", err)
	}
	for i, mutate := range bad {
		s := sa1Spec()
		mutate(&s)
		if err := s.Validate(); err == nil {
			t.Errorf("case %d: invalid spec accepted", i)
		}
	}
}

func TestCompareCharBlankHandling(t *testing.T) {
	tests := []struct {
		d        Dialect
		width    int
		value    string
		wantExpr string
		wantArg  any
	}{
		{Postgres{}, 6, "1", "A1_COD = $1", "1     "},
		{Postgres{}, 0, "1  ", "RTRIM(A1_COD) = $1", "1"},
		{SQLite{}, 2, "", "A1_COD = ?", "  "},
		{Oracle{}, 0, "  ", "NVL(RTRIM(A1_COD), ' ') = :1", " "},
		{Oracle{}, 2, "", "A1_COD = :1", "  "},
	}
	for _, tt := range tests {
		expr, arg := tt.d.CompareChar("A1_COD", tt.d.Placeholder(1), tt.width, tt.value)
		if expr != tt.wantExpr || arg != tt.wantArg {
			t.Errorf("%s width %d %q: got %q %#v, want %q %#v", tt.d.Name(), tt.width, tt.value, expr, arg, tt.wantExpr, tt.wantArg)
		}
	}
}

func TestConvert(t *testing.T) {
	noisy := 0.1
	noisy += 0.2 // 0.30000000000000004
	date := time.Date(2024, 1, 15, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		name string
		col  ColumnSpec
		raw  any
		want erp.Value
	}{
		{"char right-trimmed", ColumnSpec{Kind: KindChar}, "ACME LTDA      ", "ACME LTDA"},
		{"char keeps leading blanks", ColumnSpec{Kind: KindChar}, "  A  ", "  A"},
		{"all-blank char is empty", ColumnSpec{Kind: KindChar}, "      ", ""},
		{"char from bytes", ColumnSpec{Kind: KindChar}, []byte("01  "), "01"},
		{"latin-1 bytes kept as stored, trimmed", ColumnSpec{Kind: KindChar}, "A\xc7OUGUE S\xc3O JO\xc3O  ", "A\xc7OUGUE S\xc3O JO\xc3O"},
		{"utf-8 kept", ColumnSpec{Kind: KindChar}, "AÇÃO ", "AÇÃO"},
		{"null char", ColumnSpec{Kind: KindChar}, nil, nil},
		{"date", ColumnSpec{Kind: KindDate}, "20240115", date},
		{"blank date", ColumnSpec{Kind: KindDate}, "        ", nil},
		{"zero date", ColumnSpec{Kind: KindDate}, "00000000", nil},
		{"native date", ColumnSpec{Kind: KindDate}, date.Add(13 * time.Hour), date},
		{"memo bytes", ColumnSpec{Kind: KindMemo}, []byte("linha 1\nlinha 2  "), "linha 1\nlinha 2"},
		{"int", ColumnSpec{Kind: KindInt}, 42.0, int64(42)},
		{"bool T", ColumnSpec{Kind: KindBool}, "T", true},
		{"bool F", ColumnSpec{Kind: KindBool}, "F", false},
		{"bool blank", ColumnSpec{Kind: KindBool}, " ", nil},
	}
	for _, tt := range tests {
		got, err := Convert(tt.col, tt.raw)
		if err != nil {
			t.Errorf("%s: %v", tt.name, err)
			continue
		}
		if gt, ok := got.(time.Time); ok {
			if !gt.Equal(tt.want.(time.Time)) || gt.Location() != time.UTC {
				t.Errorf("%s: got %v, want %v", tt.name, gt, tt.want)
			}
			continue
		}
		if got != tt.want {
			t.Errorf("%s: got %#v, want %#v", tt.name, got, tt.want)
		}
	}

	numbers := []struct {
		raw  any
		dec  int
		want string
	}{
		{noisy, 2, "0.30"},
		{1234.5650000001, 2, "1234.57"},
		{0.12345, 4, "0.1235"},
		{float64(1e6) + 0.1 + 0.2, 2, "1000000.30"},
		{int64(7), 2, "7.00"},
		{"12.345", 2, "12.35"},
		{[]byte("3"), 0, "3"},
	}
	for _, tt := range numbers {
		got, err := Convert(ColumnSpec{Kind: KindNumber, Decimals: tt.dec}, tt.raw)
		if err != nil {
			t.Errorf("number %v: %v", tt.raw, err)
			continue
		}
		d, ok := got.(decimal.Decimal)
		if !ok || d.StringFixed(int32(tt.dec)) != tt.want || !d.Equal(decimal.RequireFromString(tt.want)) {
			t.Errorf("number %v (%d decimals): got %v, want %s", tt.raw, tt.dec, got, tt.want)
		}
	}
	// Values a column cannot hold are refused, each with the reason a
	// record's BadValue gives (never a page error: see readPage).
	refused := []struct {
		col    ColumnSpec
		raw    any
		reason string
	}{
		{ColumnSpec{Name: "B1_PRV1", Kind: KindNumber, Decimals: 2}, math.NaN(), "is not a finite number"},
		{ColumnSpec{Name: "B1_PRV1", Kind: KindNumber, Decimals: 2}, math.Inf(1), "is not a finite number"},
		{ColumnSpec{Name: "B1_PRV1", Kind: KindNumber, Decimals: 2}, float32(math.Inf(-1)), "is not a finite number"},
		{ColumnSpec{Name: "B1_PRV1", Kind: KindNumber, Decimals: 2}, "abc", "is not a number"},
		{ColumnSpec{Name: "B1_PRV1", Kind: KindNumber, Decimals: 2}, "NaN", "is not a number"},
		{ColumnSpec{Name: "B1_PRV1", Kind: KindNumber, Decimals: 2}, []byte("Infinity"), "is not a number"},
		{ColumnSpec{Name: "B1_PRV1", Kind: KindNumber, Decimals: 2}, "1e999999999", "is not a number"},
		{ColumnSpec{Name: "A1_LC", Kind: KindInt}, "12,5", "is not a number"},
		{ColumnSpec{Name: "A1_DTCAD", Kind: KindDate}, "20230231", "is not a date (YYYYMMDD)"},
		{ColumnSpec{Name: "A1_DTCAD", Kind: KindDate}, "2023-1-1", "is not a date (YYYYMMDD)"},
		{ColumnSpec{Name: "A1_OK", Kind: KindBool}, "X", "is not a logical value (T/F, S/N, 1/0)"},
	}
	for _, tt := range refused {
		got, err := Convert(tt.col, tt.raw)
		if err == nil || got != nil {
			t.Errorf("%s %v: converted to %v (err %v), want it refused", tt.col.Kind, tt.raw, got, err)
			continue
		}
		b := BadValue(tt.col, tt.raw, err)
		if b.Column != tt.col.Name || b.Reason != tt.reason || b.Value == "" {
			t.Errorf("%s %v: bad value %+v, want column %s, reason %q and the stored value", tt.col.Kind, tt.raw, b, tt.col.Name, tt.reason)
		}
	}
}

func TestPositionRoundTrip(t *testing.T) {
	stamp := time.Date(2026, 1, 2, 3, 4, 5, 123_000_000, time.UTC)
	p := StampPosition(stamp, 123)
	if p != `{"stamp":"2026-01-02T03:04:05.123Z","recno":123}` {
		t.Errorf("position encodes as %s", p)
	}
	got, err := decodePosition(p)
	if err != nil || !got.Stamp.Equal(stamp) || got.Recno != 123 {
		t.Errorf("decoded %+v, %v", got, err)
	}
	if _, err := decodePosition("not json"); err == nil {
		t.Error("garbage position decoded")
	}
}

func TestStampReadAsUTCWallClock(t *testing.T) {
	sp := time.FixedZone("BRT", -3*3600)
	for _, raw := range []any{
		"2026-01-02 03:04:05.123",
		time.Date(2026, 1, 2, 3, 4, 5, 123_000_000, sp),
		[]byte("2026-01-02 03:04:05.123"),
	} {
		got, err := convertStamp(raw)
		want := time.Date(2026, 1, 2, 3, 4, 5, 123_000_000, time.UTC)
		if err != nil || !got.Equal(want) {
			t.Errorf("stamp %v: got %v, %v", raw, got, err)
		}
	}
}
