package sqlerp_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/erpbridge/erpbridge/erp"
	"github.com/erpbridge/erpbridge/erp/protheus"
	"github.com/erpbridge/erpbridge/erp/protheus/fixture"
	"github.com/erpbridge/erpbridge/erp/sqlerp"
)

// plainTable is a table that is not Protheus-shaped: no D_E_L_E_T_, no
// S_T_A_M_P_, a key column wider in the database (8) than its spec says (6)
// — sizes grow between releases — and a second column that holds "*".
func plainTable(t *testing.T) (*sqlerp.Source, context.Context) {
	t.Helper()
	ctx := context.Background()
	db, d, err := sqlerp.Open("sqlite", "file:"+filepath.Join(t.TempDir(), "plain.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	for _, st := range []string{
		"CREATE TABLE ZZ1010 (ZZ1_COD VARCHAR(8) NOT NULL, ZZ1_FLAG VARCHAR(1) NOT NULL, ZZ1_NOME VARCHAR(20) NOT NULL, R_E_C_N_O_ INTEGER NOT NULL PRIMARY KEY)",
		"INSERT INTO ZZ1010 VALUES ('ABC     ', '*', 'PRIMEIRO', 1), ('DEF     ', ' ', 'SEGUNDO', 2), ('GHI     ', '*', 'TERCEIRO', 3)",
	} {
		if _, err := db.ExecContext(ctx, st); err != nil {
			t.Fatal(err)
		}
	}
	src, err := sqlerp.NewSource(ctx, db, d, sqlerp.TableSpec{Physical: "ZZ1010", KeyColumns: []string{"ZZ1_COD"},
		Columns: []sqlerp.ColumnSpec{{Name: "ZZ1_COD", Kind: sqlerp.KindChar, Width: 6}, {Name: "ZZ1_FLAG", Kind: sqlerp.KindChar},
			{Name: "ZZ1_NOME", Kind: sqlerp.KindChar}},
		RecnoColumn: "R_E_C_N_O_"}, sqlerp.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { src.Close() })
	return src, ctx
}

// A table without a deleted column never reports a row deleted, whatever
// its columns hold; without a stamp it is read by full passes.
func TestAPlainTableIsReadAsItIs(t *testing.T) {
	src, ctx := plainTable(t)
	if src.Incremental() {
		t.Error("a table without a stamp claims to be incremental")
	}
	var keys []string
	for page, err := range src.FullPass(ctx, "", 2) {
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range page.Records {
			if r.Deleted || r.Stamp != nil {
				t.Errorf("row %s read as deleted %v, stamp %v; the table has neither column", r.Key, r.Deleted, r.Stamp)
			}
			keys = append(keys, r.Key)
		}
	}
	if strings.Join(keys, " ") != "ABC DEF GHI" {
		t.Errorf("full pass read %v", keys)
	}
}

// A key is looked up at the column's width as the catalog gives it, not
// as the spec says.
func TestAKeyIsLookedUpAtItsCatalogWidth(t *testing.T) {
	src, ctx := plainTable(t)
	r, ok, err := src.Lookup(ctx, "DEF")
	if err != nil || !ok || r.Fields["ZZ1_NOME"] != "SEGUNDO" {
		t.Errorf("Lookup(DEF) = %+v, %v, %v; want the row SEGUNDO", r, ok, err)
	}
	if w := src.Spec().Columns[0].Width; w != 8 {
		t.Errorf("ZZ1_COD width %d, want the catalog's 8", w)
	}
}

// Reads refuse a page size or limit that is not positive.
func TestReadsRefuseANonPositiveSize(t *testing.T) {
	src, ctx := plainTable(t)
	for _, err := range src.FullPass(ctx, "", 0) {
		if err == nil || !strings.Contains(err.Error(), "page size must be positive") {
			t.Errorf("FullPass with page size 0: %v", err)
		}
	}
	if _, err := src.Find(ctx, []erp.Match{{Column: "ZZ1_COD", Value: "ABC"}}, 0); err == nil ||
		!strings.Contains(err.Error(), "limit must be positive") {
		t.Errorf("Find with limit 0: %v", err)
	}
	if recs, err := src.Find(ctx, []erp.Match{{Column: "ZZ1_FLAG", Value: "*"}}, 1); err != nil || len(recs) != 1 {
		t.Errorf("Find with limit 1: %d rows, %v; want 1", len(recs), err)
	}
	fx, _ := fixture.NewSQLite(t, fixture.Options{Customers: 40})
	customers := newSource(t, fx, sqlerp.SQLite{}, protheus.Customers, fixture.SharedFilial)
	for _, err := range customers.Changes(ctx, "", 0) {
		if err == nil || !strings.Contains(err.Error(), "page size must be positive") {
			t.Errorf("Changes with page size 0: %v", err)
		}
	}
}

// A table with a stamp and no filial column (a company-wide custom table)
// is polled: its checkpoint is its newest stamp, and changes are read
// from there.
func TestAStampedTableWithoutFilial(t *testing.T) {
	ctx := context.Background()
	db, d, err := sqlerp.Open("sqlite", "file:"+filepath.Join(t.TempDir(), "plain.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, st := range []string{
		"CREATE TABLE ZZ2010 (ZZ2_COD VARCHAR(6) NOT NULL, S_T_A_M_P_ TIMESTAMP NULL, R_E_C_N_O_ INTEGER NOT NULL PRIMARY KEY)",
		"INSERT INTO ZZ2010 VALUES ('A     ', '2024-01-02 10:00:00.000', 1), ('B     ', '2024-01-02 11:00:00.000', 2)",
	} {
		if _, err := db.ExecContext(ctx, st); err != nil {
			t.Fatal(err)
		}
	}
	src, err := sqlerp.NewSource(ctx, db, d, sqlerp.TableSpec{Physical: "ZZ2010", KeyColumns: []string{"ZZ2_COD"},
		Columns: []sqlerp.ColumnSpec{{Name: "ZZ2_COD", Kind: sqlerp.KindChar}}, StampColumn: "S_T_A_M_P_", RecnoColumn: "R_E_C_N_O_"},
		sqlerp.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	cp, err := src.Checkpoint(ctx)
	if want := sqlerp.StampPosition(time.Date(2024, 1, 2, 11, 0, 0, 0, time.UTC), 0); err != nil || cp != want {
		t.Fatalf("checkpoint %s, %v; want %s", cp, err, want)
	}
	var keys []string
	for page, err := range src.Changes(ctx, cp, 10) {
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range page.Records {
			keys = append(keys, r.Key)
		}
	}
	if strings.Join(keys, " ") != "B" {
		t.Errorf("changes from the checkpoint read %v; want B", keys)
	}
}
