// Package wiring builds a running bridge from the configuration: the
// checkpoint store, the CRM client and its targets, the ERP sources, the
// compiled mappings and the engine. It is where Protheus meets RD Station.
package wiring

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/erpbridge/erpbridge/bridge"
	"github.com/erpbridge/erpbridge/bridge/clock"
	wondeals "github.com/erpbridge/erpbridge/bridge/inbound"
	"github.com/erpbridge/erpbridge/bridge/store"
	instancelock "github.com/erpbridge/erpbridge/bridge/store/dirlock"
	"github.com/erpbridge/erpbridge/cmd/erpbridge/internal/config"
	"github.com/erpbridge/erpbridge/erp"
	"github.com/erpbridge/erpbridge/erp/protheus"
	"github.com/erpbridge/erpbridge/erp/sqlerp"
	"github.com/erpbridge/erpbridge/mapping"
	"github.com/erpbridge/erpbridge/rdstation/crm"
	crmtarget "github.com/erpbridge/erpbridge/rdstation/crm/target"
	"go.uber.org/zap"
)

// StoreFile is the checkpoint store's file name inside data_dir.
const StoreFile = "erpbridge.db"

// Options tune Open for tests and tools.
type Options struct {
	Logger     *zap.Logger
	Clock      clock.Clock  // CRM client and engine retry clock (default real)
	HTTPClient *http.Client // CRM HTTP client (default the client's own)
	// DryRun: when the checkpoint store does not exist yet, use a throwaway
	// one instead of creating it (a dry run writes nothing anywhere).
	DryRun bool
	// AfterOrderSubmit, when set, runs right after the ERP answered a won
	// deal's order and before the answer is recorded (crash tests).
	AfterOrderSubmit func()
}

// Bridge is everything a sync needs, opened.
type Bridge struct {
	Config *config.Config
	Store  *store.Store
	CRM    *crm.Client
	ERP    *sql.DB
	Engine *bridge.Engine
	// WonDeals moves won CRM deals into the ERP; nil unless won_deals.enabled.
	WonDeals *wondeals.Poller

	orders *orderMapper // the orders stream's mapper, if enabled

	closers []func() error
}

// Close releases everything Open acquired.
func (b *Bridge) Close() error {
	var errs []error
	for i := len(b.closers) - 1; i >= 0; i-- {
		errs = append(errs, b.closers[i]())
	}
	return errors.Join(errs...)
}

// How long the checkpoint store keeps history: confirmed writes (the
// outbox's done items) and runs (the last run of each stream is always
// kept). Prune runs after every nightly full pass.
const (
	KeepDoneWrites = 7 * 24 * time.Hour
	KeepRuns       = 30 * 24 * time.Hour
)

// Prune deletes confirmed writes and runs older than the given ages, so
// the store does not grow with history; it returns how many of each went.
// Won deals' writebacks are kept: they are what stops a deal being sent
// twice.
func (b *Bridge) Prune(ctx context.Context, keepDone, keepRuns time.Duration) (writes, runs int64, err error) {
	if writes, err = b.Store.PruneDone(ctx, keepDone); err != nil {
		return 0, 0, err
	}
	runs, err = b.Store.PruneRuns(ctx, keepRuns)
	return writes, runs, err
}

// OpenStore opens the checkpoint store in cfg.DataDir.
func OpenStore(ctx context.Context, cfg *config.Config) (*store.Store, error) {
	if err := os.MkdirAll(cfg.DataDir, 0o750); err != nil {
		return nil, fmt.Errorf("creating data_dir: %w", err)
	}
	st, err := store.Open(ctx, filepath.Join(cfg.DataDir, StoreFile))
	if err != nil {
		return nil, err
	}
	return st, nil
}

