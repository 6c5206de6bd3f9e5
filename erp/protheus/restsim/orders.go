package restsim

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"

	"github.com/shopspring/decimal"

	"github.com/erpbridge/erpbridge/erp"
	"github.com/erpbridge/erpbridge/erp/protheus"
)

// OrderRequest is the body of POST /rest/orders: one won CRM deal to be
// created as a sales order (MATA410). Money and quantities are JSON
// numbers or strings holding decimals.
type OrderRequest struct {
	// DealID is the CRM deal id, the idempotency key (C5_XCRMID, ≤ 24).
	DealID string `json:"dealId"`
	// Customer and Store are the SA1 code and loja (C5_CLIENTE, C5_LOJACLI).
	Customer string `json:"customer"`
	Store    string `json:"store"`
	// PaymentTerms is C5_CONDPAG; Seller C5_VEND1; PriceTable C5_TABELA
	// (default: the customer's A1_TABELA); OrderType C5_TIPO (default N).
	PaymentTerms string `json:"paymentTerms,omitempty"`
	Seller       string `json:"seller,omitempty"`
	PriceTable   string `json:"priceTable,omitempty"`
	OrderType    string `json:"orderType,omitempty"`
	// Message is C5_MENNOTA, the order's free-text note (optional).
	Message string `json:"message,omitempty"`
	// Items become SC6 rows, numbered 01, 02 … (Soma1) in this order.
	Items []OrderRequestItem `json:"items"`
	// Company and Filial are where the order is made (the bridge sends
	// them); blank: where the route runs. This route runs in one company
	// and branch (PrepareIn) and refuses another.
	Company string `json:"company,omitempty"`
	Filial  string `json:"filial,omitempty"`
}

// OrderRequestItem is one item of an OrderRequest.
type OrderRequestItem struct {
	Product  string          `json:"product"`  // C6_PRODUTO (SB1)
	Quantity decimal.Decimal `json:"quantity"` // C6_QTDVEN, > 0
	// UnitPrice is C6_PRCVEN; when absent the price table's DA1 price (else
	// B1_PRV1) is used.
	UnitPrice *decimal.Decimal `json:"unitPrice,omitempty"`
	// TES is C6_TES (default the product's B1_TS).
	TES string `json:"tes,omitempty"`
	// Operation is C6_OPER, the operation of TES inteligente (optional).
	Operation string `json:"operation,omitempty"`
}

// OrderResponse answers a POST: 201 with Created for a new order, 200 with
// the existing number when the deal already has one.
type OrderResponse struct {
	OrderNumber string `json:"orderNumber"` // C5_NUM
	DealID      string `json:"dealId"`
	Created     bool   `json:"created"`
}

// Order is a validated order as an OrderStore keeps it.
type Order struct {
	DealID, Customer, Store, PaymentTerms, Seller, PriceTable, Type, Message string
	Items                                                                    []OrderItem
}

// OrderItem is one validated item.
type OrderItem struct {
	Item, Product, Description, TES, Operation string
	Quantity, UnitPrice, Value                 decimal.Decimal
}

// OrderStore keeps the orders the simulator creates. Sim serialises calls
// that create, so OrderOfDeal then CreateOrder is atomic.
type OrderStore interface {
	// OrderOfDeal returns the order number of a deal, if it has one.
	OrderOfDeal(ctx context.Context, dealID string) (string, bool, error)
	// CreateOrder writes a new order and returns its number.
	CreateOrder(ctx context.Context, o Order) (string, error)
}

// MemoryOrders is an OrderStore in memory, numbering orders 000001, 000002 …;
// for a database without SC5/SC6.
type MemoryOrders struct {
	mu     sync.Mutex
	byDeal map[string]string
	orders map[string]Order
}

var _ OrderStore = (*MemoryOrders)(nil)

// NewMemoryOrders returns an empty MemoryOrders.
func NewMemoryOrders() *MemoryOrders {
	return &MemoryOrders{byDeal: map[string]string{}, orders: map[string]Order{}}
}

// OrderOfDeal implements OrderStore.
func (m *MemoryOrders) OrderOfDeal(_ context.Context, dealID string) (string, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	num, ok := m.byDeal[dealID]
	return num, ok, nil
}

