// Package crm is the client for the RD Station CRM API v1 (token in the
// query string). It covers the resources the bridge reads and writes —
// users, organizations, contacts, products, custom fields, pipelines and
// stages, deal sources, campaigns, lost reasons, deals, deal products and
// deal notes — with typed structs per resource, iterators that page through
// listings and report the API's 10,000-record cap instead of stopping
// silently, a rate budget shared by every caller of one account (interactive
// callers first), retries with backoff for answers that are safe to retry,
// and typed errors that carry the method and path but never the token.
package crm
