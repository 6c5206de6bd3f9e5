// Package marketingsales is the stream of sales to RD Station Marketing
// events: one SALE per invoiced ERP order (never one per contact: that
// would multiply the revenue in RD's reports), with the order's value,
// sent for the customer's primary contact (the first contact AC8 links to
// it that the marketing_contacts stream sends); an order closed unsold
// (residue eliminated) sends one OPPORTUNITY_LOST with its reason.
//
// Events are not upserts: each is recorded in the outbox before it leaves
// and never sent twice (bridge.Unrepeatable): one whose answer was lost
// is parked for a person, who looks it up in RD Station Marketing and
// resolves it (`erpbridge errors resolve`). marketing.events turns the
// stream's events off, or keeps them to sales; "auto" (the default) is off
// when RD Station's own CRM⇄Marketing integration is on, because both
// would count the same sale.
package marketingsales

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"go.uber.org/zap"

	"github.com/erpbridge/erpbridge/bridge"
	"github.com/erpbridge/erpbridge/bridge/component"
	"github.com/erpbridge/erpbridge/bridge/store"
	"github.com/erpbridge/erpbridge/erp"
	"github.com/erpbridge/erpbridge/erp/protheus"
	"github.com/erpbridge/erpbridge/erp/protheus/streams"
	"github.com/erpbridge/erpbridge/erp/protheus/streams/marketingcontacts"
	"github.com/erpbridge/erpbridge/mapping"
)

// Name is the stream's name.
const Name = "marketing_sales"

// Event types.
const (
	Sale = "SALE"
	Lost = "OPPORTUNITY_LOST"
)

func init() { component.Register(Component{}) }

// Component registers the stream.
type Component struct{}

var _ component.Component = Component{}

func (Component) Name() string                { return Name }
func (Component) Table() string               { return "streams." + Name }
func (Component) NewConfig() component.Config { return Default() }

// Config is [streams.marketing_sales].
type Config struct {
	streams.Base
	// Since is the first issue date (YYYYMMDD) whose orders send events;
	// "" is the day the stream first ran (no history). Setting it to an
	// earlier date loads the history on the next run (a retroactive load:
	// the sales already sent are not sent again).
	Since string `toml:"since"`
	// Types are the order types (C5_TIPO) that are sales.
	Types []string `toml:"types"`
	// WonWhen and LostWhen are the order statuses that send a SALE and an
	// OPPORTUNITY_LOST.
	WonWhen  []string `toml:"won_when"`
	LostWhen []string `toml:"lost_when"`
}

var (
	_ component.Config      = (*Config)(nil)
	_ component.Validator   = (*Config)(nil)
	_ component.Outputs     = (*Config)(nil)
	_ component.TableReader = (*Config)(nil)
	_ component.Provisioner = (*Config)(nil)
	_ component.Scheduled   = (*Config)(nil)
)

// Default is [streams.marketing_sales] with every default set: off.
func Default() *Config {
	return &Config{Base: streams.Base{On: false, Filial: "01", Mode: streams.ModeUpsert, Deletes: streams.DeletesIgnore},
		Types: []string{protheus.TypeNormal}, WonWhen: []string{string(protheus.StatusInvoiced)},
		LostWhen: []string{string(protheus.StatusResidueEliminated)}}
}

