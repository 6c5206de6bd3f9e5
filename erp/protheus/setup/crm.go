package setup

import (
	"context"
	"errors"
	"fmt"

	"github.com/erpbridge/erpbridge/bridge/component"
)

// Matched is what the target system has of one proposed field.
type Matched struct {
	Field
	Exists  bool
	CRMName string // the CRM's label when it exists (case may differ)
	// MissingOptions are combo descriptions the CRM field does not accept:
	// records holding them would have the field left out.
	MissingOptions []string
	Created        bool
}

// Match finds each proposed field in the target system's schema by label,
// the way mappings resolve labels (mapping.CustomFieldCatalog.Lookup), and
// lists the combo options an existing field lacks.
func Match(ctx context.Context, target component.TargetSystem, fields []Field) ([]Matched, error) {
	var out []Matched
	for _, f := range fields {
		schema, err := target.Schema(ctx, f.Entity)
		if err != nil {
			return nil, fmt.Errorf("reading the CRM's %s custom fields: %w", f.Entity, err)
		}
		m := Matched{Field: f}
		if c, err := schema.Custom.Lookup(f.Label); err == nil {
			m.Exists = true
			m.CRMName = f.Label
			for label, cf := range schema.Custom {
				if cf.ID == c.ID {
					m.CRMName = label
				}
			}
			if f.Type == "option" {
				m.MissingOptions = CheckOptions(f, c.Options)
			}
		}
		out = append(out, m)
	}
	return out, nil
}

// ErrCannotCreate says the target system creates no custom field through
// its API: the admin creates them by hand.
var ErrCannotCreate = errors.New("this CRM's API creates no custom field")

// CreateMissing creates the fields the target system lacks, in order, and
// marks them; a field already created is not created again.
func CreateMissing(ctx context.Context, target component.TargetSystem, ms []Matched) error {
	fc, ok := target.(component.FieldCreator)
	if !ok {
		return ErrCannotCreate
	}
	for i := range ms {
		if ms[i].Exists || ms[i].Created { // never twice: a second create is a second field
			continue
		}
		if err := fc.CreateCustomField(ctx, ms[i].Entity, component.NewCustomField{Label: ms[i].Label, Type: ms[i].Type, Options: ms[i].Options}); err != nil {
			return err
		}
		ms[i].Created = true
	}
	return nil
}