// NewCRM returns the CRM client for cfg, sharing one request budget per
// account in the process. A budget already shared takes cfg's rate and
// burst (a reloaded configuration), and says so in the log. A 401 names
// crm.token and how to check it.
func NewCRM(cfg *config.Config, o Options) (*crm.Client, error) {
	clk := o.Clock
	if clk == nil {
		clk = clock.Real{}
	}
	sum := sha256.Sum256([]byte(cfg.CRM.BaseURL + "\x00" + cfg.CRM.Token))
	budget := crm.SharedBudget(hex.EncodeToString(sum[:8]), crm.BudgetConfig{
		RequestsPerMinute: cfg.CRM.RequestsPerMinute, Burst: cfg.CRM.Burst, Clock: clk,
	})
	if before, burstBefore := budget.Rate(); budget.SetRate(cfg.CRM.RequestsPerMinute, cfg.CRM.Burst) && o.Logger != nil {
		rpm, burst := budget.Rate()
		o.Logger.Info("crm: the account's request budget now follows the new configuration",
			zap.Int("requests_per_minute", rpm), zap.Int("burst", burst),
			zap.Int("was_requests_per_minute", before), zap.Int("was_burst", burstBefore))
	}
	c, err := crm.New(crm.Config{
		BaseURL: cfg.CRM.BaseURL, Token: cfg.CRM.Token, Budget: budget, HTTPClient: o.HTTPClient,
		Timeout: cfg.CRM.Timeout.D(), MaxRetries: cfg.CRM.MaxRetries, Clock: clk,
		UserAgent: "erpbridge", AuthHint: cfg.CRM.TokenRefused(),
	})
	if err != nil {
		return nil, fmt.Errorf("creating CRM client: %w", err)
	}
	return c, nil
}

// Open builds the bridge. It connects to the ERP (reading the catalog of
// every configured table) and to the CRM (reading custom fields to resolve
// mapping labels).
func Open(ctx context.Context, cfg *config.Config, o Options) (_ *Bridge, err error) {
	log := o.Logger
	if log == nil {
		log = zap.NewNop()
	}
	b := &Bridge{Config: cfg}
	defer func() {
		if err != nil {
			_ = b.Close()
		}
	}()
	if !o.DryRun {
		// One syncing process per data directory: two would send the same
		// outbox items. A dry run writes nothing and needs no lock.
		lock, err := instancelock.Acquire(cfg.DataDir)
		if err != nil {
			return nil, err
		}
		b.closers = append(b.closers, lock.Release)
	}
	storeCfg := cfg
	if _, serr := os.Stat(filepath.Join(cfg.DataDir, StoreFile)); o.DryRun && errors.Is(serr, os.ErrNotExist) {
		tmp, err := os.MkdirTemp("", "erpbridge-dry-run-")
		if err != nil {
			return nil, fmt.Errorf("creating a throwaway store: %w", err)
		}
		b.closers = append(b.closers, func() error { return os.RemoveAll(tmp) })
		c := *cfg
		c.DataDir = tmp
		storeCfg = &c
	}
	if b.Store, err = OpenStore(ctx, storeCfg); err != nil {
		return nil, err
	}
	b.closers = append(b.closers, b.Store.Close)
	if _, err := b.Store.RecoverRuns(ctx); err != nil {
		return nil, fmt.Errorf("recovering interrupted runs: %w", err)
	}
	if b.CRM, err = NewCRM(cfg, o); err != nil {
		return nil, err
	}
	// The store's CRM ids must be this CRM's: another account (or an
	// emptied CRM) would make every sync a silent no-op.
	if err := bridge.CheckAccount(ctx, b.Store, crmtarget.Account{C: b.CRM}); err != nil {
		return nil, err
	}
	acc, err := openERP(ctx, cfg)
	if err != nil {
		return nil, err
	}
	if acc.db != nil {
		b.ERP = acc.db
		b.closers = append(b.closers, acc.db.Close)
	}

	streams, err := buildStreams(ctx, cfg, acc, b.CRM)
	if err != nil {
		return nil, err
	}
	for _, st := range streams {
		if om, ok := st.Mapper.(*orderMapper); ok {
			b.orders = om
			if err := b.openOrders(ctx, om, o, log); err != nil {
				return nil, err
			}
			if dt, ok := st.Target.(*crmtarget.Deals); ok {
				dt.Log = log.With(zap.String("stream", st.Name))
			}
		}
	}
	if cfg.WonDeals.Enabled {
		for _, st := range streams {
			if om, ok := st.Mapper.(*orderMapper); ok && om.crmIDColumn == "" {
				return nil, errors.New("won_deals: SC5 has no C5_XCRMID field, so an order made from a won deal would come back " +
					"through streams.orders as a second deal; create the field (docs/protheus.md) or disable one of the two")
			}
		}
		clk := o.Clock
		if clk == nil {
			clk = clock.Real{}
		}
		if b.WonDeals, err = wonDeals(ctx, cfg, b, acc, clk, log, o.AfterOrderSubmit); err != nil {
			return nil, err
		}
	}
	stats := b.CRM
	eo := bridge.Options{
		PageSize: cfg.ERP.PageSize,
		Logger:   log,
		APICalls: func() int64 { return stats.Stats().Requests },
	}
	if o.Clock != nil {
		eo.Now = o.Clock.Now // retry backoff on the same clock as the CRM
	}
	b.Engine, err = bridge.New(b.Store, streams, eo)
	if err != nil {
		return nil, err
	}
	return b, nil
}

