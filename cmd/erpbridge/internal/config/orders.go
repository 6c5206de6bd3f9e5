package config

import (
	"net/url"
	"regexp"
	"slices"
	"strings"

	"github.com/erpbridge/erpbridge/erp/protheus"
	"github.com/erpbridge/erpbridge/erp/sqlerp/dsn"
)

// Orders is the SC5 + SC6 → deals stream: one deal per sales order.
type Orders struct {
	// StreamBase: deletes = "mark" (the default) loses the deal of a
	// deleted order (cancelled_reason); "ignore" leaves it. Orders have no
	// mapping table: their deal is built from the options below.
	StreamBase
	// Name is the deal name template; {num} (C5_NUM), {customer} (A1_NOME),
	// {customer_code} (A1_COD), {store} (A1_LOJA) and {filial} are
	// replaced. It must contain {num}: deals are adopted by name.
	Name string `toml:"name"`
	// OrderNumberField is the label of the deal custom field that receives
	// the ERP order number (C5_NUM). Optional; also where won deals get the
	// number of the order made from them.
	OrderNumberField string `toml:"order_number_field"`
	// Pipeline is the CRM pipeline the deals go to (default: the first).
	Pipeline string `toml:"pipeline"`
	// Stages maps an order status (open, released, partially_invoiced,
	// invoiced, residue_eliminated, blocked) to a stage name of Pipeline.
	// A status without a stage puts the deal in Pipeline's first stage, so
	// deals always land in the configured pipeline.
	Stages map[string]string `toml:"stages"`
	// WonWhen and LostWhen list the statuses that win or lose the deal.
	WonWhen  []string `toml:"won_when"`
	LostWhen []string `toml:"lost_when"`
	// LostReason is the CRM lost reason for LostWhen statuses;
	// CancelledReason for orders deleted in the ERP (optional both).
	LostReason      string `toml:"lost_reason"`
	CancelledReason string `toml:"cancelled_reason"`
	// DefaultOwner is the e-mail of the CRM user owning deals whose seller
	// (C5_VEND1 → A3_EMAIL) is not a CRM user. Blank: the token's user.
	DefaultOwner string `toml:"default_owner"`
	// SellerFilial is the SA3 branch (blank: shared).
	SellerFilial string `toml:"seller_filial"`
	// Since skips orders issued before this date (C5_EMISSAO, YYYYMMDD):
	// old history need not become deals. Blank: HistoryDays decides.
	Since string `toml:"since"`
	// HistoryDays bounds the history when Since is blank: orders issued
	// more than this many days before the stream's first run (a date the
	// checkpoint store keeps) do not become deals, unless they have one
	// already. 0: every order, however old.
	HistoryDays int `toml:"history_days"`
	// Types are the order types (C5_TIPO) that become deals: N normal; C,
	// I, P price and tax complements; D returns and B beneficiamento, which
	// name a supplier (SA2) in C5_CLIENTE.
	Types []string `toml:"types"`
	// Currencies are the currencies (C5_MOEDA, 1 = the local one) whose
	// orders become deals; empty: every currency (a foreign-currency
	// order's prices go to the CRM as they are, in that currency).
	Currencies []int `toml:"currencies"`
	// ReceivableOnly leaves out orders none of whose items' TES creates a
	// receivable (SF4 F4_DUPLIC = 'N': bonuses, shipments). TESFilial is
	// SF4's branch (blank: shared).
	ReceivableOnly bool   `toml:"receivable_only"`
	TESFilial      string `toml:"tes_filial"`
	// Total is the deal's total: "order", the items' values (C6_VALOR,
	// each rounded to the cent); or "invoice": once the order is invoiced,
	// its invoices' gross value (SF2 F2_VALBRUT, taxes and freight
	// included), the difference carried by one line of InvoiceProduct.
	Total string `toml:"total"`
	// InvoiceProduct is the name of the CRM product of that line (total =
	// "invoice"); create it in the CRM.
	InvoiceProduct string `toml:"invoice_product"`
}

// Deal totals (Orders.Total).
const (
	TotalOrder   = "order"
	TotalInvoice = "invoice"
)

// orderTypes are the C5_TIPO values (erp/protheus.OrderTypes).
var orderTypes = []string{"N", "C", "I", "P", "D", "B"}

// Order statuses, as the stream's stages, won_when and lost_when name them
// (erp/protheus.Status values).
var orderStatuses = []string{"open", "released", "partially_invoiced", "invoiced", "residue_eliminated", "blocked"}

