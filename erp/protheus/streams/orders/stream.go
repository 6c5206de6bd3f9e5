package orders

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"go.uber.org/zap"

	"github.com/erpbridge/erpbridge/bridge"
	"github.com/erpbridge/erpbridge/bridge/cache"
	"github.com/erpbridge/erpbridge/bridge/component"
	"github.com/erpbridge/erpbridge/bridge/store"
	"github.com/erpbridge/erpbridge/erp"
	"github.com/erpbridge/erpbridge/erp/protheus"
	"github.com/erpbridge/erpbridge/erp/protheus/streams"
	"github.com/erpbridge/erpbridge/erp/protheus/streams/customers"
	"github.com/erpbridge/erpbridge/erp/protheus/streams/products"
	"github.com/erpbridge/erpbridge/erp/sqlerp"
	"github.com/erpbridge/erpbridge/mapping"
)

// FirstRunMeta is the store meta key holding the day the orders stream
// first ran (YYYY-MM-DD): history_days counts back from it.
const FirstRunMeta = "orders.first_run"

// routes are the REST routes the stream may read, with their default paths.
var routes = map[string]string{"orders": "/orders", "order_items": "/orderItems", "sellers": "/sellers"}

// Routes implements component.RouteDeclarer.
func (o *Config) Routes() map[string]string { return routes }

// Tables implements component.TableReader: SC5, SC6, SA3, and SF4 / SF2
// when receivable_only / total = "invoice" ask for them (the stream runs
// without those, as Without says). SA1 is read through the customers'.
func (o *Config) Tables(company string, configs func(string) (component.Config, bool)) ([]component.Table, error) {
	type t struct {
		role, route, path string
		build             func(company, filial string) (sqlerp.TableSpec, error)
		filial            string
		optional          bool
		without           string
	}
	list := []t{
		{"orders", "orders", routes["orders"], protheus.Orders, o.Filial, false, ""},
		{"order items", "order_items", routes["order_items"], protheus.OrderItems, o.Filial, false, ""},
		{"sellers", "sellers", routes["sellers"], protheus.Sellers, o.SellerFilial, true, ""},
	}
	if o.ReceivableOnly {
		list = append(list, t{"TES", "", "", protheus.TES, o.TESFilial, true,
			"receivable_only leaves no order out (every TES counts as creating a receivable)"})
	}
	if o.Total == TotalInvoice {
		list = append(list, t{"invoices", "", "", protheus.Invoices, o.Filial, true,
			"total = \"invoice\" falls back to the items' total (C6_VALOR)"})
	}
	var out []component.Table
	if configs != nil { // SA1 is the customers stream's, unless it is off
		if cust, ok := configs(customers.Name); ok && !cust.Enabled() {
			cc, _ := cust.(*customers.Config)
			t, err := customers.Table(company, cc.Filial, "order customers")
			if err != nil {
				return nil, err
			}
			out = append(out, t)
		}
	}
	for _, x := range list {
		spec, err := x.build(company, x.filial)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", x.role, err)
		}
		out = append(out, component.Table{Role: x.role, Route: x.route, RouteDefault: x.path, Spec: spec,
			Optional: x.optional, Without: x.without})
	}
	return out, nil
}

// OptionalColumns lists the columns of a table the stream goes without
// (read with their documented defaults): `erpbridge check` warns.
func OptionalColumns(t component.Table) []string {
	var out []string
	for _, f := range protheus.OptionalOrderFields(aliasOf(t.Spec)) {
		out = append(out, f.Name)
	}
	return out
}

func aliasOf(spec sqlerp.TableSpec) string {
	if len(spec.Physical) < 3 {
		return spec.Physical
	}
	return strings.ToUpper(spec.Physical[:3])
}

// settings returns the customers' and products' settings the orders
// stream reads (their filials; whether customers are synced).
func settings(env *component.Env) (*customers.Config, *products.Config) {
	c, _ := env.Config(customers.Name)
	p, _ := env.Config(products.Name)
	cc, _ := c.(*customers.Config)
	pc, _ := p.(*products.Config)
	if cc == nil {
		cc = customers.Default()
	}
	if pc == nil {
		pc = products.Default()
	}
	return cc, pc
}