// OrdersWindow describes the orders stream's history window ("" when the
// stream is off or reads every order): its first day and what set it.
func (b *Bridge) OrdersWindow() string {
	if b.orders == nil || b.orders.rules.since.IsZero() {
		return ""
	}
	return b.orders.rules.since.Format(time.DateOnly) + " (" + b.orders.rules.why + ")"
}

// OrdersFirstRunMeta is the store meta key holding the day the orders
// stream first ran (YYYY-MM-DD): streams.orders.history_days counts back
// from it.
const OrdersFirstRunMeta = "orders.first_run"

// openOrders gives the order mapper what it needs from the checkpoint
// store: whether an order has its deal already (the identity map), and the
// history window, history_days before the stream's first run. The first
// run's day is recorded the first time the stream is opened (not by a dry
// run, which writes nothing: it counts from today). A store that synced
// orders before this was recorded starts its window today: the orders it
// made deals of keep syncing (they are in the identity map), older orders
// without a deal do not become deals. It logs what the stream goes
// without.
func (b *Bridge) openOrders(ctx context.Context, om *orderMapper, o Options, log *zap.Logger) error {
	for _, w := range om.warnings {
		log.Warn("orders: "+w, zap.String("stream", "orders"))
	}
	st := b.Store
	om.hasDeal = func(ctx context.Context, key string) (bool, error) {
		id, ok, err := st.Identity(ctx, "deal", key)
		return ok && (id.CRMID != "" || id.Fingerprint != ""), err
	}
	cfg := b.Config.Streams.Orders
	if cfg.Since != "" || cfg.HistoryDays == 0 {
		return nil
	}
	now := time.Now
	if o.Clock != nil {
		now = o.Clock.Now
	}
	first := now().UTC()
	v, ok, err := st.Meta(ctx, OrdersFirstRunMeta)
	switch {
	case err != nil:
		return err
	case ok:
		if first, err = time.Parse(time.DateOnly, v); err != nil {
			return fmt.Errorf("reading the orders stream's first run %q from the store: %w", v, err)
		}
	case !o.DryRun:
		if err := st.Update(ctx, func(tx *store.Tx) error {
			return tx.SetMeta(OrdersFirstRunMeta, first.Format(time.DateOnly))
		}); err != nil {
			return fmt.Errorf("recording the orders stream's first run: %w", err)
		}
	}
	rules, err := newOrderRules(cfg, first)
	if err != nil {
		return err
	}
	om.rules = rules
	return nil
}

// catalogs reads the CRM's custom fields of one entity as a mapping catalog.
func catalog(ctx context.Context, c *crm.Client, entity string) (mapping.CustomFieldCatalog, error) {
	fields, err := c.ListCustomFields(ctx, entity)
	if err != nil {
		return nil, fmt.Errorf("reading CRM custom fields of %s: %w", entity, err)
	}
	cat := make(mapping.CustomFieldCatalog, len(fields))
	for _, f := range fields {
		cf := mapping.CustomField{ID: f.ID, Type: mapping.FieldType(f.Type)}
		for _, o := range f.Options {
			cf.Options = append(cf.Options, o.Label)
		}
		cat[f.Label] = cf
	}
	return cat, nil
}

