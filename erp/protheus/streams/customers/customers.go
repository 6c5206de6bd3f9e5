// Package customers is the customers stream: Protheus customers (SA1)
// become CRM organizations, adopted by CNPJ when the CRM has a field for it.
package customers

import (
	"context"
	"fmt"

	"github.com/erpbridge/erpbridge/bridge"
	"github.com/erpbridge/erpbridge/bridge/component"
	"github.com/erpbridge/erpbridge/erp"
	"github.com/erpbridge/erpbridge/erp/protheus"
	"github.com/erpbridge/erpbridge/erp/protheus/streams"
	"github.com/erpbridge/erpbridge/mapping"
)

// Name is the stream's name.
const Name = "customers"

// Blocked policies (Config.Blocked).
const (
	BlockedSkip = "skip"
	BlockedMark = "mark"
)

func init() { component.Register(Component{}) }

// Component registers the customers stream.
type Component struct{}

var _ component.Component = Component{}

func (Component) Name() string                { return Name }
func (Component) Table() string               { return "streams." + Name }
func (Component) NewConfig() component.Config { return Default() }

// Config is [streams.customers].
type Config struct {
	streams.Declarative
	// Blocked says what to do with blocked customers (A1_MSBLQL = '1'):
	// skip (default) or mark.
	Blocked string `toml:"blocked"`
	// BlockedMark says how a blocked customer is marked when blocked = "mark".
	BlockedMark streams.DeleteMark `toml:"blocked_mark"`
	// CNPJField is the label of the organization custom field holding the
	// CNPJ/CPF; when set, the default mapping fills it and existing
	// organizations are adopted by it.
	CNPJField string `toml:"cnpj_field"`
}

var (
	_ component.Config      = (*Config)(nil)
	_ component.Validator   = (*Config)(nil)
	_ component.Defaulter   = (*Config)(nil)
	_ component.Outputs     = (*Config)(nil)
	_ component.TableReader = (*Config)(nil)
	_ component.Provisioner = (*Config)(nil)
	_ component.Scheduled   = (*Config)(nil)
)

// Default is [streams.customers] with every default set.
func Default() *Config {
	return &Config{Blocked: BlockedSkip, Declarative: streams.Declarative{
		Base: streams.Base{On: true, Mode: streams.ModeUpsert, Deletes: streams.DeletesIgnore}}}
}

// ApplyDefaults implements component.Defaulter: the default mapping fills
// the CNPJ field when one is named.
func (c *Config) ApplyDefaults(set func(key ...string) bool) error {
	m, err := streams.OverlayMapping(c.Mapping, protheus.CustomerSpec(c.CNPJField), func(key ...string) bool {
		return set(append([]string{"mapping"}, key...)...)
	})
	if err != nil {
		return fmt.Errorf("streams.%s.mapping: %w", Name, err)
	}
	c.Mapping = m
	return nil
}

// Validate implements component.Validator.
func (c *Config) Validate(v *component.Validation) {
	c.ValidateDeclarative(v)
	switch c.Blocked {
	case BlockedSkip:
	case BlockedMark:
		if err := c.BlockedMark.Check(); err != nil {
			v.Bad("blocked_mark", "%v (needed by blocked = \"mark\")", err)
		}
	default:
		v.Bad("blocked", "%q is not one of skip, mark", c.Blocked)
	}
}

// Outputs implements component.Outputs.
func (c *Config) Outputs() []component.Output {
	return []component.Output{{Stream: Name, Entity: mapping.EntityOrganization, Schedule: c.Schedule}}
}

// Tables implements component.TableReader.
func (c *Config) Tables(company string, _ func(string) (component.Config, bool)) ([]component.Table, error) {
	t, err := Table(company, c.Filial, "customers")
	if err != nil {
		return nil, err
	}
	t.Mapping = &c.Mapping
	return []component.Table{t}, nil
}

// Table is SA1 as a stream reads it (role names it): the orders and the
// won deals read their customers through it too.
func Table(company, filial, role string) (component.Table, error) {
	spec, err := protheus.Customers(company, filial)
	if err != nil {
		return component.Table{}, fmt.Errorf("%s: %w", role, err)
	}
	return component.Table{Role: role, Route: "customers", RouteDefault: routes["customers"], Spec: spec,
		Extra: []string{"A1_MSBLQL"}}, nil
}

