package orders

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/erpbridge/erpbridge/bridge/cache"
	"github.com/erpbridge/erpbridge/bridge/component"
	"github.com/erpbridge/erpbridge/erp/protheus/streams"

	"github.com/shopspring/decimal"

	"github.com/erpbridge/erpbridge/bridge"
	"github.com/erpbridge/erpbridge/erp"
	"github.com/erpbridge/erpbridge/erp/protheus"
	"github.com/erpbridge/erpbridge/mapping"
)

// orderMapperVersion changes whenever the deal payload an order maps to
// changes shape: every order is then written once more.
const orderMapperVersion = "orders/2"

// orderMapper maps an SC5 sales order with its SC6 items to a deal.
type orderMapper struct {
	items     erp.Source // SC6 of the order's filial
	customers erp.Source // SA1, for the customer's name
	sellers   erp.Source // SA3, for the seller's e-mail (nil: no owner lookup)
	crm       component.DealCRM

	customerFilial, productFilial, sellerFilial string
	resolveCustomers                            bool // the customers stream is enabled

	name          string                     // template
	stages        map[protheus.Status]string // stage id by status
	won, lost     []protheus.Status
	lostReason    string // lost reason id
	cancelReason  string // lost reason id for deleted orders
	numberFieldID string // deal custom field for C5_NUM
	defaultOwner  string // user id
	crmIDColumn   string // C5_XCRMID when SC5 has it
	rules         orderRules
	// hasDeal reports whether an order already has its deal (the identity
	// map): such an order keeps syncing whatever the history window says.
	// Nil: none has.
	hasDeal func(ctx context.Context, key string) (bool, error)

	// receivableOnly leaves out orders none of whose items' TES creates a
	// receivable, read from tes (SF4 of tesFilial; nil: no SF4, every TES
	// counts as creating one).
	receivableOnly bool
	tes            erp.Source
	tesFilial      string
	tesDuplic      cache.TTL[string, string] // F4_CODIGO → F4_DUPLIC
	// total is TotalOrder or TotalInvoice; invoices is SF2 (nil
	// when the ERP has none: the items' total, then); invoiceProduct the
	// CRM product of the taxes-and-freight line.
	total          string
	invoices       erp.Source
	invoiceProduct string
	// warnings say what the stream goes without (optional columns and
	// tables the ERP lacks), for the log.
	warnings []string

	// page is what PreparePage read for the page being mapped;
	// sellerEmails caches A3_EMAIL by seller code (few sellers, many orders).
	mu           sync.Mutex
	page         orderPage
	pageItems    streams.PageRows
	sellerEmails cache.TTL[string, string] // A3_COD → A3_EMAIL
}

// orderPage holds the customers of one page of orders, read at once.
type orderPage struct {
	customers map[string]*erp.Record // SA1 key → its row, for the customers found
}

var (
	_ bridge.Mapper       = (*orderMapper)(nil)
	_ bridge.PagePreparer = (*orderMapper)(nil)
)

// PreparePage reads the SC6 items and SA1 customers of a page of orders in
// a few queries, instead of two per order. Rows come in record order, as
// per-order reads give them, so the payload (and its fingerprint) is the
// same either way. On an error the page is left to per-order reads.
func (o *orderMapper) PreparePage(ctx context.Context, recs []erp.Record) {
	pg := orderPage{customers: map[string]*erp.Record{}}
	if len(recs) == 0 { // the page is done: forget it
		o.mu.Lock()
		o.page = pg
		o.mu.Unlock()
		o.pageItems.Prepare(ctx, o.items, nil, "C6_NUM", nil, 0)
		return
	}
	defer func() {
		o.mu.Lock()
		o.page = pg
		o.mu.Unlock()
	}()
	nums, codes := make([]string, len(recs)), make([]string, len(recs))
	for i, r := range recs {
		nums[i], codes[i] = streams.Str(r, "C5_NUM"), streams.Str(r, "C5_CLIENTE")
	}
	o.pageItems.Prepare(ctx, o.items, nil, "C6_NUM", nums, protheus.MaxOrderItems+1)
	for chunk := range slices.Chunk(streams.Distinct(codes), streams.PageChunk) {
		rows, err := o.customers.Find(ctx, []erp.Match{erp.AnyOf("A1_COD", chunk)}, streams.PageRowsLimit)
		if err != nil || len(rows) == streams.PageRowsLimit {
			continue
		}
		// Only customers found are kept: one not found is looked up
		// alone (it may differ only in case on a case-insensitive collation).
		for i := range rows {
			r := &rows[i]
			key := erp.JoinKey(o.customerFilial, strings.TrimSpace(streams.Str(*r, "A1_COD")), strings.TrimSpace(streams.Str(*r, "A1_LOJA")))
			if prev := pg.customers[key]; prev == nil || streams.Preferred(*r, *prev) { // as Lookup chooses
				pg.customers[key] = r
			}
		}
	}
}

