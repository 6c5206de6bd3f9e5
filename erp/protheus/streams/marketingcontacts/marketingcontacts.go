// Package marketingcontacts is the stream of customer contacts to RD
// Station Marketing: the SU5 contacts of live customers (linked through
// AC8) become Marketing contacts, upserted by e-mail with the customer's
// company, city and state, tags, mapped custom fields (CNPJ, customer
// code, last purchase, total bought in 12 months …) and the configured
// legal bases; a second stream (marketing_stages) marks the contacts of
// customers with an invoiced sale as clients in the funnel. With
// customer_email, each customer's own A1_EMAIL becomes a contact too (off
// by default: it is often the NF-e or finance mailbox).
//
// What a run may create is capped (marketing.max_new_contacts): Marketing
// is priced by its contact base. A contact whose e-mail was forgotten on a
// deletion request (`erpbridge marketing forget`) is never sent again.
package marketingcontacts

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/erpbridge/erpbridge/bridge"
	"github.com/erpbridge/erpbridge/bridge/component"
	"github.com/erpbridge/erpbridge/bridge/store"
	"github.com/erpbridge/erpbridge/erp"
	"github.com/erpbridge/erpbridge/erp/protheus"
	"github.com/erpbridge/erpbridge/erp/protheus/streams"
	"github.com/erpbridge/erpbridge/mapping"
)

// Stream names.
const (
	Name           = "marketing_contacts"
	Stages         = "marketing_stages"
	CustomerEmails = "marketing_customer_emails"
	// System is the target system component the streams write to.
	System = "marketing"
)

// Stage is the funnel stage of a customer with an invoiced sale.
const Stage = "Client"

func init() { component.Register(Component{}) }

// Component registers the stream.
type Component struct{}

var _ component.Component = Component{}

func (Component) Name() string                { return Name }
func (Component) Table() string               { return "streams." + Name }
func (Component) NewConfig() component.Config { return Default() }

// Config is [streams.marketing_contacts].
type Config struct {
	streams.Base
	// Mapping declares Marketing field ← ERP expression over the SU5
	// contact, its customer's SA1 columns and the figures LAST_PURCHASE,
	// BOUGHT_12M, CLIENT, SALES and ERP_TAGS.
	Mapping mapping.Spec `toml:"mapping"`
	// CustomerFilial is SA1's filial (blank: shared); OrderFilial SC5's
	// and SC6's.
	CustomerFilial string `toml:"customer_filial"`
	OrderFilial    string `toml:"order_filial"`
	// SoldWithinMonths keeps only customers with an invoiced sale issued
	// in the last N months (0: every live customer).
	SoldWithinMonths int `toml:"sold_within_months"`
	// Tags every contact gets; SellerTag adds "vendedor-<A1_VEND>".
	Tags      []string `toml:"tags"`
	SellerTag bool     `toml:"seller_tag"`
	// ClientStage marks contacts of customers with an invoiced sale as
	// Client in the funnel (the marketing_stages stream).
	ClientStage bool `toml:"client_stage"`
	// CustomerEmail also sends each live customer's own A1_EMAIL.
	CustomerEmail bool `toml:"customer_email"`
}

var (
	_ component.Config      = (*Config)(nil)
	_ component.Validator   = (*Config)(nil)
	_ component.Defaulter   = (*Config)(nil)
	_ component.Outputs     = (*Config)(nil)
	_ component.TableReader = (*Config)(nil)
	_ component.Provisioner = (*Config)(nil)
	_ component.Checker     = (*Config)(nil)
	_ component.Scheduled   = (*Config)(nil)
)

// Default is [streams.marketing_contacts] with every default set: off.
func Default() *Config {
	return &Config{Base: streams.Base{On: false, Filial: "01", Mode: streams.ModeUpsert, Deletes: streams.DeletesIgnore},
		OrderFilial: "01", Tags: []string{"cliente-erp"}, SellerTag: true, ClientStage: true, Mapping: DefaultSpec()}
}

