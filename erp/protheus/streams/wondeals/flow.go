package wondeals

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"time"

	"go.uber.org/zap"

	"github.com/erpbridge/erpbridge/bridge/cache"
	"github.com/erpbridge/erpbridge/bridge/component"
	"github.com/erpbridge/erpbridge/bridge/inbound"
	"github.com/erpbridge/erpbridge/erp"
	"github.com/erpbridge/erpbridge/erp/protheus"
	"github.com/erpbridge/erpbridge/erp/protheus/advpl"
	"github.com/erpbridge/erpbridge/erp/protheus/streams/orders"
	"github.com/erpbridge/erpbridge/mapping"
)

// Tables implements component.TableReader: the staging tables the sink
// writes are checked on their own (Check); the poll reads SA1 (customers
// by CNPJ) and SA3 (sellers) through the streams' tables.
func (c *Config) Tables(string, func(string) (component.Config, bool)) ([]component.Table, error) {
	return nil, nil
}

// Provision implements component.Provisioner: the won-deal poller, with
// its ERP sink and its directory of ERP counterparts, routing each deal to
// its company and branch.
func (c *Config) Provision(ctx context.Context, env *component.Env) (component.Provisioned, error) {
	ord, cust, prod := settingsOf(env.Config)
	dc, ok := env.CRM.(component.DealCRM)
	if !ok {
		return component.Provisioned{}, errors.New("won_deals: the CRM has no sales pipelines")
	}
	pipes, err := ResolveWonDealPipelines(ctx, c, ord, dc)
	if err != nil {
		return component.Provisioned{}, err
	}
	r, err := c.router(ctx, env, ord, pipes)
	if err != nil {
		return component.Provisioned{}, err
	}
	sink := c.routedSink(env, r)
	// A missing staging table, or one that is not the staging layout, fails
	// now: not at the first won deal, and nothing is written into it.
	if err := checkSink(ctx, c, sink); err != nil {
		return component.Provisioned{}, err
	}
	if ord.On {
		// The orders stream knows an order made from a won deal by
		// C5_XCRMID: without it the order would come back as a deal.
		for _, company := range env.ERP.Companies() {
			tables, err := ord.Tables(company, env.Config)
			if err != nil {
				return component.Provisioned{}, err
			}
			has, err := env.ERP.Columns(ctx, tables[0])
			if err != nil {
				return component.Provisioned{}, fmt.Errorf("orders: %w", err)
			}
			if !has(protheus.CRMIDField().Name) {
				return component.Provisioned{}, fmt.Errorf("won_deals: %s has no C5_XCRMID field, so an order made from a won deal would come back "+
					"through streams.orders as a second deal; create the field (docs/protheus.md) or disable one of the two", tables[0].Spec.Physical)
			}
		}
	}
	dir := &directory{st: env.Store, crm: dc, erp: env.ERP, r: r, cust: cust, prod: prod, ord: ord,
		sellerOf: cache.TTL[string, string]{TTL: 10 * time.Minute}}
	if cust.CNPJField != "" {
		schema, err := env.CRM.Schema(ctx, mapping.EntityOrganization)
		if err != nil {
			return component.Provisioned{}, err
		}
		if dir.cnpjField, err = cust.KeyField(schema); err != nil {
			return component.Provisioned{}, err
		}
	}
	schema, err := env.CRM.Schema(ctx, mapping.EntityDeal)
	if err != nil {
		return component.Provisioned{}, err
	}
	nf, err := schema.Custom.Lookup(ord.OrderNumberField)
	if err != nil {
		return component.Provisioned{}, fmt.Errorf("streams.orders.order_number_field: %w", err)
	}
	byPipeline, stages := map[string]string{}, map[string]string{}
	for _, p := range pipes.Orders {
		byPipeline[p.ID] = p.Name
	}
	for _, p := range append(slices.Clone(pipes.Orders), pipes.Others...) {
		for _, st := range p.Stages {
			stages[st.ID] = p.ID
		}
	}
	env.Log.Info("won deals: orders from the deals won in "+pipelineNames(pipes.Orders), zap.String("stream", Name))
	p := inbound.New(dc.WonDeals(nf.ID), env.Store, sink, dir, inbound.Options{
		Overlap: c.Overlap.D(), Lookback: c.Lookback.D(),
		Defaults: erp.Order{OrderType: c.OrderType, PaymentTerms: c.PaymentTerms, PriceTable: c.PriceTable, Seller: c.Seller},
		TES:      c.TES, Operation: c.Operation, UseDealPrices: c.UseDealPrices, Notes: c.Notes,
		Numbers: nf.ID != "", ZoneMargin: dc.ZoneMargin(), Now: env.Clock.Now, Logger: env.Log, AfterSubmit: env.AfterOrderSubmit,
		Pipelines: byPipeline, Stages: stages, Destination: r.destination,
	})
	return component.Provisioned{Inbound: p, Close: dir.Close}, nil
}