// customer returns the SA1 row of key, from the prepared page if it has it.
func (o *orderMapper) customer(ctx context.Context, key string) (erp.Record, bool, error) {
	o.mu.Lock()
	r := o.page.customers[key]
	o.mu.Unlock()
	if r != nil {
		return *r, true, nil
	}
	return o.customers.Lookup(ctx, key)
}

// orderItems returns the SC6 rows of an order, from the prepared page if it
// has them.
func (o *orderMapper) orderItems(ctx context.Context, num string) ([]erp.Record, error) {
	return o.pageItems.Find(num, func() ([]erp.Record, error) {
		return o.items.Find(ctx, protheus.ItemsOf(num), protheus.MaxOrderItems+1)
	})
}

func (o *orderMapper) Map(ctx context.Context, rec erp.Record, r bridge.Resolver) bridge.Mapped {
	return o.mapOrder(ctx, rec, r, false)
}

// MapDeleted loses the deal of a deleted (cancelled) order.
func (o *orderMapper) MapDeleted(ctx context.Context, rec erp.Record, r bridge.Resolver) bridge.Mapped {
	return o.mapOrder(ctx, rec, r, true)
}

func (o *orderMapper) mapOrder(ctx context.Context, rec erp.Record, r bridge.Resolver, deleted bool) bridge.Mapped {
	num := strings.TrimSpace(streams.Str(rec, "C5_NUM"))
	fail := func(field, format string, args ...any) bridge.Mapped {
		return bridge.Mapped{Errors: []error{fmt.Errorf("order %s: %s: %s", rec.Key, field, fmt.Sprintf(format, args...))}}
	}
	skip := func(why string) bridge.Mapped { return bridge.Mapped{Skip: true, SkipReason: why} }
	custCode, store := strings.TrimSpace(streams.Str(rec, "C5_CLIENTE")), strings.TrimSpace(streams.Str(rec, "C5_LOJACLI"))
	custKey := erp.JoinKey(o.customerFilial, custCode, store)
	cust, found, err := o.customer(ctx, custKey)
	if err != nil {
		return bridge.Mapped{Retry: fmt.Errorf("order %s: reading its customer %s: %w", rec.Key, custKey, err)}
	}
	if !found {
		return fail("C5_CLIENTE", "customer %s store %s is not in SA1", custCode, store)
	}
	name := strings.NewReplacer(
		"{num}", num, "{customer}", strings.TrimSpace(streams.Str(cust, "A1_NOME")), "{customer_code}", custCode,
		"{store}", store, "{filial}", strings.TrimSpace(streams.Str(rec, "C5_FILIAL")),
	).Replace(o.name)
	p := bridge.Payload{"name": name}
	if o.numberFieldID != "" {
		p["deal_custom_fields"] = []map[string]any{{"custom_field_id": o.numberFieldID, "value": num}}
	}

	// An order made from a won CRM deal (C5_XCRMID) belongs to that deal:
	// it gets the order number and nothing else.
	if o.crmIDColumn != "" {
		if dealID := strings.TrimSpace(streams.Str(rec, o.crmIDColumn)); dealID != "" {
			if o.numberFieldID == "" || deleted {
				return skip("made from CRM deal " + dealID)
			}
			p["deal_id"], p["link_only"] = dealID, true
			return fingerprinted(p)
		}
	}

	// Which orders become deals: by type and currency, and in the history
	// window unless the order has its deal already (then it keeps it in
	// step). A link_only order above makes no deal: it always goes.
	if !deleted {
		if _, why := o.rules.leaveOut(rec); why != "" {
			return skip(why)
		}
	}
	if why := o.rules.beforeWindow(rec); why != "" {
		has := false
		if o.hasDeal != nil {
			if has, err = o.hasDeal(ctx, rec.Key); err != nil {
				return bridge.Mapped{Retry: fmt.Errorf("order %s: looking up its deal: %w", rec.Key, err)}
			}
		}
		if !has {
			return skip(why)
		}
	}
	if cust.Deleted && !deleted {
		// One rule: no deal for a deleted customer's order (it would have
		// no organization, or one the CRM keeps for a customer gone from
		// the ERP), reported at level skip. It goes once the customer is
		// live again: an SA1 change re-reads the customer's orders.
		return fail("C5_CLIENTE", "customer %s store %s is deleted in SA1: the order becomes a deal when the customer is live again", custCode, store)
	}

	items, err := o.orderItems(ctx, num)
	if err != nil {
		return bridge.Mapped{Retry: fmt.Errorf("order %s: reading its SC6 items: %w", rec.Key, err)}
	}
	if o.receivableOnly && !deleted {
		ok, err := o.createsReceivable(ctx, items)
		if err != nil {
			return bridge.Mapped{Retry: fmt.Errorf("order %s: reading its items' TES: %w", rec.Key, err)}
		}
		if !ok {
			return skip("no item's TES creates a receivable (SF4 F4_DUPLIC = 'N': a bonus or a shipment; streams.orders.receivable_only)")
		}
	}
	if o.resolveCustomers {
		orgID, err := r.Resolve(ctx, "customers", custKey)
		switch {
		case errors.Is(err, bridge.ErrNoDependency):
			// e.g. a blocked customer: the deal goes without organization
		case errors.Is(err, bridge.ErrDependencyRejected):
			return fail("C5_CLIENTE", "customer %s store %s has bad data in the ERP: %v", custCode, store, err)
		case err != nil:
			return bridge.Mapped{Retry: fmt.Errorf("order %s waits for its customer %s: %w", rec.Key, custKey, err)}
		default:
			p["organization_id"] = orgID
		}
	}
	if owner, err := o.owner(ctx, rec); err != nil {
		return bridge.Mapped{Retry: fmt.Errorf("order %s: finding its owner: %w", rec.Key, err)}
	} else if owner != "" {
		p["user_id"] = owner
	}

	status := protheus.OrderStatus(rec, items)
	if stage := o.stages[status]; stage != "" {
		p["deal_stage_id"] = stage
	}
	switch {
	case deleted:
		p["win"] = false
		if o.cancelReason != "" {
			p["deal_lost_reason_id"] = o.cancelReason
		}
		p["deal_lost_note"] = "Pedido " + num + " excluído no ERP"
	case slices.Contains(o.won, status):
		p["win"] = true
	case slices.Contains(o.lost, status):
		p["win"] = false
		if o.lostReason != "" {
			p["deal_lost_reason_id"] = o.lostReason
		}
		p["deal_lost_note"] = "Pedido " + num + ": " + string(status)
	}

	if !deleted {
		// One bad item does not hold the order back: the deal gets the
		// good ones, and its note names each item left out and why.
		lines := make([]map[string]any, 0, len(items))
		var notes []string
		for _, it := range items {
			if it.Deleted {
				continue
			}
			line, problem, err := o.line(ctx, rec.Key, it, r)
			if err != nil {
				return bridge.Mapped{Retry: err}
			}
			if problem != "" {
				notes = append(notes, problem)
				continue
			}
			lines = append(lines, line)
		}
		if o.total == TotalInvoice && status == protheus.StatusInvoiced {
			adj, note, err := o.invoiceLine(ctx, num, custCode, store, items, lines)
			if err != nil {
				return bridge.Mapped{Retry: fmt.Errorf("order %s: %w", rec.Key, err)}
			}
			if adj != nil {
				lines = append(lines, adj)
			}
			if note != "" {
				notes = append(notes, note)
			}
		}
		p["deal_products"] = lines
		// The title names the order even when only the deals target has
		// something to say (a line it shows as 1 × its value): a title that
		// followed the deal's name would write the note again whenever the
		// customer is renamed.
		p["note_title"] = "erpbridge: ERP order " + num
		if len(notes) > 0 {
			p["note_lines"] = notes
		}
	}
	return fingerprinted(p)
}

