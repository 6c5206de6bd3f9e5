// Package erp defines what the sync engine needs from an ERP: records read
// from a table, an opaque cursor position, and the Source that streams
// them; and, for the won-deal direction, the Order an ERP is asked to make
// and the OrderSink that takes it. It knows nothing of drivers, SQL
// dialects or any particular ERP.
package erp
