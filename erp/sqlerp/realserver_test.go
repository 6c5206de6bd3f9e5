package sqlerp_test

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/erpbridge/erpbridge/erp/sqlerp"
)

// TestSQLServerIntegration runs the source against a real SQL Server when
// ERPBRIDGE_TEST_MSSQL_DSN is set (sqlserver://user:pass@host?database=db).
func TestSQLServerIntegration(t *testing.T) {
	runRealServer(t, "ERPBRIDGE_TEST_MSSQL_DSN", sqlerp.SQLServer{}, serverTypes{
		char: "VARCHAR(%d) NOT NULL DEFAULT '%s'", float: "FLOAT NOT NULL DEFAULT 0",
		integer: "INT NOT NULL", stamp: "DATETIME NULL", drop: "DROP TABLE %s",
	})
}

// TestOracleIntegration runs the source against a real Oracle (12c+) when
// ERPBRIDGE_TEST_ORACLE_DSN is set (oracle://user:pass@host:1521/service).
func TestOracleIntegration(t *testing.T) {
	runRealServer(t, "ERPBRIDGE_TEST_ORACLE_DSN", sqlerp.Oracle{}, serverTypes{
		char: "VARCHAR2(%d) DEFAULT '%s' NOT NULL", float: "FLOAT DEFAULT 0 NOT NULL",
		integer: "NUMBER(10) NOT NULL", stamp: "TIMESTAMP NULL", drop: "DROP TABLE %s PURGE",
	})
}

type serverTypes struct{ char, float, integer, stamp, drop string }

func runRealServer(t *testing.T, env string, d sqlerp.Dialect, types serverTypes) {
	db := openRealServer(t, env, d)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	table, base := createRealTable(ctx, t, db, d, types)

	spec := sqlerp.TableSpec{
		Physical: table, KeyColumns: []string{"A1_FILIAL", "A1_COD", "A1_LOJA"},
		Columns: []sqlerp.ColumnSpec{
			{Name: "A1_NOME", Kind: sqlerp.KindChar}, {Name: "A1_LC", Kind: sqlerp.KindNumber, Decimals: 2},
			{Name: "A1_DTCAD", Kind: sqlerp.KindDate},
		},
		FilialColumn: "A1_FILIAL", StampColumn: "S_T_A_M_P_", RecnoColumn: "R_E_C_N_O_", DeletedColumn: "D_E_L_E_T_",
	}
	src, err := sqlerp.NewSource(ctx, db, d, spec, sqlerp.Options{Overlap: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if !src.Incremental() || src.Spec().Columns[0].Width != 40 {
		t.Errorf("catalog: incremental=%v, A1_NOME width %d; want true, 40", src.Incremental(), src.Spec().Columns[0].Width)
	}
	full, _ := collect(t, src.FullPass(ctx, "", 2), 2)
	if len(full) != 5 || !full[2].Deleted || full[4].Stamp != nil || full[0].Fields["A1_NOME"] != "CLIENTE 1" {
		t.Errorf("full pass read %+v", full)
	}
	if lc := full[0].Fields["A1_LC"]; sprintf("%v", lc) != "1.3" {
		t.Errorf("A1_LC = %v, want 1.30", lc)
	}
	all, _ := collect(t, src.Changes(ctx, "", 2), 2)
	if len(all) != 4 {
		t.Errorf("changes from the beginning read %d rows, want the 4 stamped", len(all))
	}
	pos, err := src.Checkpoint(ctx)
	if err != nil || pos != sqlerp.StampPosition(base.Add(4*time.Second), 0) {
		t.Errorf("checkpoint %s, %v", pos, err)
	}
	recent, _ := collect(t, src.Changes(ctx, sqlerp.StampPosition(base.Add(3*time.Second), 3), 2), 2)
	if keys := keysOf(recent); len(keys) != 3 || keys[0] != "|000002|01" {
		t.Errorf("changes since stamp 3 with 1s overlap read %v, want rows 2–4", keys)
	}
	if r, ok, err := src.Lookup(ctx, "|000002|01"); err != nil || !ok || r.Recno != 2 {
		t.Errorf("lookup = %+v, %v, %v", r, ok, err)
	}
}

// openRealServer opens the server named by the environment variable env,
// or skips the test when it is not set; the database is closed when the
// test ends (after its tables are dropped).
func openRealServer(t *testing.T, env string, d sqlerp.Dialect) *sql.DB {
	t.Helper()
	dsn := os.Getenv(env)
	if dsn == "" {
		t.Skipf("%s not set: no %s server to test against", env, d.Name())
	}
	db, _, err := sqlerp.Open(d.Name(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// createRealTable creates a Protheus-shaped table on a real server (five
// rows stamped base + 1s … 4s, the fifth NULL, the third deleted) and
// drops it when the test ends.
func createRealTable(ctx context.Context, t *testing.T, db *sql.DB, d sqlerp.Dialect, types serverTypes) (string, time.Time) {
	t.Helper()
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	table := "ERPBT" + strings.ToUpper(hex.EncodeToString(b))
	char := func(name string, width int) string {
		return name + " " + sprintf(types.char, width, strings.Repeat(" ", width))
	}
	ddl := "CREATE TABLE " + table + " (" + strings.Join([]string{
		char("A1_FILIAL", 2), char("A1_COD", 6), char("A1_LOJA", 2), char("A1_NOME", 40),
		"A1_LC " + types.float, char("A1_DTCAD", 8), char("D_E_L_E_T_", 1),
		"R_E_C_N_O_ " + types.integer + " PRIMARY KEY", "S_T_A_M_P_ " + types.stamp,
	}, ", ") + ")"
	if _, err := db.ExecContext(ctx, ddl); err != nil {
		t.Fatalf("creating %s: %v", table, err)
	}
	t.Cleanup(func() {
		if _, err := db.ExecContext(context.Background(), sprintf(types.drop, table)); err != nil {
			t.Errorf("dropping %s: %v", table, err)
		}
	})
	base := time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)
	ph := make([]string, 8)
	for i := range ph {
		ph[i] = d.Placeholder(i + 1)
	}
	insert := "INSERT INTO " + table + " (A1_FILIAL, A1_COD, A1_LOJA, A1_NOME, A1_LC, A1_DTCAD, D_E_L_E_T_, R_E_C_N_O_, S_T_A_M_P_) VALUES ('  ', " + strings.Join(ph, ", ") + ")"
	for i := 1; i <= 5; i++ {
		deleted := " "
		if i == 3 {
			deleted = "*"
		}
		var stamp any = d.BindTime(base.Add(time.Duration(i) * time.Second))
		if i == 5 {
			stamp = nil
		}
		if _, err := db.ExecContext(ctx, insert, sprintf("%06d", i), "01", sprintf("%-40s", sprintf("CLIENTE %d", i)),
			float64(i)+0.1+0.2, "20240115", deleted, i, stamp); err != nil {
			t.Fatalf("inserting row %d: %v", i, err)
		}
	}
	return table, base
}

func sprintf(format string, args ...any) string { return fmt.Sprintf(format, args...) }
