// Package access is the ERP component: how the streams reach Protheus —
// its database (SQL Server, Oracle, PostgreSQL, SQLite) or its custom REST
// routes — configured by the [erp] table. Streams ask it for tables
// (component.Table) and get erp.Sources that read the same columns with
// the same kinds either way, so mappings and fingerprints see the same
// values over SQL and REST.
package access
