// Package health serves the health, readiness and Prometheus metrics
// endpoints of `erpbridge run`:
//
//   - /healthz answers 200 while the process serves HTTP.
//   - /readyz answers 200 only when the ERP database answers a ping, the CRM
//     answers a token check (at most one call per 30 s, cached: the
//     account's 120 requests a minute are for syncing) and no stream's last
//     run failed; otherwise 503 with a JSON body naming each failed check.
//   - /metrics is the Prometheus text exposition of a private registry
//     (erpbridge_* plus the Go and process collectors).
//
// A Monitor lives as long as the process and follows the bridge across
// configuration reloads (Attach, Detach); a Server binds it to an address.
// Counters never go backwards across a reload.
package health
