package main

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"slices"
	"strings"
	"time"

	crmtarget "github.com/erpbridge/erpbridge/rdstation/crm/target"

	"github.com/erpbridge/erpbridge/cmd/erpbridge/internal/config"
	"github.com/erpbridge/erpbridge/cmd/erpbridge/internal/wiring"
	"github.com/erpbridge/erpbridge/erp/sqlerp"
	"github.com/erpbridge/erpbridge/mapping"
	"github.com/erpbridge/erpbridge/rdstation/crm"
	"github.com/spf13/cobra"
)

func newCheckCmd() *cobra.Command {
	var path string
	cmd := &cobra.Command{
		Use:   "check",
		Short: "Connect to the ERP and the CRM and check everything the config needs",
		Long: `Connect to both sides and check what the configuration needs:

  CRM: the token; the pipelines and their stages, the users and the custom
       fields (with their options) are listed, and every custom field label
       the mappings use is resolved.
  ERP: every configured table and column exists; tables without S_T_A_M_P_
       are reported (they are synced by full passes only). With
       erp.source = "rest": one GET of page 1 of every route the streams
       read, with its status, its item count and the fields it lacks.

Exits 1 with the reasons when anything is wrong.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := loadConfig(path)
			if err != nil {
				return err
			}
			ctx, cancel := context.WithTimeout(cmd.Context(), 2*time.Minute)
			defer cancel()
			problems := runCheck(ctx, cmd.OutOrStdout(), cfg)
			if len(problems) > 0 {
				return fmt.Errorf("check found %d problem(s):\n  - %s", len(problems), strings.Join(problems, "\n  - "))
			}
			fmt.Fprintln(cmd.OutOrStdout(), "\nall checks passed")
			return nil
		},
	}
	configFlag(cmd, &path)
	return cmd
}

// runCheck prints what it finds and returns the problems.
func runCheck(ctx context.Context, out io.Writer, cfg *config.Config) []string {
	var problems []string
	fail := func(format string, args ...any) {
		msg := fmt.Sprintf(format, args...)
		problems = append(problems, msg)
		fmt.Fprintf(out, "  FAIL %s\n", msg)
	}

	fmt.Fprintf(out, "CRM %s\n", cfg.CRM.BaseURL)
	c, err := wiring.NewCRM(cfg, wiring.Options{})
	if err != nil {
		fail("%v", err)
	} else {
		problems = append(problems, checkCRM(crm.WithPriority(ctx, crm.Interactive), out, cfg, c, fail)...)
	}

	if cfg.ERP.Source == config.SourceREST {
		checkRESTRoutes(ctx, out, cfg, fail)
		checkOrderRoute(ctx, out, cfg, fail)
		return problems
	}
	fmt.Fprintf(out, "\nERP %s (company %s)\n", cfg.ERP.Driver, cfg.ERP.Company)
	db, d, err := sqlerp.Open(cfg.ERP.Driver, cfg.ERP.DSN)
	if err != nil {
		fail("opening the ERP database: %v", err)
		return problems
	}
	defer db.Close()
	if err := db.PingContext(ctx); err != nil {
		fail("connecting to the ERP database: %v", err)
		return problems
	}
	tables, err := wiring.Tables(cfg)
	if err != nil {
		fail("%v", err)
		return problems
	}
	for _, t := range tables {
		rep, err := sqlerp.Check(ctx, db, d, t.Spec)
		var optional []string // missing columns the stream goes without
		if err == nil {
			rep.Missing = slices.DeleteFunc(rep.Missing, func(c string) bool {
				if slices.Contains(t.Optional, c) {
					optional = append(optional, c)
					return true
				}
				return false
			})
		}
		switch {
		case err != nil:
			fail("%s table %s: %v", t.Role, t.Spec.Physical, err)
		case !rep.Exists && t.Without != "":
			fmt.Fprintf(out, "  WARN %s table %s does not exist (or the user cannot read it): %s\n", t.Role, rep.Table, t.Without)
		case !rep.Exists:
			fail("%s table %s does not exist (or the user cannot read it)", t.Role, rep.Table)
		case len(rep.Missing) > 0 && t.Without != "":
			fmt.Fprintf(out, "  WARN %s table %s lacks columns %s: %s\n", t.Role, rep.Table, strings.Join(rep.Missing, ", "), t.Without)
		case len(rep.Missing) > 0:
			fail("%s table %s lacks columns %s", t.Role, rep.Table, strings.Join(rep.Missing, ", "))
		default:
			stamp := "incremental (S_T_A_M_P_)"
			if !rep.HasStamp {
				stamp = "no S_T_A_M_P_: synced by full passes only (see docs/protheus.md to enable it)"
			}
			fmt.Fprintf(out, "  ok   %-14s %-8s %d columns, %s\n", t.Role, rep.Table, len(t.Spec.Columns), stamp)
		}
		if len(optional) > 0 {
			fmt.Fprintf(out, "  WARN %s table %s lacks %s: read with their defaults (docs/protheus.md, optional order fields)\n",
				t.Role, rep.Table, strings.Join(optional, ", "))
		}
		if m, ok := streamMapping(cfg, t.Role); ok && rep.Exists {
			cat, err := sqlerp.ReadCatalog(ctx, db, d, t.Spec.Physical)
			if err == nil {
				err = wiring.MappingColumns(cat, t.Spec, t.Role, m)
			}
			if err != nil {
				fail("streams.%s.mapping: %v", t.Role, err)
			}
		}
	}
	if cfg.Streams.Orders.Enabled {
		checkOrderHistory(ctx, out, cfg, db, d, fail)
	}
	if cfg.WonDeals.Enabled && cfg.WonDeals.Sink == config.SinkStaging {
		if sink, err := wiring.OrderSink(cfg, db, d); err != nil {
			fail("%v", err)
		} else if err := wiring.CheckOrderSink(ctx, cfg, sink); err != nil {
			fail("%v", err)
		} else {
			header, items := cfg.WonDeals.Staging.Aliases().Tables(cfg.ERP.Company)
			fmt.Fprintf(out, "  ok   won deals      staging tables %s, %s (won_deals.staging), as docs/protheus.md lays them out\n", header, items)
		}
	}
	checkOrderRoute(ctx, out, cfg, fail)
	return problems
}

// checkOrderHistory says what the orders stream makes of SC5: how many
// orders the first run turns into deals, and which it leaves out and why.
func checkOrderHistory(ctx context.Context, out io.Writer, cfg *config.Config, db *sql.DB, d sqlerp.Dialect, fail func(string, ...any)) {
	h, err := wiring.CountOrders(ctx, cfg, db, d, time.Now())
	if err != nil {
		fail("orders: counting SC5 orders: %v", err)
		return
	}
	window := "every order, however old (history_days = 0)"
	if h.Window != "" {
		window = "orders issued since " + h.Window
	}
	fmt.Fprintf(out, "  ok   orders         %d live orders; a first run makes %d deals of %s\n", h.Live, h.Deals, window)
	if h.Before > 0 {
		fmt.Fprintf(out, "       %d issued before the window are left out (orders that have a deal already keep syncing)\n", h.Before)
	}
	for _, what := range slices.Sorted(maps.Keys(h.LeftOut)) {
		if what != "" {
			fmt.Fprintf(out, "       %d with %s are left out (streams.orders.types, currencies)\n", h.LeftOut[what], what)
		}
	}
	if h.LinkOnly > 0 {
		fmt.Fprintf(out, "       %d were made from CRM deals (C5_XCRMID): they write their number on that deal, no deal of their own\n", h.LinkOnly)
	}
	fmt.Fprintf(out, "       %s\n", h.Checked)
}

// checkOrderRoute asks the rest sink's order route for itself with a GET
// (the bridge only POSTs to it): 404 means no route there, 401/403 refused
// credentials; any other answer means the route is served.
func checkOrderRoute(ctx context.Context, out io.Writer, cfg *config.Config, fail func(string, ...any)) {
	w := cfg.WonDeals
	if !w.Enabled || w.Sink != config.SinkREST {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, w.REST.Timeout.D())
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, w.REST.URL, nil)
	if err != nil {
		fail("won_deals.rest.url: %v", err)
		return
	}
	switch {
	case w.REST.Token != "":
		req.Header.Set("Authorization", "Bearer "+w.REST.Token)
	case w.REST.User != "":
		req.SetBasicAuth(w.REST.User, w.REST.Password)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		fail("won_deals.rest.url %q: %v", w.REST.URL, errors.Unwrap(err))
		return
	}
	resp.Body.Close()
	switch resp.StatusCode {
	case http.StatusNotFound:
		fail("won_deals.rest.url %q answered 404: no order route there (check the path, and the AppServer's REST configuration in docs/protheus.md)", w.REST.URL)
	case http.StatusUnauthorized, http.StatusForbidden:
		fail("won_deals.rest.url %q answered %d: the user/password or token is refused", w.REST.URL, resp.StatusCode)
	default:
		fmt.Fprintf(out, "  ok   won deals      order route %s answers (GET → %d)\n", w.REST.URL, resp.StatusCode)
	}
}

// checkPageSize is the page of each route `erpbridge check` reads.
const checkPageSize = 20

// checkRESTRoutes reads page 1 of every route the enabled streams use
// (erp.source = "rest") once, and reports its status and item count, and
// the fields the bridge reads that its first item lacks; problems go to fail.
func checkRESTRoutes(ctx context.Context, out io.Writer, cfg *config.Config, fail func(string, ...any)) {
	fmt.Fprintf(out, "\nERP REST routes %s (company %s)\n", cfg.ERP.REST.BaseURL, cfg.ERP.Company)
	routes, err := wiring.RESTRoutes(cfg)
	if err != nil {
		fail("%v", err)
		return
	}
	for _, r := range routes {
		p := wiring.ProbeRoute(ctx, r.Route, checkPageSize)
		var optional []string // missing fields the stream goes without
		p.Missing = slices.DeleteFunc(p.Missing, func(c string) bool {
			if slices.Contains(r.Optional, c) {
				optional = append(optional, c)
				return true
			}
			return false
		})
		if len(optional) > 0 && p.Err == nil {
			fmt.Fprintf(out, "  WARN %s route: its items lack %s: read with their defaults (docs/protheus.md, optional order fields)\n",
				r.Role, strings.Join(optional, ", "))
		}
		switch {
		case p.Status == http.StatusUnauthorized || p.Status == http.StatusForbidden:
			fail("%s route: GET %s: %v (erp.rest.user and password, or token; the other routes were not tried)", r.Role, p.Request, p.Err)
			return
		case p.Err != nil:
			fail("%s route: GET %s: %v", r.Role, p.Request, p.Err)
			continue
		case len(p.Missing) > 0:
			fail("%s route: GET %s → %d: its items lack %s", r.Role, p.Request, p.Status, strings.Join(p.Missing, ", "))
		default:
			fmt.Fprintf(out, "  ok   %-14s GET %s → %d, %d item(s) on page 1\n", r.Role, p.Request, p.Status, p.Items)
		}
		if p.Items == 0 {
			fmt.Fprintf(out, "       %s route answers no items: its fields cannot be checked\n", r.Role)
			continue
		}
		if m, ok := streamMapping(cfg, r.Role); ok {
			cat := make([]sqlerp.CatalogColumn, len(p.Fields))
			for i, f := range p.Fields {
				cat[i] = sqlerp.CatalogColumn{Name: f}
			}
			if err := wiring.MappingColumns(cat, r.Table, r.Role, m); err != nil {
				fail("streams.%s.mapping: %v (route %s)", r.Role, err, r.Route.Path)
			}
		}
	}
}

func checkCRM(ctx context.Context, out io.Writer, cfg *config.Config, c *crm.Client, fail func(string, ...any)) []string {
	tok, err := c.CheckToken(ctx)
	if err != nil {
		fail("token check: %v", err)
		return nil
	}
	fmt.Fprintf(out, "  ok   token of %s <%s>\n", tok.Name, tok.Email)
	if ps, err := c.ListPipelines(ctx); err != nil {
		fail("listing pipelines: %v", err)
	} else {
		for _, p := range ps {
			names := make([]string, len(p.Stages))
			for i, s := range p.Stages {
				names[i] = s.Name
			}
			fmt.Fprintf(out, "       pipeline %q (%s): %s\n", p.Name, p.ID, strings.Join(names, " → "))
		}
	}
	var reasons []string
	for lr, err := range c.LostReasons(ctx, crm.NameQuery{}) {
		if err != nil {
			fail("listing lost reasons: %v", err)
			break
		}
		reasons = append(reasons, fmt.Sprintf("%q", lr.Name))
	}
	if len(reasons) > 0 {
		fmt.Fprintf(out, "       lost reasons: %s\n", strings.Join(reasons, ", "))
	}
	n := 0
	for u, err := range c.Users(ctx, crm.UserQuery{}) {
		if err != nil {
			fail("listing users: %v", err)
			break
		}
		if n < 20 {
			fmt.Fprintf(out, "       user %s <%s> (%s)\n", u.Name, u.Email, u.ID)
		}
		n++
	}
	if n > 20 {
		fmt.Fprintf(out, "       … and %d more users\n", n-20)
	}
	specs := map[string]mapping.Spec{}
	if cfg.Streams.Customers.Enabled {
		specs["organization"] = cfg.Streams.Customers.Mapping
	}
	if cfg.Streams.Contacts.Enabled {
		specs["contact"] = cfg.Streams.Contacts.Mapping
	}
	if cfg.Streams.Products.Enabled {
		specs["product"] = cfg.Streams.Products.Mapping
	}
	for _, entity := range []string{"organization", "contact", "product", "deal"} {
		cat, err := wiring.Catalog(ctx, c, entity)
		if err != nil {
			fail("%v", err)
			continue
		}
		for label, f := range cat {
			opts := ""
			if len(f.Options) > 0 {
				opts = ": " + strings.Join(f.Options, " | ")
			}
			fmt.Fprintf(out, "       %s custom field %q (%s, %s)%s\n", entity, label, f.Type, f.ID, opts)
		}
		if spec, ok := specs[entity]; ok {
			schema := crmtarget.StaticSchema(entity)
			schema.Custom = cat
			if _, err := mapping.Compile(spec, schema); err != nil {
				fail("%s mapping: %v", entity, err)
			}
		}
	}
	if cfg.Streams.Orders.Enabled || cfg.WonDeals.Enabled {
		if err := wiring.CheckOrders(ctx, cfg.Streams.Orders, c); err != nil {
			fail("%v", err)
		} else {
			fmt.Fprintf(out, "  ok   orders: pipeline, stages, lost reasons, order number field and default owner found in the CRM\n")
		}
	}
	if cfg.WonDeals.Enabled {
		if pipes, err := wiring.ResolveWonDealPipelines(ctx, cfg, c); err != nil {
			fail("%v", err)
		} else {
			for i, line := range pipes.Describe() {
				if i == 0 {
					fmt.Fprintf(out, "  ok   won deals: %s\n", line)
				} else {
					fmt.Fprintf(out, "       %s\n", line)
				}
			}
		}
	}
	if l := cfg.Streams.Customers.CNPJField; l != "" && cfg.Streams.Customers.Enabled {
		cat, err := wiring.Catalog(ctx, c, "organization")
		if err == nil {
			if _, err := cat.Lookup(l); err != nil {
				fail("streams.customers.cnpj_field: %v", err)
			}
		}
	}
	return nil
}

// streamMapping returns the mapping of a stream by name.
func streamMapping(cfg *config.Config, stream string) (mapping.Spec, bool) {
	switch stream {
	case "customers":
		return cfg.Streams.Customers.Mapping, true
	case "contacts":
		return cfg.Streams.Contacts.Mapping, true
	case "products":
		return cfg.Streams.Products.Mapping, true
	}
	return mapping.Spec{}, false
}