// errRetryItem marks an item whose product could not be synced for now:
// the whole order waits for it.
var errRetryItem = errors.New("item waits for its product")

// line maps one SC6 item to a deal product: its quantity and unit price as
// the ERP stores them and its value (C6_VALOR, the cent the ERP rounded the
// line to), which the CRM's line total must equal (crmtarget.Deals). An
// item that cannot go (a product that is not in the CRM or has bad data, a
// quantity or price that is not one) comes back as a problem naming it:
// the order goes without it. err (errRetryItem) is set only when the
// item's product could not be synced for now.
func (o *orderMapper) line(ctx context.Context, orderKey string, it erp.Record, r bridge.Resolver) (map[string]any, string, error) {
	item, code := strings.TrimSpace(streams.Str(it, "C6_ITEM")), strings.TrimSpace(streams.Str(it, "C6_PRODUTO"))
	label := "item " + item + ", " + code
	if um := strings.TrimSpace(streams.Str(it, "C6_UM")); um != "" {
		label += " (" + um + ")"
	}
	qty, okQ := it.Fields["C6_QTDVEN"].(decimal.Decimal)
	price, okP := it.Fields["C6_PRCVEN"].(decimal.Decimal)
	switch {
	case !okQ || !qty.IsPositive():
		return nil, fmt.Sprintf("%s: left out: C6_QTDVEN %v is not a positive quantity", label, it.Fields["C6_QTDVEN"]), nil
	case !okP || price.IsNegative():
		return nil, fmt.Sprintf("%s: left out: C6_PRCVEN %v is not a price", label, it.Fields["C6_PRCVEN"]), nil
	}
	value, ok := it.Fields["C6_VALOR"].(decimal.Decimal)
	if !ok {
		value = qty.Mul(price).Round(2)
	}
	pid, err := r.Resolve(ctx, "products", erp.JoinKey(o.productFilial, code))
	switch {
	case errors.Is(err, bridge.ErrNoDependency):
		return nil, fmt.Sprintf("%s: left out: product %s is not in the CRM: %s", label, code, strings.TrimPrefix(err.Error(), bridge.ErrNoDependency.Error()+": ")), nil
	case errors.Is(err, bridge.ErrDependencyRejected):
		return nil, fmt.Sprintf("%s: left out: product %s has bad data in the ERP: %s", label, code, strings.TrimPrefix(err.Error(), bridge.ErrDependencyRejected.Error()+": ")), nil
	case err != nil:
		return nil, "", fmt.Errorf("%w: order %s item %s, product %s: %w", errRetryItem, orderKey, item, code, err)
	}
	return map[string]any{"product_id": pid, "amount": qty.String(), "price": price.String(),
		"total": value.String(), "label": label}, "", nil
}

