// Package credit is the credit stream: each customer's credit position —
// its open receivables (SE1) summed, what is overdue and by how long, its
// credit limit (A1_LC) and risk (A1_RISCO) — written to custom fields of
// the organization the customers stream made, so a salesperson sees before
// the call that the customer owes. It updates existing organizations and
// never creates one (bridge.Facet). Incremental on SE1's and SA1's stamps:
// a paid title moves the figures on the next poll; the days late of a
// title that only grew older move at the nightly full pass. Off by default.
package credit

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/erpbridge/erpbridge/bridge"
	"github.com/erpbridge/erpbridge/bridge/component"
	"github.com/erpbridge/erpbridge/erp"
	"github.com/erpbridge/erpbridge/erp/protheus"
	"github.com/erpbridge/erpbridge/erp/protheus/streams"
	"github.com/erpbridge/erpbridge/erp/protheus/streams/customers"
	"github.com/erpbridge/erpbridge/mapping"
)

// Name is the stream's name.
const Name = "credit"

// Entity is what the stream's identities and fingerprints are kept
// under: a facet of the organizations.
const Entity = mapping.EntityOrganization + ".credit"

func init() { component.Register(Component{}) }

// Component registers the credit stream.
type Component struct{}

var _ component.Component = Component{}

func (Component) Name() string                { return Name }
func (Component) Table() string               { return "streams." + Name }
func (Component) NewConfig() component.Config { return Default() }

// Config is [streams.credit].
type Config struct {
	On bool `toml:"enabled"`
	// Filials are the SE1 branches whose titles are summed (E1_FILIAL;
	// blank for a shared table): a customer's position over them all.
	Filials []string `toml:"filials"`
	// ExcludeTypes are E1_TIPO values that are no debt of the customer:
	// advances (RA) and credit notes (NCC) by default. A type ending in
	// "-" (AB-, IR-, …: taxes withheld) is an abatement and never counted.
	ExcludeTypes []string `toml:"exclude_types"`
	// Currencies are the E1_MOEDA values summed (1, the company's own, by
	// default): titles in another currency are not added to its figures.
	Currencies []int `toml:"currencies"`
	// CustomFields maps an organization custom field's label to the
	// expression giving its value, over the figures (Columns) and any SA1
	// column. Setting the table replaces the default as a whole.
	CustomFields map[string]string `toml:"custom_fields"`
	// Schedule overrides schedule.incremental for this stream.
	Schedule string `toml:"schedule"`
}

// The figures a customer's record carries, besides its SA1 columns.
const (
	ColOpen         = "CREDIT_OPEN"          // Σ E1_SALDO of its open titles
	ColOverdue      = "CREDIT_OVERDUE"       // Σ E1_SALDO of those past E1_VENCREA
	ColOverdueCount = "CREDIT_OVERDUE_COUNT" // how many titles are overdue
	ColDaysLate     = "CREDIT_DAYS_LATE"     // days since the oldest overdue E1_VENCREA (0: none)
	ColAvailable    = "CREDIT_AVAILABLE"     // A1_LC − CREDIT_OPEN (negative: over the limit)
	ColNextDue      = "CREDIT_NEXT_DUE"      // the earliest E1_VENCREA not yet past (nil: none)
)

// Columns lists the figures, for docs and messages.
func Columns() []string {
	return []string{ColOpen, ColOverdue, ColOverdueCount, ColDaysLate, ColAvailable, ColNextDue}
}

var (
	_ component.Config        = (*Config)(nil)
	_ component.Validator     = (*Config)(nil)
	_ component.Defaulter     = (*Config)(nil)
	_ component.Outputs       = (*Config)(nil)
	_ component.TableReader   = (*Config)(nil)
	_ component.Provisioner   = (*Config)(nil)
	_ component.Checker       = (*Config)(nil)
	_ component.Scheduled     = (*Config)(nil)
	_ component.RouteDeclarer = (*Config)(nil)
)

// Default is [streams.credit] with every default set (custom fields by
// ApplyDefaults).
func Default() *Config {
	return &Config{Filials: []string{""}, ExcludeTypes: []string{"RA", "NCC"}, Currencies: []int{1}}
}

// DefaultCustomFields are the organization custom fields written unless
// the file sets its own.
func DefaultCustomFields() map[string]string {
	return map[string]string{
		"Títulos vencidos":    "money(" + ColOverdue + ")",
		"Maior atraso (dias)": "join(' ', " + ColDaysLate + ", 'dias')", // a CRM text has 2 characters at least
		"Limite de crédito":   "money(A1_LC)",
	}
}

// Enabled implements component.Config.
func (c *Config) Enabled() bool { return c.On }

// ScheduleSpec implements component.Scheduled.
func (c *Config) ScheduleSpec() string { return c.Schedule }

// ApplyDefaults implements component.Defaulter.
func (c *Config) ApplyDefaults(set func(key ...string) bool) error {
	if !set("custom_fields") {
		c.CustomFields = DefaultCustomFields()
	}
	return nil
}

