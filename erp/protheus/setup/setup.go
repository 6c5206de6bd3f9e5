// Package setup proposes a first configuration for a Protheus install, as
// `erpbridge init` does: which streams the tables present allow, the
// branch each one reads (from the tables' sharing in SX2), what the
// default mappings need that the tables lack, and the customer's user
// fields (SX3 X3_PROPRI 'U') offered as CRM custom fields — labels from
// X3_DESCRIC, combos as single-choice fields mapped through cbox(). It
// reads nothing itself: the caller gives what the database said.
package setup

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/erpbridge/erpbridge/erp/protheus"
	"github.com/erpbridge/erpbridge/erp/protheus/dictionary"
	"github.com/erpbridge/erpbridge/erp/sqlerp"
	"github.com/erpbridge/erpbridge/mapping"
)

// Table is what the database's catalog says of one table.
type Table struct {
	Alias   string
	Columns []sqlerp.CatalogColumn // empty: the table is missing (or not visible)
}

// Has reports whether the table has a column.
func (t Table) Has(col string) bool {
	return slices.ContainsFunc(t.Columns, func(c sqlerp.CatalogColumn) bool { return c.Name == strings.ToUpper(col) })
}

// Width is a character column's width in the database (0 when unknown).
func (t Table) Width(col string) int {
	for _, c := range t.Columns {
		if c.Name == strings.ToUpper(col) {
			return c.Width
		}
	}
	return 0
}

// Input is what the proposal is made from.
type Input struct {
	// Tables are the catalog's answer for every alias of Streams.
	Tables map[string]Table
	// Dict is the data dictionary; nil when it could not be read (DictErr).
	Dict    *dictionary.Dictionary
	DictErr error
	// Filial is the branch exclusive tables are read for.
	Filial string
	// CNPJLabel is the organization custom field the CNPJ/CPF goes to
	// ("" for none).
	CNPJLabel string
}

// Stream is one stream the tables allow, with what it needs.
type Stream struct {
	Name    string
	Alias   string // its main table
	Entity  string // CRM entity
	Enabled bool
	Filial  string // "" for shared tables
	Stamped bool   // the main table has S_T_A_M_P_: polled incrementally
	// Missing are the columns its default mapping reads that the table lacks.
	Missing []string
	Why     string
}

// Field is a user field offered as a CRM custom field.
type Field struct {
	Stream, Entity string
	Column         string
	Label          string // proposed CRM label (from X3_DESCRIC)
	Type           string // CRM custom field type: text or option
	Options        []string
	Expr           string // the mapping expression
	Note           string // what the admin should know
	Combo          map[string]string
}

// Proposal is the configuration proposed.
type Proposal struct {
	Streams []Stream
	Fields  []Field
	// Notes say what could not be learnt, and what was chosen and why.
	Notes []string
}

// StreamTables lists, per stream, the tables it reads (main table first).
var StreamTables = []struct {
	Name, Entity string
	Aliases      []string
	Spec         func(cnpj string) mapping.Spec
}{
	{"customers", mapping.EntityOrganization, []string{"SA1"}, protheus.CustomerSpec},
	{"contacts", mapping.EntityContact, []string{"SU5", "AC8"}, func(string) mapping.Spec { return protheus.ContactSpec() }},
	{"products", mapping.EntityProduct, []string{"SB1"}, func(string) mapping.Spec { return protheus.ProductSpec() }},
}

// Aliases are every table a proposal looks at.
func Aliases() []string {
	var out []string
	for _, s := range StreamTables {
		out = append(out, s.Aliases...)
	}
	return out
}