// createsReceivable reports whether any live item's TES creates a
// receivable: a blank TES, or one SF4 does not have, counts as creating
// one (nothing says otherwise).
func (o *orderMapper) createsReceivable(ctx context.Context, items []erp.Record) (bool, error) {
	if o.tes == nil {
		return true, nil
	}
	for _, it := range items {
		if it.Deleted {
			continue
		}
		code := strings.TrimSpace(streams.Str(it, "C6_TES"))
		if code == "" {
			return true, nil
		}
		duplic, err := o.tesDuplic.Get(code, func() (string, error) {
			row, ok, err := o.tes.Lookup(ctx, erp.JoinKey(o.tesFilial, code))
			if err != nil || !ok || row.Deleted {
				return "", err
			}
			return strings.TrimSpace(streams.Str(row, "F4_DUPLIC")), nil
		})
		if err != nil {
			return false, fmt.Errorf("reading TES %s: %w", code, err)
		}
		if duplic != protheus.NoReceivable {
			return true, nil
		}
	}
	return false, nil
}

// invoiceLine is, for an invoiced order under total = "invoice", the line
// that brings the deal's total to its invoices' gross value (Σ F2_VALBRUT
// of the invoices its items name in C6_NOTA + C6_SERIE): one unit of the
// invoice product at the difference, with a note saying so. When that
// cannot be told exactly (an invoice not in SF2, one that also delivered
// another order, a gross value below the items'), the deal keeps the
// items' total and the note says why.
func (o *orderMapper) invoiceLine(ctx context.Context, num, cod, loja string, items []erp.Record, lines []map[string]any) (map[string]any, string, error) {
	if o.invoices == nil {
		return nil, "", nil
	}
	keep := func(format string, args ...any) (map[string]any, string, error) {
		return nil, fmt.Sprintf(format, args...) + "; the deal's total is the items' (C6_VALOR)", nil
	}
	type doc struct{ num, serie string }
	var docs []doc
	for _, it := range items {
		d := doc{strings.TrimSpace(streams.Str(it, "C6_NOTA")), strings.TrimSpace(streams.Str(it, "C6_SERIE"))}
		if !it.Deleted && d.num != "" && strings.Trim(d.num, "X") != "" && !slices.Contains(docs, d) {
			docs = append(docs, d)
		}
	}
	if len(docs) == 0 {
		return keep("invoiced, but no item names its invoice (C6_NOTA)")
	}
	var gross decimal.Decimal
	names := make([]string, len(docs))
	for i, d := range docs {
		names[i] = d.num + "/" + d.serie
		rows, err := o.invoices.Find(ctx, protheus.InvoiceOf(d.num, d.serie), 20)
		if err != nil {
			return nil, "", fmt.Errorf("reading invoice %s/%s: %w", d.num, d.serie, err)
		}
		matched := false
		for _, r := range rows {
			if !r.Deleted && strings.TrimSpace(streams.Str(r, "F2_CLIENTE")) == cod && strings.TrimSpace(streams.Str(r, "F2_LOJA")) == loja {
				v, _ := r.Fields["F2_VALBRUT"].(decimal.Decimal)
				gross, matched = gross.Add(v), true
			}
		}
		if !matched {
			return keep("invoice %s/%s is not in SF2", d.num, d.serie)
		}
		delivered, err := o.items.Find(ctx, protheus.ItemsOfInvoice(d.num, d.serie), protheus.MaxOrderItems+1)
		if err != nil {
			return nil, "", fmt.Errorf("reading the items of invoice %s/%s: %w", d.num, d.serie, err)
		}
		for _, it := range delivered {
			if other := strings.TrimSpace(streams.Str(it, "C6_NUM")); !it.Deleted && other != num {
				return keep("invoice %s/%s also delivers order %s, so its gross value is not this order's alone", d.num, d.serie, other)
			}
		}
	}
	var net decimal.Decimal
	for _, l := range lines {
		net = net.Add(decimal.RequireFromString(l["total"].(string)))
	}
	adj, which := gross.Sub(net), strings.Join(names, ", ")
	switch {
	case adj.IsZero():
		return nil, "", nil
	case adj.IsNegative():
		return keep("invoice %s: its gross value %s is below the items' %s", which, gross, net)
	}
	line := map[string]any{"product_id": o.invoiceProduct, "amount": "1", "price": adj.String(), "total": adj.String(),
		"label": "invoice " + which}
	note := fmt.Sprintf("invoice %s: gross value (F2_VALBRUT) %s = the items' %s + %s of taxes and freight, shown as a line of its own",
		which, gross, net, adj)
	return line, note, nil
}