// newSourceFunc returns the function streams open their ERP tables with:
// with a mapping, the columns it reads are added to the table's (but for
// those the stream's mapper provides itself).
func newSourceFunc(ctx context.Context, cfg *config.Config, db *sql.DB, d sqlerp.Dialect) sourceFunc {
	opts := sqlerp.Options{Overlap: cfg.ERP.Overlap.D(), QueryTimeout: cfg.ERP.QueryTimeout.D()}
	return func(what string, spec sqlerp.TableSpec, err error, m *mapping.Mapping, provided ...string) (erp.Source, error) {
		if err != nil {
			return nil, fmt.Errorf("%s: %w", what, err)
		}
		if m != nil {
			cat, err := sqlerp.ReadCatalog(ctx, db, d, spec.Physical)
			if err != nil {
				return nil, fmt.Errorf("%s (%s): %w", what, spec.Physical, err)
			}
			cols := slices.DeleteFunc(m.Columns(), func(c string) bool { return slices.Contains(provided, c) })
			spec = onlyColumns(spec, append(slices.Clone(cols), mapperColumns[what]...))
			if spec, err = withMappedColumns(cat, spec, spec.Physical[:3], cols); err != nil {
				return nil, fmt.Errorf("streams.%s.mapping: %w", what, err)
			}
		}
		src, err := sqlerp.NewSource(ctx, db, d, spec, opts)
		if err != nil {
			return nil, fmt.Errorf("%s (%s): %w", what, spec.Physical, err)
		}
		return src, nil
	}
}

// erpAccess is how streams reach the ERP: its tables over SQL, or its
// custom REST routes.
type erpAccess struct {
	source sourceFunc
	// columns reports which columns a table has (e.g. the custom
	// C5_XCRMID, the optional fields of orders): false when it cannot tell.
	columns func(ctx context.Context, spec sqlerp.TableSpec) (has func(column string) bool, err error)
	db      *sql.DB        // nil for REST routes
	dialect sqlerp.Dialect // nil for REST routes
}

// openERP connects to the ERP database.
func openERP(ctx context.Context, cfg *config.Config) (erpAccess, error) {
	if cfg.ERP.Source == config.SourceREST { // its custom REST routes, no database
		return openREST(ctx, cfg), nil
	}
	db, d, err := sqlerp.Open(cfg.ERP.Driver, cfg.ERP.DSN)
	if err != nil {
		return erpAccess{}, err
	}
	return erpAccess{
		source: newSourceFunc(ctx, cfg, db, d), db: db, dialect: d,
		columns: func(ctx context.Context, spec sqlerp.TableSpec) (func(string) bool, error) {
			cat, err := sqlerp.ReadCatalog(ctx, db, d, spec.Physical)
			if err != nil {
				return nil, fmt.Errorf("reading the columns of %s: %w", spec.Physical, err)
			}
			return func(column string) bool {
				return slices.ContainsFunc(cat, func(c sqlerp.CatalogColumn) bool { return c.Name == strings.ToUpper(column) })
			}, nil
		},
	}, nil
}

