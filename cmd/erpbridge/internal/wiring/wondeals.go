package wiring

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/erpbridge/erpbridge/mapping"

	crmtarget "github.com/erpbridge/erpbridge/rdstation/crm/target"

	"go.uber.org/zap"

	"github.com/erpbridge/erpbridge/bridge"
	"github.com/erpbridge/erpbridge/bridge/clock"
	wondeals "github.com/erpbridge/erpbridge/bridge/inbound"
	"github.com/erpbridge/erpbridge/bridge/store"
	"github.com/erpbridge/erpbridge/cmd/erpbridge/internal/config"
	"github.com/erpbridge/erpbridge/erp"
	"github.com/erpbridge/erpbridge/erp/protheus"
	"github.com/erpbridge/erpbridge/erp/resterp"
	"github.com/erpbridge/erpbridge/erp/sqlerp"
	"github.com/erpbridge/erpbridge/rdstation/crm"
)

// directory finds the Protheus counterparts of CRM records for won deals:
// organizations and products through the identity map (the bridge made
// them from SA1 and SB1 rows), else an organization by its CNPJ in SA1;
// owners by e-mail in SA3.
type directory struct {
	st        *store.Store
	c         *crm.Client
	customers erp.Source // SA1
	sellers   erp.Source // SA3
	cnpjField string     // organization custom field id ("" = none)
	users     *userDirectory
	sellerOf  ttlCache[string, string] // CRM user id → A3_COD
}

var _ wondeals.Directory = (*directory)(nil)

func (d *directory) Customer(ctx context.Context, orgID string) (string, string, error) {
	id, ok, err := d.st.IdentityByCRMID(ctx, "organization", orgID)
	if err != nil {
		return "", "", err
	}
	if ok && !id.Deleted {
		if parts := erp.SplitKey(id.ERPKey); len(parts) == 3 {
			return parts[1], parts[2], nil
		}
	}
	if d.cnpjField == "" {
		return "", "", fmt.Errorf("%w: it was not made from an SA1 customer (and no cnpj_field is configured to match one)", wondeals.ErrNoCounterpart)
	}
	org, err := d.c.GetOrganization(ctx, orgID)
	if err != nil {
		return "", "", fmt.Errorf("reading organization %s: %w", orgID, err)
	}
	v, _ := crm.FieldValue(org.CustomFields, d.cnpjField)
	cnpj := mapping.DocumentKey(v.Text())
	if cnpj == "" {
		return "", "", fmt.Errorf("%w: it was not made from an SA1 customer and has no CNPJ", wondeals.ErrNoCounterpart)
	}
	recs, err := d.customers.Find(ctx, []erp.Match{{Column: "A1_CGC", Value: cnpj}}, 10)
	if err != nil {
		return "", "", fmt.Errorf("finding CNPJ %s in SA1: %w", cnpj, err)
	}
	for _, r := range recs {
		if !r.Deleted && !protheus.IsBlocked(str(r, "A1_MSBLQL")) {
			return strings.TrimSpace(str(r, "A1_COD")), strings.TrimSpace(str(r, "A1_LOJA")), nil
		}
	}
	return "", "", fmt.Errorf("%w: no live SA1 customer has CNPJ %s", wondeals.ErrNoCounterpart, cnpj)
}

func (d *directory) Product(ctx context.Context, productID string) (string, error) {
	id, ok, err := d.st.IdentityByCRMID(ctx, "product", productID)
	if err != nil {
		return "", err
	}
	if ok && !id.Deleted {
		if parts := erp.SplitKey(id.ERPKey); len(parts) == 2 {
			return parts[1], nil
		}
	}
	return "", fmt.Errorf("%w: it was not made from an SB1 product", wondeals.ErrNoCounterpart)
}