// WonDeals is the CRM → ERP direction: deals won in the CRM become ERP
// sales orders.
type WonDeals struct {
	Enabled bool `toml:"enabled"`
	// Sink is where orders go: "staging" (a table an ERP job consumes) or
	// "rest" (a route that runs MATA410 and answers with the number).
	Sink string `toml:"sink"`
	// Schedule overrides schedule.incremental for the won-deal poll.
	Schedule string `toml:"schedule"`
	// Overlap is re-read behind the last poll (deals are won with coarse
	// timestamps and a clock that is not ours).
	Overlap Duration `toml:"overlap"`
	// Lookback is how far back the first poll looks.
	Lookback Duration `toml:"lookback"`
	// Filial is the branch the orders are created in (SC5's).
	Filial string `toml:"filial"`
	// OrderType, PaymentTerms, PriceTable, TES, Operation and Seller are
	// the defaults every order gets (C5_TIPO, C5_CONDPAG, C5_TABELA, C6_TES,
	// C6_OPER, C5_VEND1). Blank leaves them to the ERP.
	OrderType    string `toml:"order_type"`
	PaymentTerms string `toml:"payment_terms"`
	PriceTable   string `toml:"price_table"`
	TES          string `toml:"tes"`
	Operation    string `toml:"operation"`
	Seller       string `toml:"seller"`
	// UseDealPrices sends the deal's unit prices; false lets the ERP price
	// the items from the price table.
	UseDealPrices bool `toml:"use_deal_prices"`
	// Notes writes the ERP's rejection onto the deal as a note.
	Notes bool `toml:"notes"`
	// Pipelines are the CRM pipelines (by name) whose won deals become ERP
	// orders; a deal won in any other (partners, after-sales, the copy an
	// RD Station pipeline makes of its won deals) is skipped. Empty: the
	// pipeline of streams.orders.pipeline, i.e. the CRM's first pipeline
	// unless that names another (whether the orders stream is on or not).
	Pipelines []string `toml:"pipelines"`

	// Staging names the tables of the staging sink.
	Staging OrderStaging `toml:"staging"`
	REST    OrderREST    `toml:"rest"`
}

// OrderStaging names the staging sink's tables by their Protheus aliases:
// each table is alias + erp.company + "0" and its fields carry the alias's
// prefix (ZB1 → ZB1010, ZB1_DEALID; SZ7 → SZ7010, Z7_DEALID).
type OrderStaging struct {
	Header string `toml:"header"` // one row per deal (default ZB1)
	Items  string `toml:"items"`  // the deals' items (default ZB2)
}

// Aliases returns the aliases as the staging spec takes them.
func (s OrderStaging) Aliases() protheus.StagingAliases {
	return protheus.StagingAliases{Header: s.Header, Items: s.Items}
}

// OrderREST configures the rest sink.
type OrderREST struct {
	URL      string   `toml:"url"` // e.g. http://erp:8080/rest/orders
	User     string   `toml:"user"`
	Password string   `toml:"password"`
	Token    string   `toml:"token"`
	Timeout  Duration `toml:"timeout"`
}

// Sinks.
const (
	SinkStaging = "staging"
	SinkREST    = "rest"
)

var (
	yyyymmdd = regexp.MustCompile(`^(19|20)\d{2}(0[1-9]|1[0-2])(0[1-9]|[12]\d|3[01])$`)
)

