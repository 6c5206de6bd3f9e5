package config

import (
	"net/url"
	"strings"
)

// ERP sources: how streams read the ERP.
const (
	SourceSQL  = "sql"
	SourceREST = "rest"
)

// ERPREST configures reading the ERP through its custom REST routes
// (erp.source = "rest"): paged JSON lists of Protheus rows, as
// docs/protheus.md describes and erp/protheus/restsim serves.
type ERPREST struct {
	// BaseURL is scheme://host[:port][/prefix], e.g.
	// http://erp-appserver:8080/rest. No credentials in it.
	BaseURL string `toml:"base_url"`
	// User and Password authenticate with Basic, Token with bearer; not both.
	User     string `toml:"user"`
	Password string `toml:"password"`
	Token    string `toml:"token"`
	// Timeout bounds one request.
	Timeout Duration `toml:"timeout"`
	// PageParam and PageSizeParam name the paging parameters (pages start
	// at 1); SinceParam the since-cursor one (empty: full passes only);
	// KeyParam the one-record filter (?key=filial|code|…; empty: the key
	// fields are sent as filters).
	PageParam     string `toml:"page_param"`
	PageSizeParam string `toml:"page_size_param"`
	SinceParam    string `toml:"since_param"`
	KeyParam      string `toml:"key_param"`
	// ItemsPath is the dotted path of the item list in an answer (empty:
	// the answer is the list); HasNextPath the more-pages flag (empty: a
	// full page means more may follow).
	ItemsPath   string `toml:"items_path"`
	HasNextPath string `toml:"has_next_path"`
	// Routes are the list routes under BaseURL, one per ERP table.
	Routes ERPRoutes `toml:"routes"`
}

// ERPRoutes maps each ERP table the streams read to its route path.
type ERPRoutes struct {
	Customers    string `toml:"customers"`     // SA1
	Contacts     string `toml:"contacts"`      // SU5
	ContactLinks string `toml:"contact_links"` // AC8
	Products     string `toml:"products"`      // SB1
	Prices       string `toml:"prices"`        // DA1
	Orders       string `toml:"orders"`        // SC5
	OrderItems   string `toml:"order_items"`   // SC6
	// Sellers (SA3) may be empty: deals then get streams.orders.default_owner
	// and won deals won_deals.seller.
	Sellers string `toml:"sellers"`
}

// route is one [erp.rest.routes] entry: the Protheus table it serves, its
// key and its path.
type route struct{ alias, key, path string }

// all lists every route, in the order of [erp.rest.routes].
func (r ERPRoutes) all() []route {
	return []route{
		{"SA1", "customers", r.Customers}, {"SU5", "contacts", r.Contacts}, {"AC8", "contact_links", r.ContactLinks},
		{"SB1", "products", r.Products}, {"DA1", "prices", r.Prices}, {"SC5", "orders", r.Orders},
		{"SC6", "order_items", r.OrderItems}, {"SA3", "sellers", r.Sellers},
	}
}

// ForAlias returns the route of a Protheus table alias (SA1, SU5, …) and
// its [erp.rest.routes] key; ok is false for a table no route serves.
func (r ERPRoutes) ForAlias(alias string) (path, key string, ok bool) {
	for _, rt := range r.all() {
		if strings.EqualFold(rt.alias, alias) {
			return rt.path, rt.key, true
		}
	}
	return "", "", false
}

// requiredRoutes lists the [erp.rest.routes] keys the enabled streams and
// won deals cannot do without, with the path configured for each.
func (c *Config) requiredRoutes() [][2]string {
	s, r := c.Streams, c.ERP.REST.Routes
	var out [][2]string
	need := func(on bool, key, path string) {
		if on {
			out = append(out, [2]string{key, path})
		}
	}
	need(s.Customers.Enabled || s.Orders.Enabled || c.WonDeals.Enabled, "customers", r.Customers)
	need(s.Contacts.Enabled, "contacts", r.Contacts)
	need(s.Contacts.Enabled, "contact_links", r.ContactLinks)
	need(s.Products.Enabled, "products", r.Products)
	need(s.Products.Enabled && s.Products.PriceTable != "", "prices", r.Prices)
	need(s.Orders.Enabled, "orders", r.Orders)
	need(s.Orders.Enabled, "order_items", r.OrderItems)
	return out
}

// validateERPSource checks erp.source and, for "rest", [erp.rest].
func validateERPSource(c *Config, bad func(key, format string, args ...any)) {
	switch c.ERP.Source {
	case SourceSQL:
		return
	case SourceREST:
	default:
		bad("erp.source", "%q is not one of sql, rest", c.ERP.Source)
		return
	}
	r := c.ERP.REST
	if u, err := url.Parse(r.BaseURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		bad("erp.rest.base_url", "is not an http(s) URL such as \"http://erp-appserver:8080/rest\"")
	} else if u.User != nil {
		bad("erp.rest.base_url", "must not carry credentials; use user and password, or token")
	} else if u.RawQuery != "" || u.Fragment != "" {
		bad("erp.rest.base_url", "must not carry a query string or fragment")
	}
	if r.User != "" && r.Token != "" {
		bad("erp.rest", "set user and password, or token, not both")
	}
	if r.Password != "" && r.User == "" {
		bad("erp.rest.password", "needs erp.rest.user")
	}
	if r.Timeout.D() <= 0 {
		bad("erp.rest.timeout", "must be positive")
	}
	for _, kv := range [][2]string{
		{"page_param", r.PageParam}, {"page_size_param", r.PageSizeParam}, {"since_param", r.SinceParam}, {"key_param", r.KeyParam},
	} {
		if kv[1] == "" && (kv[0] == "page_param" || kv[0] == "page_size_param") {
			bad("erp.rest."+kv[0], "is required")
		} else if strings.ContainsAny(kv[1], " &=?#/") {
			bad("erp.rest."+kv[0], "%q is not a query parameter name", kv[1])
		}
	}
	for _, rt := range r.Routes.all() {
		if p := rt.path; p != "" && (!strings.HasPrefix(p, "/") || strings.ContainsAny(p, " ?#")) {
			bad("erp.rest.routes."+rt.key, "%q is not a route path such as \"/customers\" (under base_url, no query)", p)
		}
	}
	for _, kv := range c.requiredRoutes() {
		if kv[1] == "" {
			bad("erp.rest.routes."+kv[0], "is required by the enabled streams")
		}
	}
	if c.WonDeals.Enabled && c.WonDeals.Sink == SinkStaging {
		bad("won_deals.sink", "\"staging\" writes to the ERP database, which erp.source = \"rest\" does not open: use sink = \"rest\"")
	}
}
