package component

import (
	"fmt"
	"slices"
	"strings"
	"sync"
)

// Component is a registered component.
type Component interface {
	// Name is unique among components: a stream's is the name runs,
	// cursors and logs use ("customers"); the ERP's "erp"; a target
	// system's its kind ("crm").
	Name() string
	// Table is the TOML table its settings are decoded from, strictly:
	// "streams.customers", "won_deals", "crm", "erp".
	Table() string
	// NewConfig returns its settings with every default set.
	NewConfig() Config
}

// Kind says what a component is, for the order things are opened in.
type Kind int

// Component kinds.
const (
	KindStream Kind = iota // an ERP entity flowing to a target, or back
	KindERP                // the ERP the streams read
	KindTarget             // a system the streams write to
)

// Kinded is implemented by components that are not streams.
type Kinded interface{ Kind() Kind }

// KindOf returns c's kind (streams need not say).
func KindOf(c Component) Kind {
	if k, ok := c.(Kinded); ok {
		return k.Kind()
	}
	return KindStream
}

// Config is a component's decoded settings.
type Config interface {
	// Enabled reports whether the component runs.
	Enabled() bool
}

var (
	mu       sync.RWMutex
	registry []Component
)

// Register adds c to the registry; call it from the component package's
// init. A second component with the same name or table panics: that is a
// programming error, found by any test.
func Register(c Component) {
	mu.Lock()
	defer mu.Unlock()
	for _, o := range registry {
		if o.Name() == c.Name() || o.Table() == c.Table() {
			panic(fmt.Sprintf("component: %s (table %s) registered twice", c.Name(), c.Table()))
		}
	}
	registry = append(registry, c)
}

// All returns every registered component in registration order.
func All() []Component {
	mu.RLock()
	defer mu.RUnlock()
	return slices.Clone(registry)
}

// Lookup returns the component named name.
func Lookup(name string) (Component, bool) {
	for _, c := range All() {
		if c.Name() == name {
			return c, true
		}
	}
	return nil, false
}

// Streams returns the registered stream components.
func Streams() []Component {
	var out []Component
	for _, c := range All() {
		if KindOf(c) == KindStream {
			out = append(out, c)
		}
	}
	return out
}

// StreamNames lists the stream components' names, for messages.
func StreamNames() string {
	var names []string
	for _, c := range Streams() {
		names = append(names, c.Name())
	}
	return strings.Join(names, ", ")
}
