package target

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/erpbridge/erpbridge/bridge/component"
	"github.com/erpbridge/erpbridge/bridge/oauth"
	"github.com/erpbridge/erpbridge/rdstation/crm"
	"github.com/erpbridge/erpbridge/rdstation/marketing"
)

var (
	_ component.Checker   = (*Config)(nil)
	_ component.Describer = (*Config)(nil)
)

// Describe implements component.Describer.
func (c *Config) Describe() string { return "RD Station Marketing " + c.BaseURL }

// NativeIntegration is what a CRM target system tells of RD Station's own
// CRM⇄Marketing integration: how many of its newest deals (seen) came
// from it, and one's name.
type NativeIntegration interface {
	DealsFromMarketing(ctx context.Context) (n, seen int, example string, err error)
}

// EventsMode resolves marketing.events: "auto" is off when the CRM has
// deals made by the native integration (both would count each sale), else
// sales_and_lost. why says what decided it, for `check` and the log.
func EventsMode(ctx context.Context, c *Config, crmSystem component.TargetSystem) (mode, why string, err error) {
	if c.Events != EventsAuto {
		return c.Events, "marketing.events = \"" + c.Events + "\"", nil
	}
	ni, ok := crmSystem.(NativeIntegration)
	if !ok {
		return EventsSalesAndLost, "marketing.events = \"auto\" and no CRM to look for RD Station's own CRM⇄Marketing integration in", nil
	}
	n, seen, example, err := ni.DealsFromMarketing(crm.WithPriority(ctx, crm.Interactive))
	if err != nil {
		return "", "", fmt.Errorf("marketing.events = \"auto\": looking for the native integration: %w", err)
	}
	if n > 0 {
		return EventsOff, fmt.Sprintf("marketing.events = \"auto\": %d of the CRM's %d newest deals came from RD Station's own "+
			"CRM⇄Marketing integration (from_rdsm_integration, e.g. %q): it is on and would count every sale a second time, so the "+
			"bridge sends no events (set marketing.events to override)", n, seen, example), nil
	}
	return EventsSalesAndLost, fmt.Sprintf("marketing.events = \"auto\": none of the CRM's %d newest deals came from RD Station's "+
		"own CRM⇄Marketing integration: the bridge sends SALE and OPPORTUNITY_LOST", seen), nil
}

// Check implements component.Checker: the grant, the account's custom
// fields with their types and options, and what marketing.events resolves
// to.
func (c *Config) Check(ctx context.Context, env *component.Env) []component.Finding {
	if !c.On {
		return nil
	}
	var out []component.Finding
	add := func(f component.Finding) {
		f.Section, f.System = component.SectionCRM, Name
		out = append(out, f)
	}
	sys, ok := env.Target(Name)
	s, _ := sys.(*System)
	if !ok || s == nil {
		add(component.Finding{Problem: true, Text: "RD Station Marketing is not opened"})
		return out
	}
	fields, err := s.Fields(ctx)
	if err != nil {
		if errors.Is(err, oauth.ErrNotAuthorized) || errors.Is(err, oauth.ErrRefused) || errors.Is(err, marketing.ErrUnauthorized) {
			add(component.Finding{Problem: true, Text: "not authorized: " + err.Error()})
			return out
		}
		add(component.Finding{Problem: true, Text: fmt.Sprintf("reading the contact fields: %v", err)})
		return out
	}
	add(component.Finding{Text: fmt.Sprintf("authorized; the account has %d contact fields", len(fields))})
	for _, f := range fields {
		if !f.Custom {
			continue
		}
		line := fmt.Sprintf("custom field %q (%s): %s %s", f.Label, f.APIIdentifier, f.DataType, f.PresentationType)
		if len(f.Options) > 0 {
			line += ", options: " + strings.Join(f.Options, " | ")
		}
		add(component.Finding{Detail: true, Text: line})
	}
	mode, why, err := EventsMode(ctx, c, env.CRM)
	if err != nil {
		add(component.Finding{Warn: true, Text: err.Error()})
	} else {
		add(component.Finding{Text: "events: " + mode + " — " + why})
	}
	rpm := fmt.Sprint(c.RequestsPerMinute)
	if c.RequestsPerMinute < 0 {
		rpm = "unlimited"
	}
	add(component.Finding{Detail: true, Text: fmt.Sprintf("request budget: %s a minute (burst %d), apart from the CRM's; "+
		"at most %d new contacts a run (marketing.max_new_contacts)", rpm, c.Burst, c.MaxNewContacts)})
	return out
}

// EventsPolicy is marketing.events resolved for the sales stream: whether
// SALE and OPPORTUNITY_LOST go, and why.
func (s *System) EventsPolicy(ctx context.Context, main component.TargetSystem) (sales, lost bool, why string, err error) {
	mode, why, err := EventsMode(ctx, s.cfg, main)
	if err != nil {
		return false, false, "", err
	}
	return mode == EventsSales || mode == EventsSalesAndLost, mode == EventsSalesAndLost, why, nil
}
