package target

import (
	"context"
	"fmt"
	"net"
	"net/url"
	"slices"
	"strings"

	"github.com/erpbridge/erpbridge/bridge/component"
	"github.com/erpbridge/erpbridge/mapping"
	"github.com/erpbridge/erpbridge/rdstation/crm"
)

var (
	_ component.Checker   = (*Config)(nil)
	_ component.Describer = (*Config)(nil)
)

// The simulator's defaults (erpbridge sim, erpbridge demo, rdsim.DefaultToken):
// a config holding them is the demo's, not a live one.
const (
	simulatorPort  = "8089"
	simulatorToken = "sim-token"
)

// simulator says why c points at the demo simulator ("" when it does not).
func (c *Config) simulator() string {
	if u, err := url.Parse(c.BaseURL); err == nil && u.Port() == simulatorPort {
		if ip := net.ParseIP(u.Hostname()); u.Hostname() == "localhost" || ip != nil && ip.IsLoopback() {
			return fmt.Sprintf("this is the demo simulator's URL (crm.base_url %s, erpbridge sim / erpbridge demo), not RD Station's: set crm.base_url = \"https://crm.rdstation.com/api/v1\" and the account's token", c.BaseURL)
		}
	}
	if c.Token == simulatorToken {
		return "this is the demo simulator's token (crm.token \"sim-token\"), not an RD Station account's: set crm.token to the integration user's token"
	}
	return ""
}

// Describe implements component.Describer.
func (c *Config) Describe() string {
	if c.API == APIv2 {
		return "CRM " + c.V2BaseURL + " (API v2)"
	}
	return "CRM " + c.BaseURL
}

// Check implements component.Checker: the token, and what the account has
// that the streams name — pipelines and their stages, lost reasons, users,
// and every entity's custom fields with their options.
func (c *Config) Check(ctx context.Context, env *component.Env) []component.Finding {
	var out []component.Finding
	fail := func(format string, args ...any) {
		out = append(out, component.Finding{Problem: true, Section: component.SectionCRM, Text: fmt.Sprintf(format, args...)})
	}
	detail := func(format string, args ...any) {
		out = append(out, component.Finding{Detail: true, Section: component.SectionCRM, Text: fmt.Sprintf(format, args...)})
	}
	if s2, ok := env.CRM.(*SystemV2); ok {
		return c.checkV2(ctx, s2)
	}
	s, ok := env.CRM.(*System)
	if !ok {
		fail("the CRM is not opened")
		return out
	}
	sim := c.simulator()
	if sim != "" {
		out = append(out, component.Finding{Warn: true, Section: component.SectionCRM, Text: sim})
	}
	ctx = crm.WithPriority(ctx, crm.Interactive)
	// A check reads the catalogue from the CRM, and keeps it anew.
	if _, err := s.Refresh(ctx); err != nil {
		fail("forgetting the kept copy of the CRM's catalogue: %v", err)
	}
	tok, err := s.C.CheckToken(ctx)
	if err != nil {
		if sim != "" {
			fail("token check: %v (the config points at the demo simulator: see above)", err)
			return out
		}
		fail("token check: %v", err)
		return out
	}
	out = append(out, component.Finding{Section: component.SectionCRM, Personal: true, Text: fmt.Sprintf("token of %s <%s>", tok.Name, tok.Email)})
	if ps, err := s.C.ListPipelines(ctx); err != nil {
		fail("listing pipelines: %v", err)
	} else {
		for _, p := range ps {
			sortStages(p.Stages)
			names := make([]string, len(p.Stages))
			for i, st := range p.Stages {
				names[i] = st.Name
			}
			detail("pipeline %q (%s): %s", p.Name, p.ID, strings.Join(names, " → "))
		}
	}
	var reasons []string
	for lr, err := range s.C.LostReasons(ctx, crm.NameQuery{}) {
		if err != nil {
			fail("listing lost reasons: %v", err)
			break
		}
		reasons = append(reasons, fmt.Sprintf("%q", lr.Name))
	}
	if len(reasons) > 0 {
		detail("lost reasons: %s", strings.Join(reasons, ", "))
	}
	n := 0
	for u, err := range s.C.Users(ctx, crm.UserQuery{}) {
		if err != nil {
			fail("listing users: %v", err)
			break
		}
		if n < 20 {
			out = append(out, component.Finding{Detail: true, Section: component.SectionCRM, Personal: true,
				Text: fmt.Sprintf("user %s <%s> (%s)", u.Name, u.Email, u.ID)})
		}
		n++
	}
	if n > 20 {
		detail("… and %d more users", n-20)
	}
	for _, entity := range []string{mapping.EntityOrganization, mapping.EntityContact, mapping.EntityProduct, mapping.EntityDeal} {
		schema, err := s.Schema(ctx, entity)
		if err != nil {
			fail("%v", err)
			continue
		}
		for _, label := range slices.Sorted(keys(schema.Custom)) {
			f := schema.Custom[label]
			opts := ""
			if len(f.Options) > 0 {
				opts = ": " + strings.Join(f.Options, " | ")
			}
			detail("%s custom field %q (%s, %s)%s", entity, label, f.Type, f.ID, opts)
		}
	}
	return out
}

func keys[V any](m map[string]V) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}
