package wondeals

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/erpbridge/erpbridge/mapping"

	"github.com/erpbridge/erpbridge/bridge"
	"github.com/erpbridge/erpbridge/bridge/cache"
	"github.com/erpbridge/erpbridge/bridge/component"
	"github.com/erpbridge/erpbridge/bridge/inbound"
	"github.com/erpbridge/erpbridge/bridge/store"
	"github.com/erpbridge/erpbridge/erp"
	"github.com/erpbridge/erpbridge/erp/protheus"
	"github.com/erpbridge/erpbridge/erp/protheus/streams"
	"github.com/erpbridge/erpbridge/erp/protheus/streams/orders"
	"github.com/erpbridge/erpbridge/erp/resterp"
	"github.com/erpbridge/erpbridge/erp/sqlerp"
)

// directory finds the Protheus counterparts of CRM records for won deals:
// organizations and products through the identity map (the bridge made
// them from SA1 and SB1 rows), else an organization by its CNPJ in SA1;
// owners by e-mail in SA3.
type directory struct {
	st        *store.Store
	crm       component.DealCRM
	customers erp.Source                // SA1
	sellers   erp.Source                // SA3
	cnpjField string                    // organization custom field id ("" = none)
	sellerOf  cache.TTL[string, string] // CRM user id → A3_COD
}

var _ inbound.Directory = (*directory)(nil)

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
		return "", "", fmt.Errorf("%w: it was not made from an SA1 customer (and no cnpj_field is configured to match one)", bridge.ErrNoCounterpart)
	}
	v, err := d.crm.OrganizationField(ctx, orgID, d.cnpjField)
	if err != nil {
		return "", "", err
	}
	cnpj := mapping.DocumentKey(v)
	if cnpj == "" {
		return "", "", fmt.Errorf("%w: it was not made from an SA1 customer and has no CNPJ", bridge.ErrNoCounterpart)
	}
	recs, err := d.customers.Find(ctx, []erp.Match{{Column: "A1_CGC", Value: cnpj}}, 10)
	if err != nil {
		return "", "", fmt.Errorf("finding CNPJ %s in SA1: %w", cnpj, err)
	}
	for _, r := range recs {
		if !r.Deleted && !protheus.IsBlocked(streams.Str(r, "A1_MSBLQL")) {
			return strings.TrimSpace(streams.Str(r, "A1_COD")), strings.TrimSpace(streams.Str(r, "A1_LOJA")), nil
		}
	}
	return "", "", fmt.Errorf("%w: no live SA1 customer has CNPJ %s", bridge.ErrNoCounterpart, cnpj)
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
	return "", fmt.Errorf("%w: it was not made from an SB1 product", bridge.ErrNoCounterpart)
}

func (d *directory) Seller(ctx context.Context, userID string) (string, error) {
	if d.sellers == nil {
		return "", nil
	}
	return d.sellerOf.Get(userID, func() (string, error) {
		email, err := d.crm.UserEmail(ctx, userID)
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

func (s orderSink) Submit(ctx context.Context, o erp.Order) (erp.OrderResult, error) {
	r, err := s.OrderSink.Submit(ctx, o)
	return r, sinkError(err)
}

func (s orderSink) Status(ctx context.Context, dealID string) (erp.OrderResult, bool, error) {
	r, ok, err := s.OrderSink.Status(ctx, dealID)
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

// openSink builds the sink won_deals.sink names.
func openSink(w *Config, company string, db *sql.DB, d sqlerp.Dialect) (orderSink, error) {
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
		})
		if err != nil {
			return orderSink{}, fmt.Errorf("won_deals.rest: %w", err)
		}
		return orderSink{OrderSink: s}, nil
	default:
		if db == nil {
			return orderSink{}, errors.New("won_deals.sink = \"staging\" needs an ERP database; with REST routes use the rest sink")
		}
		s, err := sqlerp.NewStagingSink(db, d, protheus.Staging(company, w.Filial, w.Staging.Aliases()))
		if err != nil {
			return orderSink{}, fmt.Errorf("won_deals (staging sink): %w", err)
		}
		return orderSink{OrderSink: s, check: s.Check}, nil
	}
}

// checkSink checks the ERP side of the sink when it can: the staging
// tables exist with the staging layout (sqlerp.StagingSink.Check). Only
// the catalog is read.
func checkSink(ctx context.Context, w *Config, sink orderSink) error {
	if sink.check == nil {
		return nil
	}
	if err := sink.check(ctx); err != nil {
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
	find := func(name string) (component.Pipeline, bool) {
		for _, p := range pipes {
			if name == "" || strings.EqualFold(strings.TrimSpace(p.Name), strings.TrimSpace(name)) {
				return p, true
			}
		}
		return component.Pipeline{}, false
	}
	names, key := w.Pipelines, "won_deals.pipelines"
	if len(names) == 0 {
		names, key, out.Default = []string{ord.Pipeline}, "streams.orders.pipeline (the default of won_deals.pipelines)", true
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
