package wondeals

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"maps"
	"net/url"
	"slices"
	"strings"
	"sync"

	"github.com/erpbridge/erpbridge/mapping"

	"github.com/erpbridge/erpbridge/bridge"
	"github.com/erpbridge/erpbridge/bridge/cache"
	"github.com/erpbridge/erpbridge/bridge/component"
	"github.com/erpbridge/erpbridge/bridge/inbound"
	"github.com/erpbridge/erpbridge/bridge/store"
	"github.com/erpbridge/erpbridge/erp"
	"github.com/erpbridge/erpbridge/erp/protheus"
	"github.com/erpbridge/erpbridge/erp/protheus/streams"
	"github.com/erpbridge/erpbridge/erp/protheus/streams/customers"
	"github.com/erpbridge/erpbridge/erp/protheus/streams/orders"
	"github.com/erpbridge/erpbridge/erp/protheus/streams/products"
	"github.com/erpbridge/erpbridge/erp/resterp"
	"github.com/erpbridge/erpbridge/erp/sqlerp"
)

// directory finds the Protheus counterparts of CRM records for won deals,
// in the company and branch the order is made in (its destination):
// organizations and products through the identity map (the bridge made
// them from SA1 and SB1 rows of that company, visible from that branch),
// else an organization by its CNPJ in the destination's SA1; owners by
// e-mail in its SA3.
type directory struct {
	st        *store.Store
	crm       component.DealCRM
	erp       component.ERP
	r         *router
	cust      *customers.Config
	prod      *products.Config
	ord       *orders.Config
	cnpjField string                    // organization custom field id ("" = none)
	sellerOf  cache.TTL[string, string] // destination and CRM user id → A3_COD

	mu     sync.Mutex
	tables map[string]erp.Source // SA1 and SA3 by role and destination, opened on first use
}

var _ inbound.Directory = (*directory)(nil)

// table returns SA1 ("customers") or SA3 ("sellers", nil when the ERP
// serves none) of a destination, as the destination's branch reads it.
func (d *directory) table(ctx context.Context, role string, b protheus.Branch) (erp.Source, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	key := role + " " + b.String()
	if src, ok := d.tables[key]; ok {
		return src, nil
	}
	var t component.Table
	switch role {
	case "customers":
		filial, err := d.cust.FilialFor(ctx, d.erp, b.Company, b.Filial)
		if err != nil {
			return nil, err
		}
		if t, err = customers.Table(b.Company, filial, "won deal customers"); err != nil {
			return nil, err
		}
	default:
		tables, err := d.ord.Tables(b.Company, nil)
		if err != nil {
			return nil, err
		}
		for _, x := range tables {
			if x.Role == "sellers" {
				t = x
			}
		}
		t.Role = "won deal sellers"
		if t.Spec.Filial, err = streams.XFilial(ctx, d.erp, b.Company, "SA3", b.Filial, d.ord.SellerFilial); err != nil {
			return nil, err
		}
	}
	src, err := d.erp.Open(ctx, t, nil)
	if err != nil {
		return nil, err
	}
	if d.tables == nil {
		d.tables = map[string]erp.Source{}
	}
	d.tables[key] = src
	return src, nil
}

// Close closes the tables opened.
func (d *directory) Close() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	var srcs []erp.Source
	for _, src := range d.tables {
		srcs = append(srcs, src)
	}
	return streams.CloseAll(srcs)
}

// made says where an identity's ERP record lives, for messages.
func made(what string, key string) string {
	b, _ := protheus.KeyBranch(key)
	parts, _ := protheus.KeyParts(key)
	where := "company " + b.Company
	if b.Filial != "" {
		where += ", branch " + b.Filial
	}
	return fmt.Sprintf("it is %s %s of %s", what, strings.Join(parts, "/"), where)
}

