// Package restsim simulates the custom REST routes a Protheus AppServer
// exposes for the bridge: paged reads of customers (SA1), contacts (SU5 with
// their AC8 links), products (SB1 with the DA1 price) and sales orders (SC5
// with their SC6 items) served from a fixture database through erp/sqlerp,
// and an order POST validated the way MATA410 would, idempotent on the CRM
// deal id, with switchable faults. It is for tests and the demo.
//
// Every route lives under /rest (BasePath) and answers JSON:
//
//	GET  /rest/{route}?page=1&pageSize=20[&since=RFC3339][&key=K][&FIELD=value…]
//	     → 200 {"hasNext":bool,"items":[{FIELD:value…,"R_E_C_N_O_":n,"D_E_L_E_T_":" "|"*","S_T_A_M_P_":"…Z"|null}]}
//	GET  /rest/{route}/{key}  → 200 the item, or 404
//	POST /rest/orders         → see OrderRequest and OrderResponse
//
// Routes: customers (SA1), contacts (SU5, each with "links": its AC8 rows),
// contactLinks (AC8), products (SB1, with "DA1_PRCVEN" of Options.PriceTable),
// prices (DA1), orders (SC5, each with "items": its SC6 rows), orderItems
// (SC6) and sellers (SA3). Field names are the Protheus column names; character values are
// right-trimmed UTF-8, numbers are JSON numbers (exact decimals), dates
// YYYYMMDD. Items are in record order, or in stamp order with since (rows
// stamped at or after it). key is a Record.Key ("|000001|01"); other
// parameters are column equality filters. Errors have the Protheus REST
// shape {"errorCode":400,"errorMessage":"…","detailedMessage":"…"}.
//
// The order route contract (what the bridge's rest sink speaks):
//
//	POST /rest/orders {"dealId":"65a1…","customer":"000001","store":"01","paymentTerms":"001",
//	                   "seller":"000001","priceTable":"001","orderType":"N",
//	                   "items":[{"product":"PA0001","quantity":2,"unitPrice":"10.50","tes":"501"}]}
//	201 {"orderNumber":"000123","dealId":"65a1…","created":true}   SC5/SC6 written, C5_XCRMID = dealId
//	200 {"orderNumber":"000123","dealId":"65a1…","created":false}  the deal already has that order
//	400 {"errorCode":400,"errorMessage":"MATA410: order rejected","detailedMessage":"item 02: product PA0005 is blocked (B1_MSBLQL)"}
//	401 bad credentials · 500 {"errorCode":500,…} server fault
//
// The deal id is looked up before anything else, so re-sending a request
// whose answer was lost (a timeout after the order was created) returns the
// existing order instead of a second one. Only dealId, customer, store,
// items[].product and items[].quantity are required; unitPrice defaults to
// the DA1 price (else B1_PRV1), tes to B1_TS, priceTable to A1_TABELA.
package restsim
