// Package crmv2 is the client of RD Station CRM API v2
// (docs/rdstation-api.md §2): OAuth2 with the grant kept in the checkpoint
// store by bridge/oauth (the mechanism the Marketing client uses), RDQL
// filters built by a typed builder (rdql.go) that quotes every value,
// {data, links} paging by links.next, and v2 error bodies mapped to the
// same typed errors as v1 (rdstation/crm's Error and its kinds). Requests
// go through rdstation/crm's transport (Client.Call), so v1 and v2 share
// one set of rules for the rate budget, retries and lost writes.
package crmv2
