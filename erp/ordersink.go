package erp

import (
	"context"
	"errors"

	"github.com/shopspring/decimal"
)

// Order is a sales order to create in the ERP from a won CRM deal. Codes
// are the ERP's own (right-trimmed); blank optional fields leave the ERP
// to apply its defaults.
type Order struct {
	// DealID is the CRM deal id: the idempotency key. It travels into the
	// order (C5_XCRMID, the staging table's unique key) and a sink never
	// creates a second order for it.
	DealID string
	// Customer and Store are the customer code and store (A1_COD, A1_LOJA).
	Customer, Store string
	// Seller is the seller code (A3_COD); PaymentTerms, PriceTable and
	// OrderType the order's C5_CONDPAG, C5_TABELA and C5_TIPO.
	Seller, PaymentTerms, PriceTable, OrderType string
	// Message is the order's free-text note (C5_MENNOTA), e.g. the deal name.
	Message string
	Items   []OrderItem
}

// OrderItem is one line of an Order.
type OrderItem struct {
	Product  string          // product code (B1_COD)
	Quantity decimal.Decimal // > 0
	// UnitPrice is the deal's price; nil lets the ERP price the item from
	// the order's price table.
	UnitPrice *decimal.Decimal
	// TES and Operation are the item's C6_TES and C6_OPER (blank: the
	// ERP's default).
	TES, Operation string
}

// OrderState is where an order request stands in the ERP.
type OrderState string

// OrderState values.
const (
	// OrderWaiting: accepted, not yet turned into an order (a staging row
	// waiting for, or being processed by, the ERP job).
	OrderWaiting OrderState = "waiting"
	// OrderDone: the order exists; OrderResult.Number holds its number.
	OrderDone OrderState = "done"
	// OrderRejected: the ERP refused it; OrderResult.Error says why. The
	// ERP's own text, safe to show to a user.
	OrderRejected OrderState = "rejected"
)

// OrderResult is what the ERP says about a deal's order.
type OrderResult struct {
	State  OrderState
	Number string // the ERP order number (C5_NUM), when done
	Error  string // the ERP's reason, when rejected
}

// ErrOrderOutcomeUnknown is wrapped by Submit when the request may or may
// not have reached the ERP (a timeout, a dropped connection after the
// request was sent). Submitting again is safe: sinks are idempotent on the
// deal id.
var ErrOrderOutcomeUnknown = errors.New("the ERP's answer was lost; the order may exist")

// OrderSink writes sales orders into the ERP, at most one per deal.
// OrderSinkChecker is an OrderSink that can check, reading only the ERP's
// catalog, that it can take orders (the staging tables exist with their
// layout): erpbridge check, and the start of a run.
type OrderSinkChecker interface {
	Check(ctx context.Context) error
}

type OrderSink interface {
	// Submit asks the ERP for the deal's order. When the ERP already has a
	// request or an order for o.DealID it creates nothing and answers with
	// what it has. A rejection is a result (OrderRejected), not an error;
	// an error means the ERP could not be asked (wrapping
	// ErrOrderOutcomeUnknown when it may have been).
	Submit(ctx context.Context, o Order) (OrderResult, error)
	// Status reports what the ERP has for a deal; false when it has
	// nothing (the deal was never submitted, or its request was lost).
	Status(ctx context.Context, dealID string) (OrderResult, bool, error)
}