// spec is the stream's mapping: custom fields only (an update of part of
// the organization: no name, no entity).
func (c *Config) spec() mapping.Spec {
	return mapping.Spec{Version: "1", Record: "customer credit", CustomFields: c.CustomFields}
}

// Validate implements component.Validator.
func (c *Config) Validate(v *component.Validation) {
	if c.Schedule != "" {
		if err := component.CheckSchedule(c.Schedule, component.MinInterval); err != nil {
			v.Bad("schedule", "%v", err)
		}
	}
	if len(c.Filials) == 0 {
		v.Bad("filials", `is empty: list the SE1 branches, or [""] for a shared table`)
	}
	for _, f := range c.Filials {
		if !streams.ValidFilial(f) {
			v.Bad("filials", "%q is not a Protheus branch code (letters, digits and blanks, at most 12)", f)
		}
	}
	if len(streams.Distinct(c.Filials)) != len(c.Filials) && !slices.Contains(c.Filials, "") {
		v.Bad("filials", "a branch is listed twice")
	}
	for _, t := range c.ExcludeTypes {
		if t = strings.TrimSpace(t); t == "" || len(t) > 3 {
			v.Bad("exclude_types", "%q is not an E1_TIPO (1 to 3 characters)", t)
		}
	}
	if len(c.Currencies) == 0 {
		v.Bad("currencies", "is empty: list the E1_MOEDA values to sum, e.g. [1]")
	}
	for _, m := range c.Currencies {
		if m < 1 || m > 99 {
			v.Bad("currencies", "%d is not an E1_MOEDA (1 to 99)", m)
		}
	}
	if !c.On {
		return
	}
	if len(c.CustomFields) == 0 {
		v.Bad("custom_fields", "is empty: map at least one organization custom field to a figure (%s)", strings.Join(Columns(), ", "))
	}
	if _, err := mapping.Compile(c.spec(), mapping.Schema{Custom: mapping.LabelsAsText(c.spec()), Entity: mapping.EntityOrganization}); err != nil {
		v.Bad("custom_fields", "%v", err)
	}
	if cust, ok := v.Config(customers.Name); !ok || !cust.Enabled() {
		v.BadAbs("streams."+customers.Name+".enabled", "the credit stream writes on the organizations the customers stream makes: enable it")
	}
}

// Outputs implements component.Outputs.
func (c *Config) Outputs() []component.Output {
	return []component.Output{{Stream: Name, Entity: Entity, Schedule: c.Schedule}}
}

// routes are the REST routes the stream may read, with their default paths.
var routes = map[string]string{"receivables": "/receivables"}

// Routes implements component.RouteDeclarer.
func (c *Config) Routes() map[string]string { return routes }

// Tables implements component.TableReader: the customers' SA1 (read with
// the customers stream's filial, so its keys are theirs) and SE1 for each
// filial.
func (c *Config) Tables(company string, configs func(string) (component.Config, bool)) ([]component.Table, error) {
	sa1, err := customers.Table(company, customersFilial(configs), "credit customers")
	if err != nil {
		return nil, err
	}
	sa1.Spec.Columns = append(sa1.Spec.Columns, riskField.Column())
	out := []component.Table{sa1}
	for _, f := range c.Filials {
		spec, err := Receivables(company, f)
		if err != nil {
			return nil, err
		}
		out = append(out, component.Table{Role: "receivables", Route: "receivables", RouteDefault: routes["receivables"], Spec: spec})
	}
	return out, nil
}

// customersFilial is the customers stream's SA1 filial.
func customersFilial(configs func(string) (component.Config, bool)) string {
	if configs != nil {
		if s, ok := configs(customers.Name); ok {
			if cc, ok := s.(*customers.Config); ok {
				return cc.Filial
			}
		}
	}
	return customers.Default().Filial
}

// Provision implements component.Provisioner.
func (c *Config) Provision(ctx context.Context, env *component.Env) (component.Provisioned, error) {
	schema, err := env.CRM.Schema(ctx, mapping.EntityOrganization)
	if err != nil {
		return component.Provisioned{}, err
	}
	m, err := streams.Compile(Name, c.spec(), schema)
	if err != nil {
		return component.Provisioned{}, err
	}
	var opened []erp.Source
	closeAll := func() error { return streams.CloseAll(opened) }
	cust, _ := env.Config(customers.Name)
	custCfg, _ := cust.(*customers.Config)
	if custCfg == nil {
		custCfg = customers.Default()
	}
	// The customers' parts: a customer's credit is its organization's,
	// under its key.
	parts, _, err := custCfg.EstateParts(ctx, env.ERP)
	if err != nil {
		return component.Provisioned{}, err
	}
	var warnings []component.Note
	var eps []streams.EstatePart
	for _, p := range parts {
		src, mp, warned, err := c.openPart(ctx, env, p, m, &opened)
		warnings = append(warnings, warned...)
		if err != nil {
			return component.Provisioned{Close: closeAll}, err
		}
		eps = append(eps, streams.EstatePart{Branch: p, Source: src, Mapper: mp})
	}
	est := streams.NewEstate(eps...)
	target, err := env.CRM.Target(mapping.EntityOrganization, component.TargetOptions{UpdateOnly: true})
	if err != nil {
		return component.Provisioned{Close: closeAll}, err
	}
	settings := *c
	settings.CustomFields = maps.Clone(c.CustomFields)
	return component.Provisioned{Streams: []*bridge.Stream{{
		Name: Name, Source: est, Mapper: est.Mapper(), Target: bridge.NewFacet(target, Entity),
		Mode: bridge.ModeUpdateOnly, Deletes: bridge.DeletesIgnore, DependsOn: []string{customers.Name},
		MappingHash: streams.SettingsHash(settings, streams.PartNames(parts)),
	}}, Warnings: warnings, Close: closeAll}, nil
}

