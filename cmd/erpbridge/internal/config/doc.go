// Package config loads, defaults and validates erpbridge's TOML
// configuration.
//
// The file has the core tables (data_dir, [log], [schedule], [http]) and one
// table per registered component (bridge/component): [erp], [crm],
// [streams.customers], [won_deals] … Each component's table is decoded, as
// strictly as the core, into the settings the component declares with its
// defaults; a table no component claims is an error naming it and its line.
//
// Loading is strict: an unknown key or a value of the wrong type is an error
// that names the key and its line. `${NAME}` in any string value is replaced
// by the environment variable NAME (write `$${` for a literal `${`), so
// secrets stay out of the file. Validate does no I/O: it never connects to
// the ERP or the CRM (that is `erpbridge check`).
package config
