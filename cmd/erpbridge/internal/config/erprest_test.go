package config

import (
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

// restMinimal reads the ERP through REST routes: no driver, no dsn.
const restMinimal = `
[crm]
token = "t"
[erp]
source = "rest"
[erp.rest]
base_url = "http://erp-appserver:8080/rest"
`

func TestRESTSourceDefaults(t *testing.T) {
	cfg, err := Parse([]byte(restMinimal), env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if err := cfg.Validate(); err != nil {
		t.Fatalf("source = \"rest\" without driver and dsn does not validate: %v", err)
	}
	r := cfg.ERP.REST
	want := ERPREST{
		BaseURL: "http://erp-appserver:8080/rest", Timeout: Dur(30 * time.Second),
		PageParam: "page", PageSizeParam: "pageSize", SinceParam: "since", KeyParam: "key",
		ItemsPath: "items", HasNextPath: "hasNext",
		Routes: ERPRoutes{
			Customers: "/customers", Contacts: "/contacts", ContactLinks: "/contactLinks", Products: "/products",
			Prices: "/prices", Orders: "/orders", OrderItems: "/orderItems", Sellers: "/sellers",
		},
	}
	if r != want {
		t.Errorf("[erp.rest] defaults:\n got %+v\nwant %+v", r, want)
	}
	if d := Default(); d.ERP.Source != SourceSQL {
		t.Errorf("default erp.source = %q, want sql", d.ERP.Source)
	}
}

func TestRESTSourceKeysDecode(t *testing.T) {
	doc := restMinimal + `user = "bridge"
password = "${ERP_REST_PASSWORD}"
timeout = "5s"
page_param = "pagina"
since_param = ""
items_path = "data.rows"
[erp.rest.routes]
customers = "/erpbridge/v1/clientes"
sellers = ""
`
	cfg, err := Parse([]byte(doc), env(map[string]string{"ERP_REST_PASSWORD": "s3cret"}))
	if err != nil {
		t.Fatal(err)
	}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	r := cfg.ERP.REST
	if r.Password != "s3cret" || r.Timeout.D() != 5*time.Second || r.PageParam != "pagina" || r.SinceParam != "" || r.ItemsPath != "data.rows" {
		t.Errorf("keys not decoded: %+v", r)
	}
	if r.Routes.Customers != "/erpbridge/v1/clientes" || r.Routes.Sellers != "" || r.Routes.Products != "/products" {
		t.Errorf("routes: %+v, want customers and sellers set, the rest defaulted", r.Routes)
	}
}

func TestRESTSourceParseErrorsNameKeyAndLine(t *testing.T) {
	checkParseErrors(t, []parseErrorCase{
		{"unknown route", restMinimal + "[erp.rest.routes]\ncustomers = \"/c\"\nvendors = \"/v\"\n", []string{"line 10", `unknown key "erp.rest.routes.vendors"`}},
		{"unknown rest key", restMinimal + "page = 1\n", []string{"line 8", `"erp.rest.page"`}},
		{"duration without unit", restMinimal + "timeout = 30\n", []string{"line 8", `"erp.rest.timeout"`, "with its unit"}},
	})
}

func TestRESTSourceValidation(t *testing.T) {
	tests := []struct {
		name string
		edit func(*Config)
		want string // a key named by the error; "" = valid
	}{
		{"valid", func(*Config) {}, ""},
		{"unknown source", func(c *Config) { c.ERP.Source = "odbc" }, "erp.source"},
		{"no base url", func(c *Config) { c.ERP.REST.BaseURL = "" }, "erp.rest.base_url"},
		{"base url without scheme", func(c *Config) { c.ERP.REST.BaseURL = "erp-appserver:8080/rest" }, "erp.rest.base_url"},
		{"ftp base url", func(c *Config) { c.ERP.REST.BaseURL = "ftp://erp/rest" }, "erp.rest.base_url"},
		{"credentials in base url", func(c *Config) { c.ERP.REST.BaseURL = "http://admin:pw@erp/rest" }, "erp.rest.base_url"},
		{"user and token", func(c *Config) { c.ERP.REST.User, c.ERP.REST.Token = "admin", "tok" }, "erp.rest"},
		{"password without user", func(c *Config) { c.ERP.REST.Password = "pw" }, "erp.rest.password"},
		{"zero timeout", func(c *Config) { c.ERP.REST.Timeout = Dur(0) }, "erp.rest.timeout"},
		{"no page param", func(c *Config) { c.ERP.REST.PageParam = "" }, "erp.rest.page_param"},
		{"bad since param", func(c *Config) { c.ERP.REST.SinceParam = "since=x" }, "erp.rest.since_param"},
		{"route without slash", func(c *Config) { c.ERP.REST.Routes.Products = "products" }, "erp.rest.routes.products"},
		{"route with query", func(c *Config) { c.ERP.REST.Routes.Contacts = "/contacts?all=1" }, "erp.rest.routes.contacts"},
		{"route an enabled stream needs", func(c *Config) { c.ERP.REST.Routes.ContactLinks = "" }, "erp.rest.routes.contact_links"},
		{"prices needed by a price table", func(c *Config) {
			c.Streams.Products.PriceTable, c.ERP.REST.Routes.Prices = "001", ""
		}, "erp.rest.routes.prices"},
		{"prices unused without a price table", func(c *Config) { c.ERP.REST.Routes.Prices = "" }, ""},
		{"orders unused when off", func(c *Config) { c.ERP.REST.Routes.Orders = "" }, ""},
		{"sellers may be left out", func(c *Config) { c.ERP.REST.Routes.Sellers = "" }, ""},
		{"staging sink needs a database", func(c *Config) {
			c.WonDeals.Enabled, c.WonDeals.Sink = true, SinkStaging
			c.Streams.Orders.OrderNumberField = "Pedido ERP"
		}, "won_deals.sink"},
		{"rest sink is fine", func(c *Config) {
			c.WonDeals.Enabled, c.WonDeals.Sink, c.WonDeals.REST.URL = true, SinkREST, "http://erp/rest/orders"
			c.Streams.Orders.OrderNumberField = "Pedido ERP"
		}, ""},
		{"driver and dsn are not checked", func(c *Config) { c.ERP.Driver, c.ERP.DSN = "", "" }, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Parse([]byte(restMinimal), env(nil))
			if err != nil {
				t.Fatal(err)
			}
			tt.edit(c)
			err = c.Validate()
			if tt.want == "" {
				if err != nil {
					t.Fatalf("Validate() = %v, want no error", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.want+":") {
				t.Fatalf("Validate() = %v, want an error naming %q", err, tt.want)
			}
		})
	}
}

func TestRESTSettingsIgnoredWithSQLSource(t *testing.T) {
	// [erp.rest] may stay in the file (e.g. the example's) while source = "sql".
	cfg, err := Parse([]byte(minimal+"[erp.rest]\nbase_url = \"\"\n"), env(map[string]string{"TOKEN": "t"}))
	if err != nil {
		t.Fatal(err)
	}
	if err := cfg.Validate(); err != nil {
		t.Fatalf("an empty [erp.rest] with source = \"sql\": %v", err)
	}
	cfg.ERP.Source, cfg.ERP.DSN = SourceSQL, ""
	if err := cfg.Validate(); err == nil || !strings.Contains(err.Error(), "erp.dsn:") {
		t.Fatalf("source = \"sql\" without dsn: err = %v, want erp.dsn", err)
	}
}

func TestRESTSecretsNotInErrors(t *testing.T) {
	cfg, err := Parse([]byte(restMinimal+"token = \"${T}\"\nuser = \"admin\"\n"), env(map[string]string{"T": "s3cr3t-rest-token"}))
	if err != nil {
		t.Fatal(err)
	}
	cfg.ERP.REST.BaseURL = "http://admin:s3cr3t-rest-token@erp/rest"
	err = cfg.Validate()
	if err == nil {
		t.Fatal("validated")
	}
	if strings.Contains(err.Error(), "s3cr3t-rest-token") {
		t.Fatalf("validation error leaks the secret: %v", err)
	}
}

func TestExampleRESTSectionShowsTheDefaults(t *testing.T) {
	t.Setenv("RDSTATION_CRM_TOKEN", "demo-token")
	cfg, err := Load(filepath.Join("..", "..", "..", "..", "config.example.toml"))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.ERP.Source != SourceSQL {
		t.Errorf("the example reads the ERP with source = %q, want sql (the demo's database)", cfg.ERP.Source)
	}
	if got, want := cfg.ERP.REST, Default().ERP.REST; got != want {
		t.Errorf("the example's [erp.rest] is not the defaults:\n got %+v\nwant %+v", got, want)
	}
}

func TestERPRoutesForAliasCoversEveryRoute(t *testing.T) {
	routes := Default().ERP.REST.Routes
	typ := reflect.TypeFor[ERPRoutes]()
	for i := range typ.NumField() {
		key := tomlName(typ.Field(i))
		var found bool
		for _, alias := range []string{"SA1", "su5", "AC8", "SB1", "DA1", "SC5", "SC6", "SA3"} {
			path, k, ok := routes.ForAlias(alias)
			if ok && k == key {
				found = true
				if want := reflect.ValueOf(routes).Field(i).String(); path != want {
					t.Errorf("ForAlias(%s) = %q, want the configured %q", alias, path, want)
				}
			}
		}
		if !found {
			t.Errorf("erp.rest.routes.%s: no table alias gives this route", key)
		}
	}
	if _, _, ok := routes.ForAlias("SE1"); ok {
		t.Error("ForAlias(SE1) found a route; no route serves SE1")
	}
}