func validateOrders(c *Config, bad func(key, format string, args ...any)) {
	o := c.Streams.Orders
	if o.Enabled {
		if !strings.Contains(o.Name, "{num}") {
			bad("streams.orders.name", "%q must contain {num}: deals are found again by name", o.Name)
		}
		for status := range o.Stages {
			if !slices.Contains(orderStatuses, status) {
				bad("streams.orders.stages."+status, "is not an order status (%s)", strings.Join(orderStatuses, ", "))
			}
		}
		for _, s := range o.WonWhen {
			if !slices.Contains(orderStatuses, s) {
				bad("streams.orders.won_when", "%q is not an order status (%s)", s, strings.Join(orderStatuses, ", "))
			}
			if slices.Contains(o.LostWhen, s) {
				bad("streams.orders.lost_when", "%q is also in won_when", s)
			}
		}
		for _, s := range o.LostWhen {
			if !slices.Contains(orderStatuses, s) {
				bad("streams.orders.lost_when", "%q is not an order status (%s)", s, strings.Join(orderStatuses, ", "))
			}
		}
		if o.Since != "" && !yyyymmdd.MatchString(o.Since) {
			bad("streams.orders.since", "%q is not a YYYYMMDD date", o.Since)
		}
		if o.HistoryDays < 0 {
			bad("streams.orders.history_days", "must not be negative (0: every order)")
		}
		if len(o.Types) == 0 {
			bad("streams.orders.types", "must name at least one order type (%s)", strings.Join(orderTypes, ", "))
		}
		for _, t := range o.Types {
			if !slices.Contains(orderTypes, t) {
				bad("streams.orders.types", "%q is not an order type (%s)", t, strings.Join(orderTypes, ", "))
			}
		}
		for _, m := range o.Currencies {
			if m < 1 || m > 99 {
				bad("streams.orders.currencies", "%d is not a currency number (C5_MOEDA: 1 the local currency, 2 … 99)", m)
			}
		}
		if !filialPattern.MatchString(o.TESFilial) {
			bad("streams.orders.tes_filial", "%q is not a Protheus branch code", o.TESFilial)
		}
		switch o.Total {
		case TotalOrder:
		case TotalInvoice:
			if strings.TrimSpace(o.InvoiceProduct) == "" {
				bad("streams.orders.invoice_product", "is needed with total = \"invoice\": the CRM product of the line carrying the invoice's taxes and freight")
			}
		default:
			bad("streams.orders.total", "%q is not one of order, invoice", o.Total)
		}
		if !filialPattern.MatchString(o.SellerFilial) {
			bad("streams.orders.seller_filial", "%q is not a Protheus branch code", o.SellerFilial)
		}
	}
	w := c.WonDeals
	if !w.Enabled {
		return
	}
	switch w.Sink {
	case SinkStaging: // the tables of won_deals.staging in erp.company (docs/protheus.md)
		if err := w.Staging.Aliases().Validate(); err != nil {
			bad("won_deals.staging", "%s", strings.ReplaceAll(err.Error(), "\n", "; "))
		}
	case SinkREST:
		if u, err := url.Parse(w.REST.URL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			bad("won_deals.rest.url", "%q is not an http(s) URL", dsn.Redact(w.REST.URL))
		} else if u.User != nil {
			bad("won_deals.rest.url", "must not carry credentials; use user and password, or token")
		}
		if w.REST.User != "" && w.REST.Token != "" {
			bad("won_deals.rest", "set user and password, or token, not both")
		}
		if w.REST.Timeout.D() <= 0 {
			bad("won_deals.rest.timeout", "must be positive")
		}
	default:
		bad("won_deals.sink", "%q is not one of staging, rest", w.Sink)
	}
	if w.Schedule != "" {
		if err := checkSchedule(w.Schedule, MinInterval); err != nil {
			bad("won_deals.schedule", "%v", err)
		}
	}
	seen := map[string]bool{}
	for _, p := range w.Pipelines {
		key := strings.ToLower(strings.TrimSpace(p))
		switch {
		case key == "":
			bad("won_deals.pipelines", "a pipeline name is blank")
		case seen[key]:
			bad("won_deals.pipelines", "%q is listed twice", p)
		}
		seen[key] = true
	}
	if w.Overlap.D() < 0 {
		bad("won_deals.overlap", "must not be negative")
	}
	if w.Lookback.D() < 0 {
		bad("won_deals.lookback", "must not be negative")
	}
	if !filialPattern.MatchString(w.Filial) {
		bad("won_deals.filial", "%q is not a Protheus branch code", w.Filial)
	}
	for key, v := range map[string]struct {
		val string
		max int
	}{
		"order_type": {w.OrderType, 1}, "payment_terms": {w.PaymentTerms, 3}, "price_table": {w.PriceTable, 3},
		"tes": {w.TES, 3}, "operation": {w.Operation, 2}, "seller": {w.Seller, 6},
	} {
		if len(v.val) > v.max {
			bad("won_deals."+key, "%q is longer than the ERP field (%d)", v.val, v.max)
		}
	}
	if c.Streams.Orders.OrderNumberField == "" {
		bad("won_deals", "needs streams.orders.order_number_field: the order number goes back onto the deal there, and a deal with a number is never sent twice")
	}
	if !c.Streams.Customers.Enabled {
		bad("won_deals", "needs streams.customers: a won deal's organization is found in the ERP through it")
	}
	if !c.Streams.Products.Enabled {
		bad("won_deals", "needs streams.products: a won deal's products are found in the ERP through it")
	}
}