// DefaultSpec maps an SU5 contact and its customer to a Marketing contact.
func DefaultSpec() mapping.Spec {
	return mapping.Spec{
		Version: "1",
		Record:  "marketing contact",
		Entity:  mapping.EntityMarketingContact,
		Fields: map[string]string{
			"email":          "email(U5_EMAIL)",
			"name":           "title(U5_CONTAT)",
			"personal_phone": "phone(U5_DDD, U5_FONE)",
			"mobile_phone":   "phone(U5_DDD, U5_CELULAR)",
			"company_name":   "title(A1_NOME)",
			"city":           "title(A1_MUN)",
			"state":          "A1_EST",
			"tags":           "ERP_TAGS",
		},
		OnInvalid: map[string]string{"email": mapping.SkipRecord},
	}
}

// customerSpec maps a customer's own e-mail (customer_email).
func customerSpec() mapping.Spec {
	s := DefaultSpec()
	s.Record = "marketing customer contact"
	s.Fields = map[string]string{
		"email": "email(A1_EMAIL)", "name": "title(ifempty(A1_CONTATO, A1_NOME))", "personal_phone": "phone(A1_DDD, A1_TEL)",
		"company_name": "title(A1_NOME)", "city": "title(A1_MUN)", "state": "A1_EST", "tags": "ERP_TAGS",
	}
	return s
}

