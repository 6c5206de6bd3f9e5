// Package products is the products stream: Protheus products (SB1), priced
// by a DA1 price table or B1_PRV1, become CRM products.
package products

import (
	"context"
	"fmt"
	"regexp"
	"strings"

	"github.com/erpbridge/erpbridge/bridge"
	"github.com/erpbridge/erpbridge/bridge/component"
	"github.com/erpbridge/erpbridge/erp"
	"github.com/erpbridge/erpbridge/erp/protheus"
	"github.com/erpbridge/erpbridge/erp/protheus/streams"
	"github.com/erpbridge/erpbridge/mapping"
)

// Name is the stream's name.
const Name = "products"

// pricesPerProduct bounds the DA1 rows one product reads in one price
// table (deleted versions included), the same whether read alone or with
// its page.
const pricesPerProduct = 1000

func init() { component.Register(Component{}) }

// Component registers the products stream.
type Component struct{}

var _ component.Component = Component{}

func (Component) Name() string                { return Name }
func (Component) Table() string               { return "streams." + Name }
func (Component) NewConfig() component.Config { return Default() }

// Config is [streams.products].
type Config struct {
	streams.Declarative
	// PriceTable is the DA0/DA1 price table code (DA1_CODTAB); empty = B1_PRV1.
	PriceTable string `toml:"price_table"`
	// PriceFilial is the DA1 branch (blank for a shared table).
	PriceFilial string `toml:"price_filial"`
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

// Default is [streams.products] with every default set.
func Default() *Config {
	return &Config{Declarative: streams.Declarative{
		Base: streams.Base{On: true, Mode: streams.ModeUpsert, Deletes: streams.DeletesIgnore}}}
}

// DefaultMapping is the stream's default mapping: with a price table, the
// base price is the table's (else B1_PRV1).
func (c *Config) DefaultMapping() mapping.Spec {
	spec := protheus.ProductSpec()
	if c.PriceTable != "" {
		spec.Fields["base_price"] = "money(DA1_PRCVEN ?? B1_PRV1)"
	}
	return spec
}

// ApplyDefaults implements component.Defaulter.
func (c *Config) ApplyDefaults(set func(key ...string) bool) error {
	m, err := streams.OverlayMapping(c.Mapping, c.DefaultMapping(), func(key ...string) bool {
		return set(append([]string{"mapping"}, key...)...)
	})
	if err != nil {
		return fmt.Errorf("streams.%s.mapping: %w", Name, err)
	}
	c.Mapping = m
	return nil
}

var priceTablePattern = regexp.MustCompile(`^[0-9A-Za-z]{1,3}$`)

// Validate implements component.Validator.
func (c *Config) Validate(v *component.Validation) {
	c.ValidateDeclarative(v)
	if p := c.PriceTable; p != "" && !priceTablePattern.MatchString(p) {
		v.Bad("price_table", "%q is not a DA0 price table code (up to 3 letters or digits)", p)
	}
}

// Outputs implements component.Outputs.
func (c *Config) Outputs() []component.Output {
	return []component.Output{{Stream: Name, Entity: mapping.EntityProduct, Schedule: c.Schedule}}
}

// Tables implements component.TableReader: SB1, and DA1 with a price table.
func (c *Config) Tables(company string, _ func(string) (component.Config, bool)) ([]component.Table, error) {
	spec, err := protheus.Products(company, c.Filial)
	if err != nil {
		return nil, fmt.Errorf("products: %w", err)
	}
	out := []component.Table{{Role: "products", Route: "products", RouteDefault: routes["products"], Spec: spec,
		Extra: []string{"B1_COD"}, Provided: []string{"DA1_PRCVEN"}, Mapping: &c.Mapping}}
	if c.PriceTable != "" {
		spec, err := protheus.Prices(company, c.PriceFilial)
		if err != nil {
			return nil, fmt.Errorf("prices: %w", err)
		}
		out = append(out, component.Table{Role: "prices", Route: "prices", RouteDefault: routes["prices"], Spec: spec})
	}
	return out, nil
}

// Provision implements component.Provisioner.
func (c *Config) Provision(ctx context.Context, env *component.Env) (component.Provisioned, error) {
	o, err := streams.Open(ctx, env, Name, mapping.EntityProduct, c.Mapping, c)
	if err != nil {
		return component.Provisioned{}, err
	}
	schema, m, src, tables := o.Schema, o.Mapping, o.Source, o.Tables
	mp := &mapper{m: m, priceTable: c.PriceTable}
	if c.PriceTable != "" {
		if mp.prices, err = env.ERP.Open(ctx, tables[1], nil); err != nil {
			return component.Provisioned{}, err
		}
	}
	if mp.deleteMk, err = streams.MarkFor(c.Deletes, c.DeleteMark, schema, m); err != nil {
		return component.Provisioned{}, fmt.Errorf("streams.products.delete_mark: %w", err)
	}
	target, err := env.CRM.Target(mapping.EntityProduct, component.TargetOptions{})
	if err != nil {
		return component.Provisioned{}, err
	}
	return component.Provisioned{Streams: []*bridge.Stream{{
		Name: Name, Source: src, Mapper: mp, Target: target,
		Mode: bridge.Mode(c.Mode), Deletes: bridge.Deletes(c.Deletes), MappingHash: streams.SettingsHash(c),
	}}}, nil
}

// mapper maps SB1 products to products, with the price from a DA1 price
// table when one is configured.
type mapper struct {
	m          *mapping.Mapping
	prices     erp.Source // DA1; nil without a price table
	priceTable string
	deleteMk   *streams.Mark
	page       streams.PageRows // the DA1 prices of the page being mapped
}

var (
	_ bridge.Mapper       = (*mapper)(nil)
	_ bridge.PagePreparer = (*mapper)(nil)
)

// PreparePage reads the DA1 prices of a page of products in a few queries.
func (p *mapper) PreparePage(ctx context.Context, recs []erp.Record) {
	if p.prices == nil {
		return
	}
	codes := make([]string, len(recs))
	for i, r := range recs {
		codes[i] = streams.Str(r, "B1_COD")
	}
	p.page.Prepare(ctx, p.prices, []erp.Match{{Column: "DA1_CODTAB", Value: p.priceTable}}, "DA1_CODPRO", codes, pricesPerProduct)
}

func (p *mapper) Map(ctx context.Context, rec erp.Record, _ bridge.Resolver) bridge.Mapped {
	extra := map[string]any{"DA1_PRCVEN": nil}
	var price []erp.Record // the DA1 row the price comes from
	if p.prices != nil {
		code := streams.Str(rec, "B1_COD")
		rows, err := p.page.Find(code, func() ([]erp.Record, error) {
			return p.prices.Find(ctx, protheus.PriceOf(p.priceTable, code), pricesPerProduct)
		})
		if err != nil {
			// The ERP connection failed, not the data: retry later.
			return bridge.Mapped{Retry: fmt.Errorf("product %s: reading price table %s: %w", rec.Key, p.priceTable, err)}
		}
		for _, row := range rows {
			if !row.Deleted && strings.TrimSpace(streams.Str(row, "DA1_ATIVO")) != "2" {
				extra["DA1_PRCVEN"], price = row.Fields["DA1_PRCVEN"], []erp.Record{row}
				break
			}
		}
	}
	return streams.MapRecord(p.m, rec, extra, price...)
}

func (p *mapper) MapDeleted(ctx context.Context, rec erp.Record, r bridge.Resolver) bridge.Mapped {
	if p.deleteMk == nil {
		return bridge.Mapped{Skip: true, SkipReason: "deletes are ignored"}
	}
	return p.deleteMk.Apply(p.m.Version(), p.Map(ctx, rec, r))
}

var _ component.Checker = (*Config)(nil)

// Check implements component.Checker: the mapping's custom field labels.
func (c *Config) Check(ctx context.Context, env *component.Env) []component.Finding {
	return streams.CheckMappingLabels(ctx, env, Name, c.Mapping)
}

// routes are the REST routes the stream may read, with their default paths.
var routes = map[string]string{"products": "/products", "prices": "/prices"}

// Routes implements component.RouteDeclarer.
func (c *Config) Routes() map[string]string { return routes }
