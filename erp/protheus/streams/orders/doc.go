// Package orders is the orders stream: Protheus sales orders (SC5 headers
// with their SC6 items) become CRM deals with their deal products (the
// products stream's), the stage following the order's status and the deal
// won when the order is invoiced, its number in the deal's order-number
// field. Filters (order types, currencies, receivables only, a history
// window) leave orders out on purpose; an order made from a won CRM deal
// (C5_XCRMID) only writes its number onto that deal (link only).
package orders
