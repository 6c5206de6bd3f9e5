package streams

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/erpbridge/erpbridge/bridge/component"
	"github.com/erpbridge/erpbridge/erp/protheus"
	"github.com/erpbridge/erpbridge/erp/protheus/dictionary"
	"github.com/erpbridge/erpbridge/erp/sqlerp"
	"github.com/erpbridge/erpbridge/mapping"
)

// cboxColumn finds the columns a mapping reads through cbox().
var cboxColumn = regexp.MustCompile(`\bcbox\(\s*([A-Za-z_][A-Za-z0-9_]*)\s*\)`)

// maxListed bounds the values a finding lists.
const maxListed = 8

// CheckDictionary compares a stream's settings and mapping with the ERP's
// data dictionary, for `erpbridge check` (nothing when the ERP is read
// through REST routes): a table whose sharing (SX2) contradicts the
// configured branch, a mapped column that is virtual (X3_CONTEXT = V) or
// not in SX3's width, and the values of a cbox() column that its combo
// does not list. Without a dictionary in the database it says so once.
func CheckDictionary(ctx context.Context, env *component.Env, stream string, spec mapping.Spec, tr component.TableReader) []component.Finding {
	db, _ := env.ERP.SQL()
	if db == nil {
		return nil
	}
	var out []component.Finding
	for _, company := range env.ERP.Companies() {
		fs, none := checkDictionary(ctx, env, company, stream, spec, tr)
		if none {
			return fs // said once: the companies' dictionaries are kept alike
		}
		out = append(out, fs...)
	}
	return out
}

// BranchNamer is a stream's settings naming the branches it reads: Base
// implements it.
type BranchNamer interface {
	// Branches reports whether the settings name a branch (filial, or
	// filials other than "*") or every branch (filials = "*").
	Branches() (named, every bool)
}

// Branches implements BranchNamer.
func (b *Base) Branches() (named, every bool) {
	every = b.Filials.All()
	return strings.TrimSpace(b.Filial) != "" || (len(b.Filials) > 0 && !every), every
}

// checkDictionary is CheckDictionary for one company; none reports that
// it has no dictionary to compare with.
func checkDictionary(ctx context.Context, env *component.Env, company, stream string, spec mapping.Spec, tr component.TableReader) (out []component.Finding, none bool) {
	db, d := env.ERP.SQL()
	tables, err := tr.Tables(company, env.Config)
	if err != nil || len(tables) == 0 {
		return nil, false
	}
	var aliases []string
	byAlias := map[string]component.Table{}
	for _, t := range tables {
		a := alias(t.Spec.Physical)
		aliases = append(aliases, a)
		byAlias[a] = t
	}
	dict, err := dictionary.Read(ctx, db, d, company, aliases...)
	if errors.Is(err, dictionary.ErrNoDictionary) {
		return []component.Finding{{Text: fmt.Sprintf("%s: no data dictionary (SX2/SX3) readable in the database: sharing, sizes and combos not checked", stream)}}, true
	}
	if err != nil {
		return []component.Finding{{Warn: true, Text: fmt.Sprintf("%s: reading the data dictionary of company %s: %v", stream, company, err)}}, false
	}
	prefix := stream + ": "
	if len(env.ERP.Companies()) > 1 {
		prefix = fmt.Sprintf("%s (company %s): ", stream, company)
	}
	problem := func(format string, args ...any) {
		out = append(out, component.Finding{Problem: true, Text: prefix + fmt.Sprintf(format, args...)})
	}
	warn := func(format string, args ...any) {
		out = append(out, component.Finding{Warn: true, Text: prefix + fmt.Sprintf(format, args...)})
	}
	// The main table's sharing decides the parts the stream reads (Parts);
	// related tables follow xFilial. What contradicts it: an exclusive
	// table the stream names no branch of, a shared one it names one of.
	if a := aliases[0]; byAlias[a].Spec.FilialColumn != "" && dict.Tables[a].Alias != "" {
		t, sx2 := byAlias[a], dict.Tables[a]
		named, every := strings.TrimSpace(t.Spec.Filial) != "", false
		if bn, ok := tr.(BranchNamer); ok {
			named, every = bn.Branches()
		}
		switch {
		case sx2.Branch == dictionary.Exclusive && !named && !every:
			problem("%s is exclusive to a branch (SX2 X2_MODO = E) but is read with a blank %s: set the stream's filial or filials (no row has a blank branch)", a, t.Spec.FilialColumn)
		case sx2.Branch == dictionary.Shared && sx2.Unit != dictionary.Exclusive && sx2.Company != dictionary.Exclusive && named:
			problem("%s is shared (SX2 X2_MODO = C): its rows have a blank %s, but it is read for branch %q: set the stream's filial to \"\"", a, t.Spec.FilialColumn, t.Spec.Filial)
		}
	}
	m, err := mapping.Compile(spec, mapping.Schema{Entity: spec.Entity, Custom: mapping.LabelsAsText(spec)})
	if err != nil {
		return out, false
	}
	widths := map[string]map[string]int{} // alias → column → width, one catalog read per table
	widthOf := func(a, col string) int {
		if _, read := widths[a]; !read {
			widths[a] = map[string]int{}
			if cols, err := sqlerp.ReadCatalog(ctx, db, d, byAlias[a].Spec.Physical); err == nil {
				for _, c := range cols {
					widths[a][c.Name] = c.Width
				}
			}
		}
		return widths[a][col]
	}
	for _, col := range m.Columns() {
		f, a, ok := findField(dict, aliases, col)
		if !ok {
			continue
		}
		if f.Virtual {
			problem("%s is virtual (SX3 X3_CONTEXT = V): ADVPL computes it, the database has no such column; map the columns it is computed from", col)
			continue
		}
		if w := widthOf(a, col); w > 0 && f.Type == protheus.Char && w != f.Size {
			warn("%s holds %d characters in the database, SX3 says %d: the dictionary changed and the table was not rebuilt (run the update in the Configurador)", col, w, f.Size)
		}
	}
	for _, col := range cboxColumns(spec) {
		f, a, ok := findField(dict, aliases, col)
		if !ok || len(f.Options) == 0 {
			continue // the run refuses it at start, naming it
		}
		if bad := outsideCombo(ctx, env, byAlias[a].Spec.Physical, col, f.Choices()); bad != "" {
			warn("%s holds values its combo (%s) does not list: %s; those records are sent without the field", col, f.Combo, bad)
		}
	}
	return out, false
}

