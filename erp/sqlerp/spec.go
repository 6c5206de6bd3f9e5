package sqlerp

import (
	"errors"
	"fmt"
	"strings"
)

// Kind says how a column's raw value becomes an erp.Value.
type Kind string

// Column kinds.
const (
	KindChar   Kind = "char"   // right-trimmed string
	KindDate   Kind = "date"   // YYYYMMDD text → time.Time at UTC midnight; blank → nil
	KindNumber Kind = "number" // float/number → decimal.Decimal rounded to Decimals
	KindInt    Kind = "int"    // integer → int64
	KindMemo   Kind = "memo"   // text or bytes → right-trimmed string
	KindBool   Kind = "bool"   // T/F, 1/0, S/N → bool; blank → nil
)

// ColumnSpec is one column read from a table.
type ColumnSpec struct {
	Name     string
	Kind     Kind
	Decimals int // for KindNumber
	Width    int // character width; 0 = unknown (the catalog fills it in)
}

// TableSpec configures the table one Source reads. Every name must pass
// ValidateIdent; names are case-insensitive and written in upper case.
type TableSpec struct {
	// Physical is the table's name in the database, e.g. SA1010.
	Physical string
	// KeyColumns build Record.Key, in order (e.g. A1_FILIAL, A1_COD, A1_LOJA).
	KeyColumns []string
	// Columns are the columns read into Record.Fields.
	Columns []ColumnSpec
	// FilialColumn, when set, restricts every read to rows whose value is
	// Filial (blank for shared tables), padded to the column width.
	FilialColumn, Filial string
	// StampColumn is the change stamp (S_T_A_M_P_); empty or absent from
	// the catalog means the table is read by full passes only.
	StampColumn string
	// RecnoColumn is the unique, increasing record number (R_E_C_N_O_). Required.
	RecnoColumn string
	// DeletedColumn holds '*' on soft-deleted rows (D_E_L_E_T_); optional.
	DeletedColumn string
}

// Validate checks every identifier and the spec's shape.
func (s TableSpec) Validate() error {
	var errs []error
	check := func(what, name string) {
		if err := ValidateIdent(name); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", what, err))
		}
	}
	check("table", s.Physical)
	check("recno column", s.RecnoColumn)
	if len(s.KeyColumns) == 0 {
		errs = append(errs, errors.New("no key columns"))
	}
	for _, k := range s.KeyColumns {
		check("key column", k)
	}
	seen := map[string]bool{}
	for _, c := range s.Columns {
		check("column", c.Name)
		up := strings.ToUpper(c.Name)
		if seen[up] {
			errs = append(errs, fmt.Errorf("column %s listed twice", up))
		}
		seen[up] = true
		switch c.Kind {
		case KindChar, KindDate, KindNumber, KindInt, KindMemo, KindBool:
		default:
			errs = append(errs, fmt.Errorf("column %s: unknown kind %q", up, c.Kind))
		}
		if c.Decimals < 0 || c.Width < 0 {
			errs = append(errs, fmt.Errorf("column %s: negative width or decimals", up))
		}
	}
	for what, name := range map[string]string{"filial column": s.FilialColumn, "stamp column": s.StampColumn, "deleted column": s.DeletedColumn} {
		if name != "" {
			check(what, name)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("validating table spec %s: %w", s.Physical, err)
	}
	return nil
}

// column returns the spec of a column by name, with a char default for key
// and filial columns not listed in Columns.
func (s TableSpec) column(name string) (ColumnSpec, bool) {
	up := strings.ToUpper(name)
	for _, c := range s.Columns {
		if strings.ToUpper(c.Name) == up {
			return c, true
		}
	}
	for _, k := range append([]string{s.FilialColumn}, s.KeyColumns...) {
		if k != "" && strings.ToUpper(k) == up {
			return ColumnSpec{Name: up, Kind: KindChar}, true
		}
	}
	return ColumnSpec{}, false
}

// fieldColumns is Columns followed by the filial and key columns not among them.
func (s TableSpec) fieldColumns() []ColumnSpec {
	out := make([]ColumnSpec, 0, len(s.Columns)+len(s.KeyColumns))
	seen := map[string]bool{}
	for _, c := range s.Columns {
		c.Name = strings.ToUpper(c.Name)
		seen[c.Name] = true
		out = append(out, c)
	}
	for _, k := range append([]string{s.FilialColumn}, s.KeyColumns...) {
		up := strings.ToUpper(k)
		if k != "" && !seen[up] {
			seen[up] = true
			out = append(out, ColumnSpec{Name: up, Kind: KindChar})
		}
	}
	return out
}

// allColumns lists every column a Source reads, including control columns.
func (s TableSpec) allColumns() []string {
	var out []string
	for _, c := range s.fieldColumns() {
		out = append(out, c.Name)
	}
	for _, c := range []string{s.RecnoColumn, s.DeletedColumn, s.StampColumn} {
		if c != "" {
			out = append(out, strings.ToUpper(c))
		}
	}
	return out
}
