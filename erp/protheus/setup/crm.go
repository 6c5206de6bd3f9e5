package setup

import (
	"context"
	"fmt"
	"strings"
)

// CRMField is a custom field the CRM has.
type CRMField struct {
	Label   string
	Type    string
	Options []string
}

// CRMFields is the CRM's side of init: list an entity's custom fields and
// create one. (rdstation/crm's client gives them; cmd/erpbridge adapts.)
type CRMFields interface {
	List(ctx context.Context, entity string) ([]CRMField, error)
	Create(ctx context.Context, entity string, f Field) error
}

// Matched is what the CRM has of one proposed field.
type Matched struct {
	Field
	Exists  bool
	CRMName string // the CRM's label when it exists (case may differ)
	// MissingOptions are combo descriptions the CRM field does not accept:
	// records holding them would have the field left out.
	MissingOptions []string
	Created        bool
}

// Match finds each proposed field in the CRM by label, the way mappings
// resolve labels (exact, else the one case-insensitive match), and lists
// the combo options an existing field lacks.
func Match(ctx context.Context, crm CRMFields, fields []Field) ([]Matched, error) {
	byEntity := map[string][]CRMField{}
	var out []Matched
	for _, f := range fields {
		list, ok := byEntity[f.Entity]
		if !ok {
			var err error
			if list, err = crm.List(ctx, f.Entity); err != nil {
				return nil, fmt.Errorf("listing the CRM's %s custom fields: %w", f.Entity, err)
			}
			byEntity[f.Entity] = list
		}
		m := Matched{Field: f}
		if c, ok := lookup(list, f.Label); ok {
			m.Exists, m.CRMName = true, c.Label
			if f.Type == "option" {
				m.MissingOptions = CheckOptions(f, c.Options)
			}
		}
		out = append(out, m)
	}
	return out, nil
}

func lookup(list []CRMField, label string) (CRMField, bool) {
	for _, c := range list {
		if c.Label == label {
			return c, true
		}
	}
	var found []CRMField
	for _, c := range list {
		if strings.EqualFold(strings.TrimSpace(c.Label), strings.TrimSpace(label)) {
			found = append(found, c)
		}
	}
	if len(found) == 1 {
		return found[0], true
	}
	return CRMField{}, false
}

// CreateMissing creates the fields the CRM lacks, in order, and marks them.
func CreateMissing(ctx context.Context, crm CRMFields, ms []Matched) error {
	for i := range ms {
		if ms[i].Exists {
			continue
		}
		if err := crm.Create(ctx, ms[i].Entity, ms[i].Field); err != nil {
			return fmt.Errorf("creating the %s custom field %q: %w", ms[i].Entity, ms[i].Label, err)
		}
		ms[i].Created = true
	}
	return nil
}