// KeyField resolves cnpj_field in the organizations' schema ("" when
// none is configured).
func (c *Config) KeyField(schema mapping.Schema) (string, error) {
	if c.CNPJField == "" {
		return "", nil
	}
	f, err := schema.Custom.Lookup(c.CNPJField)
	if err != nil {
		return "", fmt.Errorf("streams.customers.cnpj_field: %w", err)
	}
	return f.ID, nil
}

// Provision implements component.Provisioner.
func (c *Config) Provision(ctx context.Context, env *component.Env) (component.Provisioned, error) {
	o, err := streams.Open(ctx, env, Name, mapping.EntityOrganization, c.Mapping, c)
	if err != nil {
		return component.Provisioned{}, err
	}
	schema, m, src := o.Schema, o.Mapping, o.Source
	mp := &mapper{m: m, blocked: c.Blocked}
	if mp.deleteMk, err = streams.MarkFor(c.Deletes, c.DeleteMark, schema, m); err != nil {
		return component.Provisioned{}, fmt.Errorf("streams.customers.delete_mark: %w", err)
	}
	if c.Blocked == BlockedMark {
		if mp.blockMk, err = streams.NewMark(c.BlockedMark, schema, m.CustomFieldsKey()); err != nil {
			return component.Provisioned{}, fmt.Errorf("streams.customers.blocked_mark: %w", err)
		}
	}
	keyField, err := c.KeyField(schema)
	if err != nil {
		return component.Provisioned{}, err
	}
	target, err := env.CRM.Target(mapping.EntityOrganization, component.TargetOptions{KeyField: keyField})
	if err != nil {
		return component.Provisioned{}, err
	}
	return component.Provisioned{Streams: []*bridge.Stream{{
		Name: Name, Source: src, Mapper: mp, Target: target,
		Mode: bridge.Mode(c.Mode), Deletes: bridge.Deletes(c.Deletes), MappingHash: streams.SettingsHash(c),
	}}}, nil
}

// mapper maps SA1 customers to organizations.
type mapper struct {
	m        *mapping.Mapping
	blocked  string // skip | mark
	blockMk  *streams.Mark
	deleteMk *streams.Mark
}

var _ bridge.Mapper = (*mapper)(nil)

func (c *mapper) Map(_ context.Context, rec erp.Record, _ bridge.Resolver) bridge.Mapped {
	if protheus.IsBlocked(streams.Str(rec, "A1_MSBLQL")) && c.blocked == BlockedSkip {
		return bridge.Mapped{Skip: true, SkipReason: "blocked in the ERP (A1_MSBLQL = '1')"}
	}
	out := streams.MapRecord(c.m, rec, nil)
	if protheus.IsBlocked(streams.Str(rec, "A1_MSBLQL")) {
		out = c.blockMk.Apply(c.m.Version(), out)
	}
	return out
}

func (c *mapper) MapDeleted(_ context.Context, rec erp.Record, _ bridge.Resolver) bridge.Mapped {
	if c.deleteMk == nil {
		return bridge.Mapped{Skip: true, SkipReason: "deletes are ignored"}
	}
	return c.deleteMk.Apply(c.m.Version(), streams.MapRecord(c.m, rec, nil))
}

var _ component.Checker = (*Config)(nil)

// Check implements component.Checker: the mapping's custom field labels
// and cnpj_field, resolved as the run resolves them.
func (c *Config) Check(ctx context.Context, env *component.Env) []component.Finding {
	out := streams.CheckMappingLabels(ctx, env, Name, c.Mapping)
	if c.CNPJField == "" || env.CRM == nil {
		return out
	}
	schema, err := env.CRM.Schema(ctx, mapping.EntityOrganization)
	if err == nil {
		_, err = c.KeyField(schema)
	}
	if err != nil {
		out = append(out, component.Finding{Problem: true, Section: component.SectionCRM, Text: err.Error()})
	}
	return out
}

// routes are the REST routes the stream may read, with their default paths.
var routes = map[string]string{"customers": "/customers"}

// Routes implements component.RouteDeclarer.
func (c *Config) Routes() map[string]string { return routes }