// owner is the CRM user of the order's seller, else the default owner.
func (o *orderMapper) owner(ctx context.Context, rec erp.Record) (string, error) {
	code := strings.TrimSpace(streams.Str(rec, "C5_VEND1"))
	if code == "" || o.sellers == nil {
		return o.defaultOwner, nil
	}
	email, err := o.sellerEmails.Get(code, func() (string, error) {
		seller, ok, err := o.sellers.Lookup(ctx, erp.JoinKey(o.sellerFilial, code))
		if err != nil || !ok || seller.Deleted {
			return "", err
		}
		return streams.Str(seller, "A3_EMAIL"), nil
	})
	if err != nil {
		return "", fmt.Errorf("reading seller %s: %w", code, err)
	}
	if strings.TrimSpace(email) == "" {
		return o.defaultOwner, nil
	}
	id, err := o.crm.UserByEmail(ctx, email)
	if err != nil || id == "" {
		return o.defaultOwner, err
	}
	return id, nil
}

func fingerprinted(p bridge.Payload) bridge.Mapped {
	fp, err := mapping.Fingerprint(orderMapperVersion, p)
	if err != nil {
		return bridge.Mapped{Errors: []error{err}}
	}
	return bridge.Mapped{Payload: p, Fingerprint: fp}
}

