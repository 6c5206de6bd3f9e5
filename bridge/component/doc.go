// Package component is the registry of erpbridge's components and the
// lifecycle they follow, in the manner of Telegraf's plugins and Caddy's
// modules. A component is one system the product knows:
//
//   - the ERP it reads (erp: Protheus over SQL or REST routes),
//   - a target system it writes to (crm: RD Station CRM),
//   - a stream: one ERP entity flowing to a target (customers, contacts,
//     products, orders, credit …) or back (won deals).
//
// Each registers itself by name from its package's init; the command
// imports each package with one line. Everything else — config, check,
// status, errors, resync, schedules and the assembly of a running bridge —
// iterates over the registry: no switch names a stream.
//
// Lifecycle (small interfaces, asserted at compile time by each component):
//
//	NewConfig   its settings, every default set (the one home of defaults)
//	Validator   checks the settings without any I/O (`erpbridge validate`)
//	Provisioner opens what runs: sources, targets, mappers (I/O)
//	Checker     verifies with I/O what `erpbridge check` shows
//	io.Closer   what Provision opened is closed with the bridge
package component
