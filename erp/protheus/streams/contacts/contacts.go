// Package contacts is the contacts stream: Protheus contacts (SU5), linked
// to customers through AC8, become CRM contacts of their customer's
// organization; with customer_email, each customer's own e-mail and phone
// become a contact too (the customer_contacts stream).
package contacts

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/erpbridge/erpbridge/bridge"
	"github.com/erpbridge/erpbridge/bridge/component"
	"github.com/erpbridge/erpbridge/erp"
	"github.com/erpbridge/erpbridge/erp/protheus"
	"github.com/erpbridge/erpbridge/erp/protheus/streams"
	"github.com/erpbridge/erpbridge/erp/protheus/streams/customers"
	"github.com/erpbridge/erpbridge/mapping"
)

// Name is the stream's name; CustomerContacts the second stream it runs
// with customer_email.
const (
	Name             = "contacts"
	CustomerContacts = "customer_contacts"
)

// Policies of Config.Unlinked and Config.SharedEmail.
const (
	UnlinkedSkip    = "skip"
	UnlinkedSync    = "sync"
	SharedEmailOmit = "omit_email"
	SharedEmailSkip = "skip"
)

// linksPerContact bounds the AC8 rows one contact reads (deleted versions
// included), the same whether read alone or with its page.
const linksPerContact = 1000

func init() { component.Register(Component{}) }

// Component registers the contacts stream.
type Component struct{}

var _ component.Component = Component{}

func (Component) Name() string                { return Name }
func (Component) Table() string               { return "streams." + Name }
func (Component) NewConfig() component.Config { return Default() }