// Provision implements component.Provisioner: SC5 with its SC6 items, its
// customers (SA1) and sellers (SA3) → deals.
func (o *Config) Provision(ctx context.Context, env *component.Env) (component.Provisioned, error) {
	cust, prod := settings(env)
	if !prod.On {
		return component.Provisioned{}, errors.New("streams.orders: needs streams.products (deal products are CRM products)")
	}
	mp := &orderMapper{
		sellerEmails:     cache.TTL[string, string]{TTL: 10 * time.Minute},
		tesDuplic:        cache.TTL[string, string]{TTL: 10 * time.Minute},
		name:             o.Name,
		customerFilial:   strings.TrimSpace(cust.Filial),
		productFilial:    strings.TrimSpace(prod.Filial),
		sellerFilial:     strings.TrimSpace(o.SellerFilial),
		tesFilial:        strings.TrimSpace(o.TESFilial),
		resolveCustomers: cust.On,
		receivableOnly:   o.ReceivableOnly,
		total:            o.Total,
	}
	tables, err := o.Tables(env.ERP.Company(), env.Config)
	if err != nil {
		return component.Provisioned{}, err
	}
	byRole := map[string]component.Table{}
	for _, t := range tables {
		byRole[t.Role] = t
	}
	orders := byRole["orders"]
	has, err := env.ERP.Columns(ctx, orders)
	if err != nil {
		return component.Provisioned{}, fmt.Errorf("orders: %w", err)
	}
	// The deal-id field (C5_XCRMID) is custom: read it where it exists.
	if crmID := protheus.CRMIDField(); has(crmID.Name) {
		orders.Spec.Columns = append(orders.Spec.Columns, crmID.Column())
		mp.crmIDColumn = crmID.Name
	}
	orders.Spec = mp.withoutAbsent(orders.Spec, has)
	src, err := env.ERP.Open(ctx, orders, nil)
	if err != nil {
		return component.Provisioned{}, err
	}
	items := byRole["order items"]
	if has, err = env.ERP.Columns(ctx, items); err != nil {
		return component.Provisioned{}, fmt.Errorf("order items: %w", err)
	}
	items.Spec = mp.withoutAbsent(items.Spec, has)
	if mp.items, err = env.ERP.Open(ctx, items, nil); err != nil {
		return component.Provisioned{}, err
	}
	ct, err := customers.Table(env.ERP.Company(), cust.Filial, "order customers")
	if err != nil {
		return component.Provisioned{}, err
	}
	if mp.customers, err = env.ERP.Open(ctx, ct, nil); err != nil {
		return component.Provisioned{}, err
	}
	if mp.sellers, err = env.ERP.Open(ctx, byRole["sellers"], nil); err != nil {
		return component.Provisioned{}, err
	}
	if o.ReceivableOnly {
		if mp.tes, err = mp.optionalTable(ctx, env.ERP, byRole["TES"], "TES (receivable_only)"); err != nil {
			return component.Provisioned{}, err
		}
	}
	if o.Total == TotalInvoice {
		if mp.invoices, err = mp.optionalTable(ctx, env.ERP, byRole["invoices"], "invoices (total = \"invoice\")"); err != nil {
			return component.Provisioned{}, err
		}
	}
	if err := orderSettings(ctx, o, env.CRM, mp); err != nil {
		return component.Provisioned{}, err
	}
	if err := o.openHistory(ctx, env, mp); err != nil {
		return component.Provisioned{}, err
	}
	// An item change is a change of its order (the header is not always
	// rewritten, e.g. by a partial delivery), and a customer's change a
	// change of its orders (their deal names carry its name). A table
	// without S_T_A_M_P_ shows its changes at the nightly full pass.
	var rels []streams.Relation
	if mp.items.Incremental() {
		rels = append(rels, streams.NewRelation("SC6", mp.items, nil, streams.ByColumn(src, "C6_NUM", "C5_NUM")))
	}
	if mp.customers.Incremental() {
		rels = append(rels, streams.NewRelation("SA1", mp.customers, protheus.CustomerStatistics(),
			streams.ByMatch(src, func(r erp.Record) []erp.Match {
				return protheus.OrdersOf(streams.Str(r, "A1_COD"), streams.Str(r, "A1_LOJA"))
			})))
	}
	if len(rels) > 0 {
		src = streams.NewRelated(src, rels...)
	}
	target, err := env.CRM.Target(mapping.EntityDeal, component.TargetOptions{Log: env.Log.With(zap.String("stream", Name))})
	if err != nil {
		return component.Provisioned{}, err
	}
	st := &bridge.Stream{
		Name: Name, Source: src, Mapper: mp, Target: target,
		Mode: bridge.Mode(o.Mode), Deletes: bridge.Deletes(o.Deletes), DependsOn: []string{products.Name},
		MappingHash: streams.SettingsHash(o, orderMapperVersion, cust.Filial, prod.Filial),
	}
	if cust.On {
		st.DependsOn = append([]string{customers.Name}, st.DependsOn...)
	}
	var notes []component.Note
	if w := mp.window(); w != "" {
		notes = append(notes, component.Note{Stream: Name, Text: fmt.Sprintf("deals are made of orders issued since %s; "+
			"the orders \"created\" above are the deals this run makes", w)})
	}
	var warnings []component.Note
	for _, w := range mp.warnings {
		warnings = append(warnings, component.Note{Stream: Name, Text: w})
	}
	return component.Provisioned{Streams: []*bridge.Stream{st}, DryRunNotes: notes, Warnings: warnings}, nil
}

