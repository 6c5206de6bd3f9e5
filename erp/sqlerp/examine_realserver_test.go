package sqlerp_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/erpbridge/erpbridge/erp/sqlerp"
)

// TestExamineSQLServerIntegration runs what `erpbridge doctor` reads
// against a real SQL Server when ERPBRIDGE_TEST_MSSQL_DSN is set.
func TestExamineSQLServerIntegration(t *testing.T) {
	examineRealServer(t, "ERPBRIDGE_TEST_MSSQL_DSN", sqlerp.SQLServer{}, serverTypes{
		char: "VARCHAR(%d) NOT NULL DEFAULT '%s'", float: "FLOAT NOT NULL DEFAULT 0",
		integer: "INT NOT NULL", stamp: "DATETIME NULL", drop: "DROP TABLE %s",
	}, "DROP INDEX %[1]s.%[2]s")
}

// TestExamineOracleIntegration runs what `erpbridge doctor` reads against
// a real Oracle when ERPBRIDGE_TEST_ORACLE_DSN is set.
func TestExamineOracleIntegration(t *testing.T) {
	examineRealServer(t, "ERPBRIDGE_TEST_ORACLE_DSN", sqlerp.Oracle{}, serverTypes{
		char: "VARCHAR2(%d) DEFAULT '%s' NOT NULL", float: "FLOAT DEFAULT 0 NOT NULL",
		integer: "NUMBER(10) NOT NULL", stamp: "TIMESTAMP NULL", drop: "DROP TABLE %s PURGE",
	}, "DROP INDEX %[2]s")
}

// examineRealServer reads the server's facts, then a table's with an
// index on its stamp and without it: the plan is read and names the
// table, the index is found, and (without it) nothing serves the poll. A
// five-row table may be read whole whatever its index, so whether the
// plan seeks the stamp is logged, not required.
func examineRealServer(t *testing.T, env string, d sqlerp.Dialect, types serverTypes, dropIndex string) {
	db := openRealServer(t, env, d)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	server, err := sqlerp.ExamineServer(ctx, db, d)
	if err != nil {
		t.Fatal(err)
	}
	if server.Get("version") == "" || server.BlankEqual != server.AssumesBlankEqual {
		t.Errorf("server facts %+v: want a version, and trailing blanks compared as the dialect assumes", server)
	}
	t.Logf("server: %+v", server)

	table, _ := createRealTable(ctx, t, db, d, types)
	index := table + "_STAMP"
	if _, err := db.ExecContext(ctx, "CREATE INDEX "+index+" ON "+table+" (S_T_A_M_P_, R_E_C_N_O_)"); err != nil {
		t.Fatal(err)
	}
	spec := sqlerp.TableSpec{
		Physical: table, KeyColumns: []string{"A1_FILIAL", "A1_COD", "A1_LOJA"},
		Columns:      []sqlerp.ColumnSpec{{Name: "A1_NOME", Kind: sqlerp.KindChar}},
		FilialColumn: "A1_FILIAL", StampColumn: "S_T_A_M_P_", RecnoColumn: "R_E_C_N_O_", DeletedColumn: "D_E_L_E_T_",
	}
	src, err := sqlerp.NewSource(ctx, db, d, spec, sqlerp.Options{Overlap: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	f, err := src.Examine(ctx, sqlerp.ExamineOptions{PageSize: 2})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("with the index: %+v\n%s", f, strings.Join(f.StampIndex.Plan, "\n"))
	if f.Rows != 5 || f.NullStamps != 1 || f.Poll.Rows == 0 {
		t.Errorf("rows %d, NULL stamps %d, polled %d; want 5, 1 and some", f.Rows, f.NullStamps, f.Poll.Rows)
	}
	if len(f.StampIndex.Serving) != 1 || f.StampIndex.Serving[0].Name != index {
		t.Errorf("serving indexes %v, want %s", f.StampIndex.Serving, index)
	}
	if !strings.Contains(f.StampIndex.Access.Scan, table) && f.StampIndex.Access.Index != index {
		t.Errorf("the plan's access %+v names neither the table nor the index", f.StampIndex.Access)
	}
	if _, err := db.ExecContext(ctx, sprintf(dropIndex, table, index)); err != nil {
		t.Fatal(err)
	}
	s, err := src.StampIndex(ctx, 2)
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Serving) != 0 || s.Access.StampSeek || !strings.Contains(s.Access.Scan, table) {
		t.Errorf("without the index: %+v, want no serving index and the table's scan\n%s", s.Access, strings.Join(s.Plan, "\n"))
	}
}