func buildStreams(ctx context.Context, cfg *config.Config, acc erpAccess, c *crm.Client) ([]*bridge.Stream, error) {
	company := cfg.ERP.Company
	source := acc.source
	compile := func(stream string, spec mapping.Spec, cat mapping.CustomFieldCatalog) (*mapping.Mapping, error) {
		schema := crmtarget.StaticSchema(spec.Entity)
		schema.Custom = cat
		m, err := mapping.Compile(spec, schema)
		if err != nil {
			return nil, fmt.Errorf("streams.%s.mapping: %w", stream, err)
		}
		return m, nil
	}
	var streams []*bridge.Stream
	// Both contact streams share one target, so one adoption index.
	contactTarget := crmtarget.NewContacts(c, cfg.Streams.Contacts.SharedEmail == config.SharedEmailOmit)

	if sc := cfg.Streams.Customers; sc.Enabled {
		cat, err := catalog(ctx, c, "organization")
		if err != nil {
			return nil, err
		}
		m, err := compile("customers", sc.Mapping, cat)
		if err != nil {
			return nil, err
		}
		spec, serr := protheus.Customers(company, sc.Filial)
		src, err := source("customers", spec, serr, m)
		if err != nil {
			return nil, err
		}
		mp := &customerMapper{m: m, blocked: sc.Blocked}
		if mp.deleteMk, err = markFor(sc.Deletes, sc.DeleteMark, cat, m); err != nil {
			return nil, fmt.Errorf("streams.customers.delete_mark: %w", err)
		}
		if sc.Blocked == config.BlockedMark {
			if mp.blockMk, err = newMark(sc.BlockedMark, cat, m.CustomFieldsKey()); err != nil {
				return nil, fmt.Errorf("streams.customers.blocked_mark: %w", err)
			}
		}
		cnpjID := ""
		if sc.CNPJField != "" {
			f, err := cat.Lookup(sc.CNPJField)
			if err != nil {
				return nil, fmt.Errorf("streams.customers.cnpj_field: %w", err)
			}
			cnpjID = f.ID
		}
		streams = append(streams, &bridge.Stream{
			Name: "customers", Source: src, Mapper: mp, Target: crmtarget.NewOrganizations(c, cnpjID),
			Mode: bridge.Mode(sc.Mode), Deletes: bridge.Deletes(sc.Deletes), MappingHash: settingsHash(sc),
		})
	}

	if sc := cfg.Streams.Contacts; sc.Enabled {
		cat, err := catalog(ctx, c, "contact")
		if err != nil {
			return nil, err
		}
		m, err := compile("contacts", sc.Mapping, cat)
		if err != nil {
			return nil, err
		}
		spec, serr := protheus.Contacts(company, sc.Filial)
		src, err := source("contacts", spec, serr, m)
		if err != nil {
			return nil, err
		}
		lspec, lerr := protheus.ContactLinks(company, sc.Filial)
		links, err := source("contact links", lspec, lerr, nil)
		if err != nil {
			return nil, err
		}
		codWidth := 6
		if f, ok := protheus.Lookup("SA1", "A1_COD"); ok {
			codWidth = f.Size
		}
		mp := &contactMapper{m: m, links: links, codWidth: codWidth, resolve: cfg.Streams.Customers.Enabled,
			syncUnlinked: sc.Unlinked == config.UnlinkedSync}
		if mp.deleteMk, err = markFor(sc.Deletes, sc.DeleteMark, cat, m); err != nil {
			return nil, fmt.Errorf("streams.contacts.delete_mark: %w", err)
		}
		if mp.resolve {
			// A new or removed AC8 link changes the contact's organization,
			// and so may a change of the customer it links to. (A table
			// without S_T_A_M_P_ shows its changes at the nightly full pass.)
			rs := &relatedSource{Source: src}
			toContact := byColumn(src, "AC8_CODCON", "U5_CODCONT")
			if links.Incremental() {
				rs.relations = append(rs.relations, relation{name: "AC8", src: links, links: []link{toContact}, seen: &digests{}})
			}
			cspec, cerr := protheus.Customers(company, cfg.Streams.Customers.Filial)
			customers, err := source("contact customers", cspec, cerr, nil)
			if err != nil {
				return nil, err
			}
			if customers.Incremental() {
				rs.relations = append(rs.relations, customerRelation(customers, byMatch(links, func(r erp.Record) []erp.Match {
					return protheus.LinksOfCustomer(str(r, "A1_FILIAL"), str(r, "A1_COD"), str(r, "A1_LOJA"))
				}), toContact))
			}
			if len(rs.relations) > 0 {
				src = rs
			}
		}
		st := &bridge.Stream{
			Name: "contacts", Source: src, Mapper: mp, Target: contactTarget,
			Mode: bridge.Mode(sc.Mode), Deletes: bridge.Deletes(sc.Deletes), MappingHash: settingsHash(sc),
		}
		if cfg.Streams.Customers.Enabled {
			st.DependsOn = []string{"customers"}
		}
		streams = append(streams, st)
	}

	if cfg.Streams.Contacts.Enabled && cfg.Streams.Contacts.CustomerEmail && cfg.Streams.Customers.Enabled {
		m, err := compile("contacts.customer_email", customerContactSpec(), nil)
		if err != nil {
			return nil, err
		}
		spec, serr := protheus.Customers(company, cfg.Streams.Customers.Filial)
		src, err := source("customer_contacts", spec, serr, m)
		if err != nil {
			return nil, err
		}
		streams = append(streams, &bridge.Stream{
			Name: "customer_contacts", Source: src,
			Mapper: &customerContactMapper{m: m, blocked: cfg.Streams.Customers.Blocked},
			Target: contactTarget, Mode: bridge.Mode(cfg.Streams.Contacts.Mode), Deletes: bridge.DeletesIgnore,
			DependsOn: []string{"customers"}, MappingHash: settingsHash(cfg.Streams.Contacts, cfg.Streams.Customers),
		})
	}

	if sc := cfg.Streams.Products; sc.Enabled {
		cat, err := catalog(ctx, c, "product")
		if err != nil {
			return nil, err
		}
		m, err := compile("products", sc.Mapping, cat)
		if err != nil {
			return nil, err
		}
		spec, serr := protheus.Products(company, sc.Filial)
		src, err := source("products", spec, serr, m, "DA1_PRCVEN")
		if err != nil {
			return nil, err
		}
		mp := &productMapper{m: m, priceTable: sc.PriceTable}
		if sc.PriceTable != "" {
			pspec, perr := protheus.Prices(company, sc.PriceFilial)
			if mp.prices, err = source("prices", pspec, perr, nil); err != nil {
				return nil, err
			}
		}
		if mp.deleteMk, err = markFor(sc.Deletes, sc.DeleteMark, cat, m); err != nil {
			return nil, fmt.Errorf("streams.products.delete_mark: %w", err)
		}
		streams = append(streams, &bridge.Stream{
			Name: "products", Source: src, Mapper: mp, Target: crmtarget.NewProducts(c),
			Mode: bridge.Mode(sc.Mode), Deletes: bridge.Deletes(sc.Deletes), MappingHash: settingsHash(sc),
		})
	}

	if sc := cfg.Streams.Orders; sc.Enabled {
		st, err := ordersStream(ctx, cfg, acc, c)
		if err != nil {
			return nil, err
		}
		streams = append(streams, st)
	}
	return streams, nil
}

