package sqlerp

import (
	"fmt"
	"strings"
	"time"

	"github.com/erpbridge/erpbridge/erp"
)

// Statement is one generated query with its bound arguments.
type Statement struct {
	SQL  string
	Args []any
	// OneOff marks a statement whose text varies with its arguments (a
	// list of values): not worth preparing and caching.
	OneOff bool
}

// builder accumulates bound arguments; every value goes through bind.
type builder struct {
	d    Dialect
	spec TableSpec
	args []any
}

func (b *builder) next() string { return b.d.Placeholder(len(b.args) + 1) }

func (b *builder) bind(v any) string {
	ph := b.next()
	b.args = append(b.args, v)
	return ph
}

func (b *builder) ident(name string) string {
	q, err := b.d.QuoteIdent(name)
	if err != nil {
		// Specs are validated before any statement is built.
		panic(fmt.Sprintf("sqlerp: unvalidated identifier reached SQL: %v", err))
	}
	return q
}

// charEq compares a CHAR column with a bound value, blank-padding aware.
func (b *builder) charEq(column, value string) string {
	width := 0
	if c, ok := b.spec.column(column); ok {
		width = c.Width
	}
	expr, arg := b.d.CompareChar(b.ident(column), b.next(), width, value)
	b.args = append(b.args, arg)
	return expr
}

func (b *builder) selectList() string {
	cols := b.spec.allColumns()
	q := make([]string, len(cols))
	for i, c := range cols {
		q[i] = b.ident(c)
	}
	return strings.Join(q, ", ")
}

// where starts the predicate list with the filial filter.
func (b *builder) where() []string {
	if b.spec.FilialColumn == "" {
		return nil
	}
	return []string{b.charEq(b.spec.FilialColumn, b.spec.Filial)}
}

func (b *builder) from() string { return "FROM " + b.ident(b.spec.Physical) }

func (b *builder) page(conds []string, order string, limit int) Statement {
	rest := b.from()
	if len(conds) > 0 {
		rest += " WHERE " + strings.Join(conds, " AND ")
	}
	rest += " ORDER BY " + order
	sel := b.selectList()
	return Statement{SQL: b.d.Paginate(sel, rest, b.bind(limit)), Args: b.args}
}

// stampCursor is a keyset position in (stamp, recno) order.
type stampCursor struct {
	Stamp time.Time
	Recno int64
}

// changesStatement reads rows with stamp >= from, in (stamp, recno) order;
// after, when set, continues behind the previous page's last row.
func changesStatement(d Dialect, spec TableSpec, from time.Time, after *stampCursor, limit int) Statement {
	b := &builder{d: d, spec: spec}
	stamp, recno := b.ident(spec.StampColumn), b.ident(spec.RecnoColumn)
	conds := append(b.where(), stamp+" >= "+b.bind(d.BindTime(from)))
	if after != nil {
		conds = append(conds, "("+stamp+" > "+b.bind(d.BindTime(after.Stamp))+
			" OR ("+stamp+" = "+b.bind(d.BindTime(after.Stamp))+" AND "+recno+" > "+b.bind(after.Recno)+"))")
	}
	return b.page(conds, stamp+", "+recno, limit)
}

// countStatement counts the rows matching conds (what a paged read with
// the same conditions yields), for progress.
func (b *builder) count(conds []string) Statement {
	q := "SELECT COUNT(*) " + b.from()
	if len(conds) > 0 {
		q += " WHERE " + strings.Join(conds, " AND ")
	}
	return Statement{SQL: q, Args: b.args}
}

// countChangesStatement counts what changesStatement(from, nil) pages through.
func countChangesStatement(d Dialect, spec TableSpec, from time.Time) Statement {
	b := &builder{d: d, spec: spec}
	return b.count(append(b.where(), b.ident(spec.StampColumn)+" >= "+b.bind(d.BindTime(from))))
}

// countFullPassStatement counts what fullPassStatement(after) pages through.
func countFullPassStatement(d Dialect, spec TableSpec, after int64) Statement {
	b := &builder{d: d, spec: spec}
	return b.count(append(b.where(), b.ident(spec.RecnoColumn)+" > "+b.bind(after)))
}

