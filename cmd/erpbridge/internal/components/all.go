package components

import (
	_ "github.com/erpbridge/erpbridge/erp/protheus/access"            // [erp]: Protheus over SQL or REST routes
	_ "github.com/erpbridge/erpbridge/erp/protheus/streams/contacts"  // SU5/AC8 → contacts
	_ "github.com/erpbridge/erpbridge/erp/protheus/streams/credit"    // SE1 receivables → organization custom fields
	_ "github.com/erpbridge/erpbridge/erp/protheus/streams/customers" // SA1 → organizations
	_ "github.com/erpbridge/erpbridge/erp/protheus/streams/orders"    // SC5/SC6 → deals
	_ "github.com/erpbridge/erpbridge/erp/protheus/streams/products"  // SB1/DA1 → products
	_ "github.com/erpbridge/erpbridge/erp/protheus/streams/wondeals"  // won deals → SC5 orders
	_ "github.com/erpbridge/erpbridge/rdstation/crm/target"           // [crm]: RD Station CRM v1
)
