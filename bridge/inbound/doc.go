// Package inbound turns deals won in a CRM into ERP sales orders, exactly
// once per deal, and writes the ERP's answer back onto the deal. It knows
// the CRM through CRM and the ERP through erp.OrderSink and Directory: no
// vendor.
//
// A run first settles the deals already on their way (re-sending those
// whose answer was lost, asking the ERP about waiting ones, writing order
// numbers back), then lists the deals won since the last run (with an
// overlap) and sends each new one. The deal id is the idempotency key end
// to end: the checkpoint store records a deal as "submitting" before its
// order is sent, and every sink looks the deal id up in the ERP before it
// creates anything, so a crash, a timeout or a deal seen by two polls never
// makes a second order. Deals that came from ERP orders (the bridge made
// them, or they carry an order number already) are skipped, and so are
// deals won in pipelines whose won deals are no orders (Options.Pipelines).
package inbound
