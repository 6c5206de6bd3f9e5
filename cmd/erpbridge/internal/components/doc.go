// Package components registers every component erpbridge is built with:
// one import line each (bridge/component explains the registry). A new
// stream or target system is its own package plus one line here.
package components
