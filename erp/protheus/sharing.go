package protheus

import (
	"context"
	"fmt"
	"strings"

	"github.com/erpbridge/erpbridge/erp/sqlerp"
)

// Sharing is how the data dictionary (SX2) shares a table: per level,
// X2_MODOEMP (empresa), X2_MODOUN (unidade de negócio) and X2_MODO
// (filial), each 'C' (compartilhado) or 'E' (exclusivo).
type Sharing struct {
	Empresa, Unidade, Filial string
}

// Shared reads the modes: shared by every branch (all 'C'; a blank upper
// level counts as 'C', as dictionaries without Gestão de Empresas leave
// it) or exclusive to each (X2_MODO = 'E': the filial column holds the
// branch code). A table shared by the branches of one unit or empresa but
// not of the company (X2_MODO 'C' under an 'E' level) holds a prefix of
// the branch code in its filial column, which the bridge cannot tell
// without the company's layout: an error.
func (s Sharing) Shared() (bool, error) {
	mode := func(v string) string { return strings.ToUpper(strings.TrimSpace(v)) }
	switch f := mode(s.Filial); f {
	case "E":
		return false, nil
	case "C":
		if mode(s.Unidade) == "E" || mode(s.Empresa) == "E" {
			return false, fmt.Errorf("shared by the branches of a unit or empresa only (X2_MODOEMP %q, X2_MODOUN %q, X2_MODO %q): "+
				"Gestão de Empresas partial sharing is not supported", s.Empresa, s.Unidade, s.Filial)
		}
		return true, nil
	default:
		return false, fmt.Errorf("X2_MODO %q is neither C nor E", s.Filial)
	}
}

// DictionaryAlias is the data dictionary's table of tables: SX2 + company
// + 0 (SX2010), which P12 keeps in the database (read by
// erp/protheus/dictionary).
const DictionaryAlias = "SX2"

// Sharer says how a company's tables are shared, from the data dictionary
// (the ERP component implements it over SQL).
type Sharer interface {
	// Sharing reports how alias is shared in company; known is false when
	// the dictionary cannot be read, or does not list alias.
	Sharing(ctx context.Context, company, alias string) (s Sharing, known bool, err error)
	// Filials lists the distinct values of a table's filial column (the
	// branches it has rows of), for streams reading every branch.
	Filials(ctx context.Context, spec sqlerp.TableSpec) ([]string, error)
}
