// Package sqlerp reads ERP tables incrementally over database/sql. A Dialect
// owns everything that differs between SQL Server, Oracle, PostgreSQL and
// SQLite; Source streams one configured table as erp.Records; StagingSink
// writes won deals into a pair of order staging tables an ERP job consumes.
//
// Identifiers come only from configuration and are validated against a
// strict pattern before they reach SQL; values are always bound.
package sqlerp
