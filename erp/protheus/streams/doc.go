// Package streams is what the Protheus stream components share: the
// settings every stream has (filial, mode, deletes, schedule), declarative
// mappings with their defaults and delete marks, the mapping of a record,
// and the plumbing that reads related rows a page at a time (PageRows) or
// follows their changes to the rows that read them (Related). One package
// per stream lives beside it (customers, contacts, products, orders, won
// deals, credit), each registering itself with bridge/component.
package streams