// Config is [streams.contacts].
type Config struct {
	streams.Declarative
	// CustomerEmail also sends each customer's own A1_EMAIL / phone as a contact.
	CustomerEmail bool `toml:"customer_email"`
	// Unlinked says what becomes of a contact with no AC8 link to a
	// customer the CRM has (streams.customers on): skip (default) or sync
	// (without organization).
	Unlinked string `toml:"unlinked"`
	// SharedEmail says what becomes of a contact (SU5, or a customer's own
	// with customer_email) whose e-mail another ERP record's contact already
	// has in the CRM: omit_email (default: sent without it, listed as a
	// warning) or skip (not sent, listed once).
	SharedEmail string `toml:"shared_email"`
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

// Default is [streams.contacts] with every default set.
func Default() *Config {
	return &Config{Unlinked: UnlinkedSkip, SharedEmail: SharedEmailOmit, Declarative: streams.Declarative{
		Base: streams.Base{On: true, Mode: streams.ModeUpsert, Deletes: streams.DeletesIgnore}}}
}

// ApplyDefaults implements component.Defaulter.
func (c *Config) ApplyDefaults(set func(key ...string) bool) error {
	m, err := streams.OverlayMapping(c.Mapping, protheus.ContactSpec(), func(key ...string) bool {
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
	if u := c.Unlinked; u != UnlinkedSkip && u != UnlinkedSync {
		v.Bad("unlinked", "%q is not one of skip, sync", u)
	}
	if e := c.SharedEmail; e != SharedEmailOmit && e != SharedEmailSkip {
		v.Bad("shared_email", "%q is not one of omit_email, skip", e)
	}
}

// customerContacts reports whether the customer_contacts stream runs.
func (c *Config) customerContacts(cust *customers.Config) bool {
	return c.On && c.CustomerEmail && cust != nil && cust.On
}

// Outputs implements component.Outputs. customer_contacts is listed when
// customer_email is on (it runs only with the customers stream).
func (c *Config) Outputs() []component.Output {
	return []component.Output{
		{Stream: Name, Entity: mapping.EntityContact, Schedule: c.Schedule},
		{Stream: CustomerContacts, Entity: mapping.EntityContact, Schedule: c.Schedule, Off: !c.CustomerEmail},
	}
}

// Tables implements component.TableReader: SU5 and AC8.
func (c *Config) Tables(company string, _ func(string) (component.Config, bool)) ([]component.Table, error) {
	spec, err := protheus.Contacts(company, c.Filial)
	if err != nil {
		return nil, fmt.Errorf("contacts: %w", err)
	}
	lspec, err := protheus.ContactLinks(company, c.Filial)
	if err != nil {
		return nil, fmt.Errorf("contact links: %w", err)
	}
	return []component.Table{
		{Role: "contacts", Route: "contacts", RouteDefault: routes["contacts"], Spec: spec, Extra: []string{"U5_CODCONT"}, Mapping: &c.Mapping},
		{Role: "contact links", Route: "contact_links", RouteDefault: routes["contact_links"], Spec: lspec},
	}, nil
}

// customerContactSpec is the mapping of a customer's own contact.
func customerContactSpec() mapping.Spec {
	return mapping.Spec{
		Version: "1",
		Record:  "customer contact",
		Entity:  mapping.EntityContact,
		Fields: map[string]string{
			"name":   "title(ifempty(A1_CONTATO, A1_NOME))",
			"emails": "emails(A1_EMAIL)",
			"phones": "[phone(A1_DDD, A1_TEL)]",
		},
	}
}

// Provision implements component.Provisioner.
func (c *Config) Provision(ctx context.Context, env *component.Env) (component.Provisioned, error) {
	cust, _ := env.Config(customers.Name)
	custCfg, _ := cust.(*customers.Config)
	resolve := custCfg != nil && custCfg.On
	o, err := streams.Open(ctx, env, Name, mapping.EntityContact, c.Mapping, c)
	if err != nil {
		return component.Provisioned{}, err
	}
	schema, m, src, tables := o.Schema, o.Mapping, o.Source, o.Tables
	links, err := env.ERP.Open(ctx, tables[1], nil)
	if err != nil {
		return component.Provisioned{}, err
	}
	codWidth := 6
	if f, ok := protheus.Lookup("SA1", "A1_COD"); ok {
		codWidth = f.Size
	}
	mp := &mapper{m: m, links: links, codWidth: codWidth, resolve: resolve, syncUnlinked: c.Unlinked == UnlinkedSync}
	if mp.deleteMk, err = streams.MarkFor(c.Deletes, c.DeleteMark, schema, m); err != nil {
		return component.Provisioned{}, fmt.Errorf("streams.contacts.delete_mark: %w", err)
	}
	if resolve {
		// A new or removed AC8 link changes the contact's organization,
		// and so may a change of the customer it links to. (A table
		// without S_T_A_M_P_ shows its changes at the nightly full pass.)
		var rels []streams.Relation
		toContact := streams.ByColumn(src, "AC8_CODCON", "U5_CODCONT")
		if links.Incremental() {
			rels = append(rels, streams.NewRelation("AC8", links, nil, toContact))
		}
		ct, err := customers.Table(env.ERP.Company(), custCfg.Filial, "contact customers")
		if err != nil {
			return component.Provisioned{}, err
		}
		custSrc, err := env.ERP.Open(ctx, ct, nil)
		if err != nil {
			return component.Provisioned{}, err
		}
		if custSrc.Incremental() {
			rels = append(rels, streams.NewRelation("SA1", custSrc, protheus.CustomerStatistics(),
				streams.ByMatch(links, func(r erp.Record) []erp.Match {
					return protheus.LinksOfCustomer(streams.Str(r, "A1_FILIAL"), streams.Str(r, "A1_COD"), streams.Str(r, "A1_LOJA"))
				}), toContact))
		}
		if len(rels) > 0 {
			src = streams.NewRelated(src, rels...)
		}
	}
	// Both contact streams share one target, so one adoption index.
	target, err := env.CRM.Target(mapping.EntityContact, component.TargetOptions{OmitSharedKey: c.SharedEmail == SharedEmailOmit})
	if err != nil {
		return component.Provisioned{}, err
	}
	st := &bridge.Stream{
		Name: Name, Source: src, Mapper: mp, Target: target,
		Mode: bridge.Mode(c.Mode), Deletes: bridge.Deletes(c.Deletes), MappingHash: streams.SettingsHash(c),
	}
	if resolve {
		st.DependsOn = []string{customers.Name}
	}
	out := component.Provisioned{Streams: []*bridge.Stream{st}}
	if !c.customerContacts(custCfg) {
		return out, nil
	}
	cm, err := streams.Compile(Name+".customer_email", customerContactSpec(), schema)
	if err != nil {
		return component.Provisioned{}, err
	}
	ct, err := customers.Table(env.ERP.Company(), custCfg.Filial, CustomerContacts)
	if err != nil {
		return component.Provisioned{}, err
	}
	ct.Extra = []string{"A1_MSBLQL", "A1_EMAIL", "A1_TEL"}
	csrc, err := env.ERP.Open(ctx, ct, cm)
	if err != nil {
		return component.Provisioned{}, err
	}
	out.Streams = append(out.Streams, &bridge.Stream{
		Name: CustomerContacts, Source: csrc, Mapper: &customerMapper{m: cm, blocked: custCfg.Blocked},
		Target: target, Mode: bridge.Mode(c.Mode), Deletes: bridge.DeletesIgnore,
		DependsOn: []string{customers.Name}, MappingHash: streams.SettingsHash(c, custCfg),
	})
	return out, nil
}

// mapper maps SU5 contacts, linked to customers through AC8, to contacts of
// the customer's organization.
type mapper struct {
	m        *mapping.Mapping
	links    erp.Source // AC8
	codWidth int        // width of A1_COD inside AC8_CODENT
	resolve  bool       // the customers stream is enabled
	// syncUnlinked sends a contact linked to no customer the CRM has
	// (streams.contacts.unlinked = "sync") without organization.
	syncUnlinked bool
	deleteMk     *streams.Mark
	page         streams.PageRows // the AC8 links of the page being mapped
}

var (
	_ bridge.Mapper       = (*mapper)(nil)
	_ bridge.PagePreparer = (*mapper)(nil)
)

// PreparePage reads the AC8 links of a page of contacts in a few queries.
func (c *mapper) PreparePage(ctx context.Context, recs []erp.Record) {
	if !c.resolve {
		return
	}
	codes := make([]string, len(recs))
	for i, r := range recs {
		codes[i] = streams.Str(r, "U5_CODCONT")
	}
	c.page.Prepare(ctx, c.links, nil, "AC8_CODCON", codes, linksPerContact)
}

// organization returns the CRM id of the first customer (by AC8 record
// number) the contact is linked to. A CRM contact belongs to one
// organization; a contact linked to several customers goes to the first.
// passed lists the customers it is linked to that will not be in the CRM.
func (c *mapper) organization(ctx context.Context, rec erp.Record, r bridge.Resolver) (id string, passed []string, err error) {
	if !c.resolve {
		return "", nil, nil
	}
	code := streams.Str(rec, "U5_CODCONT")
	links, err := c.page.Find(code, func() ([]erp.Record, error) {
		return c.links.Find(ctx, protheus.LinksOfContact(code), linksPerContact)
	})
	if err != nil {
		return "", nil, fmt.Errorf("reading AC8 links of contact %s: %w", code, err)
	}
	for _, l := range links {
		if l.Deleted || strings.TrimSpace(streams.Str(l, "AC8_ENTIDA")) != "SA1" {
			continue
		}
		ent := streams.Str(l, "AC8_CODENT")
		if len(ent) < c.codWidth {
			continue
		}
		key := erp.JoinKey(streams.Str(l, "AC8_FILENT"), ent[:c.codWidth], ent[c.codWidth:])
		id, err := r.Resolve(ctx, customers.Name, key)
		if errors.Is(err, bridge.ErrNoDependency) {
			passed = append(passed, key) // e.g. a blocked customer: try the next link
			continue
		}
		if err != nil {
			return "", nil, err
		}
		return id, nil, nil
	}
	return "", passed, nil
}

func (c *mapper) Map(ctx context.Context, rec erp.Record, r bridge.Resolver) bridge.Mapped {
	orgID, passed, err := c.organization(ctx, rec, r)
	if err != nil {
		return bridge.Mapped{Retry: fmt.Errorf("contact %s waits for its organization: %w", rec.Key, err)}
	}
	if c.resolve && orgID == "" && !c.syncUnlinked {
		// Left out on purpose, but listed: a contact never vanishes unnoticed.
		why := "it has no AC8 link to a customer"
		if len(passed) > 0 {
			why = "its AC8 links go to customers the CRM does not get (blocked, deleted or not in SA1): " + strings.Join(passed, ", ")
		}
		reason := fmt.Errorf("contact %s: %s (streams.contacts.unlinked = \"skip\")", rec.Key, why)
		return bridge.Mapped{Skip: true, SkipReason: reason.Error(), Warnings: []error{reason}}
	}
	extra := map[string]any{}
	out := streams.MapRecord(c.m, rec, extra)
	if out.Payload != nil && orgID != "" {
		out.Payload["organization_id"] = orgID
		fp, err := mapping.Fingerprint(c.m.Version(), out.Payload)
		if err != nil {
			return bridge.Mapped{Errors: []error{err}}
		}
		out.Fingerprint = fp
	}
	return out
}

func (c *mapper) MapDeleted(ctx context.Context, rec erp.Record, r bridge.Resolver) bridge.Mapped {
	if c.deleteMk == nil {
		return bridge.Mapped{Skip: true, SkipReason: "deletes are ignored"}
	}
	return c.deleteMk.Apply(c.m.Version(), c.Map(ctx, rec, r))
}

// customerMapper maps an SA1 customer's own e-mail and phone to a contact
// of its organization (streams.contacts.customer_email).
type customerMapper struct {
	m       *mapping.Mapping
	blocked string
}

var _ bridge.Mapper = (*customerMapper)(nil)

func (c *customerMapper) Map(ctx context.Context, rec erp.Record, r bridge.Resolver) bridge.Mapped {
	if protheus.IsBlocked(streams.Str(rec, "A1_MSBLQL")) && c.blocked == customers.BlockedSkip {
		return bridge.Mapped{Skip: true, SkipReason: "blocked in the ERP (A1_MSBLQL = '1')"}
	}
	if strings.TrimSpace(streams.Str(rec, "A1_EMAIL")) == "" && strings.TrimSpace(streams.Str(rec, "A1_TEL")) == "" {
		return bridge.Mapped{Skip: true, SkipReason: "the customer has no e-mail or phone"}
	}
	orgID, err := r.Resolve(ctx, customers.Name, rec.Key)
	if errors.Is(err, bridge.ErrNoDependency) {
		return bridge.Mapped{Skip: true, SkipReason: "the customer is not synced: " + err.Error()}
	}
	if err != nil {
		return bridge.Mapped{Retry: fmt.Errorf("customer contact %s waits for its organization: %w", rec.Key, err)}
	}
	out := streams.MapRecord(c.m, rec, nil)
	if out.Payload != nil {
		out.Payload["organization_id"] = orgID
		fp, err := mapping.Fingerprint(c.m.Version(), out.Payload)
		if err != nil {
			return bridge.Mapped{Errors: []error{err}}
		}
		out.Fingerprint = fp
	}
	return out
}

func (c *customerMapper) MapDeleted(context.Context, erp.Record, bridge.Resolver) bridge.Mapped {
	return bridge.Mapped{Skip: true, SkipReason: "a deleted customer's contact is left in the CRM"}
}

var _ component.Checker = (*Config)(nil)

// Check implements component.Checker: the mapping's custom field labels.
func (c *Config) Check(ctx context.Context, env *component.Env) []component.Finding {
	return streams.CheckMappingLabels(ctx, env, Name, c.Mapping)
}

// routes are the REST routes the stream may read, with their default paths.
var routes = map[string]string{"contacts": "/contacts", "contact_links": "/contactLinks"}

// Routes implements component.RouteDeclarer.
func (c *Config) Routes() map[string]string { return routes }