// CheckOrders resolves the CRM names streams.orders uses (pipeline,
// stages, lost reasons, the order number field, the default owner), for
// `erpbridge check`: the error names the key and what the CRM has.
func CheckOrders(ctx context.Context, cfg *Config, c component.TargetSystem) error {
	return orderSettings(ctx, cfg, c, &orderMapper{})
}

// orderSettings resolves the names of streams.orders (pipeline, stages,
// lost reasons, custom field, default owner) to CRM ids.
func orderSettings(ctx context.Context, cfg *Config, target component.TargetSystem, o *orderMapper) error {
	c, ok := target.(component.DealCRM)
	if !ok {
		return errors.New("streams.orders: the CRM has no sales pipelines")
	}
	o.crm = c
	pipes, err := c.Pipelines(ctx)
	if err != nil {
		return err
	}
	var pipe *component.Pipeline
	for i := range pipes {
		if cfg.Pipeline == "" || strings.EqualFold(strings.TrimSpace(pipes[i].Name), strings.TrimSpace(cfg.Pipeline)) {
			pipe = &pipes[i]
			break
		}
	}
	if pipe == nil {
		names := make([]string, len(pipes))
		for i, p := range pipes {
			names[i] = p.Name
		}
		return fmt.Errorf("streams.orders.pipeline: the CRM has no pipeline %q (it has: %s)", cfg.Pipeline, strings.Join(names, ", "))
	}
	var errs []error // every problem at once, for `erpbridge check`
	o.stages = map[protheus.Status]string{}
	stageNames := make([]string, len(pipe.Stages))
	for i, st := range pipe.Stages {
		stageNames[i] = st.Name
	}
	for _, status := range slices.Sorted(maps.Keys(cfg.Stages)) {
		stage, id := cfg.Stages[status], ""
		for _, s := range pipe.Stages {
			if strings.EqualFold(strings.TrimSpace(s.Name), strings.TrimSpace(stage)) {
				id = s.ID
				break
			}
		}
		if id == "" {
			errs = append(errs, fmt.Errorf("streams.orders.stages.%s: pipeline %q has no stage %q (it has: %s)", status, pipe.Name, stage, strings.Join(stageNames, ", ")))
			continue
		}
		o.stages[protheus.Status(status)] = id
	}
	// A status without a stage puts the deal in the pipeline's first stage,
	// so deals always land in the configured pipeline.
	if len(pipe.Stages) > 0 {
		first := pipe.Stages[0] // stages come in their order
		for _, status := range protheus.Statuses() {
			if o.stages[status] == "" {
				o.stages[status] = first.ID
			}
		}
	}
	for _, s := range cfg.WonWhen {
		o.won = append(o.won, protheus.Status(s))
	}
	for _, s := range cfg.LostWhen {
		o.lost = append(o.lost, protheus.Status(s))
	}
	var reasons []component.Named
	if cfg.LostReason != "" || cfg.CancelledReason != "" {
		if reasons, err = c.LostReasons(ctx); err != nil {
			return err
		}
	}
	reason := func(key, name string) string {
		if name == "" {
			return ""
		}
		names := make([]string, len(reasons))
		for i, lr := range reasons {
			if strings.EqualFold(strings.TrimSpace(lr.Name), strings.TrimSpace(name)) {
				return lr.ID
			}
			names[i] = lr.Name
		}
		errs = append(errs, fmt.Errorf("streams.orders.%s: the CRM has no lost reason %q (it has: %s)", key, name, strings.Join(names, ", ")))
		return ""
	}
	o.lostReason = reason("lost_reason", cfg.LostReason)
	o.cancelReason = reason("cancelled_reason", cfg.CancelledReason)
	if cfg.OrderNumberField != "" {
		schema, err := target.Schema(ctx, mapping.EntityDeal)
		if err != nil {
			return err
		}
		if f, err := schema.Custom.Lookup(cfg.OrderNumberField); err == nil {
			o.numberFieldID = f.ID
		} else {
			errs = append(errs, fmt.Errorf("streams.orders.order_number_field: %w (create it as a text field for deals)", err))
		}
	}
	if cfg.DefaultOwner != "" {
		id, err := c.UserByEmail(ctx, cfg.DefaultOwner)
		if err != nil {
			return err
		}
		if id == "" {
			errs = append(errs, fmt.Errorf("streams.orders.default_owner: no CRM user has the e-mail %q", cfg.DefaultOwner))
		}
		o.defaultOwner = id
	}
	if cfg.Total == TotalInvoice {
		id, err := c.ProductNamed(ctx, cfg.InvoiceProduct)
		if err != nil {
			return err
		}
		if id == "" {
			errs = append(errs, fmt.Errorf("streams.orders.invoice_product: the CRM has no product %q (create it: it carries the invoices' taxes and freight)", cfg.InvoiceProduct))
		}
		o.invoiceProduct = id
	}
	if err := errors.Join(errs...); err != nil {
		return err
	}
	o.rules, err = newOrderRules(cfg, time.Time{})
	return err
}