// Propose makes the proposal. pick decides which user fields become CRM
// custom fields (nil: all) and may change the proposed label.
func Propose(in Input, pick func(f Field) (Field, bool)) Proposal {
	var p Proposal
	if in.Dict == nil {
		why := "the database holds no readable dictionary"
		if in.DictErr != nil {
			why = in.DictErr.Error()
		}
		p.Notes = append(p.Notes, "data dictionary: "+why+"; tables, branches and columns come from the database catalog, and no user field is offered (older releases keep SX2/SX3 in files; grant SELECT on SX2, SX3 and SIX (alias + company + 0) to learn more)")
	}
	for _, st := range StreamTables {
		s := Stream{Name: st.Name, Alias: st.Aliases[0], Entity: st.Entity}
		var absent []string
		for _, a := range st.Aliases {
			if len(in.Tables[a].Columns) == 0 {
				absent = append(absent, a)
			}
		}
		main := in.Tables[s.Alias]
		s.Stamped = main.Has(protheus.StampColumn)
		if m, err := mapping.Compile(st.Spec(in.CNPJLabel), mapping.Schema{Entity: st.Entity, Custom: mapping.LabelsAsText(st.Spec(in.CNPJLabel))}); err == nil {
			for _, c := range m.Columns() {
				if len(main.Columns) > 0 && !main.Has(c) {
					s.Missing = append(s.Missing, c)
				}
			}
		}
		s.Filial, s.Why = filialOf(in, st.Aliases)
		switch {
		case len(absent) > 0:
			s.Why = "off: " + strings.Join(absent, ", ") + " not found (or not visible to this user)"
		case len(s.Missing) > 0:
			s.Why = "off: " + s.Alias + " lacks " + strings.Join(s.Missing, ", ") + ", which the default mapping reads (map other columns, then enable)"
		default:
			s.Enabled = true
			if !s.Stamped {
				s.Why += "; " + s.Alias + " has no S_T_A_M_P_: read by full passes only, every row every time (dbaccess.ini UseRowStamp=1 adds it to tables created afterwards; docs/protheus.md)"
			}
			if s.Stamped && !main.Has(protheus.InsDtColumn) {
				s.Why += "; " + s.Alias + " has no I_N_S_D_T_ (insert time): not needed, the poll reads S_T_A_M_P_ (UseRowInsDt=1 adds it)"
			}
		}
		p.Streams = append(p.Streams, s)
		if s.Enabled && in.Dict != nil {
			p.Fields = append(p.Fields, userFields(in, s, pick, &p)...)
		}
	}
	return p
}

// filialOf is the branch a stream reads: blank when its tables are
// shared, the configured branch when one is exclusive.
func filialOf(in Input, aliases []string) (string, string) {
	if in.Dict == nil {
		return "", "branch: blank (shared tables) assumed without a dictionary: set filial if the table is exclusive"
	}
	var excl []string
	for _, a := range aliases {
		if t, ok := in.Dict.Tables[a]; ok && t.Branch == dictionary.Exclusive {
			excl = append(excl, a)
		}
	}
	if len(excl) == 0 {
		return "", "shared tables (SX2 X2_MODO = C): branch blank"
	}
	return in.Filial, fmt.Sprintf("%s exclusive (SX2 X2_MODO = E): branch %q", strings.Join(excl, ", "), in.Filial)
}

// userFields offers a stream's user fields as CRM custom fields.
func userFields(in Input, s Stream, pick func(Field) (Field, bool), p *Proposal) []Field {
	var out []Field
	main := in.Tables[s.Alias]
	for _, f := range in.Dict.Fields[s.Alias] {
		if !f.User {
			continue
		}
		if f.Virtual {
			p.Notes = append(p.Notes, fmt.Sprintf("%s (%s) is virtual (X3_CONTEXT = V): computed by ADVPL, never read from SQL", f.Name, f.Label()))
			continue
		}
		if !main.Has(f.Name) {
			p.Notes = append(p.Notes, fmt.Sprintf("%s is in SX3 but not in %s: the table was not rebuilt after the field was added", f.Name, main.Alias))
			continue
		}
		if w := main.Width(f.Name); w > 0 && f.Type == protheus.Char && w != f.Size {
			p.Notes = append(p.Notes, fmt.Sprintf("%s: SX3 says %d characters, the column holds %d (the dictionary changed and the table was not rebuilt: run the update in the Configurador)", f.Name, f.Size, w))
		}
		if f.Type == protheus.Memo {
			p.Notes = append(p.Notes, fmt.Sprintf("%s (%s) is a memo: not offered", f.Name, f.Label()))
			continue
		}
		cf := Field{Stream: s.Name, Entity: s.Entity, Column: f.Name, Label: f.Label(), Type: "text"}
		switch {
		case len(f.Options) > 0:
			cf.Type, cf.Expr, cf.Combo = "option", "cbox("+f.Name+")", f.Choices()
			for _, o := range f.Options {
				cf.Options = append(cf.Options, o.Label)
			}
		case f.ComboErr != nil:
			cf.Expr = "trim(" + f.Name + ")"
			cf.Note = fmt.Sprintf("combo not readable (%v): sent as its code", f.ComboErr)
		case f.Type == protheus.Numeric:
			cf.Expr = f.Name
		case f.Type == protheus.Date:
			cf.Expr = "date(" + f.Name + ", '02/01/2006')"
		default:
			cf.Expr = "trim(" + f.Name + ")"
		}
		if pick != nil {
			var ok bool
			if cf, ok = pick(cf); !ok {
				continue
			}
		}
		out = append(out, cf)
	}
	return out
}

// CheckOptions compares the options a CRM field accepts with a combo's
// descriptions: the ones the field lacks, sorted.
func CheckOptions(f Field, crmOptions []string) []string {
	var missing []string
	for _, o := range f.Options {
		if !slices.ContainsFunc(crmOptions, func(c string) bool { return strings.EqualFold(strings.TrimSpace(c), o) }) {
			missing = append(missing, o)
		}
	}
	sort.Strings(missing)
	return missing
}
