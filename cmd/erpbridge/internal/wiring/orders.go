package wiring

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/shopspring/decimal"

	"github.com/erpbridge/erpbridge/bridge"
	"github.com/erpbridge/erpbridge/cmd/erpbridge/internal/config"
	"github.com/erpbridge/erpbridge/erp"
	"github.com/erpbridge/erpbridge/erp/protheus"
	"github.com/erpbridge/erpbridge/mapping"
	"github.com/erpbridge/erpbridge/rdstation/crm"
)

// orderMapperVersion changes whenever the deal payload an order maps to
// changes shape: every order is then written once more.
const orderMapperVersion = "orders/1"

// orderMapper maps an SC5 sales order with its SC6 items to a deal.
type orderMapper struct {
	items     erp.Source // SC6 of the order's filial
	customers erp.Source // SA1, for the customer's name
	sellers   erp.Source // SA3, for the seller's e-mail (nil: no owner lookup)
	users     *userDirectory

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
	since         time.Time

	// page is what PreparePage read for the page being mapped;
	// sellerEmails caches A3_EMAIL by seller code (few sellers, many orders).
	mu           sync.Mutex
	page         orderPage
	pageItems    pageRows
	sellerEmails ttlCache[string, string] // A3_COD → A3_EMAIL
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
		o.pageItems.prepare(ctx, o.items, nil, "C6_NUM", nil, 0)
		return
	}
	defer func() {
		o.mu.Lock()
		o.page = pg
		o.mu.Unlock()
	}()
	nums, codes := make([]string, len(recs)), make([]string, len(recs))
	for i, r := range recs {
		nums[i], codes[i] = str(r, "C5_NUM"), str(r, "C5_CLIENTE")
	}
	o.pageItems.prepare(ctx, o.items, nil, "C6_NUM", nums, protheus.MaxOrderItems+1)
	for chunk := range slices.Chunk(distinct(codes), pageChunk) {
		rows, err := o.customers.Find(ctx, []erp.Match{erp.AnyOf("A1_COD", chunk)}, pageRowsLimit)
		if err != nil || len(rows) == pageRowsLimit {
			continue
		}
		// Only customers found are kept: one not found is looked up
		// alone (it may differ only in case on a case-insensitive collation).
		for i := range rows {
			r := &rows[i]
			key := erp.JoinKey(o.customerFilial, strings.TrimSpace(str(*r, "A1_COD")), strings.TrimSpace(str(*r, "A1_LOJA")))
			if prev := pg.customers[key]; prev == nil || preferred(*r, *prev) { // as Lookup chooses
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
	return o.pageItems.find(num, func() ([]erp.Record, error) {
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
	num := strings.TrimSpace(str(rec, "C5_NUM"))
	fail := func(field, format string, args ...any) bridge.Mapped {
		return bridge.Mapped{Errors: []error{fmt.Errorf("order %s: %s: %s", rec.Key, field, fmt.Sprintf(format, args...))}}
	}
	if !o.since.IsZero() {
		if issued, ok := rec.Fields["C5_EMISSAO"].(time.Time); ok && issued.Before(o.since) {
			return bridge.Mapped{Skip: true, SkipReason: "issued before streams.orders.since"}
		}
	}
	custCode, store := strings.TrimSpace(str(rec, "C5_CLIENTE")), strings.TrimSpace(str(rec, "C5_LOJACLI"))
	custKey := erp.JoinKey(o.customerFilial, custCode, store)
	cust, found, err := o.customer(ctx, custKey)
	if err != nil {
		return bridge.Mapped{Retry: fmt.Errorf("order %s: reading its customer %s: %w", rec.Key, custKey, err)}
	}
	if !found {
		return fail("C5_CLIENTE", "customer %s store %s is not in SA1", custCode, store)
	}
	name := strings.NewReplacer(
		"{num}", num, "{customer}", strings.TrimSpace(str(cust, "A1_NOME")), "{customer_code}", custCode,
		"{store}", store, "{filial}", strings.TrimSpace(str(rec, "C5_FILIAL")),
	).Replace(o.name)
	p := bridge.Payload{"name": name}
	if o.numberFieldID != "" {
		p["deal_custom_fields"] = []map[string]any{{"custom_field_id": o.numberFieldID, "value": num}}
	}

	// An order made from a won CRM deal (C5_XCRMID) belongs to that deal:
	// it gets the order number and nothing else.
	if o.crmIDColumn != "" {
		if dealID := strings.TrimSpace(str(rec, o.crmIDColumn)); dealID != "" {
			if o.numberFieldID == "" || deleted {
				return bridge.Mapped{Skip: true, SkipReason: "made from CRM deal " + dealID}
			}
			p["deal_id"], p["link_only"] = dealID, true
			return fingerprinted(p)
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

	items, err := o.orderItems(ctx, num)
	if err != nil {
		return bridge.Mapped{Retry: fmt.Errorf("order %s: reading its SC6 items: %w", rec.Key, err)}
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
		lines := make([]map[string]any, 0, len(items))
		var errs []error
		for _, it := range items {
			if it.Deleted {
				continue
			}
			line, err := o.line(ctx, rec.Key, it, r)
			if err != nil {
				if errors.Is(err, errRetryItem) {
					return bridge.Mapped{Retry: err}
				}
				errs = append(errs, err)
				continue
			}
			lines = append(lines, line)
		}
		if len(errs) > 0 {
			return bridge.Mapped{Errors: errs}
		}
		p["deal_products"] = lines
	}
	return fingerprinted(p)
}

var errRetryItem = errors.New("item waits for its product")

// line maps one SC6 item to a deal product.
func (o *orderMapper) line(ctx context.Context, orderKey string, it erp.Record, r bridge.Resolver) (map[string]any, error) {
	item, code := strings.TrimSpace(str(it, "C6_ITEM")), strings.TrimSpace(str(it, "C6_PRODUTO"))
	qty, okQ := it.Fields["C6_QTDVEN"].(decimal.Decimal)
	price, okP := it.Fields["C6_PRCVEN"].(decimal.Decimal)
	switch {
	case !okQ || !qty.IsPositive():
		return nil, fmt.Errorf("order %s item %s: C6_QTDVEN: quantity %v is not positive", orderKey, item, it.Fields["C6_QTDVEN"])
	case !okP || price.IsNegative():
		return nil, fmt.Errorf("order %s item %s: C6_PRCVEN: price %v is not a price", orderKey, item, it.Fields["C6_PRCVEN"])
	}
	pid, err := r.Resolve(ctx, "products", erp.JoinKey(o.productFilial, code))
	switch {
	case errors.Is(err, bridge.ErrNoDependency):
		return nil, fmt.Errorf("order %s item %s: C6_PRODUTO: product %s is not in the CRM (%v)", orderKey, item, code, err)
	case errors.Is(err, bridge.ErrDependencyRejected):
		return nil, fmt.Errorf("order %s item %s: C6_PRODUTO: product %s has bad data in the ERP: %v", orderKey, item, code, err)
	case err != nil:
		return nil, fmt.Errorf("%w: order %s item %s, product %s: %w", errRetryItem, orderKey, item, code, err)
	}
	return map[string]any{"product_id": pid, "amount": qty.String(), "price": price.String()}, nil
}

// owner is the CRM user of the order's seller, else the default owner.
func (o *orderMapper) owner(ctx context.Context, rec erp.Record) (string, error) {
	code := strings.TrimSpace(str(rec, "C5_VEND1"))
	if code == "" || o.sellers == nil {
		return o.defaultOwner, nil
	}
	email, err := o.sellerEmails.get(code, func() (string, error) {
		seller, ok, err := o.sellers.Lookup(ctx, erp.JoinKey(o.sellerFilial, code))
		if err != nil || !ok || seller.Deleted {
			return "", err
		}
		return str(seller, "A3_EMAIL"), nil
	})
	if err != nil {
		return "", fmt.Errorf("reading seller %s: %w", code, err)
	}
	if strings.TrimSpace(email) == "" {
		return o.defaultOwner, nil
	}
	id, err := o.users.byEmail(ctx, email)
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
func CheckOrders(ctx context.Context, cfg config.Orders, c *crm.Client) error {
	return orderSettings(ctx, cfg, c, &userDirectory{c: c, ttl: time.Minute}, &orderMapper{})
}

// orderSettings resolves the names of streams.orders (pipeline, stages,
// lost reasons, custom field, default owner) to CRM ids.
func orderSettings(ctx context.Context, cfg config.Orders, c *crm.Client, users *userDirectory, o *orderMapper) error {
	pipes, err := c.ListPipelines(ctx)
	if err != nil {
		return fmt.Errorf("reading CRM pipelines: %w", err)
	}
	var pipe *crm.Pipeline
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
		first := pipe.Stages[0]
		for _, s := range pipe.Stages {
			if s.Order < first.Order {
				first = s
			}
		}
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
	var reasons []crm.LostReason
	if cfg.LostReason != "" || cfg.CancelledReason != "" {
		for lr, err := range c.LostReasons(ctx, crm.NameQuery{}) {
			if err != nil {
				return fmt.Errorf("reading CRM lost reasons: %w", err)
			}
			reasons = append(reasons, lr)
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
		cat, err := catalog(ctx, c, "deal")
		if err != nil {
			return err
		}
		if f, ok := lookupLabel(cat, cfg.OrderNumberField); ok {
			o.numberFieldID = f.ID
		} else {
			errs = append(errs, fmt.Errorf("streams.orders.order_number_field: the CRM has no deal custom field %q (create it as a text field for deals)", cfg.OrderNumberField))
		}
	}
	if cfg.DefaultOwner != "" {
		id, err := users.byEmail(ctx, cfg.DefaultOwner)
		if err != nil {
			return err
		}
		if id == "" {
			errs = append(errs, fmt.Errorf("streams.orders.default_owner: no CRM user has the e-mail %q", cfg.DefaultOwner))
		}
		o.defaultOwner = id
	}
	if err := errors.Join(errs...); err != nil {
		return err
	}
	if cfg.Since != "" {
		if o.since, err = time.Parse("20060102", cfg.Since); err != nil {
			return fmt.Errorf("streams.orders.since: %w", err)
		}
	}
	return nil
}