// Validate implements component.Validator.
func (c *Config) Validate(v *component.Validation) {
	if !c.On {
		return
	}
	c.ValidateBase(v)
	streams.OneBranchOnly(v, &c.Base, "Marketing streams read one branch (filial) of the first company")
	if c.Deletes != streams.DeletesIgnore {
		v.Bad("deletes", "%q: an event is never taken back", c.Deletes)
	}
	if c.Mode != streams.ModeUpsert {
		v.Bad("mode", "%q: events are sent once each (upsert is the only mode)", c.Mode)
	}
	if c.Since != "" {
		if _, err := time.Parse("20060102", c.Since); err != nil {
			v.Bad("since", "%q is not a date YYYYMMDD", c.Since)
		}
	}
	statuses := protheus.Statuses()
	for _, key := range []string{"won_when", "lost_when"} {
		list := c.WonWhen
		if key == "lost_when" {
			list = c.LostWhen
		}
		for _, s := range list {
			if !slices.Contains(statuses, protheus.Status(s)) {
				v.Bad(key, "%q is not an order status (%v)", s, statuses)
			}
		}
	}
	for _, s := range c.WonWhen {
		if slices.Contains(c.LostWhen, s) {
			v.Bad("lost_when", "%q is also in won_when", s)
		}
	}
	if mc, ok := v.Config(marketingcontacts.Name); !ok || !mc.Enabled() {
		v.BadAbs("streams."+marketingcontacts.Name+".enabled", "must be true: streams.%s sends events for the contacts it sends", Name)
	}
}

// Outputs implements component.Outputs.
func (c *Config) Outputs() []component.Output {
	return []component.Output{{Stream: Name, Entity: mapping.EntityMarketingEvent, Schedule: c.Schedule}}
}

// Tables implements component.TableReader: SC5, SC6 (the customers and
// their contacts are read through marketing_contacts' tables).
func (c *Config) Tables(company string, _ func(string) (component.Config, bool)) ([]component.Table, error) {
	sc5, err := protheus.Orders(company, c.Filial)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", Name, err)
	}
	sc6, err := protheus.OrderItems(company, c.Filial)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", Name, err)
	}
	return []component.Table{
		{Role: "marketing sales", Route: "orders", RouteDefault: "/orders", Spec: sc5},
		{Role: "marketing sale items", Route: "order_items", RouteDefault: "/orderItems", Spec: sc6},
	}, nil
}

// Routes implements component.RouteDeclarer.
func (c *Config) Routes() map[string]string {
	return map[string]string{"orders": "/orders", "order_items": "/orderItems"}
}

// EventsPolicy is what a Marketing target system says of the events it
// takes: the resolved marketing.events (main is the CRM, where RD
// Station's own integration shows).
type EventsPolicy interface {
	EventsPolicy(ctx context.Context, main component.TargetSystem) (sales, lost bool, why string, err error)
}

// firstRunKey is the store meta key of the day the stream first ran.
const firstRunKey = "marketing_sales:first_run"

