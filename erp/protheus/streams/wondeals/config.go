package wondeals

import (
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/erpbridge/erpbridge/bridge/component"
	"github.com/erpbridge/erpbridge/bridge/inbound"
	"github.com/erpbridge/erpbridge/erp/protheus"
	"github.com/erpbridge/erpbridge/erp/protheus/access"
	"github.com/erpbridge/erpbridge/erp/protheus/streams"
	"github.com/erpbridge/erpbridge/erp/protheus/streams/customers"
	"github.com/erpbridge/erpbridge/erp/protheus/streams/orders"
	"github.com/erpbridge/erpbridge/erp/protheus/streams/products"
	"github.com/erpbridge/erpbridge/erp/sqlerp/dsn"
	"github.com/erpbridge/erpbridge/mapping"
)

// Name is the flow's name: runs, cursors, logs and [won_deals].
const Name = "won_deals"

func init() { component.Register(Component{}) }

// Component registers the won-deal flow.
type Component struct{}

var _ component.Component = Component{}

func (Component) Name() string                { return Name }
func (Component) Table() string               { return Name }
func (Component) NewConfig() component.Config { return Default() }

// Config is [won_deals]: the CRM → ERP direction, deals won in the CRM
// become ERP sales orders.
type Config struct {
	On bool `toml:"enabled"`
	// Sink is where orders go: "staging" (a table an ERP job consumes) or
	// "rest" (a route that runs MATA410 and answers with the number).
	Sink string `toml:"sink"`
	// Schedule overrides schedule.incremental for the won-deal poll.
	Schedule string `toml:"schedule"`
	// Overlap is re-read behind the last poll (deals are won with coarse
	// timestamps and a clock that is not ours).
	Overlap component.Duration `toml:"overlap"`
	// Lookback is how far back the first poll looks.
	Lookback component.Duration `toml:"lookback"`
	// Filial is the branch the orders are created in (SC5's).
	Filial string `toml:"filial"`
	// OrderType, PaymentTerms, PriceTable, TES, Operation and Seller are
	// the defaults every order gets (C5_TIPO, C5_CONDPAG, C5_TABELA, C6_TES,
	// C6_OPER, C5_VEND1). Blank leaves them to the ERP.
	OrderType    string `toml:"order_type"`
	PaymentTerms string `toml:"payment_terms"`
	PriceTable   string `toml:"price_table"`
	TES          string `toml:"tes"`
	Operation    string `toml:"operation"`
	Seller       string `toml:"seller"`
	// UseDealPrices sends the deal's unit prices; false lets the ERP price
	// the items from the price table.
	UseDealPrices bool `toml:"use_deal_prices"`
	// Notes writes the ERP's rejection onto the deal as a note.
	Notes bool `toml:"notes"`
	// Pipelines are the CRM pipelines (by name) whose won deals become ERP
	// orders; a deal won in any other (partners, after-sales, the copy an
	// RD Station pipeline makes of its won deals) is skipped. Empty: the
	// pipeline of streams.orders.pipeline, i.e. the CRM's first pipeline
	// unless that names another (whether the orders stream is on or not).
	Pipelines []string `toml:"pipelines"`

	// Staging names the tables of the staging sink.
	Staging OrderStaging `toml:"staging"`
	REST    OrderREST    `toml:"rest"`
}

// OrderStaging names the staging sink's tables by their Protheus aliases:
// each table is alias + erp.company + "0" and its fields carry the alias's
// prefix (ZB1 → ZB1010, ZB1_DEALID; SZ7 → SZ7010, Z7_DEALID).
type OrderStaging struct {
	Header string `toml:"header"` // one row per deal (default ZB1)
	Items  string `toml:"items"`  // the deals' items (default ZB2)
}

// Aliases returns the aliases as the staging spec takes them.
func (s OrderStaging) Aliases() protheus.StagingAliases {
	return protheus.StagingAliases{Header: s.Header, Items: s.Items}
}

// OrderREST configures the rest sink.
type OrderREST struct {
	URL      string             `toml:"url"` // e.g. http://erp:8080/rest/orders
	User     string             `toml:"user"`
	Password string             `toml:"password"`
	Token    string             `toml:"token"`
	Timeout  component.Duration `toml:"timeout"`
}

// Sinks.
const (
	SinkStaging = "staging"
	SinkREST    = "rest"
)

var (
	_ component.Config      = (*Config)(nil)
	_ component.Validator   = (*Config)(nil)
	_ component.Outputs     = (*Config)(nil)
	_ component.TableReader = (*Config)(nil)
	_ component.Provisioner = (*Config)(nil)
	_ component.Checker     = (*Config)(nil)
	_ component.Scheduled   = (*Config)(nil)
)

// Default is [won_deals] with every default set: off.
func Default() *Config {
	return &Config{
		On: false, Sink: SinkStaging, Overlap: component.Dur(10 * time.Minute), Lookback: component.Dur(24 * time.Hour),
		OrderType: "N", UseDealPrices: true, Notes: true,
		Staging: OrderStaging{Header: protheus.DefaultStagingAliases.Header, Items: protheus.DefaultStagingAliases.Items},
		REST:    OrderREST{Timeout: component.Dur(30 * time.Second)},
	}
}

// Enabled implements component.Config.
func (c *Config) Enabled() bool { return c.On }

