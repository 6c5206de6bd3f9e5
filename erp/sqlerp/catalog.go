package sqlerp

import (
	"context"
	"database/sql"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// CatalogColumn is one column as the database's catalog describes it.
type CatalogColumn struct {
	Name     string // upper case
	DataType string // upper case, as the catalog spells it
	Width    int    // character length; 0 when not a character column or unknown
}

// ReadCatalog lists a table's columns; an empty result means the table does
// not exist (or is not visible to the connected user).
func ReadCatalog(ctx context.Context, db *sql.DB, d Dialect, table string) ([]CatalogColumn, error) {
	if err := ValidateIdent(table); err != nil {
		return nil, fmt.Errorf("reading catalog: %w", err)
	}
	st := catalogStatement(d, table)
	rows, err := db.QueryContext(ctx, st.SQL, st.Args...)
	if err != nil {
		return nil, fmt.Errorf("reading catalog of %s: %w", table, err)
	}
	defer rows.Close()
	var out []CatalogColumn
	seen := map[string]bool{}
	for rows.Next() {
		var name, typ sql.NullString
		var width sql.NullInt64
		if err := rows.Scan(&name, &typ, &width); err != nil {
			return nil, fmt.Errorf("reading catalog of %s: %w", table, err)
		}
		c := CatalogColumn{Name: strings.ToUpper(name.String), DataType: strings.ToUpper(typ.String)}
		if width.Valid && width.Int64 > 0 {
			c.Width = int(width.Int64)
		} else {
			c.Width = declaredWidth(c.DataType)
		}
		if seen[c.Name] { // the same table in another schema
			continue
		}
		seen[c.Name] = true
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("reading catalog of %s: %w", table, err)
	}
	return out, nil
}

var charTypeWidth = regexp.MustCompile(`CHAR[A-Z0-9]*\s*\(\s*(\d+)`)

// declaredWidth parses the width of a declared character type (VARCHAR(6)).
func declaredWidth(typ string) int {
	m := charTypeWidth.FindStringSubmatch(typ)
	if m == nil {
		return 0
	}
	n, _ := strconv.Atoi(m[1])
	return n
}

// CheckReport is what `erpbridge check` shows for one configured table.
type CheckReport struct {
	Table    string
	Exists   bool
	Missing  []string       // configured columns absent from the table
	HasStamp bool           // the stamp column exists: incremental reads work
	Widths   map[string]int // character widths of the configured columns
}

// OK reports whether the table can be read as configured.
func (r CheckReport) OK() bool { return r.Exists && len(r.Missing) == 0 }

// Check validates spec and verifies its table and columns against the catalog.
func Check(ctx context.Context, db *sql.DB, d Dialect, spec TableSpec) (CheckReport, error) {
	if err := spec.Validate(); err != nil {
		return CheckReport{}, err
	}
	cols, err := ReadCatalog(ctx, db, d, spec.Physical)
	if err != nil {
		return CheckReport{}, err
	}
	rep := CheckReport{Table: strings.ToUpper(spec.Physical), Exists: len(cols) > 0, Widths: map[string]int{}}
	byName := map[string]CatalogColumn{}
	for _, c := range cols {
		byName[c.Name] = c
	}
	if !rep.Exists {
		return rep, nil
	}
	stamp := strings.ToUpper(spec.StampColumn)
	for _, name := range spec.allColumns() {
		c, ok := byName[name]
		switch {
		case ok:
			rep.Widths[name] = c.Width
		case name != stamp:
			rep.Missing = append(rep.Missing, name)
		}
	}
	if stamp != "" {
		_, rep.HasStamp = byName[stamp]
	}
	return rep, nil
}

// Distinct reads the distinct values of one character column of a table,
// right-trimmed and in order (e.g. the branches a table has rows of).
func Distinct(ctx context.Context, db *sql.DB, d Dialect, table, column string) ([]string, error) {
	qt, err := d.QuoteIdent(table)
	if err != nil {
		return nil, fmt.Errorf("reading the %s values of %s: %w", column, table, err)
	}
	qc, err := d.QuoteIdent(column)
	if err != nil {
		return nil, fmt.Errorf("reading the %s values of %s: %w", column, table, err)
	}
	rows, err := db.QueryContext(ctx, "SELECT DISTINCT "+qc+" FROM "+qt)
	if err != nil {
		return nil, fmt.Errorf("reading the %s values of %s: %w", column, table, err)
	}
	defer rows.Close()
	seen := map[string]bool{}
	var out []string
	for rows.Next() {
		var raw any
		if err := rows.Scan(&raw); err != nil {
			return nil, fmt.Errorf("reading the %s values of %s: %w", column, table, err)
		}
		v, err := text(orEmpty(raw))
		if err != nil {
			return nil, fmt.Errorf("reading the %s values of %s: %w", column, table, err)
		}
		if v = trimBlanks(v); !seen[v] {
			seen[v] = true
			out = append(out, v)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("reading the %s values of %s: %w", column, table, err)
	}
	slices.Sort(out)
	return out, nil
}
