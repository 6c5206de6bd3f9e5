// Package rdsim is an in-memory simulator of RD Station CRM API v1, faithful
// to the contract in docs/rdstation-api.md §1: token query parameter, wrapped
// and unwrapped bodies, the documented error bodies, the 120 requests/minute
// account window, the 10,000-record listing cap and the field quirks
// (amount_montly, the stage that must be top-level on deal updates, …).
//
// Behaviours the documentation leaves unconfirmed ([U]) are Switches; faults
// (429, HTML 500, slow, dropped and lost responses) are injected with Faults.
// A Sim is an http.Handler: mount it in an httptest.Server for tests or run it
// standalone with Serve. Everything under /_sim/ is an unauthenticated admin
// surface that is never rate-limited nor counted.
package rdsim