// ScheduleSpec implements component.Scheduled.
func (c *Config) ScheduleSpec() string { return c.Schedule }

// Outputs implements component.Outputs: the poll's runs and errors are
// listed under won_deals (its records are deals, not ERP rows).
func (c *Config) Outputs() []component.Output {
	return []component.Output{{Stream: inbound.Stream, Entity: mapping.EntityDeal, Schedule: c.Schedule, Inbound: true}}
}

// settingsOf returns the settings of the streams won deals lean on: the
// orders' (the order-number field, the pipeline, the sellers' filial), the
// customers' and the products' (their identities find the ERP records).
func settingsOf(get func(string) (component.Config, bool)) (*orders.Config, *customers.Config, *products.Config) {
	o, _ := get(orders.Name)
	c, _ := get(customers.Name)
	p, _ := get(products.Name)
	oc, _ := o.(*orders.Config)
	cc, _ := c.(*customers.Config)
	pc, _ := p.(*products.Config)
	if oc == nil {
		oc = orders.Default()
	}
	if cc == nil {
		cc = customers.Default()
	}
	if pc == nil {
		pc = products.Default()
	}
	return oc, cc, pc
}

// Validate implements component.Validator.
func (c *Config) Validate(v *component.Validation) {
	w := c
	if !w.On {
		return
	}
	bad := v.Bad
	switch w.Sink {
	case SinkStaging: // the tables of won_deals.staging in erp.company (docs/protheus.md)
		if err := w.Staging.Aliases().Validate(); err != nil {
			bad("staging", "%s", strings.ReplaceAll(err.Error(), "\n", "; "))
		}
	case SinkREST:
		if u, err := url.Parse(w.REST.URL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			bad("rest.url", "%q is not an http(s) URL", dsn.Redact(w.REST.URL))
		} else if u.User != nil {
			bad("rest.url", "must not carry credentials; use user and password, or token")
		}
		if w.REST.User != "" && w.REST.Token != "" {
			bad("rest", "set user and password, or token, not both")
		}
		if w.REST.Timeout.D() <= 0 {
			bad("rest.timeout", "must be positive")
		}
	default:
		bad("sink", "%q is not one of staging, rest", w.Sink)
	}
	if w.Schedule != "" {
		if err := component.CheckSchedule(w.Schedule, component.MinInterval); err != nil {
			bad("schedule", "%v", err)
		}
	}
	seen := map[string]bool{}
	for _, p := range w.Pipelines {
		key := strings.ToLower(strings.TrimSpace(p))
		switch {
		case key == "":
			bad("pipelines", "a pipeline name is blank")
		case seen[key]:
			bad("pipelines", "%q is listed twice", p)
		}
		seen[key] = true
	}
	if w.Overlap.D() < 0 {
		bad("overlap", "must not be negative")
	}
	if w.Lookback.D() < 0 {
		bad("lookback", "must not be negative")
	}
	if !streams.ValidFilial(w.Filial) {
		bad("filial", "%q is not a Protheus branch code", w.Filial)
	}
	for key, v := range map[string]struct {
		val string
		max int
	}{
		"order_type": {w.OrderType, 1}, "payment_terms": {w.PaymentTerms, 3}, "price_table": {w.PriceTable, 3},
		"tes": {w.TES, 3}, "operation": {w.Operation, 2}, "seller": {w.Seller, 6},
	} {
		if len(v.val) > v.max {
			bad(""+key, "%q is longer than the ERP field (%d)", v.val, v.max)
		}
	}
	ord, cust, prod := settingsOf(v.Config)
	if ord.OrderNumberField == "" {
		v.Bad("", "needs streams.orders.order_number_field: the order number goes back onto the deal there, and a deal with a number is never sent twice")
	}
	if !cust.On {
		v.Bad("", "needs streams.customers: a won deal's organization is found in the ERP through it")
	}
	if !prod.On {
		v.Bad("", "needs streams.products: a won deal's products are found in the ERP through it")
	}
	if e, ok := v.Config(access.Name); ok && w.Sink == SinkStaging {
		if ec, ok := e.(*access.Config); ok && ec.Source == access.SourceREST {
			v.Bad("sink", "\"staging\" writes to the ERP database, which erp.source = \"rest\" does not open: use sink = \"rest\"")
		}
	}
}

// DDL implements component.Scripter: the staging tables of sink =
// "staging" for the configured aliases and company, in the dialect of
// erp.driver or database.
func (c *Config) DDL(database string, configs func(string) (component.Config, bool)) (string, error) {
	e, _ := configs(access.Name)
	ec, _ := e.(*access.Config)
	if ec == nil {
		ec = access.Default()
	}
	if database == "" {
		database = ec.Driver
	}
	if !slices.Contains(protheus.StagingDatabases, database) {
		return "", fmt.Errorf("--database: want one of %s (erp.driver is %q)", strings.Join(protheus.StagingDatabases, ", "), ec.Driver)
	}
	a := c.Staging.Aliases()
	script, err := protheus.StagingScript(database, ec.Company, a)
	if err != nil {
		return "", fmt.Errorf("won_deals.staging: %w", err)
	}
	header, items := a.Tables(ec.Company)
	return fmt.Sprintf("-- erpbridge staging tables %s (header, alias %s) and %s (items, alias %s), %s\n%s",
		header, a.Header, items, a.Items, database, script), nil
}