// router resolves the routes' pipelines and the deal field against the
// CRM: where each won deal's order is made.
func (c *Config) router(ctx context.Context, env *component.Env, ord *orders.Config, pipes WonDealPipelines) (*router, error) {
	companies := env.ERP.Companies()
	r := &router{def: protheus.Branch{Company: companies[0], Filial: strings.TrimRight(c.Filial, " ")}, companies: companies,
		byPipeline: map[string]protheus.Branch{}}
	var named func(string) ([]string, bool)
	if ord.On {
		named = ord.Named
	}
	r.serves = servesBranch(companies, named)
	for name, dest := range c.Routes {
		b, err := protheus.ParseBranch(dest)
		if err != nil {
			return nil, fmt.Errorf("won_deals.routes.%s: %w", name, err)
		}
		for _, p := range pipes.Orders {
			if strings.EqualFold(strings.TrimSpace(p.Name), strings.TrimSpace(name)) {
				r.byPipeline[p.ID] = b
			}
		}
	}
	if c.FilialField != "" {
		schema, err := env.CRM.Schema(ctx, mapping.EntityDeal)
		if err != nil {
			return nil, err
		}
		f, err := schema.Custom.Lookup(c.FilialField)
		if err != nil {
			return nil, fmt.Errorf("won_deals.filial_field: %w", err)
		}
		r.fieldID, r.label = f.ID, c.FilialField
	}
	return r, nil
}

// routedSink is the sink of every destination, each opened on first use.
func (c *Config) routedSink(env *component.Env, r *router) *routedSink {
	db, d := env.ERP.SQL()
	return &routedSink{r: r, open: func(b protheus.Branch) (erp.OrderSink, error) {
		s, err := openSink(c, b, db, d)
		if err != nil {
			return nil, err
		}
		return s, nil
	}}
}