// window is the history window's start and what set it ("" none).
func (o *orderMapper) window() string {
	if o.rules.since.IsZero() {
		return ""
	}
	return o.rules.since.Format(time.DateOnly) + " (" + o.rules.why + ")"
}

// openHistory gives the order mapper what it needs from the checkpoint
// store: whether an order has its deal already (the identity map), and the
// history window, history_days before the stream's first run. The first
// run's day is recorded the first time the stream is opened (not by a dry
// run, which writes nothing: it counts from today). A store that synced
// orders before this was recorded starts its window today: the orders it
// made deals of keep syncing (they are in the identity map), older orders
// without a deal do not become deals.
func (o *Config) openHistory(ctx context.Context, env *component.Env, om *orderMapper) error {
	st := env.Store
	om.hasDeal = func(ctx context.Context, key string) (bool, error) {
		id, ok, err := st.Identity(ctx, mapping.EntityDeal, key)
		return ok && (id.CRMID != "" || id.Fingerprint != ""), err
	}
	if o.Since != "" || o.HistoryDays == 0 {
		return nil
	}
	first := env.Clock.Now().UTC()
	v, ok, err := st.Meta(ctx, FirstRunMeta)
	switch {
	case err != nil:
		return err
	case ok:
		if first, err = time.Parse(time.DateOnly, v); err != nil {
			return fmt.Errorf("reading the orders stream's first run %q from the store: %w", v, err)
		}
	case !env.DryRun:
		if err := st.Update(ctx, func(tx *store.Tx) error {
			return tx.SetMeta(FirstRunMeta, first.Format(time.DateOnly))
		}); err != nil {
			return fmt.Errorf("recording the orders stream's first run: %w", err)
		}
	}
	rules, err := newOrderRules(o, first)
	if err != nil {
		return err
	}
	om.rules = rules
	return nil
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
// which serve no such table), the stream runs without, as t.Without says,
// and a warning says so. Other errors (the connection) are errors.
func (o *orderMapper) optionalTable(ctx context.Context, e component.ERP, t component.Table, what string) (erp.Source, error) {
	db, d := e.SQL()
	if db == nil {
		o.warnings = append(o.warnings, fmt.Sprintf("%s: %s is not read through erp.rest routes: %s", what, t.Spec.Physical, t.Without))
		return nil, nil
	}
	rep, err := sqlerp.Check(ctx, db, d, t.Spec)
	switch {
	case err != nil:
		return nil, fmt.Errorf("%s (%s): %w", what, t.Spec.Physical, err)
	case !rep.Exists:
		o.warnings = append(o.warnings, fmt.Sprintf("%s: the ERP has no %s (or the database user cannot read it): %s", what, t.Spec.Physical, t.Without))
		return nil, nil
	case len(rep.Missing) > 0:
		o.warnings = append(o.warnings, fmt.Sprintf("%s: %s lacks %s: %s", what, t.Spec.Physical, strings.Join(rep.Missing, ", "), t.Without))
		return nil, nil
	}
	return e.Open(ctx, t, nil)
}

// Check implements component.Checker: the CRM names the stream uses
// (pipeline, stages, lost reasons, the order number field, the default
// owner), and what it makes of SC5: how many orders the first run turns
// into deals, and which it leaves out and why.
func (o *Config) Check(ctx context.Context, env *component.Env) []component.Finding {
	var out []component.Finding
	if env.CRM != nil {
		if err := CheckOrders(ctx, o, env.CRM); err != nil {
			for _, e := range splitJoined(err) {
				out = append(out, component.Finding{Problem: true, Text: e.Error(), Section: component.SectionCRM})
			}
		} else {
			out = append(out, component.Finding{Text: "orders: pipeline, stages, lost reasons, order number field and default owner found in the CRM", Section: component.SectionCRM})
		}
	}
	if env.ERP == nil {
		return out
	}
	db, _ := env.ERP.SQL()
	if db == nil {
		return out
	}
	h, err := CountOrders(ctx, o, env.ERP, time.Now())
	if err != nil {
		return append(out, component.Finding{Problem: true, Text: fmt.Sprintf("orders: counting SC5 orders: %v", err)})
	}
	window := "every order, however old (history_days = 0)"
	if h.Window != "" {
		window = "orders issued since " + h.Window
	}
	out = append(out, component.Finding{Text: fmt.Sprintf("orders         %d live orders; a first run makes %d deals of %s", h.Live, h.Deals, window)})
	if h.Before > 0 {
		out = append(out, component.Finding{Detail: true, Text: fmt.Sprintf("%d issued before the window are left out (orders that have a deal already keep syncing)", h.Before)})
	}
	for _, what := range slices.Sorted(maps.Keys(h.LeftOut)) {
		if what != "" {
			out = append(out, component.Finding{Detail: true, Text: fmt.Sprintf("%d with %s are left out (streams.orders.types, currencies)", h.LeftOut[what], what)})
		}
	}
	if h.LinkOnly > 0 {
		out = append(out, component.Finding{Detail: true, Text: fmt.Sprintf("%d were made from CRM deals (C5_XCRMID): they write their number on that deal, no deal of their own", h.LinkOnly)})
	}
	return append(out, component.Finding{Detail: true, Text: h.Checked})
}

// splitJoined returns the errors joined in err (errors.Join), or err.
func splitJoined(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()
	}
	return []error{err}
}