// CreateOrder implements OrderStore.
func (m *MemoryOrders) CreateOrder(_ context.Context, o Order) (string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	num := fmt.Sprintf("%06d", len(m.orders)+1)
	m.orders[num] = o
	m.byDeal[o.DealID] = num
	return num, nil
}

// Order returns a created order by number.
func (m *MemoryOrders) Order(num string) (Order, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	o, ok := m.orders[num]
	return o, ok
}

// Len returns how many orders exist.
func (m *MemoryOrders) Len() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.orders)
}

// maxOrderBody bounds a POST body.
const maxOrderBody = 1 << 20

func (s *Sim) postOrder(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	var req OrderRequest
	dec := json.NewDecoder(io.LimitReader(r.Body, maxOrderBody))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		writeError(w, http.StatusBadRequest, "invalid JSON body", err.Error())
		return
	}
	if strings.TrimSpace(req.DealID) == "" || len(req.DealID) > 24 {
		writeError(w, http.StatusBadRequest, "invalid dealId", "dealId (C5_XCRMID) is required, at most 24 characters")
		return
	}
	// A repeated deal answers with its order before any validation: the
	// first POST may have timed out after creating it.
	if num, ok, err := s.opts.Orders.OrderOfDeal(ctx, req.DealID); err != nil {
		writeError(w, http.StatusInternalServerError, "reading orders", err.Error())
		return
	} else if ok {
		writeJSON(w, http.StatusOK, OrderResponse{OrderNumber: num, DealID: req.DealID})
		return
	}
	order, err := s.validate(ctx, req)
	if bad := (badRequest{}); errors.As(err, &bad) {
		writeError(w, http.StatusBadRequest, "MATA410: order rejected", bad.msg)
		return
	}
	if err != nil {
		writeError(w, http.StatusInternalServerError, "validating order", err.Error())
		return
	}
	num, created, err := s.createOnce(ctx, order)
	if err != nil {
		writeError(w, http.StatusInternalServerError, "creating order", err.Error())
		return
	}
	if created && s.drawHang() {
		<-ctx.Done() // the order exists; the answer never comes
		return
	}
	status := http.StatusOK
	if created {
		status = http.StatusCreated
	}
	writeJSON(w, status, OrderResponse{OrderNumber: num, DealID: order.DealID, Created: created})
}

// createOnce creates the order unless its deal already has one.
func (s *Sim) createOnce(ctx context.Context, o Order) (num string, created bool, err error) {
	s.orderMu.Lock()
	defer s.orderMu.Unlock()
	if num, ok, err := s.opts.Orders.OrderOfDeal(ctx, o.DealID); err != nil || ok {
		return num, false, err
	}
	num, err = s.opts.Orders.CreateOrder(ctx, o)
	return num, err == nil, err
}

// validate checks a request the way MATA410 would and fills defaults.
func (s *Sim) validate(ctx context.Context, req OrderRequest) (Order, error) {
	customers, products := s.routes["customers"], s.routes["products"]
	if customers == nil || products == nil {
		return Order{}, errors.New("customers or products unavailable")
	}
	o := Order{
		DealID: req.DealID, Customer: strings.TrimSpace(req.Customer), Store: strings.TrimSpace(req.Store),
		PaymentTerms: strings.TrimSpace(req.PaymentTerms), Seller: strings.TrimSpace(req.Seller),
		PriceTable: strings.TrimSpace(req.PriceTable), Type: strings.TrimSpace(req.OrderType),
		Message: strings.TrimSpace(req.Message),
	}
	if c := strings.TrimSpace(req.Company); c != "" && c != s.opts.Company {
		return Order{}, badf("this route runs in company %s (PrepareIn), not %s", s.opts.Company, c)
	}
	if f, own := strings.TrimRight(req.Filial, " "), strings.TrimRight(s.filial("SC5"), " "); f != "" && f != own {
		return Order{}, badf("this route makes orders in branch %q (PrepareIn), not %q", own, f)
	}
	if o.Customer == "" || o.Store == "" {
		return Order{}, badf("C5_CLIENTE and C5_LOJACLI are required (customer, store)")
	}
	cust, ok, err := customers.src.Lookup(ctx, erp.JoinKey(customers.src.Spec().Filial, o.Customer, o.Store))
	if err != nil {
		return Order{}, err
	}
	if !ok || cust.Deleted {
		return Order{}, badf("customer %s/%s not found in SA1 (REGNOIS)", o.Customer, o.Store)
	}
	if blq, _ := cust.Fields["A1_MSBLQL"].(string); protheus.IsBlocked(blq) {
		return Order{}, badf("customer %s/%s is blocked (A1_MSBLQL)", o.Customer, o.Store)
	}
	if o.Type == "" {
		o.Type = "N"
	}
	if o.PriceTable == "" {
		o.PriceTable, _ = cust.Fields["A1_TABELA"].(string)
	}
	if o.PaymentTerms == "" {
		o.PaymentTerms = s.opts.DefaultPaymentTerms
	}
	if o.PaymentTerms == "" && s.opts.RequirePaymentTerms {
		return Order{}, badf("C5_CONDPAG is required (paymentTerms)")
	}
	if len(req.Items) == 0 {
		return Order{}, badf("an order needs at least one item")
	}
	if len(req.Items) > protheus.MaxOrderItems {
		return Order{}, badf("at most %d items (C6_ITEM), got %d", protheus.MaxOrderItems, len(req.Items))
	}
	for i, in := range req.Items {
		it, err := s.validateItem(ctx, o, i, in)
		if err != nil {
			return Order{}, err
		}
		o.Items = append(o.Items, it)
	}
	return o, nil
}