// settingsHash identifies a stream's settings (its mapping included) as
// its payloads depend on them: bridge.Stream.MappingHash.
func settingsHash(settings ...any) string {
	b, err := json.Marshal(settings)
	if err != nil {
		panic(fmt.Sprintf("hashing stream settings: %v", err)) // config types always encode
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:8])
}

// sourceFunc opens an ERP table for a stream (see buildStreams).
type sourceFunc func(what string, spec sqlerp.TableSpec, err error, m *mapping.Mapping, provided ...string) (erp.Source, error)

// ordersStream builds the SC5 + SC6 → deals stream.
func ordersStream(ctx context.Context, cfg *config.Config, acc erpAccess, c *crm.Client) (*bridge.Stream, error) {
	source := acc.source
	sc, company := cfg.Streams.Orders, cfg.ERP.Company
	spec, serr := protheus.Orders(company, sc.Filial)
	mp := &orderMapper{
		users:            &userDirectory{c: c, ttl: 10 * time.Minute},
		sellerEmails:     ttlCache[string, string]{ttl: 10 * time.Minute},
		tesDuplic:        ttlCache[string, string]{ttl: 10 * time.Minute},
		name:             sc.Name,
		customerFilial:   strings.TrimSpace(cfg.Streams.Customers.Filial),
		productFilial:    strings.TrimSpace(cfg.Streams.Products.Filial),
		sellerFilial:     strings.TrimSpace(sc.SellerFilial),
		tesFilial:        strings.TrimSpace(sc.TESFilial),
		resolveCustomers: cfg.Streams.Customers.Enabled,
		receivableOnly:   sc.ReceivableOnly,
		total:            sc.Total,
	}
	if serr == nil {
		has, err := acc.columns(ctx, spec)
		if err != nil {
			return nil, fmt.Errorf("orders: %w", err)
		}
		// The deal-id field (C5_XCRMID) is custom: read it where it exists.
		if crmID := protheus.CRMIDField(); has(crmID.Name) {
			spec.Columns = append(spec.Columns, crmID.Column())
			mp.crmIDColumn = crmID.Name
		}
		spec = mp.withoutAbsent(spec, has)
	}
	src, err := source("orders", spec, serr, nil)
	if err != nil {
		return nil, err
	}
	ispec, ierr := protheus.OrderItems(company, sc.Filial)
	if ierr == nil {
		has, err := acc.columns(ctx, ispec)
		if err != nil {
			return nil, fmt.Errorf("order items: %w", err)
		}
		ispec = mp.withoutAbsent(ispec, has)
	}
	if mp.items, err = source("order items", ispec, ierr, nil); err != nil {
		return nil, err
	}
	cspec, cerr := protheus.Customers(company, cfg.Streams.Customers.Filial)
	if mp.customers, err = source("order customers", cspec, cerr, nil); err != nil {
		return nil, err
	}
	aspec, aerr := protheus.Sellers(company, sc.SellerFilial)
	if mp.sellers, err = source("sellers", aspec, aerr, nil); err != nil {
		return nil, err
	}
	if sc.ReceivableOnly {
		tspec, terr := protheus.TES(company, sc.TESFilial)
		if mp.tes, err = mp.optionalTable(ctx, acc, "TES (receivable_only)", tspec, terr, "every order counts as creating a receivable"); err != nil {
			return nil, err
		}
	}
	if sc.Total == config.TotalInvoice {
		fspec, ferr := protheus.Invoices(company, sc.Filial)
		if mp.invoices, err = mp.optionalTable(ctx, acc, "invoices (total = \"invoice\")", fspec, ferr, "deal totals are the items' (C6_VALOR)"); err != nil {
			return nil, err
		}
	}
	if err := orderSettings(ctx, sc, c, mp.users, mp); err != nil {
		return nil, err
	}
	if !cfg.Streams.Products.Enabled {
		return nil, errors.New("streams.orders: needs streams.products (deal products are CRM products)")
	}
	// An item change is a change of its order (the header is not always
	// rewritten, e.g. by a partial delivery), and a customer's change a
	// change of its orders (their deal names carry its name). A table
	// without S_T_A_M_P_ shows its changes at the nightly full pass.
	rs := &relatedSource{Source: src}
	if mp.items.Incremental() {
		rs.relations = append(rs.relations, relation{name: "SC6", src: mp.items, links: []link{byColumn(src, "C6_NUM", "C5_NUM")}, seen: &digests{}})
	}
	if mp.customers.Incremental() {
		rs.relations = append(rs.relations, customerRelation(mp.customers, byMatch(src, func(r erp.Record) []erp.Match {
			return protheus.OrdersOf(str(r, "A1_COD"), str(r, "A1_LOJA"))
		})))
	}
	if len(rs.relations) > 0 {
		src = rs
	}
	st := &bridge.Stream{
		Name: "orders", Source: src, Mapper: mp, Target: crmtarget.NewDeals(c),
		Mode: bridge.Mode(sc.Mode), Deletes: bridge.Deletes(sc.Deletes), DependsOn: []string{"products"},
		MappingHash: settingsHash(sc, orderMapperVersion, cfg.Streams.Customers.Filial, cfg.Streams.Products.Filial),
	}
	if cfg.Streams.Customers.Enabled {
		st.DependsOn = append([]string{"customers"}, st.DependsOn...)
	}
	return st, nil
}

