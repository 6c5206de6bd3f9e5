package target

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/erpbridge/erpbridge/bridge/component"
	"github.com/erpbridge/erpbridge/mapping"
	crmv2 "github.com/erpbridge/erpbridge/rdstation/crm/v2"
)

// checkV2 is Check on CRM API v2: which API is in use and what the grant
// can see — users, pipelines with their stages, lost reasons, and every
// entity's custom fields with the slug mappings' values are sent under.
func (c *Config) checkV2(ctx context.Context, s *SystemV2) []component.Finding {
	var out []component.Finding
	fail := func(format string, args ...any) {
		out = append(out, component.Finding{Problem: true, Section: component.SectionCRM, Text: fmt.Sprintf(format, args...)})
	}
	detail := func(format string, args ...any) {
		out = append(out, component.Finding{Detail: true, Section: component.SectionCRM, Text: fmt.Sprintf(format, args...)})
	}
	var users []string
	for u, err := range s.C.Users(ctx, crmv2.Query{}) {
		if err != nil {
			fail("CRM API v2: %v", err)
			return out
		}
		users = append(users, fmt.Sprintf("%s <%s>", u.Name, u.Email))
	}
	out = append(out, component.Finding{Section: component.SectionCRM,
		Text: fmt.Sprintf("CRM API v2 (OAuth grant in the checkpoint store): %d users visible", len(users))})
	for i, u := range users {
		if i == 20 {
			detail("… and %d more users", len(users)-20)
			break
		}
		detail("user %s", u)
	}
	for p, err := range s.C.Pipelines(ctx) {
		if err != nil {
			fail("listing pipelines: %v", err)
			break
		}
		var names []string
		for st, err := range s.C.Stages(ctx, p.ID) {
			if err != nil {
				fail("listing the stages of pipeline %q: %v", p.Name, err)
				break
			}
			names = append(names, st.Name)
		}
		detail("pipeline %q (%s): %s", p.Name, p.ID, strings.Join(names, " → "))
	}
	var reasons []string
	for lr, err := range s.C.LostReasons(ctx) {
		if err != nil {
			fail("listing lost reasons: %v", err)
			break
		}
		reasons = append(reasons, fmt.Sprintf("%q", lr.Name))
	}
	if len(reasons) > 0 {
		detail("lost reasons: %s", strings.Join(reasons, ", "))
	}
	for _, entity := range []string{mapping.EntityOrganization, mapping.EntityContact, mapping.EntityProduct, mapping.EntityDeal} {
		schema, err := s.Schema(ctx, entity)
		if err != nil {
			fail("%v", err)
			continue
		}
		for _, label := range slices.Sorted(keys(schema.Custom)) {
			f := schema.Custom[label]
			detail("%s custom field %q (%s, slug %s)", entity, label, f.Type, f.ID)
		}
	}
	return out
}
