package sqlerp

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/erpbridge/erpbridge/erp"
)

var update = flag.Bool("update", false, "rewrite golden files")

func sa1Spec() TableSpec {
	return TableSpec{
		Physical:   "SA1010",
		KeyColumns: []string{"A1_FILIAL", "A1_COD", "A1_LOJA"},
		Columns: []ColumnSpec{
			{Name: "A1_FILIAL", Kind: KindChar, Width: 2},
			{Name: "A1_COD", Kind: KindChar, Width: 6},
			{Name: "A1_LOJA", Kind: KindChar, Width: 2},
			{Name: "A1_NOME", Kind: KindChar, Width: 40},
			{Name: "A1_LC", Kind: KindNumber, Decimals: 2},
			{Name: "A1_DTCAD", Kind: KindDate, Width: 8},
		},
		FilialColumn: "A1_FILIAL", Filial: "",
		StampColumn: "S_T_A_M_P_", RecnoColumn: "R_E_C_N_O_", DeletedColumn: "D_E_L_E_T_",
	}
}

func ac8Spec() TableSpec {
	return TableSpec{
		Physical:   "AC8010",
		KeyColumns: []string{"AC8_FILIAL", "AC8_ENTIDA", "AC8_FILENT", "AC8_CODENT", "AC8_CODCON"},
		Columns: []ColumnSpec{
			{Name: "AC8_FILIAL", Kind: KindChar, Width: 2}, {Name: "AC8_ENTIDA", Kind: KindChar, Width: 3},
			{Name: "AC8_FILENT", Kind: KindChar, Width: 2}, {Name: "AC8_CODENT", Kind: KindChar, Width: 25},
			{Name: "AC8_CODCON", Kind: KindChar, Width: 6},
		},
		FilialColumn: "AC8_FILIAL", Filial: "01",
		StampColumn: "S_T_A_M_P_", RecnoColumn: "R_E_C_N_O_", DeletedColumn: "D_E_L_E_T_",
	}
}

func da1Spec() TableSpec {
	return TableSpec{
		Physical:   "DA1010",
		KeyColumns: []string{"DA1_FILIAL", "DA1_CODTAB", "DA1_CODPRO", "DA1_INDLOT", "DA1_ITEM"},
		Columns: []ColumnSpec{
			{Name: "DA1_CODTAB", Kind: KindChar, Width: 3}, {Name: "DA1_CODPRO", Kind: KindChar, Width: 15},
			{Name: "DA1_PRCVEN", Kind: KindNumber, Decimals: 2}, {Name: "DA1_DATVIG", Kind: KindDate},
		},
		FilialColumn: "DA1_FILIAL", Filial: "  ",
		StampColumn: "S_T_A_M_P_", RecnoColumn: "R_E_C_N_O_", DeletedColumn: "D_E_L_E_T_",
	}
}

// TestGoldenStatements pins every generated statement, per dialect.
// Regenerate with: go test ./erp/sqlerp -run TestGoldenStatements -update
func TestGoldenStatements(t *testing.T) {
	stamp := time.Date(2026, 1, 2, 3, 4, 5, 123_000_000, time.UTC)
	noWidths := sa1Spec()
	for i := range noWidths.Columns {
		noWidths.Columns[i].Width = 0
	}
	must := func(st Statement, err error) Statement {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return st
	}
	for _, d := range Dialects() {
		statements := map[string]Statement{
			"changes_first":            changesStatement(d, sa1Spec(), stamp.Add(-2*time.Minute), nil, 500),
			"changes_next":             changesStatement(d, sa1Spec(), stamp.Add(-2*time.Minute), &stampCursor{Stamp: stamp, Recno: 123}, 500),
			"full_pass":                fullPassStatement(d, sa1Spec(), 1000, 500),
			"full_pass_unknown_widths": fullPassStatement(d, noWidths, 0, 500),
			"lookup":                   must(lookupStatement(d, sa1Spec(), erp.SplitKey("|000001|01"))),
			"lookup_unknown_widths":    must(lookupStatement(d, noWidths, erp.SplitKey("|000001|01"))),
			"find_ac8_by_contact":      must(findStatement(d, ac8Spec(), []erp.Match{{Column: "AC8_CODCON", Value: "000001"}}, 100)),
			"find_ac8_by_customer": must(findStatement(d, ac8Spec(), []erp.Match{
				{Column: "AC8_ENTIDA", Value: "SA1"}, {Column: "AC8_FILENT", Value: ""}, {Column: "AC8_CODENT", Value: "00000101"},
			}, 100)),
			"find_ac8_of_contacts": must(findStatement(d, ac8Spec(), []erp.Match{erp.AnyOf("AC8_CODCON", []string{"000001", "000002", "000003"})}, 300)),
			"find_da1_price":       must(findStatement(d, da1Spec(), []erp.Match{{Column: "DA1_CODTAB", Value: "001"}, {Column: "DA1_CODPRO", Value: "PA0001"}}, 10)),
			"max_stamp":            maxStampStatement(d, sa1Spec()),
			"count_changes":        countChangesStatement(d, sa1Spec(), stamp.Add(-2*time.Minute)),
			"count_full_pass":      countFullPassStatement(d, sa1Spec(), 1000),
			"catalog":              catalogStatement(d, "SA1010"),
		}
		for name, st := range statements {
			t.Run(d.Name()+"/"+name, func(t *testing.T) {
				checkGolden(t, filepath.Join("testdata", "golden", d.Name(), name+".sql"), st)
			})
		}
	}
}

// checkGolden compares a statement with its golden file, or rewrites the
// file under -update.
func checkGolden(t *testing.T, path string, st Statement) {
	t.Helper()
	got := st.SQL + "\n" + formatArgs(st.Args)
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("reading golden file (run with -update to create it): %v", err)
	}
	if diff := cmp.Diff(string(want), got); diff != "" {
		t.Errorf("%s differs from golden file (-want +got):\n%s", path, diff)
	}
}

// formatArgs renders a statement's arguments for its golden file.
func formatArgs(args []any) string {
	var sb strings.Builder
	for i, a := range args {
		var v string
		switch x := a.(type) {
		case time.Time:
			v = x.Format(time.RFC3339Nano)
		case string:
			v = strconv.Quote(x)
		default:
			if t, ok := asTime(a); ok {
				v = t.Format(time.RFC3339Nano)
			} else {
				v = fmt.Sprintf("%#v", a)
			}
		}
		fmt.Fprintf(&sb, "-- arg %d: %T %s\n", i+1, a, v)
	}
	return sb.String()
}

func TestLookupRejectsWrongKeyShape(t *testing.T) {
	if _, err := lookupStatement(Postgres{}, sa1Spec(), []string{"000001"}); err == nil {
		t.Fatal("a one-part key for a three-column key was accepted")
	}
}

func TestFindRejectsUnconfiguredOrInvalidColumns(t *testing.T) {
	for _, col := range []string{"A1_SENHA", "A1_COD; DROP TABLE SA1010", ""} {
		if _, err := findStatement(SQLite{}, sa1Spec(), []erp.Match{{Column: col, Value: "x"}}, 10); err == nil {
			t.Errorf("find on column %q was accepted", col)
		}
	}
}
