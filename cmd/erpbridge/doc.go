// Command erpbridge keeps an on-prem ERP (TOTVS Protheus first) in step with
// RD Station CRM: ERP customers, contacts, products and orders become CRM
// organizations, contacts, products and deals; won deals become ERP orders.
//
// The command only parses flags and assembles: every stream, the ERP and
// each target system register themselves as components (bridge/component,
// imported by internal/components); internal/config reads the core
// settings and the components' tables, internal/wiring opens a running
// bridge from them.
//
// Exit codes are documented in README.md ("Exit codes") and defined in exit.go.
package main