// fullPassStatement reads rows with recno > after in recno order; it covers
// NULL stamps and tables without a stamp.
func fullPassStatement(d Dialect, spec TableSpec, after int64, limit int) Statement {
	b := &builder{d: d, spec: spec}
	recno := b.ident(spec.RecnoColumn)
	conds := append(b.where(), recno+" > "+b.bind(after))
	return b.page(conds, recno, limit)
}

// lookupStatement reads one row by key; a live row wins over deleted rows
// with the same key, then the newest record.
func lookupStatement(d Dialect, spec TableSpec, key []string) (Statement, error) {
	if len(key) != len(spec.KeyColumns) {
		return Statement{}, fmt.Errorf("key has %d parts, table %s has %d key columns", len(key), spec.Physical, len(spec.KeyColumns))
	}
	b := &builder{d: d, spec: spec}
	conds := b.where()
	for i, k := range spec.KeyColumns {
		if spec.FilialColumn != "" && strings.EqualFold(k, spec.FilialColumn) {
			// The configured filial already restricts the read; a key part
			// naming another filial finds nothing.
			if trimBlanks(key[i]) != trimBlanks(spec.Filial) {
				conds = append(conds, "1 = 0")
			}
			continue
		}
		conds = append(conds, b.charEq(k, key[i]))
	}
	order := b.ident(spec.RecnoColumn) + " DESC"
	if spec.DeletedColumn != "" {
		order = "CASE WHEN " + b.ident(spec.DeletedColumn) + " = '*' THEN 1 ELSE 0 END, " + order
	}
	return b.page(conds, order, 1), nil
}

// findStatement reads rows matching every condition, in recno order.
func findStatement(d Dialect, spec TableSpec, match []erp.Match, limit int) (Statement, error) {
	return findAfterStatement(d, spec, match, nil, limit)
}

// findAfterStatement is findStatement continuing behind record after (nil:
// from the first), for keyset paging.
func findAfterStatement(d Dialect, spec TableSpec, match []erp.Match, after *int64, limit int) (Statement, error) {
	if len(match) == 0 {
		return Statement{}, fmt.Errorf("finding rows in %s: no conditions", spec.Physical)
	}
	b := &builder{d: d, spec: spec}
	conds := b.where()
	for _, m := range match {
		if err := ValidateIdent(m.Column); err != nil {
			return Statement{}, fmt.Errorf("finding rows in %s: %w", spec.Physical, err)
		}
		if _, ok := spec.column(m.Column); !ok {
			return Statement{}, fmt.Errorf("finding rows in %s: column %s is not configured", spec.Physical, strings.ToUpper(m.Column))
		}
		if m.Values == nil {
			conds = append(conds, b.charEq(m.Column, m.Value))
			continue
		}
		if len(m.Values) == 0 {
			return Statement{}, fmt.Errorf("finding rows in %s: an empty list of %s values", spec.Physical, strings.ToUpper(m.Column))
		}
		// Each value compared as a single one is (padding and index use
		// alike); the database folds the ORs into an IN.
		any := make([]string, len(m.Values))
		for i, v := range m.Values {
			any[i] = b.charEq(m.Column, v)
		}
		conds = append(conds, "("+strings.Join(any, " OR ")+")")
	}
	if after != nil {
		conds = append(conds, b.ident(spec.RecnoColumn)+" > "+b.bind(*after))
	}
	st := b.page(conds, b.ident(spec.RecnoColumn), limit)
	for _, m := range match {
		st.OneOff = st.OneOff || m.Values != nil
	}
	return st, nil
}

// maxStampStatement reads the newest stamp of the configured filial.
func maxStampStatement(d Dialect, spec TableSpec) Statement {
	b := &builder{d: d, spec: spec}
	q := "SELECT MAX(" + b.ident(spec.StampColumn) + ") " + b.from()
	if conds := b.where(); len(conds) > 0 {
		q += " WHERE " + strings.Join(conds, " AND ")
	}
	return Statement{SQL: q, Args: b.args}
}

// catalogStatement lists the table's columns.
func catalogStatement(d Dialect, table string) Statement {
	q, args := d.CatalogQuery(table)
	return Statement{SQL: q, Args: args}
}
