package target

import (
	"context"
	"fmt"

	"github.com/erpbridge/erpbridge/bridge"
	"github.com/erpbridge/erpbridge/bridge/component"
	"github.com/erpbridge/erpbridge/mapping"
	crmv2 "github.com/erpbridge/erpbridge/rdstation/crm/v2"
)

// SystemV2 is RD Station CRM through API v2 (crm.api = "v2"): the
// organization, contact and product targets, adopting by live RDQL
// look-ups, and schemas whose custom fields are identified by slug (the
// mappings keep naming them by label). It serves the won-deal stream
// (component.DealCRM, wondeals_v2.go); deals written from ERP orders (the
// orders stream) are not on v2 yet.
type SystemV2 struct {
	C   *crmv2.Client
	set entities
}

var _ component.TargetSystem = (*SystemV2)(nil)

// NewSystemV2 returns the v2 target system over c.
func NewSystemV2(c *crmv2.Client) *SystemV2 { return &SystemV2{C: c, set: newEntities()} }

// Target implements component.TargetSystem.
func (s *SystemV2) Target(entity string, o component.TargetOptions) (bridge.Target, error) {
	return s.set.target(entity, o, func(entity string, o component.TargetOptions) (bridge.Target, error) {
		switch entity {
		case mapping.EntityOrganization:
			return NewOrganizationsV2(s.C, o.KeyField), nil
		case mapping.EntityContact:
			return NewContactsV2(s.C, o.OmitSharedKey), nil
		case mapping.EntityProduct:
			return NewProductsV2(s.C), nil
		case mapping.EntityDeal:
			return nil, fmt.Errorf("crm.api = %q does not write deals yet (issue 15): the orders stream needs api = %q", APIv2, APIv1)
		}
		return nil, fmt.Errorf("RD Station CRM has no entity %q (it has organization, contact, product, deal)", entity)
	})
}

// Schema implements component.TargetSystem: the v1 field names the
// mappings write (the targets translate them), and the custom fields of
// GET /custom_fields with their slug as id.
func (s *SystemV2) Schema(ctx context.Context, entity string) (mapping.Schema, error) {
	return s.set.schema(ctx, entity, func(ctx context.Context, entity string) (mapping.Schema, error) {
		sc := StaticSchema(entity)
		sc.Custom = mapping.CustomFieldCatalog{}
		for f, err := range s.C.CustomFields(ctx, entity) {
			if err != nil {
				return mapping.Schema{}, fmt.Errorf("reading CRM custom fields of %s: %w", entity, classify(err))
			}
			sc.Custom[f.Label] = mapping.CustomField{ID: f.Slug, Type: mapping.FieldType(f.Type), Options: f.Options}
		}
		return sc, nil
	})
}
