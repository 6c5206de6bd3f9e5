package components

import (
	"github.com/erpbridge/erpbridge/bridge/component"
	"github.com/erpbridge/erpbridge/erp/protheus/access"
	"github.com/erpbridge/erpbridge/erp/protheus/streams/contacts"
	"github.com/erpbridge/erpbridge/erp/protheus/streams/customers"
	"github.com/erpbridge/erpbridge/erp/protheus/streams/orders"
	"github.com/erpbridge/erpbridge/erp/protheus/streams/products"
	"github.com/erpbridge/erpbridge/erp/protheus/streams/wondeals"
	"github.com/erpbridge/erpbridge/rdstation/crm/target"
)

// Configs is a loaded configuration's settings by component name
// (*config.Config).
type Configs interface {
	Component(name string) (component.Config, bool)
}

// settings returns a component's settings as their type; nil when the
// configuration has none (it always has every registered component's).
func settings[T component.Config](c Configs, name string) T {
	s, _ := c.Component(name)
	t, _ := s.(T)
	return t
}

// The settings of each component this build has, typed: for tools and
// tests that set or read them directly.

func ERP(c Configs) *access.Config          { return settings[*access.Config](c, access.Name) }
func CRM(c Configs) *target.Config          { return settings[*target.Config](c, target.Name) }
func Customers(c Configs) *customers.Config { return settings[*customers.Config](c, customers.Name) }
func Contacts(c Configs) *contacts.Config   { return settings[*contacts.Config](c, contacts.Name) }
func Products(c Configs) *products.Config   { return settings[*products.Config](c, products.Name) }
func Orders(c Configs) *orders.Config       { return settings[*orders.Config](c, orders.Name) }
func WonDeals(c Configs) *wondeals.Config   { return settings[*wondeals.Config](c, wondeals.Name) }