// Provision implements component.Provisioner.
func (c *Config) Provision(ctx context.Context, env *component.Env) (component.Provisioned, error) {
	sys, ok := env.Target(marketingcontacts.System)
	if !ok {
		return component.Provisioned{}, fmt.Errorf("streams.%s: RD Station Marketing is not enabled", Name)
	}
	pol, ok := sys.(EventsPolicy)
	if !ok {
		return component.Provisioned{}, fmt.Errorf("streams.%s: the %s target system takes no events", Name, marketingcontacts.System)
	}
	sales, lost, why, err := pol.EventsPolicy(ctx, env.CRM)
	if err != nil {
		return component.Provisioned{}, fmt.Errorf("streams.%s: %w", Name, err)
	}
	if env.Log != nil {
		env.Log.Info(Name+": "+why, zap.String("stream", Name))
	}
	if !sales {
		return component.Provisioned{Warnings: []component.Note{{Stream: Name, Text: "sends no events: " + why}}}, nil
	}
	since, err := c.window(ctx, env)
	if err != nil {
		return component.Provisioned{}, err
	}
	mcCfg, _ := env.Config(marketingcontacts.Name)
	mc, _ := mcCfg.(*marketingcontacts.Config)
	if mc == nil || !mc.On {
		return component.Provisioned{}, fmt.Errorf("streams.%s needs streams.%s", Name, marketingcontacts.Name)
	}
	// Marketing is fed from the first company of erp.companies (its keys
	// carry no company); an estate of several is not split yet.
	tables, err := c.Tables(env.ERP.Companies()[0], env.Config)
	if err != nil {
		return component.Provisioned{}, err
	}
	ctables, err := mc.Tables(env.ERP.Companies()[0], env.Config)
	if err != nil {
		return component.Provisioned{}, err
	}
	var srcs []erp.Source
	closeAll := func() error {
		var errs []error
		for _, s := range srcs {
			errs = append(errs, s.Close())
		}
		return errors.Join(errs...)
	}
	open := func(t component.Table) (erp.Source, error) {
		s, err := env.ERP.Open(ctx, t, nil)
		if err == nil && s == nil {
			err = fmt.Errorf("streams.%s: the ERP does not serve %s", Name, t.Role)
		}
		if err != nil {
			return nil, err
		}
		srcs = append(srcs, s)
		return s, nil
	}
	sc5, err := open(tables[0])
	if err != nil {
		return component.Provisioned{Close: closeAll}, err
	}
	sc6, err := open(tables[1])
	if err != nil {
		return component.Provisioned{Close: closeAll}, err
	}
	su5t := ctables[0]
	su5t.Mapping = nil
	su5, err := open(su5t)
	if err != nil {
		return component.Provisioned{Close: closeAll}, err
	}
	ac8, err := open(ctables[1])
	if err != nil {
		return component.Provisioned{Close: closeAll}, err
	}
	target, err := sys.Target(mapping.EntityMarketingEvent, component.TargetOptions{})
	if err != nil {
		return component.Provisioned{Close: closeAll}, err
	}
	cust := &marketingcontacts.Customers{SC6: sc6, AC8: ac8, CustomerFilial: mc.CustomerFilial, ContactFilial: mc.Filial}
	m := &mapper{cfg: c, cust: cust, contacts: su5, since: since, lost: lost}
	// A change of an item (a delivery writes only SC6) is a change of its order.
	src := erp.Source(sc5)
	if sc6.Incremental() {
		src = streams.NewRelated(sc5, streams.NewRelation("SC6", sc6, nil, streams.ByColumn(sc5, "C6_NUM", "C5_NUM")))
	}
	var calls func() int64
	if n, ok := sys.(component.CallCounter); ok {
		calls = n.APICalls
	}
	return component.Provisioned{Close: closeAll, Streams: []*bridge.Stream{{
		Name: Name, Source: src, Mapper: m, Target: target, Mode: bridge.ModeUpsert, Deletes: bridge.DeletesIgnore,
		DependsOn: []string{marketingcontacts.Name}, MappingHash: streams.SettingsHash(c, since, lost), APICalls: calls,
	}}}, nil
}

// window is the first issue date whose orders send events: Since, else
// the day the stream first ran (recorded the first time it is opened for
// a real run).
func (c *Config) window(ctx context.Context, env *component.Env) (time.Time, error) {
	if c.Since != "" {
		return time.Parse("20060102", c.Since)
	}
	v, ok, err := env.Store.Meta(ctx, firstRunKey)
	if err != nil {
		return time.Time{}, err
	}
	if !ok {
		now := time.Now()
		if env.Clock != nil {
			now = env.Clock.Now()
		}
		v = now.Format("20060102")
		if !env.DryRun {
			if err := env.Store.Update(ctx, func(tx *store.Tx) error { return tx.SetMeta(firstRunKey, v) }); err != nil {
				return time.Time{}, err
			}
		}
	}
	return time.Parse("20060102", v)
}

// mapper maps an SC5 order to its event.
type mapper struct {
	cfg      *Config
	cust     *marketingcontacts.Customers
	contacts erp.Source // SU5
	since    time.Time
	lost     bool
}

var _ bridge.Mapper = (*mapper)(nil)