// withoutAbsent drops from an order table's spec the optional fields the
// table lacks (protheus.OptionalOrderFields): the mapper reads their
// default instead. Each is a warning.
func (o *orderMapper) withoutAbsent(spec sqlerp.TableSpec, has func(string) bool) sqlerp.TableSpec {
	optional := map[string]bool{}
	for _, f := range protheus.OptionalOrderFields(aliasOf(spec)) {
		if !has(f.Name) {
			optional[f.Name] = true
			o.warnings = append(o.warnings, fmt.Sprintf("%s has no %s: read as %v (docs/protheus.md, optional order fields)", spec.Physical, f.Name, displayDefault(f.Default)))
		}
	}
	spec.Columns = slices.DeleteFunc(slices.Clone(spec.Columns), func(c sqlerp.ColumnSpec) bool { return optional[c.Name] })
	return spec
}

func displayDefault(v erp.Value) string {
	if s, ok := v.(string); ok || v == nil {
		return fmt.Sprintf("%q", s)
	}
	return fmt.Sprint(v)
}

// optionalTable opens a table the orders stream can go without: when the
// ERP lacks it (or its columns, or the ERP is read through REST routes,
// which serve no such table), the stream runs without, as without says,
// and a warning says so. Other errors (the connection) are errors.
func (o *orderMapper) optionalTable(ctx context.Context, acc erpAccess, what string, spec sqlerp.TableSpec, serr error, without string) (erp.Source, error) {
	if serr != nil {
		return nil, fmt.Errorf("%s: %w", what, serr)
	}
	if acc.db == nil {
		o.warnings = append(o.warnings, fmt.Sprintf("%s: %s is not read through erp.rest routes: %s", what, spec.Physical, without))
		return nil, nil
	}
	rep, err := sqlerp.Check(ctx, acc.db, acc.dialect, spec)
	switch {
	case err != nil:
		return nil, fmt.Errorf("%s (%s): %w", what, spec.Physical, err)
	case !rep.Exists:
		o.warnings = append(o.warnings, fmt.Sprintf("%s: the ERP has no %s (or the database user cannot read it): %s", what, spec.Physical, without))
		return nil, nil
	case len(rep.Missing) > 0:
		o.warnings = append(o.warnings, fmt.Sprintf("%s: %s lacks %s: %s", what, spec.Physical, strings.Join(rep.Missing, ", "), without))
		return nil, nil
	}
	return acc.source(what, spec, nil, nil)
}

