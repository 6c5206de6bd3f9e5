// Package resterp reads ERP records from configured JSON routes (a custom
// AppServer REST route, a TLPP endpoint, any paged JSON API) and serves them
// as an erp.Source, so customers, contacts, products and orders read over
// HTTP feed the same streams and mappings as the SQL source; OrderSink posts
// won deals to an ERP order route. Its errors are its own (ErrUnauthorized,
// ErrNotFound, RequestError); the component that uses it translates them
// into the engine's classes.
package resterp
