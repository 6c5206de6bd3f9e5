package wondeals

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"time"

	"go.uber.org/zap"

	"github.com/erpbridge/erpbridge/bridge/cache"
	"github.com/erpbridge/erpbridge/bridge/component"
	"github.com/erpbridge/erpbridge/bridge/inbound"
	"github.com/erpbridge/erpbridge/erp"
	"github.com/erpbridge/erpbridge/erp/protheus"
	"github.com/erpbridge/erpbridge/erp/protheus/streams/customers"
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
// its ERP sink and its directory of ERP counterparts.
func (c *Config) Provision(ctx context.Context, env *component.Env) (component.Provisioned, error) {
	ord, cust, _ := settingsOf(env.Config)
	dc, ok := env.CRM.(component.DealCRM)
	if !ok {
		return component.Provisioned{}, errors.New("won_deals: the CRM has no sales pipelines")
	}
	db, d := env.ERP.SQL()
	sink, err := openSink(c, env.ERP.Company(), db, d)
	if err != nil {
		return component.Provisioned{}, err
	}
	// A missing staging table, or one that is not the staging layout, fails
	// now: not at the first won deal, and nothing is written into it.
	if err := checkSink(ctx, c, sink); err != nil {
		return component.Provisioned{}, err
	}
	dir := &directory{st: env.Store, crm: dc, sellerOf: cache.TTL[string, string]{TTL: 10 * time.Minute}}
	ct, err := customers.Table(env.ERP.Company(), cust.Filial, "won deal customers")
	if err != nil {
		return component.Provisioned{}, err
	}
	if dir.customers, err = env.ERP.Open(ctx, ct, nil); err != nil {
		return component.Provisioned{}, err
	}
	tables, err := ord.Tables(env.ERP.Company(), env.Config)
	if err != nil {
		return component.Provisioned{}, err
	}
	for _, t := range tables {
		if t.Role == "orders" && ord.On {
			// The orders stream knows an order made from a won deal by
			// C5_XCRMID: without it the order would come back as a deal.
			has, err := env.ERP.Columns(ctx, t)
			if err != nil {
				return component.Provisioned{}, fmt.Errorf("orders: %w", err)
			}
			if !has(protheus.CRMIDField().Name) {
				return component.Provisioned{}, errors.New("won_deals: SC5 has no C5_XCRMID field, so an order made from a won deal would come back " +
					"through streams.orders as a second deal; create the field (docs/protheus.md) or disable one of the two")
			}
		}
		if t.Role == "sellers" {
			t.Role = "won deal sellers"
			if dir.sellers, err = env.ERP.Open(ctx, t, nil); err != nil {
				return component.Provisioned{}, err
			}
		}
	}
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
	pipes, err := ResolveWonDealPipelines(ctx, c, ord, dc)
	if err != nil {
		return component.Provisioned{}, err
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
		Pipelines: byPipeline, Stages: stages,
	})
	return component.Provisioned{Inbound: p}, nil
}

// Check implements component.Checker: the CRM side (the orders settings
// the flow leans on, the pipelines whose won deals become orders) and the
// ERP side (the staging tables, or the order route).
func (c *Config) Check(ctx context.Context, env *component.Env) []component.Finding {
	var out []component.Finding
	ord, _, _ := settingsOf(env.Config)
	if env.CRM != nil {
		if !ord.On { // the orders stream checks its settings itself
			if err := orders.CheckOrders(ctx, ord, env.CRM); err != nil {
				out = append(out, component.Finding{Problem: true, Section: component.SectionCRM, Text: err.Error()})
			} else {
				out = append(out, component.Finding{Section: component.SectionCRM,
					Text: "orders: pipeline, stages, lost reasons, order number field and default owner found in the CRM"})
			}
		}
		if dc, ok := env.CRM.(component.DealCRM); ok {
			pipes, err := ResolveWonDealPipelines(ctx, c, ord, dc)
			if err != nil {
				out = append(out, component.Finding{Problem: true, Section: component.SectionCRM, Text: err.Error()})
			} else {
				for i, line := range pipes.Describe() {
					if i == 0 {
						out = append(out, component.Finding{Section: component.SectionCRM, Text: "won deals: " + line})
					} else {
						out = append(out, component.Finding{Section: component.SectionCRM, Detail: true, Text: line})
					}
				}
			}
		}
	}
	if env.ERP == nil {
		return out
	}
	if c.Sink == SinkREST {
		return append(out, checkOrderRoute(ctx, c))
	}
	db, d := env.ERP.SQL()
	if db == nil {
		return out
	}
	sink, err := openSink(c, env.ERP.Company(), db, d)
	if err == nil {
		err = checkSink(ctx, c, sink)
	}
	if err != nil {
		return append(out, component.Finding{Problem: true, Text: err.Error()})
	}
	header, items := c.Staging.Aliases().Tables(env.ERP.Company())
	return append(out, component.Finding{Text: fmt.Sprintf("won deals      staging tables %s, %s (won_deals.staging), as docs/protheus.md lays them out", header, items)})
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
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, w.REST.URL, nil)
	if err != nil {
		return fail("won_deals.rest.url: %v", err)
	}
	switch {
	case w.REST.Token != "":
		req.Header.Set("Authorization", "Bearer "+w.REST.Token)
	case w.REST.User != "":
		req.SetBasicAuth(w.REST.User, w.REST.Password)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fail("won_deals.rest.url %q: %v", w.REST.URL, errors.Unwrap(err))
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