// customerRelation follows a changed SA1 customer through links to the
// rows that read it; a change of its invoicing statistics alone
// (protheus.CustomerStatistics) is not followed.
func customerRelation(customers erp.Source, links ...link) relation {
	return relation{name: "SA1", src: customers, links: links, ignore: protheus.CustomerStatistics(), seen: &digests{}}
}

func markFor(deletes string, m config.DeleteMark, cat mapping.CustomFieldCatalog, mp *mapping.Mapping) (*mark, error) {
	if deletes != config.DeletesMark {
		return nil, nil
	}
	return newMark(m, cat, mp.CustomFieldsKey())
}

// StreamNames lists the enabled streams of cfg in dependency order.
func StreamNames(cfg *config.Config) []string {
	var out []string
	if cfg.Streams.Customers.Enabled {
		out = append(out, "customers")
	}
	if cfg.Streams.Contacts.Enabled {
		out = append(out, "contacts")
	}
	if cfg.Streams.Contacts.Enabled && cfg.Streams.Contacts.CustomerEmail && cfg.Streams.Customers.Enabled {
		out = append(out, "customer_contacts")
	}
	if cfg.Streams.Products.Enabled {
		out = append(out, "products")
	}
	if cfg.Streams.Orders.Enabled {
		out = append(out, "orders")
	}
	return out
}

// Entity returns the CRM entity a stream writes.
func Entity(stream string) string {
	switch strings.ToLower(stream) {
	case "customers":
		return "organization"
	case "contacts", "customer_contacts":
		return "contact"
	case "products":
		return "product"
	case "orders":
		return "deal"
	}
	return ""
}

// Table is one ERP table a configuration reads.
type Table struct {
	Role string // e.g. "customers", "contact links"
	Spec sqlerp.TableSpec
	// Optional are columns the stream goes without (read as a default):
	// their absence is a warning, not a problem.
	Optional []string
	// Without, for a table the stream can go without, says what it does
	// then ("" when the table is needed).
	Without string
}

// Tables lists every ERP table the enabled streams read.
func Tables(cfg *config.Config) ([]Table, error) {
	var out []Table
	add := func(role string, spec sqlerp.TableSpec, err error) error {
		if err != nil {
			return fmt.Errorf("%s: %w", role, err)
		}
		out = append(out, Table{Role: role, Spec: spec})
		return nil
	}
	company := cfg.ERP.Company
	s := cfg.Streams
	if s.Customers.Enabled {
		spec, err := protheus.Customers(company, s.Customers.Filial)
		if err := add("customers", spec, err); err != nil {
			return nil, err
		}
	}
	if s.Contacts.Enabled {
		spec, err := protheus.Contacts(company, s.Contacts.Filial)
		if err := add("contacts", spec, err); err != nil {
			return nil, err
		}
		spec, err = protheus.ContactLinks(company, s.Contacts.Filial)
		if err := add("contact links", spec, err); err != nil {
			return nil, err
		}
	}
	if s.Products.Enabled {
		spec, err := protheus.Products(company, s.Products.Filial)
		if err := add("products", spec, err); err != nil {
			return nil, err
		}
		if s.Products.PriceTable != "" {
			spec, err = protheus.Prices(company, s.Products.PriceFilial)
			if err := add("prices", spec, err); err != nil {
				return nil, err
			}
		}
	}
	if s.Orders.Enabled {
		for _, t := range orderTables(s.Orders) {
			spec, err := t.build(company, t.filial)
			if err := add(t.role, spec, err); err != nil {
				return nil, err
			}
			for _, f := range protheus.OptionalOrderFields(aliasOf(spec)) {
				out[len(out)-1].Optional = append(out[len(out)-1].Optional, f.Name)
			}
			out[len(out)-1].Without = t.without
		}
	}
	return out, nil
}

// Catalog reads the CRM custom fields of an entity as a mapping catalog.
func Catalog(ctx context.Context, c *crm.Client, entity string) (mapping.CustomFieldCatalog, error) {
	return catalog(ctx, c, entity)
}