// Check implements component.Checker: the CRM side (the orders settings
// the flow leans on, the pipelines whose won deals become orders, the
// routes and the deal field naming branches) and the ERP side (each
// destination company's staging tables, or the order route).
func (c *Config) Check(ctx context.Context, env *component.Env) []component.Finding {
	var out []component.Finding
	ord, _, _ := settingsOf(env.Config)
	crmFinding := func(problem bool, format string, args ...any) {
		out = append(out, component.Finding{Problem: problem, Section: component.SectionCRM, Text: fmt.Sprintf(format, args...)})
	}
	var r *router
	if env.CRM != nil {
		if !ord.On { // the orders stream checks its settings itself
			if err := orders.CheckOrders(ctx, ord, env.CRM); err != nil {
				crmFinding(true, "%s", err.Error())
			} else {
				crmFinding(false, "orders: pipeline, stages, lost reasons, order number field and default owner found in the CRM")
			}
		}
		if dc, ok := env.CRM.(component.DealCRM); ok {
			pipes, err := ResolveWonDealPipelines(ctx, c, ord, dc)
			if err != nil {
				crmFinding(true, "%s", err.Error())
			} else {
				for i, line := range pipes.Describe() {
					if i == 0 {
						crmFinding(false, "won deals: %s", line)
					} else {
						out = append(out, component.Finding{Section: component.SectionCRM, Detail: true, Text: line})
					}
				}
				if env.ERP != nil {
					if r, err = c.router(ctx, env, ord, pipes); err != nil {
						crmFinding(true, "%v", err)
					} else {
						out = append(out, c.checkRoutes(ctx, env, r, pipes)...)
					}
				}
			}
		}
	}
	if env.ERP == nil {
		return out
	}
	if c.Sink == SinkREST {
		route := checkOrderRoute(ctx, c)
		if route.Problem {
			return append(out, route)
		}
		return append(out, route, checkOrderRouteVersion(ctx, c))
	}
	db, _ := env.ERP.SQL()
	if db == nil {
		return out
	}
	if r == nil {
		companies := env.ERP.Companies()
		r = &router{def: protheus.Branch{Company: companies[0], Filial: c.Filial}}
	}
	if err := checkSink(ctx, c, c.routedSink(env, r)); err != nil {
		return append(out, component.Finding{Problem: true, Text: err.Error()})
	}
	var names []string
	for _, company := range destinationCompanies(r) {
		header, items := c.Staging.Aliases().Tables(company)
		names = append(names, header, items)
	}
	return append(out, component.Finding{Text: fmt.Sprintf("won deals      staging tables %s (won_deals.staging), as docs/protheus.md lays them out", strings.Join(names, ", "))})
}

// destinationCompanies lists the companies of the default destination and
// the routes, in order, once each.
func destinationCompanies(r *router) []string {
	out := []string{r.def.Company}
	for _, b := range r.byPipeline {
		if !slices.Contains(out, b.Company) {
			out = append(out, b.Company)
		}
	}
	slices.Sort(out[1:])
	return out
}

// checkRoutes says where the won deals of each pipeline go, and checks
// the deal field's options name branches the bridge serves.
func (c *Config) checkRoutes(ctx context.Context, env *component.Env, r *router, pipes WonDealPipelines) []component.Finding {
	var out []component.Finding
	add := func(f component.Finding) { f.Section = component.SectionCRM; out = append(out, f) }
	if len(c.Routes) > 0 || c.FilialField != "" {
		for _, p := range pipes.Orders {
			b, ok := r.byPipeline[p.ID]
			if !ok {
				b = r.def
			}
			if err := r.serves(b); err != nil {
				add(component.Finding{Problem: true, Text: fmt.Sprintf("won_deals.routes: pipeline %q → %s: %v", p.Name, b, err)})
				continue
			}
			add(component.Finding{Detail: true, Text: fmt.Sprintf("deals won in %q become orders of company %s, branch %q", p.Name, b.Company, b.Filial)})
		}
	}
	if r.fieldID == "" {
		return out
	}
	schema, err := env.CRM.Schema(ctx, mapping.EntityDeal)
	if err != nil {
		add(component.Finding{Problem: true, Text: fmt.Sprintf("won_deals.filial_field: %v", err)})
		return out
	}
	f, _ := schema.Custom.Lookup(c.FilialField)
	var bad []string
	for _, opt := range f.Options {
		b, err := protheus.ParseBranch(opt)
		if err == nil {
			err = r.serves(b)
		}
		if err != nil {
			bad = append(bad, fmt.Sprintf("%q (%v)", opt, err))
		}
	}
	if len(bad) > 0 {
		add(component.Finding{Problem: true, Text: fmt.Sprintf("won_deals.filial_field %q: options that name no branch the bridge serves: %s", c.FilialField, strings.Join(bad, "; "))})
		return out
	}
	add(component.Finding{Text: fmt.Sprintf("won deals: a deal's field %q (\"01/02\") names the company and branch of its order", c.FilialField)})
	return out
}