func (d *directory) Customer(ctx context.Context, orgID, dest string) (string, string, error) {
	b, err := d.r.branchOf(dest)
	if err != nil {
		return "", "", err
	}
	filial, err := d.cust.FilialFor(ctx, d.erp, b.Company, b.Filial)
	if err != nil {
		return "", "", err
	}
	id, ok, err := d.st.IdentityByCRMID(ctx, "organization", orgID)
	if err != nil {
		return "", "", err
	}
	elsewhere := ""
	if ok && !id.Deleted {
		kb, _ := protheus.KeyBranch(id.ERPKey)
		if parts, ok := protheus.KeyParts(id.ERPKey); ok && len(parts) == 2 {
			if kb.Same(protheus.Branch{Company: b.Company, Filial: filial}) {
				return parts[0], parts[1], nil
			}
			elsewhere = made("customer", id.ERPKey) + ", not one branch " + b.String() + " (where the order is made) sees"
		}
	}
	if d.cnpjField == "" {
		if elsewhere != "" {
			return "", "", fmt.Errorf("%w: %s (set streams.customers.cnpj_field to find it there by its CNPJ)", bridge.ErrNoCounterpart, elsewhere)
		}
		return "", "", fmt.Errorf("%w: it was not made from an SA1 customer (and no cnpj_field is configured to match one)", bridge.ErrNoCounterpart)
	}
	v, err := d.crm.OrganizationField(ctx, orgID, d.cnpjField)
	if err != nil {
		return "", "", err
	}
	cnpj := mapping.DocumentKey(v)
	if cnpj == "" {
		if elsewhere != "" {
			return "", "", fmt.Errorf("%w: %s, and it has no CNPJ", bridge.ErrNoCounterpart, elsewhere)
		}
		return "", "", fmt.Errorf("%w: it was not made from an SA1 customer and has no CNPJ", bridge.ErrNoCounterpart)
	}
	src, err := d.table(ctx, "customers", b)
	if err != nil {
		return "", "", err
	}
	recs, err := src.Find(ctx, []erp.Match{{Column: "A1_CGC", Value: cnpj}}, 10)
	if err != nil {
		return "", "", fmt.Errorf("finding CNPJ %s in SA1: %w", cnpj, err)
	}
	for _, r := range recs {
		if !r.Deleted && !protheus.IsBlocked(streams.Str(r, "A1_MSBLQL")) {
			return strings.TrimSpace(streams.Str(r, "A1_COD")), strings.TrimSpace(streams.Str(r, "A1_LOJA")), nil
		}
	}
	return "", "", fmt.Errorf("%w: no live SA1 customer of %s has CNPJ %s", bridge.ErrNoCounterpart, b, cnpj)
}

func (d *directory) Product(ctx context.Context, productID, dest string) (string, error) {
	b, err := d.r.branchOf(dest)
	if err != nil {
		return "", err
	}
	id, ok, err := d.st.IdentityByCRMID(ctx, "product", productID)
	if err != nil {
		return "", err
	}
	if ok && !id.Deleted {
		kb, _ := protheus.KeyBranch(id.ERPKey)
		if parts, ok := protheus.KeyParts(id.ERPKey); ok && len(parts) == 1 {
			filial, err := d.prod.FilialFor(ctx, d.erp, b.Company, b.Filial)
			if err != nil {
				return "", err
			}
			if kb.Same(protheus.Branch{Company: b.Company, Filial: filial}) {
				return parts[0], nil
			}
			return "", fmt.Errorf("%w: %s, not one branch %s (where the order is made) sees", bridge.ErrNoCounterpart, made("product", id.ERPKey), b)
		}
	}
	return "", fmt.Errorf("%w: it was not made from an SB1 product", bridge.ErrNoCounterpart)
}

func (d *directory) Seller(ctx context.Context, userID, dest string) (string, error) {
	b, err := d.r.branchOf(dest)
	if err != nil {
		return "", err
	}
	return d.sellerOf.Get(b.String()+" "+userID, func() (string, error) {
		sellers, err := d.table(ctx, "sellers", b)
		if err != nil || sellers == nil {
			return "", err
		}
		email, err := d.crm.UserEmail(ctx, userID)
		if err != nil || email == "" { // a removed user: the order gets won_deals.seller
			return "", err
		}
		// SA3 compares exactly: try the e-mail as the CRM has it, then in
		// lower and upper case (ERP data entry is often upper case).
		for _, e := range []string{email, strings.ToLower(email), strings.ToUpper(email)} {
			recs, err := sellers.Find(ctx, []erp.Match{{Column: "A3_EMAIL", Value: e}}, 5)
			if err != nil {
				return "", fmt.Errorf("finding seller %s in SA3: %w", e, err)
			}
			for _, r := range recs {
				if !r.Deleted && !protheus.IsBlocked(streams.Str(r, "A3_MSBLQL")) {
					return strings.TrimSpace(streams.Str(r, "A3_COD")), nil
				}
			}
		}
		return "", nil
	})
}

func (d *directory) FromERP(ctx context.Context, dealID string) (bool, error) {
	_, ok, err := d.st.IdentityByCRMID(ctx, "deal", dealID)
	return ok, err
}

// orderSink is an ERP order sink as the won-deal flow gets it: its errors
// in the engine's classes (sinkError), and the check of its staging tables
// when it writes to them.
type orderSink struct {
	erp.OrderSink
	check func(context.Context) error // nil: nothing to check (the order route)
}