// ApplyDefaults implements component.Defaulter.
func (c *Config) ApplyDefaults(set func(key ...string) bool) error {
	m, err := streams.OverlayMapping(c.Mapping, DefaultSpec(), func(key ...string) bool {
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
	if !c.On {
		return
	}
	c.ValidateBase(v)
	streams.OneBranchOnly(v, &c.Base, "Marketing streams read one branch (filial) of the first company")
	if c.Deletes != streams.DeletesIgnore {
		v.Bad("deletes", "%q: Marketing contacts are never marked; a deletion request is `erpbridge marketing forget EMAIL`", c.Deletes)
	}
	if !streams.ValidFilial(c.CustomerFilial) {
		v.Bad("customer_filial", "%q is not a Protheus branch code", c.CustomerFilial)
	}
	if !streams.ValidFilial(c.OrderFilial) {
		v.Bad("order_filial", "%q is not a Protheus branch code", c.OrderFilial)
	}
	if c.SoldWithinMonths < 0 || c.SoldWithinMonths > 240 {
		v.Bad("sold_within_months", "%d is outside 0..240", c.SoldWithinMonths)
	}
	for _, t := range c.Tags {
		if t != tag(t) {
			v.Bad("tags", "%q: Marketing tags are lower case without blanks (%q)", t, tag(t))
		}
	}
	if _, ok := c.Mapping.Fields["email"]; !ok {
		v.Bad("mapping.fields", "email is required: Marketing keys contacts by e-mail")
	}
	if err := streams.CheckMappingOn(v, c.Mapping, System); err != nil {
		v.Bad("mapping", "%v", err)
	}
	if m, ok := v.Config(System); !ok || !m.Enabled() {
		v.BadAbs("marketing.enabled", "must be true: streams.%s writes to RD Station Marketing", Name)
	}
}

// tag is a tag as Marketing takes it: lower case, blanks as hyphens.
func tag(s string) string {
	return strings.Join(strings.Fields(strings.ToLower(strings.TrimSpace(s))), "-")
}

// Outputs implements component.Outputs.
func (c *Config) Outputs() []component.Output {
	return []component.Output{
		{Stream: Name, Entity: mapping.EntityMarketingContact, Schedule: c.Schedule},
		{Stream: Stages, Entity: stagesEntity, Schedule: c.Schedule, Off: !c.ClientStage},
		{Stream: CustomerEmails, Entity: mapping.EntityMarketingContact, Schedule: c.Schedule, Off: !c.CustomerEmail},
	}
}

// stagesEntity is the facet entity of the contacts' funnel stage.
const stagesEntity = mapping.EntityMarketingContact + ".stage"

// Tables implements component.TableReader: SU5, AC8, SA1, SC5, SC6.
func (c *Config) Tables(company string, _ func(string) (component.Config, bool)) ([]component.Table, error) {
	specs := map[string]string{"SU5": c.Filial, "AC8": c.Filial, "SA1": c.CustomerFilial, "SC5": c.OrderFilial, "SC6": c.OrderFilial}
	roles := map[string][2]string{"SU5": {"marketing contacts", "contacts"}, "AC8": {"marketing contact links", "contact_links"},
		"SA1": {"marketing customers", "customers"}, "SC5": {"marketing customers' orders", "orders"}, "SC6": {"marketing customers' order items", "order_items"}}
	var out []component.Table
	for _, alias := range []string{"SU5", "AC8", "SA1", "SC5", "SC6"} {
		spec, err := protheus.Table(alias, company, specs[alias])
		if err != nil {
			return nil, fmt.Errorf("%s: %w", Name, err)
		}
		t := component.Table{Role: roles[alias][0], Route: roles[alias][1], RouteDefault: routes[roles[alias][1]], Spec: spec}
		switch alias {
		case "SU5":
			t.Extra, t.Mapping, t.Provided = []string{"U5_CODCONT"}, &c.Mapping, provided()
		case "SA1":
			t.Extra = []string{"A1_MSBLQL", "A1_EMAIL", "A1_VEND"}
		}
		out = append(out, t)
	}
	return out, nil
}

// Figures columns the mappers compute (Figures.Columns, ERP_TAGS).
var figureColumns = []string{"LAST_PURCHASE", "BOUGHT_12M", "CLIENT", "SALES", "ERP_TAGS"}

// provided are the columns a contact's mapping reads that the stream
// provides: its customer's SA1 columns and the figures.
func provided() []string {
	out := slices.Clone(figureColumns)
	for _, f := range protheus.Fields("SA1") {
		out = append(out, f.Name)
	}
	return out
}

// routes are the REST routes the stream reads (shared with the CRM streams).
var routes = map[string]string{"contacts": "/contacts", "contact_links": "/contactLinks", "customers": "/customers",
	"orders": "/orders", "order_items": "/orderItems"}

// Routes implements component.RouteDeclarer.
func (c *Config) Routes() map[string]string { return routes }

// Suppressed is the store meta key that keeps an e-mail out of Marketing
// after a deletion request: a hash, never the address itself.
func Suppressed(email string) string {
	sum := sha256.Sum256([]byte(strings.ToLower(strings.TrimSpace(email))))
	return "marketing:forgotten:" + hex.EncodeToString(sum[:])
}

// Forget puts an e-mail on the deletion list (`erpbridge marketing forget`):
// no stream sends it to Marketing again, whatever the ERP holds. The list
// keeps a hash, never the address. Deleting the contact in RD Station
// Marketing itself is the account's own step (docs/marketing.md).
func (c *Config) Forget(ctx context.Context, st *store.Store, email string) error {
	e := mapping.Email(email)
	if e == "" {
		return fmt.Errorf("%q is not an e-mail address", email)
	}
	if err := st.Update(ctx, func(tx *store.Tx) error { return tx.SetMeta(Suppressed(e), "1") }); err != nil {
		return fmt.Errorf("recording the deletion request: %w", err)
	}
	return nil
}

// Provision implements component.Provisioner.
func (c *Config) Provision(ctx context.Context, env *component.Env) (component.Provisioned, error) {
	sys, ok := env.Target(System)
	if !ok {
		return component.Provisioned{}, fmt.Errorf("streams.%s: RD Station Marketing is not enabled ([marketing] enabled = true)", Name)
	}
	schema, err := sys.Schema(ctx, mapping.EntityMarketingContact)
	if err != nil {
		return component.Provisioned{}, err
	}
	m, err := streams.Compile(Name, c.Mapping, schema)
	if err != nil {
		return component.Provisioned{}, err
	}
	// Marketing is fed from the first company of erp.companies (its keys
	// carry no company); an estate of several is not split yet.
	tables, err := c.Tables(env.ERP.Companies()[0], env.Config)
	if err != nil {
		return component.Provisioned{}, err
	}
	srcs := make([]erp.Source, len(tables))
	var closers []func() error
	closeAll := func() error {
		var errs []error
		for _, f := range closers {
			errs = append(errs, f())
		}
		return errors.Join(errs...)
	}
	for i, t := range tables {
		mp := (*mapping.Mapping)(nil)
		if i == 0 {
			mp = m
		}
		if srcs[i], err = env.ERP.Open(ctx, t, mp); err != nil {
			return component.Provisioned{Close: closeAll}, err
		}
		if srcs[i] == nil {
			return component.Provisioned{Close: closeAll}, fmt.Errorf("streams.%s: the ERP does not serve %s", Name, t.Role)
		}
		closers = append(closers, srcs[i].Close)
	}
	su5, ac8, sa1, sc5, sc6 := srcs[0], srcs[1], srcs[2], srcs[3], srcs[4]
	now := time.Now
	if env.Clock != nil {
		now = env.Clock.Now
	}
	cust := &Customers{SA1: sa1, SC5: sc5, SC6: sc6, AC8: ac8, CustomerFilial: c.CustomerFilial, ContactFilial: c.Filial, Now: now}
	cust.figures.TTL = time.Minute
	base := mapperBase{cfg: c, m: m, cust: cust, st: env.Store}

	// A change of a link, of a customer or of an order reaches the
	// contacts it concerns (tables without S_T_A_M_P_ at the full pass).
	toContact := streams.ByColumn(su5, "AC8_CODCON", "U5_CODCONT")
	linksOf := func(cod, loja string) []erp.Match { return protheus.LinksOfCustomer(c.CustomerFilial, cod, loja) }
	var rels []streams.Relation
	if ac8.Incremental() {
		rels = append(rels, streams.NewRelation("AC8", ac8, nil, toContact))
	}
	if sa1.Incremental() {
		rels = append(rels, streams.NewRelation("SA1", sa1, protheus.CustomerStatistics(), streams.ByMatch(ac8, func(r erp.Record) []erp.Match {
			return linksOf(streams.Str(r, "A1_COD"), streams.Str(r, "A1_LOJA"))
		}), toContact))
	}
	if sc5.Incremental() {
		rels = append(rels, streams.NewRelation("SC5", sc5, nil, streams.ByMatch(ac8, func(r erp.Record) []erp.Match {
			return linksOf(streams.Str(r, "C5_CLIENTE"), streams.Str(r, "C5_LOJACLI"))
		}), toContact))
	}
	src := su5
	if len(rels) > 0 {
		src = streams.NewRelated(su5, rels...)
	}
	target, err := sys.Target(mapping.EntityMarketingContact, component.TargetOptions{})
	if err != nil {
		return component.Provisioned{Close: closeAll}, err
	}
	capN, capName := maxNewContacts(env)
	calls := apiCalls(sys)
	out := component.Provisioned{Close: closeAll}
	out.Streams = append(out.Streams, &bridge.Stream{
		Name: Name, Source: src, Mapper: &contactMapper{mapperBase: base, page: &streams.PageRows{}},
		Target: target, Mode: bridge.Mode(c.Mode), Deletes: bridge.DeletesIgnore,
		MappingHash: streams.SettingsHash(c), APICalls: calls, CreateCap: capN, CapName: capName,
	})
	if c.CustomerEmail {
		cm, err := streams.Compile(Name+".customer_email", customerSpec(), schema)
		if err != nil {
			return out, err
		}
		ct := tables[2]
		csrc, err := env.ERP.Open(ctx, ct, cm)
		if err != nil {
			return out, err
		}
		closers = append(closers, csrc.Close)
		cb := base
		cb.m = cm
		out.Streams = append(out.Streams, &bridge.Stream{
			Name: CustomerEmails, Source: csrc, Mapper: &customerMapper{mapperBase: cb}, Target: target,
			Mode: bridge.Mode(c.Mode), Deletes: bridge.DeletesIgnore, MappingHash: streams.SettingsHash(c, "customer_email"),
			APICalls: calls, CreateCap: capN, CapName: capName,
		})
	}
	if c.ClientStage {
		st, err := sys.Target(mapping.EntityMarketingContact, component.TargetOptions{UpdateOnly: true})
		if err != nil {
			return out, err
		}
		out.Streams = append(out.Streams, &bridge.Stream{
			Name: Stages, Source: src, Mapper: &stageMapper{mapperBase: base, page: &streams.PageRows{}},
			Target: bridge.NewFacet(st, stagesEntity), Mode: bridge.ModeUpdateOnly, Deletes: bridge.DeletesIgnore,
			DependsOn: []string{Name}, MappingHash: streams.SettingsHash(c, "stages"), APICalls: calls,
		})
	}
	return out, nil
}

// maxNewContacts is marketing.max_new_contacts and its name ("" when the
// target system sets no cap).
func maxNewContacts(env *component.Env) (int, string) {
	cfg, _ := env.Config(System)
	if m, ok := cfg.(interface{ NewContactsCap() int }); ok {
		return m.NewContactsCap(), "marketing.max_new_contacts"
	}
	return 0, ""
}

func apiCalls(sys component.TargetSystem) func() int64 {
	if n, ok := sys.(component.CallCounter); ok {
		return n.APICalls
	}
	return nil
}

// mapperBase is what the contact mappers share.
type mapperBase struct {
	cfg  *Config
	m    *mapping.Mapping
	cust *Customers
	st   *store.Store
}

// customerOf returns the first live, unblocked customer (in AC8 order)
// of a contact that passes the filters, with its figures; why says why
// none does.
func (b *mapperBase) customerOf(ctx context.Context, rec erp.Record, page *streams.PageRows) (erp.Record, Figures, string, error) {
	keys, err := b.cust.CustomersOfContact(ctx, strings.TrimSpace(streams.Str(rec, "U5_CODCONT")), page)
	if err != nil {
		return erp.Record{}, Figures{}, "", err
	}
	if len(keys) == 0 {
		return erp.Record{}, Figures{}, "it is linked to no customer (AC8)", nil
	}
	why := ""
	for _, k := range keys {
		r, ok, err := b.cust.Customer(ctx, k)
		if err != nil {
			return erp.Record{}, Figures{}, "", fmt.Errorf("reading customer %s: %w", k, err)
		}
		if why, ok = b.live(r, ok, k); !ok {
			continue
		}
		f, err := b.cust.Figures(ctx, streams.Str(r, "A1_COD"), streams.Str(r, "A1_LOJA"))
		if err != nil {
			return erp.Record{}, Figures{}, "", err
		}
		if w := b.soldWithin(f); w != "" {
			why = "customer " + k + " " + w
			continue
		}
		return r, f, "", nil
	}
	return erp.Record{}, Figures{}, why, nil
}

// live says why a customer row does not count ("" when it does).
func (b *mapperBase) live(r erp.Record, found bool, key string) (string, bool) {
	switch {
	case !found:
		return "its customer " + key + " is not live in SA1", false
	case protheus.IsBlocked(streams.Str(r, "A1_MSBLQL")):
		return "its customer " + key + " is blocked (A1_MSBLQL = '1')", false
	}
	return "", true
}

// soldWithin says why a customer is outside sold_within_months.
func (b *mapperBase) soldWithin(f Figures) string {
	n := b.cfg.SoldWithinMonths
	if n == 0 {
		return ""
	}
	if !f.Client || f.LastPurchase.Before(b.cust.Now().AddDate(0, -n, 0)) {
		return fmt.Sprintf("has no invoiced sale in the last %d months (streams.%s.sold_within_months)", n, Name)
	}
	return ""
}

// tags are the ERP_TAGS of a customer.
func (b *mapperBase) tags(cust erp.Record) []any {
	var out []any
	add := func(t string) {
		if t = tag(t); t != "" && !slices.Contains(out, any(t)) {
			out = append(out, t)
		}
	}
	for _, t := range b.cfg.Tags {
		add(t)
	}
	if v := strings.TrimSpace(streams.Str(cust, "A1_VEND")); b.cfg.SellerTag && v != "" {
		add("vendedor-" + v)
	}
	return out
}

// mapContact maps a record with its customer's columns and figures; it
// skips a record without a valid e-mail (listed when it has an invalid
// one) and an e-mail forgotten on a deletion request.
func (b *mapperBase) mapContact(ctx context.Context, rec erp.Record, cust erp.Record, f Figures, emailColumn string) bridge.Mapped {
	extra := map[string]any{}
	for k, v := range cust.Fields {
		if _, own := rec.Fields[k]; !own {
			extra[k] = v
		}
	}
	for k, v := range f.Columns() {
		extra[k] = v
	}
	extra["ERP_TAGS"] = b.tags(cust)
	raw := strings.TrimSpace(streams.Str(rec, emailColumn))
	if raw == "" {
		return bridge.Mapped{Skip: true, SkipReason: emailColumn + " is blank: Marketing keys contacts by e-mail"}
	}
	out := streams.MapRecord(b.m, rec, extra, cust)
	if len(out.Errors) > 0 || out.Retry != nil {
		return out
	}
	email, _ := out.Payload["email"].(string)
	if email == "" {
		reason := fmt.Errorf("%s: %s %q holds no valid e-mail: not sent to Marketing", rec.Key, emailColumn, raw)
		return bridge.Mapped{Skip: true, SkipReason: reason.Error(), Warnings: []error{reason}}
	}
	if gone, err := b.forgotten(ctx, email); err != nil {
		return bridge.Mapped{Retry: err}
	} else if gone {
		return bridge.Mapped{Skip: true, SkipReason: "its e-mail was forgotten on a deletion request (erpbridge marketing forget)"}
	}
	return out
}

// forgotten reports whether an e-mail is on the deletion list.
func (b *mapperBase) forgotten(ctx context.Context, email string) (bool, error) {
	if b.st == nil {
		return false, nil
	}
	_, ok, err := b.st.Meta(ctx, Suppressed(email))
	if err != nil {
		return false, fmt.Errorf("reading the deletion list: %w", err)
	}
	return ok, nil
}

// contactMapper maps SU5 contacts.
type contactMapper struct {
	mapperBase
	page *streams.PageRows
}

var (
	_ bridge.Mapper       = (*contactMapper)(nil)
	_ bridge.PagePreparer = (*contactMapper)(nil)
)

// PreparePage reads the AC8 links of a page of contacts at once.
func (c *contactMapper) PreparePage(ctx context.Context, recs []erp.Record) {
	codes := make([]string, len(recs))
	for i, r := range recs {
		codes[i] = strings.TrimSpace(streams.Str(r, "U5_CODCONT"))
	}
	c.page.Prepare(ctx, c.cust.AC8, nil, "AC8_CODCON", codes, linksPerRecord)
}

func (c *contactMapper) Map(ctx context.Context, rec erp.Record, _ bridge.Resolver) bridge.Mapped {
	cust, f, why, err := c.customerOf(ctx, rec, c.page)
	if err != nil {
		return bridge.Mapped{Retry: fmt.Errorf("contact %s: %w", rec.Key, err)}
	}
	if why != "" {
		return bridge.Mapped{Skip: true, SkipReason: "not a contact of a live customer: " + why}
	}
	return c.mapContact(ctx, rec, cust, f, "U5_EMAIL")
}

func (c *contactMapper) MapDeleted(context.Context, erp.Record, bridge.Resolver) bridge.Mapped {
	return bridge.Mapped{Skip: true, SkipReason: "a contact deleted in the ERP stays in Marketing (a deletion request: erpbridge marketing forget)"}
}

// customerMapper maps a customer's own e-mail (customer_email).
type customerMapper struct{ mapperBase }

func (c *customerMapper) Map(ctx context.Context, rec erp.Record, _ bridge.Resolver) bridge.Mapped {
	if why, ok := c.live(rec, !rec.Deleted, rec.Key); !ok {
		return bridge.Mapped{Skip: true, SkipReason: why}
	}
	f, err := c.cust.Figures(ctx, streams.Str(rec, "A1_COD"), streams.Str(rec, "A1_LOJA"))
	if err != nil {
		return bridge.Mapped{Retry: err}
	}
	if w := c.soldWithin(f); w != "" {
		return bridge.Mapped{Skip: true, SkipReason: "the customer " + w}
	}
	return c.mapContact(ctx, rec, rec, f, "A1_EMAIL")
}

func (c *customerMapper) MapDeleted(context.Context, erp.Record, bridge.Resolver) bridge.Mapped {
	return bridge.Mapped{Skip: true, SkipReason: "a deleted customer's contact stays in Marketing"}
}

// stageMapper marks the contacts of clients as Client in the funnel. A
// contact is never moved back: Marketing's own qualification may have
// moved it since.
type stageMapper struct {
	mapperBase
	page *streams.PageRows
}

var _ bridge.PagePreparer = (*stageMapper)(nil)

func (c *stageMapper) PreparePage(ctx context.Context, recs []erp.Record) {
	(&contactMapper{mapperBase: c.mapperBase, page: c.page}).PreparePage(ctx, recs)
}

func (c *stageMapper) Map(ctx context.Context, rec erp.Record, r bridge.Resolver) bridge.Mapped {
	_, f, why, err := c.customerOf(ctx, rec, c.page)
	switch {
	case err != nil:
		return bridge.Mapped{Retry: fmt.Errorf("contact %s: %w", rec.Key, err)}
	case why != "":
		return bridge.Mapped{Skip: true, SkipReason: "not a contact of a live customer: " + why}
	case !f.Client:
		return bridge.Mapped{Skip: true, SkipReason: "its customer has no invoiced sale"}
	}
	email, err := r.Resolve(ctx, Name, rec.Key)
	if errors.Is(err, bridge.ErrNoDependency) || errors.Is(err, bridge.ErrDependencyRejected) {
		return bridge.Mapped{Skip: true, SkipReason: "the contact is not in Marketing: " + err.Error()}
	}
	if err != nil {
		return bridge.Mapped{Retry: fmt.Errorf("contact %s waits for its Marketing contact: %w", rec.Key, err)}
	}
	p := bridge.Payload{bridge.FacetOf: email, "email": email, "lifecycle_stage": Stage}
	fp, err := mapping.Fingerprint("stage/1", p)
	if err != nil {
		return bridge.Mapped{Errors: []error{err}}
	}
	return bridge.Mapped{Payload: p, Fingerprint: fp}
}

func (c *stageMapper) MapDeleted(context.Context, erp.Record, bridge.Resolver) bridge.Mapped {
	return bridge.Mapped{Skip: true, SkipReason: "deleted in the ERP"}
}

// Check implements component.Checker: the mapping against the account's
// fields, and the option values the ERP holds that an option field does
// not take (Marketing would drop them without a word).
func (c *Config) Check(ctx context.Context, env *component.Env) []component.Finding {
	sys, ok := env.Target(System)
	if !ok {
		return nil
	}
	finding := func(f component.Finding) component.Finding {
		f.Section, f.System = component.SectionCRM, System
		return f
	}
	schema, err := sys.Schema(ctx, mapping.EntityMarketingContact)
	if err == nil {
		_, err = mapping.Compile(c.Mapping, schema)
	}
	if err != nil {
		return []component.Finding{finding(component.Finding{Problem: true, Text: fmt.Sprintf("streams.%s.mapping: %v", Name, err)})}
	}
	out := []component.Finding{finding(component.Finding{Text: fmt.Sprintf("streams.%s: every mapped field and cf_* custom field exists", Name)})}
	return append(out, c.checkRecordsOf(ctx, env)...)
}
