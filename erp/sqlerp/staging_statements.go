package sqlerp

import (
	"strings"

	mssql "github.com/microsoft/go-mssqldb"
)

// stagingRow is one row a StagingSink inserts: its columns and their
// values, control columns excluded.
type stagingRow struct {
	cols []string
	args []any
}

// add appends a column and its value.
func (r *stagingRow) add(col string, v any) {
	r.cols = append(r.cols, col)
	r.args = append(r.args, v)
}

// charArg is the value bound for a CHAR column: VARCHAR on SQL Server (an
// NVARCHAR would force a conversion of the column), a string elsewhere.
func charArg(d Dialect, v string) any {
	if _, ok := d.(SQLServer); ok {
		return mssql.VarChar(v)
	}
	return v
}

// stagingLookupStatement reads the status, order number and error of the
// live header row of a deal (the newest, should there be several).
func stagingLookupStatement(d Dialect, s StagingSpec, dealID string) Statement {
	b := &builder{d: d}
	h := s.Header
	eq := func(c StagingColumn, v string) string {
		expr, arg := d.CompareChar(b.ident(c.Name), b.next(), c.Width, v)
		b.args = append(b.args, arg)
		return expr
	}
	conds := []string{eq(h.Filial, s.Filial), eq(h.DealID, dealID), b.ident(s.DeletedColumn) + " = ' '"}
	sel := b.ident(h.Status.Name) + ", " + b.ident(h.OrderNumber.Name) + ", " + b.ident(h.Error.Name)
	rest := "FROM " + b.ident(h.Table) + " WHERE " + strings.Join(conds, " AND ") + " ORDER BY " + b.ident(s.RecnoColumn) + " DESC"
	return Statement{SQL: d.Paginate(sel, rest, b.bind(1)), Args: b.args}
}

// stagingNextRecnoStatement reads the next record number of a table.
func stagingNextRecnoStatement(d Dialect, s StagingSpec, table string) Statement {
	b := &builder{d: d}
	return Statement{SQL: "SELECT COALESCE(MAX(" + b.ident(s.RecnoColumn) + "), 0) + 1 FROM " + b.ident(table)}
}

// stagingInsertStatement inserts one live row with its record number.
func stagingInsertStatement(d Dialect, s StagingSpec, table string, row stagingRow, recno int64) Statement {
	b := &builder{d: d}
	cols := make([]string, 0, len(row.cols)+3)
	phs := make([]string, 0, len(row.cols)+3)
	for i, c := range row.cols {
		cols = append(cols, b.ident(c))
		phs = append(phs, b.bind(row.args[i]))
	}
	cols = append(cols, b.ident(s.DeletedColumn), b.ident(s.RecnoColumn), b.ident(s.RecDelColumn))
	phs = append(phs, "' '", b.bind(recno), "0")
	return Statement{
		SQL:  "INSERT INTO " + b.ident(table) + " (" + strings.Join(cols, ", ") + ") VALUES (" + strings.Join(phs, ", ") + ")",
		Args: b.args,
	}
}