// Check checks the staging tables of a staging sink (erp.OrderSinkChecker).
func (s orderSink) Check(ctx context.Context) error {
	if s.check == nil {
		return nil
	}
	return s.check(ctx)
}

func (s orderSink) Submit(ctx context.Context, o erp.Order) (erp.OrderResult, error) {
	r, err := s.OrderSink.Submit(ctx, o)
	return r, sinkError(err)
}

func (s orderSink) Status(ctx context.Context, dealID, dest string) (erp.OrderResult, bool, error) {
	r, ok, err := s.OrderSink.Status(ctx, dealID, dest)
	return r, ok, sinkError(err)
}

// sinkError translates the errors of the ERP order sinks (erp/resterp,
// erp/sqlerp) into the engine's classes: the one place that does.
func sinkError(err error) error {
	// Refused credentials or a route that is not there (a wrong URL): no
	// retry helps, and every deal would fail the same way.
	switch {
	case err == nil:
		return nil
	case errors.Is(err, resterp.ErrNotFound):
		return fmt.Errorf("%w: won_deals.rest.url: no order route there (404; check the path and the AppServer's REST configuration): %w", bridge.ErrFatal, err)
	case errors.Is(err, resterp.ErrUnauthorized):
		return fmt.Errorf("%w: won_deals.rest: the ERP refused the user/password or token: %w", bridge.ErrFatal, err)
	case errors.Is(err, erp.ErrOrderOutcomeUnknown):
		// The sink's own words say it ("the ERP's answer was lost; the
		// order may exist").
		return classed{err: err, class: bridge.ErrOutcomeUnknown}
	}
	return err
}

// classed is err in an engine class: errors.Is sees both, and the message
// is err's own.
type classed struct{ err, class error }

func (c classed) Error() string   { return c.err.Error() }
func (c classed) Unwrap() []error { return []error{c.err, c.class} }

// openSink builds the sink won_deals.sink names for the orders of one
// company and branch: the staging tables of the company, rows of the
// branch; or the route, sent the company and the branch.
func openSink(w *Config, b protheus.Branch, db *sql.DB, d sqlerp.Dialect) (orderSink, error) {
	company := b.Company
	switch w.Sink {
	case SinkREST:
		u, err := url.Parse(w.REST.URL)
		if err != nil {
			return orderSink{}, errors.New("won_deals.rest.url: not a valid URL")
		}
		s, err := resterp.NewOrderSink(resterp.OrderRouteSpec{
			BaseURL: u.Scheme + "://" + u.Host, Path: u.EscapedPath(),
			Auth:    resterp.Auth{User: w.REST.User, Password: w.REST.Password, Token: w.REST.Token},
			Timeout: w.REST.Timeout.D(),
			Fields:  map[string]string{"company": b.Company, "filial": b.Filial},
		})
		if err != nil {
			return orderSink{}, fmt.Errorf("won_deals.rest: %w", err)
		}
		return orderSink{OrderSink: s}, nil
	default:
		if db == nil {
			return orderSink{}, errors.New("won_deals.sink = \"staging\" needs an ERP database; with REST routes use the rest sink")
		}
		s, err := sqlerp.NewStagingSink(db, d, protheus.Staging(company, b.Filial, w.Staging.Aliases()))
		if err != nil {
			return orderSink{}, fmt.Errorf("won_deals (staging sink): %w", err)
		}
		return orderSink{OrderSink: s, check: s.Check}, nil
	}
}

// checkSink checks the ERP side of the sink when it can: the staging
// tables exist with the staging layout (sqlerp.StagingSink.Check). Only
// the catalog is read.
func checkSink(ctx context.Context, w *Config, sink erp.OrderSink) error {
	c, ok := sink.(erp.OrderSinkChecker)
	if !ok {
		return nil
	}
	if err := c.Check(ctx); err != nil {
		a := w.Staging
		return fmt.Errorf("won_deals.staging (header %q, items %q; when these names are another table's, set two free aliases): %w",
			a.Header, a.Items, err)
	}
	return nil
}

// WonDealPipelines are the CRM pipelines whose won deals become ERP orders
// (won_deals.pipelines), as `erpbridge check` shows them.
type WonDealPipelines struct {
	Orders []component.Pipeline // their won deals become orders
	Others []component.Pipeline // their won deals are skipped
	// Default: won_deals.pipelines is empty and Orders is the pipeline of
	// streams.orders.pipeline.
	Default bool
	// FromRoutes: won_deals.pipelines is empty and Orders are the
	// pipelines of won_deals.routes.
	FromRoutes bool
	// Copies say what the pipelines' copy of won deals
	// (config.deal_won.copy_to_pipeline) means for the orders.
	Copies []string
}