func (d *directory) Seller(ctx context.Context, userID string) (string, error) {
	if d.sellers == nil {
		return "", nil
	}
	return d.sellerOf.get(userID, func() (string, error) {
		email, err := d.users.emailOf(ctx, userID)
		if err != nil || email == "" { // a removed user: the order gets won_deals.seller
			return "", err
		}
		// SA3 compares exactly: try the e-mail as the CRM has it, then in
		// lower and upper case (ERP data entry is often upper case).
		for _, e := range []string{email, strings.ToLower(email), strings.ToUpper(email)} {
			recs, err := d.sellers.Find(ctx, []erp.Match{{Column: "A3_EMAIL", Value: e}}, 5)
			if err != nil {
				return "", fmt.Errorf("finding seller %s in SA3: %w", e, err)
			}
			for _, r := range recs {
				if !r.Deleted && !protheus.IsBlocked(str(r, "A3_MSBLQL")) {
					return strings.TrimSpace(str(r, "A3_COD")), nil
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

// fatalSink marks a sink's refused credentials as fatal for the poller.
type fatalSink struct{ erp.OrderSink }

func (f fatalSink) Submit(ctx context.Context, o erp.Order) (erp.OrderResult, error) {
	r, err := f.OrderSink.Submit(ctx, o)
	return r, fatal(err)
}

func (f fatalSink) Status(ctx context.Context, dealID string) (erp.OrderResult, bool, error) {
	r, ok, err := f.OrderSink.Status(ctx, dealID)
	return r, ok, fatal(err)
}

func fatal(err error) error {
	// Refused credentials or a route that is not there (a wrong URL): no
	// retry helps, and every deal would fail the same way.
	switch {
	case errors.Is(err, resterp.ErrNotFound):
		return fmt.Errorf("%w: won_deals.rest.url: no order route there (404; check the path and the AppServer's REST configuration): %w", bridge.ErrFatal, err)
	case errors.Is(err, resterp.ErrUnauthorized):
		return fmt.Errorf("%w: won_deals.rest: the ERP refused the user/password or token: %w", bridge.ErrFatal, err)
	}
	return err
}

// OrderSink builds the sink won_deals.sink names.
func OrderSink(cfg *config.Config, db *sql.DB, d sqlerp.Dialect) (erp.OrderSink, error) {
	w := cfg.WonDeals
	switch w.Sink {
	case config.SinkREST:
		u, err := url.Parse(w.REST.URL)
		if err != nil {
			return nil, errors.New("won_deals.rest.url: not a valid URL")
		}
		s, err := resterp.NewOrderSink(resterp.OrderRouteSpec{
			BaseURL: u.Scheme + "://" + u.Host, Path: u.EscapedPath(),
			Auth:    resterp.Auth{User: w.REST.User, Password: w.REST.Password, Token: w.REST.Token},
			Timeout: w.REST.Timeout.D(),
		})
		if err != nil {
			return nil, fmt.Errorf("won_deals.rest: %w", err)
		}
		return fatalSink{s}, nil
	default:
		if db == nil {
			return nil, errors.New("won_deals.sink = \"staging\" needs an ERP database; with REST routes use the rest sink")
		}
		s, err := sqlerp.NewStagingSink(db, d, protheus.Staging(cfg.ERP.Company, w.Filial, w.Staging.Aliases()))
		if err != nil {
			return nil, fmt.Errorf("won_deals (staging sink): %w", err)
		}
		return s, nil
	}
}

// CheckOrderSink checks the ERP side of the sink when it can: the staging
// tables exist with the staging layout (sqlerp.StagingSink.Check). Only
// the catalog is read.
func CheckOrderSink(ctx context.Context, cfg *config.Config, sink erp.OrderSink) error {
	c, ok := sink.(interface{ Check(context.Context) error })
	if !ok {
		return nil
	}
	if err := c.Check(ctx); err != nil {
		a := cfg.WonDeals.Staging
		return fmt.Errorf("won_deals.staging (header %q, items %q; when these names are another table's, set two free aliases): %w",
			a.Header, a.Items, err)
	}
	return nil
}

// WonDealPipelines are the CRM pipelines whose won deals become ERP orders
// (won_deals.pipelines), as `erpbridge check` shows them.
type WonDealPipelines struct {
	Orders []crm.Pipeline // their won deals become orders
	Others []crm.Pipeline // their won deals are skipped
	// Default: won_deals.pipelines is empty and Orders is the pipeline of
	// streams.orders.pipeline.
	Default bool
	// Copies say what the pipelines' copy of won deals
	// (config.deal_won.copy_to_pipeline) means for the orders.
	Copies []string
}

// Describe says, a line each, which won deals become orders and which not.
func (w WonDealPipelines) Describe() []string {
	from := "won_deals.pipelines"
	if w.Default {
		from = "won_deals.pipelines is empty: the pipeline of streams.orders.pipeline"
	}
	out := []string{fmt.Sprintf("orders from the deals won in %s (%s)", pipelineNames(w.Orders), from)}
	if len(w.Others) > 0 {
		out = append(out, fmt.Sprintf("deals won in %s are skipped: never ERP orders", pipelineNames(w.Others)))
	}
	return append(out, w.Copies...)
}

// pipelineNames lists pipeline names, quoted.
func pipelineNames(ps []crm.Pipeline) string {
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
func ResolveWonDealPipelines(ctx context.Context, cfg *config.Config, c *crm.Client) (WonDealPipelines, error) {
	var out WonDealPipelines
	pipes, err := c.ListPipelines(ctx)
	if err != nil {
		return out, fmt.Errorf("reading CRM pipelines: %w", err)
	}
	find := func(name string) (crm.Pipeline, bool) {
		for _, p := range pipes {
			if name == "" || strings.EqualFold(strings.TrimSpace(p.Name), strings.TrimSpace(name)) {
				return p, true
			}
		}
		return crm.Pipeline{}, false
	}
	names, key := cfg.WonDeals.Pipelines, "won_deals.pipelines"
	if len(names) == 0 {
		names, key, out.Default = []string{cfg.Streams.Orders.Pipeline}, "streams.orders.pipeline (the default of won_deals.pipelines)", true
	}
	listed := map[string]bool{}
	var errs []error
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
	byID := map[string]crm.Pipeline{}
	for _, p := range pipes {
		byID[p.ID] = p
		if !listed[p.ID] {
			out.Others = append(out.Others, p)
		}
	}
	for _, p := range pipes {
		to, ok := p.CopyToPipeline()
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

// wonDeals builds the won-deal poller.
func wonDeals(ctx context.Context, cfg *config.Config, b *Bridge, acc erpAccess, clk clock.Clock, log *zap.Logger, afterSubmit func()) (*wondeals.Poller, error) {
	w := cfg.WonDeals
	source := acc.source
	sink, err := OrderSink(cfg, acc.db, acc.dialect)
	if err != nil {
		return nil, err
	}
	// A missing staging table, or one that is not the staging layout, fails
	// now: not at the first won deal, and nothing is written into it.
	if err := CheckOrderSink(ctx, cfg, sink); err != nil {
		return nil, err
	}
	company := cfg.ERP.Company
	dir := &directory{st: b.Store, c: b.CRM, users: &userDirectory{c: b.CRM, ttl: 10 * time.Minute},
		sellerOf: ttlCache[string, string]{ttl: 10 * time.Minute}}
	cspec, cerr := protheus.Customers(company, cfg.Streams.Customers.Filial)
	if dir.customers, err = source("won deal customers", cspec, cerr, nil); err != nil {
		return nil, err
	}
	aspec, aerr := protheus.Sellers(company, cfg.Streams.Orders.SellerFilial)
	if dir.sellers, err = source("won deal sellers", aspec, aerr, nil); err != nil {
		return nil, err
	}
	if f := cfg.Streams.Customers.CNPJField; f != "" {
		cat, err := catalog(ctx, b.CRM, "organization")
		if err != nil {
			return nil, err
		}
		cf, err := cat.Lookup(f)
		if err != nil {
			return nil, fmt.Errorf("streams.customers.cnpj_field: %w", err)
		}
		dir.cnpjField = cf.ID
	}
	cat, err := catalog(ctx, b.CRM, "deal")
	if err != nil {
		return nil, err
	}
	nf, err := cat.Lookup(cfg.Streams.Orders.OrderNumberField)
	if err != nil {
		return nil, fmt.Errorf("streams.orders.order_number_field: %w", err)
	}
	pipes, err := ResolveWonDealPipelines(ctx, cfg, b.CRM)
	if err != nil {
		return nil, err
	}
	orders, stages := map[string]string{}, map[string]string{}
	for _, p := range pipes.Orders {
		orders[p.ID] = p.Name
	}
	for _, p := range append(slices.Clone(pipes.Orders), pipes.Others...) {
		for _, st := range p.Stages {
			stages[st.ID] = p.ID
		}
	}
	log.Info("won deals: orders from the deals won in "+pipelineNames(pipes.Orders), zap.String("stream", wondeals.Stream))
	return wondeals.New(crmtarget.WonDeals{C: b.CRM, NumberFieldID: nf.ID}, b.Store, sink, dir, wondeals.Options{
		Overlap: w.Overlap.D(), Lookback: w.Lookback.D(),
		Defaults: erp.Order{OrderType: w.OrderType, PaymentTerms: w.PaymentTerms, PriceTable: w.PriceTable, Seller: w.Seller},
		TES:      w.TES, Operation: w.Operation, UseDealPrices: w.UseDealPrices, Notes: w.Notes,
		Numbers: nf.ID != "", ZoneMargin: crmtarget.ZoneMargin, Now: clk.Now, Logger: log, AfterSubmit: afterSubmit,
		Pipelines: orders, Stages: stages,
	}), nil
}