func (s *Sim) validateItem(ctx context.Context, o Order, i int, in OrderRequestItem) (OrderItem, error) {
	products := s.routes["products"]
	code, err := protheus.ItemCode(i + 1)
	if err != nil {
		return OrderItem{}, badf("%v", err)
	}
	it := OrderItem{Item: code, Product: strings.TrimSpace(in.Product), TES: strings.TrimSpace(in.TES),
		Operation: strings.TrimSpace(in.Operation)}
	if it.Product == "" {
		return it, badf("item %s: C6_PRODUTO is required (product)", it.Item)
	}
	prod, ok, err := products.src.Lookup(ctx, erp.JoinKey(products.src.Spec().Filial, it.Product))
	if err != nil {
		return it, err
	}
	if !ok || prod.Deleted {
		return it, badf("item %s: product %s not found in SB1 (REGNOIS)", it.Item, it.Product)
	}
	if blq, _ := prod.Fields["B1_MSBLQL"].(string); protheus.IsBlocked(blq) {
		return it, badf("item %s: product %s is blocked (B1_MSBLQL)", it.Item, it.Product)
	}
	it.Description, _ = prod.Fields["B1_DESC"].(string)
	if !in.Quantity.IsPositive() {
		return it, badf("item %s: C6_QTDVEN must be greater than zero, got %s", it.Item, in.Quantity)
	}
	it.Quantity = in.Quantity.Round(2)
	if in.UnitPrice != nil {
		if in.UnitPrice.IsNegative() {
			return it, badf("item %s: C6_PRCVEN must not be negative, got %s", it.Item, in.UnitPrice)
		}
		it.UnitPrice = in.UnitPrice.Round(2)
	} else {
		price, err := s.listPrice(ctx, o.PriceTable, it.Product, prod)
		if err != nil {
			return it, err
		}
		if !price.IsPositive() {
			return it, badf("item %s: no price for product %s in table %s (C6_PRCVEN)", it.Item, it.Product, o.PriceTable)
		}
		it.UnitPrice = price
	}
	if it.TES == "" {
		it.TES, _ = prod.Fields["B1_TS"].(string)
	}
	if it.TES == "" {
		return it, badf("item %s: C6_TES is required (tes)", it.Item)
	}
	it.Value = it.Quantity.Mul(it.UnitPrice).Round(2)
	return it, nil
}

// listPrice is the DA1 price of a product in a table, else its B1_PRV1.
func (s *Sim) listPrice(ctx context.Context, table, product string, prod erp.Record) (decimal.Decimal, error) {
	if prices := s.routes["prices"]; prices != nil && table != "" {
		recs, err := prices.src.Find(ctx, protheus.PriceOf(table, product), 10)
		if err != nil {
			return decimal.Decimal{}, err
		}
		for _, rec := range recs {
			if p, ok := rec.Fields["DA1_PRCVEN"].(decimal.Decimal); ok && !rec.Deleted {
				return p, nil
			}
		}
	}
	p, _ := prod.Fields["B1_PRV1"].(decimal.Decimal)
	return p, nil
}
