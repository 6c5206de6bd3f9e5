// Package dictionary reads the Protheus data dictionary a database keeps:
// SX2 (tables and their sharing), SX3 (fields: type, size, decimals,
// titles, combo options, real or virtual, standard or user) and SIX
// (indexes), each suffixed by the company (SX3010). `erpbridge init` reads
// it to propose a configuration, streams read a field's combo options from
// it (cbox() in mappings) and `erpbridge check` compares it with the
// mappings. Older releases keep the dictionary in files (ISAM/CTREE), not
// in the database: Read then says so with ErrNoDictionary and the callers
// fall back to the database catalog.
package dictionary

import (
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/erpbridge/erpbridge/erp/protheus"
)

// ErrNoDictionary is returned when the database holds no readable
// dictionary (the tables are missing, or the user has no grant on them).
var ErrNoDictionary = errors.New("no data dictionary (SX2/SX3/SIX) in the database")

// ErrDynamicCombo is a combo computed by an ADVPL function (X3_CBOX
// starting with '#'): its options exist only inside Protheus.
var ErrDynamicCombo = errors.New("options computed by an ADVPL function")

// Sharing is a table's sharing mode at one level: 'C' compartilhado
// (shared: the filial column holds blanks), 'E' exclusivo (the filial code).
type Sharing byte

// Sharing modes.
const (
	Shared    Sharing = 'C'
	Exclusive Sharing = 'E'
)

func (s Sharing) String() string {
	switch s {
	case Shared:
		return "shared"
	case Exclusive:
		return "exclusive"
	}
	return "unknown"
}

// Table is one SX2 row.
type Table struct {
	Alias    string // X2_CHAVE: SA1
	Physical string // X2_ARQUIVO: SA1010
	Name     string // X2_NOME: Clientes
	// Branch, Unit and Company are X2_MODO, X2_MODOUN and X2_MODOEMP.
	Branch, Unit, Company Sharing
	Unique                string // X2_UNICO: the unique key's fields, joined by '+'
}

// Option is one option of a combo field: its code as stored and its
// description as users read it ("1" = "Revenda").
type Option struct {
	Code, Label string
}

// Field is one SX3 row.
type Field struct {
	Table       string        // X3_ARQUIVO: SA1
	Order       string        // X3_ORDEM
	Name        string        // X3_CAMPO: A1_XSEGMEN
	Type        protheus.Type // X3_TIPO: C, N, D, L, M
	Size        int           // X3_TAMANHO
	Decimals    int           // X3_DECIMAL
	Title       string        // X3_TITULO: the 12-character caption of screens
	Description string        // X3_DESCRIC: the longer description
	// Combo is X3_CBOX as stored; Options its parsed options (nil when the
	// field is no combo) and ComboErr why it could not be parsed.
	Combo    string
	Options  []Option
	ComboErr error
	Virtual  bool // X3_CONTEXT = 'V': computed by ADVPL, no column in the database
	User     bool // X3_PROPRI = 'U': added by the customer
	Required bool // X3_OBRIGAT set
}

// Label is the field's readable name: its description, else its title,
// else its name.
func (f Field) Label() string {
	for _, s := range []string{f.Description, f.Title, f.Name} {
		if s = strings.TrimSpace(s); s != "" {
			return s
		}
	}
	return f.Name
}

// Choices is the field's code → description table (nil when it is no
// combo).
func (f Field) Choices() map[string]string {
	if len(f.Options) == 0 {
		return nil
	}
	m := make(map[string]string, len(f.Options))
	for _, o := range f.Options {
		m[o.Code] = o.Label
	}
	return m
}

// Index is one SIX row.
type Index struct {
	Table       string // INDICE: SA1
	Order       string // ORDEM: 1, 2 … A, B
	Key         string // CHAVE: A1_FILIAL+A1_COD+A1_LOJA
	Description string // DESCRICAO
}

// Fields is the index's key split into its fields (expressions such as
// DTOS(C5_EMISSAO) give the field they read).
func (i Index) Fields() []string {
	var out []string
	for _, part := range strings.Split(i.Key, "+") {
		part = strings.TrimSpace(part)
		if open := strings.LastIndexByte(part, '('); open >= 0 {
			part = strings.TrimRight(part[open+1:], ") ")
			if comma := strings.IndexByte(part, ','); comma >= 0 {
				part = part[:comma]
			}
		}
		if part != "" {
			out = append(out, strings.ToUpper(part))
		}
	}
	return out
}

// Dictionary is what the database's dictionary says of some tables.
type Dictionary struct {
	Company string
	Tables  map[string]Table   // by alias
	Fields  map[string][]Field // by alias, in X3_ORDEM order
	Indexes map[string][]Index // by alias, in ORDEM order
}

// Field returns one field of a table.
func (d *Dictionary) Field(alias, name string) (Field, bool) {
	if d == nil {
		return Field{}, false
	}
	name = strings.ToUpper(strings.TrimSpace(name))
	for _, f := range d.Fields[strings.ToUpper(alias)] {
		if f.Name == name {
			return f, true
		}
	}
	return Field{}, false
}

// Choices is every combo of a table: column → code → description.
func (d *Dictionary) Choices(alias string) map[string]map[string]string {
	out := map[string]map[string]string{}
	if d == nil {
		return out
	}
	for _, f := range d.Fields[strings.ToUpper(alias)] {
		if c := f.Choices(); c != nil {
			out[f.Name] = c
		}
	}
	return out
}

// UserFields are a table's fields the customer added, real ones only
// (virtual fields have no column to read).
func (d *Dictionary) UserFields(alias string) []Field {
	var out []Field
	if d == nil {
		return out
	}
	for _, f := range d.Fields[strings.ToUpper(alias)] {
		if f.User && !f.Virtual {
			out = append(out, f)
		}
	}
	return out
}

// Aliases are the tables the dictionary describes, sorted.
func (d *Dictionary) Aliases() []string {
	var out []string
	for a := range d.Tables {
		out = append(out, a)
	}
	sort.Strings(out)
	return out
}

// ParseCombo reads an X3_CBOX value: options "code=description" separated
// by ';' ("1=Sim;2=Nao"). Blanks around codes and descriptions are
// dropped and empty items skipped; an empty value is no combo (nil, nil).
// A value starting with '#' is ErrDynamicCombo; an item without '=', an
// empty code or a code given twice is an error naming the item.
func ParseCombo(s string) ([]Option, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, nil
	}
	if strings.HasPrefix(s, "#") {
		return nil, fmt.Errorf("combo %q: %w", s, ErrDynamicCombo)
	}
	var out []Option
	seen := map[string]bool{}
	for _, item := range strings.Split(s, ";") {
		if strings.TrimSpace(item) == "" {
			continue
		}
		code, label, ok := strings.Cut(item, "=")
		code, label = strings.TrimSpace(code), strings.TrimSpace(label)
		switch {
		case !ok:
			return nil, fmt.Errorf("combo item %q has no '=' between code and description", item)
		case code == "":
			return nil, fmt.Errorf("combo item %q has no code", item)
		case seen[code]:
			return nil, fmt.Errorf("combo code %q is given twice", code)
		}
		seen[code] = true
		if label == "" {
			label = code
		}
		out = append(out, Option{Code: code, Label: label})
	}
	return out, nil
}