func (m *mapper) Map(ctx context.Context, rec erp.Record, r bridge.Resolver) bridge.Mapped {
	skip := func(why string) bridge.Mapped { return bridge.Mapped{Skip: true, SkipReason: why} }
	num := strings.TrimSpace(streams.Str(rec, "C5_NUM"))
	if t := strings.TrimSpace(streams.Str(rec, "C5_TIPO")); !slices.Contains(m.cfg.Types, t) {
		return skip(fmt.Sprintf("order type C5_TIPO = %q is not a sale (streams.%s.types)", t, Name))
	}
	issued, _ := rec.Fields["C5_EMISSAO"].(time.Time)
	if issued.Before(m.since) {
		return skip(fmt.Sprintf("issued %s, before %s (the stream's history window: streams.%s.since loads more)",
			issued.Format(time.DateOnly), m.since.Format(time.DateOnly), Name))
	}
	items, err := m.cust.Items(ctx, num)
	if err != nil {
		return bridge.Mapped{Retry: fmt.Errorf("order %s: reading its items: %w", rec.Key, err)}
	}
	status := protheus.OrderStatus(rec, items)
	event := ""
	switch {
	case slices.Contains(m.cfg.WonWhen, string(status)):
		event = Sale
	case m.lost && slices.Contains(m.cfg.LostWhen, string(status)):
		event = Lost
	default:
		return skip("order " + string(status) + ": no event")
	}
	cod, loja := streams.Str(rec, "C5_CLIENTE"), streams.Str(rec, "C5_LOJACLI")
	email, name, err := m.contact(ctx, cod, loja, r)
	if err != nil {
		return bridge.Mapped{Retry: fmt.Errorf("order %s: %w", rec.Key, err)}
	}
	if email == "" {
		reason := fmt.Errorf("order %s: its %s has no contact to go to: customer %s has no contact in Marketing (AC8 → SU5 with an e-mail the marketing_contacts stream sends)",
			rec.Key, event, m.cust.CustomerKey(cod, loja))
		return bridge.Mapped{Skip: true, SkipReason: reason.Error(), Warnings: []error{reason}}
	}
	p := bridge.Payload{"event_type": event, "email": email, "sale": rec.Key, "order": num}
	if name != "" {
		p["name"] = name
	}
	switch event {
	case Sale:
		p["value"] = marketingcontacts.OrderTotal(items).StringFixed(2)
	case Lost:
		p["reason"] = "Pedido " + num + ": " + lostReason(status)
	}
	// The fingerprint is the event and the sale, not the value nor the
	// contact: once sent, a later change of the order sends nothing.
	fp, err := mapping.Fingerprint("marketing_sales/1", map[string]any{"event_type": event, "sale": rec.Key})
	if err != nil {
		return bridge.Mapped{Errors: []error{err}}
	}
	return bridge.Mapped{Payload: p, Fingerprint: fp}
}

func lostReason(s protheus.Status) string {
	if s == protheus.StatusResidueEliminated {
		return "resíduo eliminado no ERP (fechado sem faturar)"
	}
	return string(s)
}

// contact is the e-mail (its Marketing id) and name of a customer's
// primary contact: the first, in AC8 order, that marketing_contacts sends.
func (m *mapper) contact(ctx context.Context, cod, loja string, r bridge.Resolver) (string, string, error) {
	keys, err := m.cust.ContactsOfCustomer(ctx, strings.TrimSpace(cod), strings.TrimSpace(loja))
	if err != nil {
		return "", "", err
	}
	for _, k := range keys {
		email, err := r.Resolve(ctx, marketingcontacts.Name, k)
		var dep *bridge.DependencyError
		switch {
		case errors.Is(err, bridge.ErrNoDependency) || errors.As(err, &dep):
			continue
		case err != nil:
			return "", "", fmt.Errorf("waiting for contact %s: %w", k, err)
		}
		name := ""
		if rec, ok, err := m.contacts.Lookup(ctx, k); err == nil && ok {
			name = mapping.Title(streams.Str(rec, "U5_CONTAT"))
		}
		return email, name, nil
	}
	return "", "", nil
}

func (m *mapper) MapDeleted(context.Context, erp.Record, bridge.Resolver) bridge.Mapped {
	return bridge.Mapped{Skip: true, SkipReason: "a deleted order sends no event"}
}