// openPart opens the customers of one part of the customers stream (SA1
// of a company, shared or of one branch) with the company's SE1 of each
// filial, and the part's mapper.
func (c *Config) openPart(ctx context.Context, env *component.Env, p protheus.Branch, m *mapping.Mapping, opened *[]erp.Source) (erp.Source, *mapper, []component.Note, error) {
	tables, err := c.Tables(p.Company, env.Config)
	if err != nil {
		return nil, nil, nil, err
	}
	var warnings []component.Note
	sa1 := tables[0]
	sa1.Spec.Filial = p.Filial
	has, err := env.ERP.Columns(ctx, sa1)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("credit customers: %w", err)
	}
	if !has(riskField.Name) {
		sa1.Spec.Columns = slices.DeleteFunc(sa1.Spec.Columns, func(col sqlColumn) bool { return col.Name == riskField.Name })
		warnings = append(warnings, component.Note{Stream: Name, Text: sa1.Spec.Physical + " has no A1_RISCO: read as blank"})
	}
	main, err := env.ERP.Open(ctx, sa1, nil)
	if err != nil {
		return nil, nil, warnings, err
	}
	*opened = append(*opened, main)
	mp := &mapper{m: m, now: env.Clock.Now, exclude: map[string]bool{}, currencies: map[int64]bool{}}
	for _, t := range c.ExcludeTypes {
		mp.exclude[strings.ToUpper(strings.TrimSpace(t))] = true
	}
	for _, cur := range c.Currencies {
		mp.currencies[int64(cur)] = true
	}
	var rels []streams.Relation
	for _, t := range tables[1:] {
		has, err := env.ERP.Columns(ctx, t)
		if err != nil {
			return nil, nil, warnings, fmt.Errorf("receivables: %w", err)
		}
		if !has(currencyField.Name) {
			t.Spec.Columns = slices.DeleteFunc(t.Spec.Columns, func(col sqlColumn) bool { return col.Name == currencyField.Name })
			warnings = append(warnings, component.Note{Stream: Name, Text: t.Spec.Physical + " has no E1_MOEDA: every title read as currency 1"})
		}
		se1, err := env.ERP.Open(ctx, t, nil)
		if err != nil {
			return nil, nil, warnings, err
		}
		*opened = append(*opened, se1)
		mp.titles = append(mp.titles, se1)
		if se1.Incremental() {
			// A title's change (paid, re-dated, written off) changes its
			// customer's position.
			rels = append(rels, streams.NewRelation(relationName(t.Spec.Filial), se1, nil,
				streams.ByMatch(main, func(r erp.Record) []erp.Match {
					return []erp.Match{{Column: "A1_COD", Value: streams.Str(r, "E1_CLIENTE")}, {Column: "A1_LOJA", Value: streams.Str(r, "E1_LOJA")}}
				})))
		}
	}
	var src erp.Source = main
	if len(rels) > 0 {
		src = streams.NewRelated(main, rels...)
	}
	return src, mp, warnings, nil
}

// relationName is the cursor key of one SE1 filial's changes.
func relationName(filial string) string {
	if f := strings.TrimSpace(filial); f != "" {
		return "SE1:" + f
	}
	return "SE1"
}

// Check implements component.Checker: the custom field labels, resolved
// as the run resolves them.
func (c *Config) Check(ctx context.Context, env *component.Env) []component.Finding {
	if env.CRM == nil {
		return nil
	}
	schema, err := env.CRM.Schema(ctx, mapping.EntityOrganization)
	if err == nil {
		_, err = mapping.Compile(c.spec(), schema)
	}
	if err != nil {
		return []component.Finding{{Problem: true, Section: component.SectionCRM, Text: fmt.Sprintf("credit: organization custom fields: %v", err)}}
	}
	return []component.Finding{{Section: component.SectionCRM,
		Text: fmt.Sprintf("credit: organization custom fields %s", strings.Join(slices.Sorted(maps.Keys(c.CustomFields)), ", "))}}
}
