package streams

import (
	"context"
	"fmt"
	"strings"

	"github.com/erpbridge/erpbridge/bridge/component"
	"github.com/erpbridge/erpbridge/erp/protheus/dictionary"
	"github.com/erpbridge/erpbridge/mapping"
)

// WithChoices gives spec the combo options (SX3 X3_CBOX) of its table's
// columns when one of its expressions calls cbox(), read once from the
// ERP's data dictionary as the stream starts. Without a dictionary (an ERP
// read through REST routes, a release that keeps it in files, no grant on
// SX3) the mapping cannot start: sending codes where descriptions were
// asked for would fill the CRM with "1" and "2".
func WithChoices(ctx context.Context, env *component.Env, t component.Table, spec mapping.Spec) (mapping.Spec, error) {
	if !usesCbox(spec) {
		return spec, nil
	}
	db, d := env.ERP.SQL()
	if db == nil {
		return spec, fmt.Errorf("cbox() reads the data dictionary (SX3), which an ERP read through REST routes does not give: map the codes with a condition instead")
	}
	alias := strings.ToUpper(t.Spec.Physical)
	if len(alias) > 3 {
		alias = alias[:3]
	}
	// The first company's SX3: the stream's one compiled mapping serves
	// every company it reads.
	dict, err := dictionary.Read(ctx, db, d, env.ERP.Companies()[0], alias)
	if err != nil {
		return spec, fmt.Errorf("reading %s's combo options for cbox(): %w", alias, err)
	}
	spec.Choices = dict.Choices(alias)
	return spec, nil
}

func usesCbox(spec mapping.Spec) bool { return len(cboxColumns(spec)) > 0 }
