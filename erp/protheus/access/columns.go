package access

import (
	"fmt"
	"slices"
	"strings"

	"github.com/erpbridge/erpbridge/bridge/component"

	"github.com/erpbridge/erpbridge/erp/protheus"
	"github.com/erpbridge/erpbridge/erp/sqlerp"
	"github.com/erpbridge/erpbridge/mapping"
)

// customDecimals is how many decimals a mapped numeric column outside the
// Protheus dictionary keeps (its SX3 decimals are not in the database).
const customDecimals = 4

// withMappedColumns adds to spec every column the mapping reads that the
// preset does not select (custom _X fields, or standard ones left out),
// typed from the Protheus dictionary when it knows the field, else from the
// database catalog. A column the table does not have is an error naming it.
func withMappedColumns(cat []sqlerp.CatalogColumn, spec sqlerp.TableSpec, alias string, cols []string) (sqlerp.TableSpec, error) {
	have := map[string]bool{}
	for _, c := range spec.Columns {
		have[strings.ToUpper(c.Name)] = true
	}
	inTable := map[string]sqlerp.CatalogColumn{}
	for _, c := range cat {
		inTable[c.Name] = c
	}
	var missing []string
	for _, col := range cols {
		up := strings.ToUpper(col)
		if have[up] {
			continue
		}
		if f, ok := protheus.Lookup(alias, up); ok {
			if _, ok := inTable[up]; ok || len(cat) == 0 {
				spec.Columns = append(spec.Columns, f.Column())
				have[up] = true
				continue
			}
		}
		c, ok := inTable[up]
		if !ok {
			missing = append(missing, up)
			continue
		}
		spec.Columns = append(spec.Columns, columnFromCatalog(c))
		have[up] = true
	}
	if len(missing) > 0 {
		return spec, fmt.Errorf("the mapping reads %s, which table %s does not have", strings.Join(missing, ", "), spec.Physical)
	}
	return spec, nil
}

func columnFromCatalog(c sqlerp.CatalogColumn) sqlerp.ColumnSpec {
	t := c.DataType
	switch {
	case strings.Contains(t, "INT"):
		return sqlerp.ColumnSpec{Name: c.Name, Kind: sqlerp.KindInt}
	case strings.Contains(t, "FLOAT"), strings.Contains(t, "DOUBLE"), strings.Contains(t, "REAL"),
		strings.Contains(t, "NUMERIC"), strings.Contains(t, "DECIMAL"), strings.Contains(t, "NUMBER"), strings.Contains(t, "MONEY"):
		return sqlerp.ColumnSpec{Name: c.Name, Kind: sqlerp.KindNumber, Decimals: customDecimals}
	case strings.Contains(t, "BLOB"), strings.Contains(t, "BINARY"), strings.Contains(t, "IMAGE"), strings.Contains(t, "BYTEA"), t == "TEXT", strings.Contains(t, "CLOB"):
		return sqlerp.ColumnSpec{Name: c.Name, Kind: sqlerp.KindMemo}
	}
	return sqlerp.ColumnSpec{Name: c.Name, Kind: sqlerp.KindChar, Width: c.Width}
}

// MappingColumns checks that the table has every column the stream's
// mapping reads (for `erpbridge check`). Custom field labels are not
// resolved here: the CRM side checks them.
func MappingColumns(cat []sqlerp.CatalogColumn, t component.Table, m mapping.Spec) error {
	spec := t.Spec
	compiled, err := compileForColumns(m)
	if err != nil {
		return err
	}
	cols := slices.DeleteFunc(compiled.Columns(), func(c string) bool { return slices.Contains(t.Provided, c) })
	_, err = withMappedColumns(cat, spec, spec.Physical[:3], cols)
	return err
}

// compileForColumns compiles m for the columns it reads, with its custom
// field labels resolved to stand-ins (the CRM side checks them).
func compileForColumns(m mapping.Spec) (*mapping.Mapping, error) {
	return mapping.Compile(m, mapping.Schema{Custom: mapping.LabelsAsText(m)})
}

// onlyColumns keeps of spec's columns those in keep: a full pass over a
// million rows then reads and converts the dozen columns the mapping uses,
// not the table's every standard field.
func onlyColumns(spec sqlerp.TableSpec, keep []string) sqlerp.TableSpec {
	want := map[string]bool{}
	for _, c := range keep {
		want[strings.ToUpper(c)] = true
	}
	cols := make([]sqlerp.ColumnSpec, 0, len(keep))
	for _, c := range spec.Columns {
		if want[strings.ToUpper(c.Name)] {
			cols = append(cols, c)
		}
	}
	spec.Columns = cols
	return spec
}
