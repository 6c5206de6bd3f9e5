package orders

import (
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/erpbridge/erpbridge/bridge/component"
	"github.com/erpbridge/erpbridge/erp/protheus/streams"
	"github.com/erpbridge/erpbridge/mapping"
)

// Name is the stream's name.
const Name = "orders"

func init() { component.Register(Component{}) }

// Component registers the orders stream.
type Component struct{}

var _ component.Component = Component{}

func (Component) Name() string                { return Name }
func (Component) Table() string               { return "streams." + Name }
func (Component) NewConfig() component.Config { return Default() }

// Config is [streams.orders]: the SC5 + SC6 → deals stream, one deal per
// sales order.
type Config struct {
	// Base: deletes = "mark" (the default) loses the deal of a
	// deleted order (cancelled_reason); "ignore" leaves it. Orders have no
	// mapping table: their deal is built from the options below.
	streams.Base
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

var (
	_ component.Config      = (*Config)(nil)
	_ component.Validator   = (*Config)(nil)
	_ component.Outputs     = (*Config)(nil)
	_ component.TableReader = (*Config)(nil)
	_ component.Provisioner = (*Config)(nil)
	_ component.Checker     = (*Config)(nil)
	_ component.Scheduled   = (*Config)(nil)
)

// Default is [streams.orders] with every default set: off.
func Default() *Config {
	return &Config{
		Base: streams.Base{On: false, Filial: "", Mode: streams.ModeUpsert, Deletes: streams.DeletesMark},
		Name: "Pedido {num} · {customer}", WonWhen: []string{"invoiced"}, LostWhen: []string{"residue_eliminated"},
		HistoryDays: 90, Types: []string{"N"}, Total: TotalOrder,
	}
}

// Outputs implements component.Outputs.
func (o *Config) Outputs() []component.Output {
	return []component.Output{{Stream: Name, Entity: mapping.EntityDeal, Schedule: o.Schedule}}
}

var yyyymmdd = regexp.MustCompile(`^(19|20)\d{2}(0[1-9]|1[0-2])(0[1-9]|[12]\d|3[01])$`)

// Validate implements component.Validator.
func (o *Config) Validate(v *component.Validation) {
	if !o.On {
		return
	}
	o.ValidateBase(v)
	bad := v.Bad
	{
		if !strings.Contains(o.Name, "{num}") {
			bad("name", "%q must contain {num}: deals are found again by name", o.Name)
		}
		for status := range o.Stages {
			if !slices.Contains(orderStatuses, status) {
				bad("stages."+status, "is not an order status (%s)", strings.Join(orderStatuses, ", "))
			}
		}
		for _, s := range o.WonWhen {
			if !slices.Contains(orderStatuses, s) {
				bad("won_when", "%q is not an order status (%s)", s, strings.Join(orderStatuses, ", "))
			}
			if slices.Contains(o.LostWhen, s) {
				bad("lost_when", "%q is also in won_when", s)
			}
		}
		for _, s := range o.LostWhen {
			if !slices.Contains(orderStatuses, s) {
				bad("lost_when", "%q is not an order status (%s)", s, strings.Join(orderStatuses, ", "))
			}
		}
		if o.Since != "" && !yyyymmdd.MatchString(o.Since) {
			bad("since", "%q is not a YYYYMMDD date", o.Since)
		}
		if o.HistoryDays < 0 {
			bad("history_days", "must not be negative (0: every order)")
		}
		if len(o.Types) == 0 {
			bad("types", "must name at least one order type (%s)", strings.Join(orderTypes, ", "))
		}
		for _, t := range o.Types {
			if !slices.Contains(orderTypes, t) {
				bad("types", "%q is not an order type (%s)", t, strings.Join(orderTypes, ", "))
			}
		}
		for _, m := range o.Currencies {
			if m < 1 || m > 99 {
				bad("currencies", "%d is not a currency number (C5_MOEDA: 1 the local currency, 2 … 99)", m)
			}
		}
		if !streams.ValidFilial(o.TESFilial) {
			bad("tes_filial", "%q is not a Protheus branch code", o.TESFilial)
		}
		switch o.Total {
		case TotalOrder:
		case TotalInvoice:
			if strings.TrimSpace(o.InvoiceProduct) == "" {
				bad("invoice_product", "is needed with total = \"invoice\": the CRM product of the line carrying the invoice's taxes and freight")
			}
		default:
			bad("total", "%q is not one of order, invoice", o.Total)
		}
		if !streams.ValidFilial(o.SellerFilial) {
			bad("seller_filial", "%q is not a Protheus branch code", o.SellerFilial)
		}
	}
}

var _ = time.Time{}