// Describe says, a line each, which won deals become orders and which not.
func (w WonDealPipelines) Describe() []string {
	from := "won_deals.pipelines"
	switch {
	case w.Default:
		from = "won_deals.pipelines is empty: the pipeline of streams.orders.pipeline"
	case w.FromRoutes:
		from = "won_deals.pipelines is empty: the pipelines of won_deals.routes"
	}
	out := []string{fmt.Sprintf("orders from the deals won in %s (%s)", pipelineNames(w.Orders), from)}
	if len(w.Others) > 0 {
		out = append(out, fmt.Sprintf("deals won in %s are skipped: never ERP orders", pipelineNames(w.Others)))
	}
	return append(out, w.Copies...)
}

// pipelineNames lists pipeline names, quoted.
func pipelineNames(ps []component.Pipeline) string {
	names := make([]string, len(ps))
	for i, p := range ps {
		names[i] = fmt.Sprintf("%q", p.Name)
	}
	return strings.Join(names, ", ")
}

// ResolveWonDealPipelines reads the CRM's pipelines and resolves
// won_deals.pipelines; empty, it is the pipeline of streams.orders.pipeline
// (by default the CRM's first), whether the orders stream is on or not. It
// refuses a name the CRM lacks, and a list holding both a pipeline and the
// pipeline it copies its won deals into (RD Station's copy of won deals):
// the copy, won in turn, would make a second order of one sale.
func ResolveWonDealPipelines(ctx context.Context, w *Config, ord *orders.Config, c component.DealCRM) (WonDealPipelines, error) {
	var out WonDealPipelines
	pipes, err := c.Pipelines(ctx)
	if err != nil {
		return out, err
	}
	var errs []error
	find := func(name string) (component.Pipeline, bool) {
		for _, p := range pipes {
			if name == "" || strings.EqualFold(strings.TrimSpace(p.Name), strings.TrimSpace(name)) {
				return p, true
			}
		}
		return component.Pipeline{}, false
	}
	names, key := w.Pipelines, "won_deals.pipelines"
	switch {
	case len(names) == 0 && len(w.Routes) > 0:
		names, key, out.FromRoutes = slices.Sorted(maps.Keys(w.Routes)), "won_deals.routes", true
	case len(names) == 0:
		names, key, out.Default = []string{ord.Pipeline}, "streams.orders.pipeline (the default of won_deals.pipelines)", true
	}
	for _, name := range slices.Sorted(maps.Keys(w.Routes)) {
		if _, ok := find(name); !ok && len(w.Pipelines) > 0 {
			errs = append(errs, fmt.Errorf("won_deals.routes: the CRM has no pipeline %q (it has: %s)", name, pipelineNames(pipes)))
		}
	}
	listed := map[string]bool{}
	for _, name := range names {
		p, ok := find(name)
		if !ok {
			errs = append(errs, fmt.Errorf("%s: the CRM has no pipeline %q (it has: %s)", key, name, pipelineNames(pipes)))
			continue
		}
		listed[p.ID] = true
		out.Orders = append(out.Orders, p)
	}
	if len(out.Orders) == 0 && len(errs) == 0 {
		errs = append(errs, errors.New("won_deals: the CRM has no pipeline"))
	}
	byID := map[string]component.Pipeline{}
	for _, p := range pipes {
		byID[p.ID] = p
		if !listed[p.ID] {
			out.Others = append(out.Others, p)
		}
	}
	for _, p := range pipes {
		to, ok := p.CopyWonTo, !p.CopyUnknown
		target, known := byID[to]
		switch {
		case !ok && listed[p.ID]:
			out.Copies = append(out.Copies, fmt.Sprintf("pipeline %q has a setting to copy its won deals that the bridge cannot read: "+
				"if it copies them into a listed pipeline, a copy won there would be a second order", p.Name))
		case to == "" || to == p.ID:
		case listed[p.ID] && listed[to]:
			errs = append(errs, fmt.Errorf("won_deals.pipelines: pipeline %q copies its won deals into %q (its setting to copy won deals to another pipeline), "+
				"and both are listed: the copy, won in turn, would be a second ERP order of the same sale; list only %q", p.Name, target.Name, p.Name))
		case listed[p.ID] && known:
			out.Copies = append(out.Copies, fmt.Sprintf("pipeline %q copies its won deals into %q: the copies are no orders", p.Name, target.Name))
		case listed[to]:
			out.Copies = append(out.Copies, fmt.Sprintf("pipeline %q copies its won deals into %q: a copy won in %q becomes the order, the deal won in %q does not",
				p.Name, target.Name, target.Name, p.Name))
		}
	}
	return out, errors.Join(errs...)
}