func alias(physical string) string {
	a := strings.ToUpper(physical)
	if len(a) > 3 {
		a = a[:3]
	}
	return a
}

func findField(dict *dictionary.Dictionary, aliases []string, col string) (dictionary.Field, string, bool) {
	for _, a := range aliases {
		if f, ok := dict.Field(a, col); ok {
			return f, a, true
		}
	}
	return dictionary.Field{}, "", false
}

// cboxColumns are the columns spec reads through cbox(), sorted, once each.
func cboxColumns(spec mapping.Spec) []string {
	var out []string
	srcs := []string{spec.UniqueName.When}
	for _, exprs := range []map[string]string{spec.Fields, spec.CustomFields} {
		for _, src := range exprs {
			srcs = append(srcs, src)
		}
	}
	for _, src := range srcs {
		for _, m := range cboxColumn.FindAllStringSubmatch(src, -1) {
			out = append(out, strings.ToUpper(m[1]))
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// outsideCombo lists (with their row counts) the live values of a column
// its combo lacks; "" when there are none or they cannot be read.
func outsideCombo(ctx context.Context, env *component.Env, physical, col string, choices map[string]string) string {
	db, d := env.ERP.SQL()
	table, err := d.QuoteIdent(physical)
	if err != nil {
		return ""
	}
	column, err := d.QuoteIdent(col)
	if err != nil {
		return ""
	}
	rows, err := db.QueryContext(ctx, "SELECT "+column+", COUNT(*) FROM "+table+" WHERE D_E_L_E_T_ <> '*' GROUP BY "+column+" ORDER BY "+column)
	if err != nil {
		return ""
	}
	defer rows.Close()
	var bad []string
	for rows.Next() {
		var v any
		var n int64
		if err := rows.Scan(&v, &n); err != nil {
			return ""
		}
		s := ""
		switch x := v.(type) {
		case string:
			s = x
		case []byte:
			s = string(x)
		}
		s = strings.TrimSpace(s)
		if _, ok := choices[s]; !ok && s != "" {
			bad = append(bad, fmt.Sprintf("%q (%d rows)", s, n))
		}
	}
	if len(bad) > maxListed {
		bad = append(bad[:maxListed], fmt.Sprintf("and %d more", len(bad)-maxListed))
	}
	return strings.Join(bad, ", ")
}