// orderRules are what leaves an order out of the CRM by its header: its
// type (C5_TIPO), its currency (C5_MOEDA) and the history window
// (C5_EMISSAO). One home for the mapper and `erpbridge check`.
type orderRules struct {
	types      []string
	currencies []decimal.Decimal // empty: every currency
	// since starts the history window (zero: none); why says what set it.
	since time.Time
	why   string
}

// newOrderRules reads the rules of cfg. The window starts at since, else
// history_days before firstRun (the day the stream first ran; zero: no
// window from history_days, as before the first run is known).
func newOrderRules(cfg *Config, firstRun time.Time) (orderRules, error) {
	r := orderRules{types: cfg.Types}
	for _, m := range cfg.Currencies {
		r.currencies = append(r.currencies, decimal.NewFromInt(int64(m)))
	}
	switch {
	case cfg.Since != "":
		t, err := time.Parse("20060102", cfg.Since)
		if err != nil {
			return r, fmt.Errorf("streams.orders.since: %w", err)
		}
		r.since, r.why = t, "streams.orders.since"
	case cfg.HistoryDays > 0 && !firstRun.IsZero():
		day := time.Date(firstRun.Year(), firstRun.Month(), firstRun.Day(), 0, 0, 0, 0, time.UTC)
		r.since = day.AddDate(0, 0, -cfg.HistoryDays)
		r.why = fmt.Sprintf("streams.orders.history_days = %d before the stream's first run on %s", cfg.HistoryDays, day.Format(time.DateOnly))
	}
	return r, nil
}

// leaveOut says what keeps an order out by its type or currency (what, as
// "C5_TIPO D"; why, a sentence) — "" when nothing does. A missing C5_MOEDA
// is the local currency (1).
func (r orderRules) leaveOut(rec erp.Record) (what, why string) {
	if t := strings.TrimSpace(streams.Str(rec, "C5_TIPO")); !slices.Contains(r.types, t) {
		kind := map[string]string{
			protheus.TypeReturn: "a return: C5_CLIENTE names a supplier", protheus.TypeBeneficiamento: "beneficiamento: C5_CLIENTE names a supplier",
			protheus.TypePriceComplement: "a price complement", protheus.TypeICMSComplement: "an ICMS complement", protheus.TypeIPIComplement: "an IPI complement",
		}[t]
		if kind != "" {
			kind = ", " + kind
		}
		return "C5_TIPO " + t, fmt.Sprintf("order type C5_TIPO = %q%s, not in streams.orders.types", t, kind)
	}
	if len(r.currencies) > 0 {
		m, ok := rec.Fields["C5_MOEDA"].(decimal.Decimal)
		if !ok {
			m = decimal.NewFromInt(1)
		}
		if !slices.ContainsFunc(r.currencies, m.Equal) {
			return "C5_MOEDA " + m.String(), fmt.Sprintf("currency C5_MOEDA = %s, not in streams.orders.currencies", m)
		}
	}
	return "", ""
}

// beforeWindow says when an order was issued before the history window
// ("" when it was not, or has no date).
func (r orderRules) beforeWindow(rec erp.Record) string {
	issued, ok := rec.Fields["C5_EMISSAO"].(time.Time)
	if r.since.IsZero() || !ok || !issued.Before(r.since) {
		return ""
	}
	return fmt.Sprintf("issued %s, before %s (%s)", issued.Format(time.DateOnly), r.since.Format(time.DateOnly), r.why)
}
