package config

import (
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/erpbridge/erpbridge/bridge/component"
	"github.com/erpbridge/erpbridge/cmd/erpbridge/internal/components"
	"github.com/erpbridge/erpbridge/erp/protheus/access"
	"github.com/erpbridge/erpbridge/erp/protheus/streams/wondeals"
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
	r := components.ERP(cfg).REST
	want := access.REST{
		BaseURL: "http://erp-appserver:8080/rest", Timeout: Dur(30 * time.Second),
		PageParam: "page", PageSizeParam: "pageSize", SinceParam: "since", KeyParam: "key",
		ItemsPath: "items", HasNextPath: "hasNext", Routes: r.Routes,
	}
	if !reflect.DeepEqual(r, want) {
		t.Errorf("[erp.rest] defaults:\n got %+v\nwant %+v", r, want)
	}
	// Every stream's routes, by default at their documented paths.
	for route, path := range map[string]string{
		"customers": "/customers", "contacts": "/contacts", "contact_links": "/contactLinks", "products": "/products",
		"prices": "/prices", "orders": "/orders", "order_items": "/orderItems", "sellers": "/sellers",
	} {
		if r.Routes[route] != path {
			t.Errorf("erp.rest.routes.%s = %q by default, want %q", route, r.Routes[route], path)
		}
	}
	if !reflect.DeepEqual(r.Routes, component.DeclaredRoutes()) {
		t.Errorf("default routes %v, want every declared route %v", r.Routes, component.DeclaredRoutes())
	}
	if d := defaults(); components.ERP(d).Source != access.SourceSQL {
		t.Errorf("default erp.source = %q, want sql", components.ERP(d).Source)
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
	r := components.ERP(cfg).REST
	if r.Password != "s3cret" || r.Timeout.D() != 5*time.Second || r.PageParam != "pagina" || r.SinceParam != "" || r.ItemsPath != "data.rows" {
		t.Errorf("keys not decoded: %+v", r)
	}
	if r.Routes["customers"] != "/erpbridge/v1/clientes" || r.Routes["sellers"] != "" || r.Routes["products"] != "/products" {
		t.Errorf("routes: %+v, want customers and sellers set, the rest defaulted", r.Routes)
	}
}

func TestRESTSourceParseErrorsNameKeyAndLine(t *testing.T) {
	checkParseErrors(t, []parseErrorCase{
		{"unknown rest key", restMinimal + "page = 1\n", []string{"line 8", `"erp.rest.page"`}},
		{"duration without unit", restMinimal + "timeout = 30\n", []string{"line 8", `"erp.rest.timeout"`, "with its unit"}},
	})
}

func TestUnknownRouteNamesKeyAndLine(t *testing.T) {
	for _, doc := range []string{restMinimal, minimal + "[erp.rest]\n"} {
		cfg, err := Parse([]byte(doc+"[erp.rest.routes]\ncustomers = \"/c\"\nvendors = \"/v\"\n"), env(map[string]string{"TOKEN": "t"}))
		if err != nil {
			t.Fatal(err)
		}
		err = cfg.Validate()
		if err == nil || !strings.Contains(err.Error(), "line 10: erp.rest.routes.vendors: unknown route") {
			t.Errorf("Validate() = %v, want the unknown route named with its line", err)
		}
	}
}

func TestRESTSourceValidation(t *testing.T) {
	tests := []struct {
		name string
		edit func(*Config)
		want string // a key named by the error; "" = valid
	}{
		{"valid", func(*Config) {}, ""},
		{"unknown source", func(c *Config) { components.ERP(c).Source = "odbc" }, "erp.source"},
		{"no base url", func(c *Config) { components.ERP(c).REST.BaseURL = "" }, "erp.rest.base_url"},
		{"base url without scheme", func(c *Config) { components.ERP(c).REST.BaseURL = "erp-appserver:8080/rest" }, "erp.rest.base_url"},
		{"ftp base url", func(c *Config) { components.ERP(c).REST.BaseURL = "ftp://erp/rest" }, "erp.rest.base_url"},
		{"credentials in base url", func(c *Config) { components.ERP(c).REST.BaseURL = "http://admin:pw@erp/rest" }, "erp.rest.base_url"},
		{"user and token", func(c *Config) { components.ERP(c).REST.User, components.ERP(c).REST.Token = "admin", "tok" }, "erp.rest"},
		{"password without user", func(c *Config) { components.ERP(c).REST.Password = "pw" }, "erp.rest.password"},
		{"zero timeout", func(c *Config) { components.ERP(c).REST.Timeout = Dur(0) }, "erp.rest.timeout"},
		{"no page param", func(c *Config) { components.ERP(c).REST.PageParam = "" }, "erp.rest.page_param"},
		{"bad since param", func(c *Config) { components.ERP(c).REST.SinceParam = "since=x" }, "erp.rest.since_param"},
		{"route without slash", func(c *Config) { components.ERP(c).REST.Routes["products"] = "products" }, "erp.rest.routes.products"},
		{"route with query", func(c *Config) { components.ERP(c).REST.Routes["contacts"] = "/contacts?all=1" }, "erp.rest.routes.contacts"},
		{"route an enabled stream needs", func(c *Config) { components.ERP(c).REST.Routes["contact_links"] = "" }, "erp.rest.routes.contact_links"},
		{"prices needed by a price table", func(c *Config) {
			components.Products(c).PriceTable, components.ERP(c).REST.Routes["prices"] = "001", ""
		}, "erp.rest.routes.prices"},
		{"prices unused without a price table", func(c *Config) { components.ERP(c).REST.Routes["prices"] = "" }, ""},
		{"orders unused when off", func(c *Config) { components.ERP(c).REST.Routes["orders"] = "" }, ""},
		{"sellers may be left out", func(c *Config) { components.ERP(c).REST.Routes["sellers"] = "" }, ""},
		{"staging sink needs a database", func(c *Config) {
			components.WonDeals(c).On, components.WonDeals(c).Sink = true, wondeals.SinkStaging
			components.Orders(c).OrderNumberField = "Pedido ERP"
		}, "won_deals.sink"},
		{"rest sink is fine", func(c *Config) {
			components.WonDeals(c).On, components.WonDeals(c).Sink, components.WonDeals(c).REST.URL = true, wondeals.SinkREST, "http://erp/rest/orders"
			components.Orders(c).OrderNumberField = "Pedido ERP"
		}, ""},
		{"driver and dsn are not checked", func(c *Config) { components.ERP(c).Driver, components.ERP(c).DSN = "", "" }, ""},
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
	components.ERP(cfg).Source, components.ERP(cfg).DSN = access.SourceSQL, ""
	if err := cfg.Validate(); err == nil || !strings.Contains(err.Error(), "erp.dsn:") {
		t.Fatalf("source = \"sql\" without dsn: err = %v, want erp.dsn", err)
	}
}

func TestRESTSecretsNotInErrors(t *testing.T) {
	cfg, err := Parse([]byte(restMinimal+"token = \"${T}\"\nuser = \"admin\"\n"), env(map[string]string{"T": "s3cr3t-rest-token"}))
	if err != nil {
		t.Fatal(err)
	}
	components.ERP(cfg).REST.BaseURL = "http://admin:s3cr3t-rest-token@erp/rest"
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
	if components.ERP(cfg).Source != access.SourceSQL {
		t.Errorf("the example reads the ERP with source = %q, want sql (the demo's database)", components.ERP(cfg).Source)
	}
	if got, want := components.ERP(cfg).REST, components.ERP(defaults()).REST; !reflect.DeepEqual(got, want) {
		t.Errorf("the example's [erp.rest] is not the defaults:\n got %+v\nwant %+v", got, want)
	}
}

func TestEveryDeclaredRouteIsReadByAStream(t *testing.T) {
	// Every key of [erp.rest.routes] is a table some stream reads with
	// its options on, and every table a stream reads through a route is
	// declared: the file's key and the stream's table cannot drift.
	c := defaults()
	components.Products(c).PriceTable = "001"
	components.Orders(c).On = true
	read := map[string]string{}
	for _, comp := range component.Streams() {
		s, _ := c.Component(comp.Name())
		tr, ok := s.(component.TableReader)
		if !ok {
			continue
		}
		tables, err := tr.Tables("01", c.Component)
		if err != nil {
			t.Fatal(err)
		}
		for _, tb := range tables {
			if tb.Route != "" {
				read[tb.Route] = tb.RouteDefault
			}
		}
	}
	if declared := component.DeclaredRoutes(); !reflect.DeepEqual(read, declared) {
		t.Errorf("routes read by the streams %v, declared %v", read, declared)
	}
}