// History is what the orders stream makes of SC5 as it is now, for
// `erpbridge check`: how many orders the first run turns into deals, and
// how many each rule leaves out.
type History struct {
	Live     int            // live orders of the filial
	Deals    int            // would become deals (or update theirs)
	LinkOnly int            // made from CRM deals (C5_XCRMID): only write their number back
	Before   int            // issued before the history window
	Window   string         // the window's start and what set it ("" : none)
	LeftOut  map[string]int // by reason: order types, currencies
	Checked  string         // what the count cannot tell
}

// CountOrders reads the SC5 headers of the stream page by page (the ERP's
// database: REST routes are not counted) and applies the stream's header
// rules to them (orderRules, as the mapper does), with the history window
// counted from now as on a first run.
func CountOrders(ctx context.Context, o *Config, e component.ERP, now time.Time) (History, error) {
	h := History{LeftOut: map[string]int{}}
	rules, err := newOrderRules(o, now)
	if err != nil {
		return h, err
	}
	switch {
	case o.Since != "":
		h.Window = rules.since.Format(time.DateOnly) + " (" + rules.why + ")"
	case !rules.since.IsZero():
		h.Window = fmt.Sprintf("%s (streams.orders.history_days = %d before today; a store that ran already counts from its first run)",
			rules.since.Format(time.DateOnly), o.HistoryDays)
	}
	tables, err := o.Tables(e.Company(), nil)
	if err != nil {
		return h, err
	}
	t := tables[0]
	has, err := e.Columns(ctx, t)
	if err != nil {
		return h, err
	}
	crmID := ""
	if f := protheus.CRMIDField(); has(f.Name) {
		t.Spec.Columns, crmID = append(t.Spec.Columns, f.Column()), f.Name
	}
	t.Spec = (&orderMapper{}).withoutAbsent(t.Spec, has)
	src, err := e.Open(ctx, t, nil)
	if err != nil {
		return h, fmt.Errorf("orders (%s): %w", t.Spec.Physical, err)
	}
	defer src.Close()
	for page, err := range src.FullPass(ctx, "", 500) {
		if err != nil {
			return h, err
		}
		for _, rec := range page.Records {
			if rec.Deleted {
				continue
			}
			h.Live++
			what, _ := rules.leaveOut(rec)
			switch {
			case crmID != "" && strings.TrimSpace(streams.Str(rec, crmID)) != "":
				h.LinkOnly++
			case what != "":
				h.LeftOut[what]++
			case rules.beforeWindow(rec) != "":
				h.Before++
			default:
				h.Deals++
			}
		}
	}
	var unknown []string
	if o.ReceivableOnly {
		unknown = append(unknown, "receivable_only (it reads the items' TES)")
	}
	unknown = append(unknown, "orders of deleted or unknown customers (reported at level skip)")
	h.Checked = "not counted here: " + strings.Join(unknown, ", ")
	return h, nil
}