// checkOrderRoute asks the rest sink's order route for itself with a GET
// (the bridge only POSTs to it): 404 means no route there, 401/403 refused
// credentials; any other answer means the route is served.
func checkOrderRoute(ctx context.Context, w *Config) component.Finding {
	ctx, cancel := context.WithTimeout(ctx, w.REST.Timeout.D())
	defer cancel()
	fail := func(format string, args ...any) component.Finding {
		return component.Finding{Problem: true, Text: fmt.Sprintf(format, args...)}
	}
	resp, err := getRoute(ctx, w, w.REST.URL)
	if err != nil {
		return fail("%v", err)
	}
	resp.Body.Close()
	switch resp.StatusCode {
	case http.StatusNotFound:
		return fail("won_deals.rest.url %q answered 404: no order route there (check the path, and the AppServer's REST configuration in docs/protheus.md)", w.REST.URL)
	case http.StatusUnauthorized, http.StatusForbidden:
		return fail("won_deals.rest.url %q answered %d: the user/password or token is refused", w.REST.URL, resp.StatusCode)
	}
	return component.Finding{Text: fmt.Sprintf("won deals      order route %s answers (GET → %d)", w.REST.URL, resp.StatusCode)}
}

// getRoute GETs url with the rest sink's credentials.
func getRoute(ctx context.Context, w *Config, url string) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, fmt.Errorf("won_deals.rest.url: %w", err)
	}
	switch {
	case w.REST.Token != "":
		req.Header.Set("Authorization", "Bearer "+w.REST.Token)
	case w.REST.User != "":
		req.SetBasicAuth(w.REST.User, w.REST.Password)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("won_deals.rest.url %q: %v", w.REST.URL, errors.Unwrap(err))
	}
	return resp, nil
}

// checkOrderRouteVersion asks the order route which version of
// erpbridge's ERP-side sources it was compiled from (GET …/version,
// erp/protheus/advpl) and warns when it is not the version this erpbridge
// ships: the RPO holds other sources (an RPO recompiled from an older
// copy, or a route written by hand).
func checkOrderRouteVersion(ctx context.Context, w *Config) component.Finding {
	ctx, cancel := context.WithTimeout(ctx, w.REST.Timeout.D())
	defer cancel()
	url := strings.TrimSuffix(w.REST.URL, "/") + advpl.VersionPath
	fix := fmt.Sprintf("compile erp/protheus/advpl/erpbridge_orders.tlpp of this erpbridge (version %s) into the RPO and restart the REST service (docs/protheus.md, \"Compiling the ERP-side sources\")", advpl.Version)
	resp, err := getRoute(ctx, w, url)
	if err != nil {
		return component.Finding{Warn: true, Text: fmt.Sprintf("reading the order route's version: %v", err)}
	}
	defer resp.Body.Close()
	var v struct {
		Version string `json:"version"`
	}
	switch {
	case resp.StatusCode == http.StatusNotFound:
		return component.Finding{Warn: true, Fix: fix,
			Text: fmt.Sprintf("the order route does not say its version (GET %s → 404): it was not compiled from erpbridge's sources of version %s", url, advpl.Version)}
	case resp.StatusCode != http.StatusOK:
		return component.Finding{Warn: true, Text: fmt.Sprintf("the order route's version: GET %s → %d", url, resp.StatusCode)}
	case json.NewDecoder(io.LimitReader(resp.Body, 1<<16)).Decode(&v) != nil || v.Version == "":
		return component.Finding{Warn: true, Fix: fix, Text: fmt.Sprintf("the order route's version: GET %s answered no {\"version\": …}", url)}
	case v.Version != advpl.Version:
		return component.Finding{Warn: true, Fix: fix,
			Text: fmt.Sprintf("the order route was compiled from erpbridge's ERP-side sources version %s; this erpbridge ships %s", v.Version, advpl.Version)}
	}
	return component.Finding{Text: fmt.Sprintf("won deals      order route compiled from erpbridge's ERP-side sources version %s, this erpbridge's", v.Version)}
}
