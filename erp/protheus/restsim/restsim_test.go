package restsim_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/shopspring/decimal"

	"github.com/erpbridge/erpbridge/erp"
	"github.com/erpbridge/erpbridge/erp/protheus"
	"github.com/erpbridge/erpbridge/erp/protheus/fixture"
	"github.com/erpbridge/erpbridge/erp/protheus/restsim"
	"github.com/erpbridge/erpbridge/erp/resterp"
	"github.com/erpbridge/erpbridge/erp/sqlerp"
)

const (
	user     = "admin"
	password = "totvs-s3cret"
	token    = "bearer-t0ken-xyz"
)

// env is a SQLite fixture served by the simulator over HTTP.
type env struct {
	fx  fixture.ERP
	ex  fixture.Expect
	d   sqlerp.Dialect
	sim *restsim.Sim
	url string // base URL, …/rest
}

func newEnv(t *testing.T, opts restsim.Options) *env {
	t.Helper()
	ctx := context.Background()
	fx, ex := fixture.NewSQLite(t, fixture.Options{Customers: 40})
	d, err := sqlerp.DialectFor("sqlite")
	if err != nil {
		t.Fatal(err)
	}
	if opts.User == "" && opts.Token == "" {
		opts.User, opts.Password, opts.Token = user, password, token
	}
	sim, err := restsim.New(ctx, fx.DB, d, opts)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(sim)
	t.Cleanup(srv.Close)
	return &env{fx: fx, ex: ex, d: d, sim: sim, url: srv.URL + restsim.BasePath}
}

// fields lists an alias's standard fields as resterp fields.
func fields(alias string) []resterp.FieldSpec {
	var out []resterp.FieldSpec
	for _, f := range protheus.Fields(alias) {
		c := f.Column()
		out = append(out, resterp.FieldSpec{Name: c.Name, Kind: c.Kind, Decimals: c.Decimals})
	}
	return out
}

// route is the resterp spec of a simulator route for a standard alias.
func (e *env) route(name, alias string) resterp.RouteSpec {
	return resterp.RouteSpec{
		Name: name, BaseURL: e.url, Path: "/" + name, Auth: resterp.Auth{User: user, Password: password},
		Timeout: 2 * time.Second, SinceParam: "since", ItemsPath: "items", HasNextPath: "hasNext",
		KeyFields: protheus.KeyFields(alias), StampField: protheus.StampColumn, RecnoField: protheus.RecnoColumn,
		DeletedField: protheus.DeletedColumn, Fields: fields(alias), KeyParam: "key",
		Retries: 3, Backoff: time.Millisecond,
	}
}

func (e *env) source(t *testing.T, spec resterp.RouteSpec) *resterp.Source {
	t.Helper()
	src, err := resterp.NewSource(spec)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { src.Close() })
	return src
}

func (e *env) sqlSource(t *testing.T, spec sqlerp.TableSpec) *sqlerp.Source {
	t.Helper()
	src, err := sqlerp.NewSource(context.Background(), e.fx.DB, e.d, spec, sqlerp.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return src
}

func readAll(t *testing.T, seq func(func(erp.Page, error) bool)) []erp.Record {
	t.Helper()
	var out []erp.Record
	for page, err := range seq {
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, page.Records...)
	}
	return out
}

var cmpDecimal = cmp.Comparer(func(a, b decimal.Decimal) bool { return a.Equal(b) })

// TestCustomersOverRESTMatchSQL: a full pass over the route yields the same
// records as the SQL source reading the same table (names transcoded to
// UTF-8, as the AppServer answers).
func TestCustomersOverRESTMatchSQL(t *testing.T) {
	e := newEnv(t, restsim.Options{})
	ctx := context.Background()
	spec, err := protheus.Customers(fixture.Company, fixture.SharedFilial)
	if err != nil {
		t.Fatal(err)
	}
	want := readAll(t, e.sqlSource(t, spec).FullPass(ctx, "", 500))
	got := readAll(t, e.source(t, e.route("customers", "SA1")).FullPass(ctx, "", 7))
	for i := range want {
		if want[i].Key == e.ex.Latin1Key {
			want[i].Fields["A1_NOME"] = e.ex.Latin1Name
		}
	}
	if diff := cmp.Diff(want, got, cmpDecimal); diff != "" {
		t.Fatalf("REST full pass differs from SQL (-sql +rest):\n%s", diff)
	}
	if len(got) != e.ex.CustomerRows {
		t.Errorf("read %d customers, want %d", len(got), e.ex.CustomerRows)
	}
}

func TestIncrementalAfterRename(t *testing.T) {
	e := newEnv(t, restsim.Options{})
	ctx := context.Background()
	src := e.source(t, e.route("customers", "SA1"))
	if !src.Incremental() {
		t.Fatal("customers route is not incremental")
	}
	// From the beginning: every stamped row, oldest first.
	first := readAll(t, src.Changes(ctx, "", 9))
	if want := e.ex.CustomerRows - e.ex.NullStampCustomers; len(first) != want {
		t.Fatalf("first poll read %d rows, want %d stamped rows", len(first), want)
	}
	for i := 1; i < len(first); i++ {
		if first[i].Stamp.Before(*first[i-1].Stamp) {
			t.Fatalf("rows not in stamp order at %d", i)
		}
	}
	cp, err := src.Checkpoint(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.fx.RenameCustomer(ctx, "000003", "01", "RENOMEADA VIA REST LTDA"); err != nil {
		t.Fatal(err)
	}
	var pages int
	var changed []erp.Record
	var next erp.Position
	for page, err := range src.Changes(ctx, cp, 9) {
		if err != nil {
			t.Fatal(err)
		}
		pages++
		changed, next = append(changed, page.Records...), page.Next
	}
	if len(changed) != 1 || changed[0].Key != "|000003|01" || changed[0].Fields["A1_NOME"] != "RENOMEADA VIA REST LTDA" {
		t.Fatalf("changes after the checkpoint = %+v", changed)
	}
	if !strings.Contains(string(next), `"key":"|000003|01"`) {
		t.Errorf("position %s does not carry the key tie-breaker", next)
	}
	// The next poll re-reads the overlap (the renamed row) and nothing else.
	again := readAll(t, src.Changes(ctx, next, 9))
	if len(again) != 1 || again[0].Key != "|000003|01" {
		t.Errorf("overlap re-read = %+v", again)
	}
}

func TestLookupAndFindOverREST(t *testing.T) {
	e := newEnv(t, restsim.Options{})
	ctx := context.Background()
	for _, tt := range []struct{ name, keyParam, lookupPath string }{
		{"key parameter", "key", ""},
		{"path template", "", "/customers/{key}"},
		{"key fields as filters", "", ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			spec := e.route("customers", "SA1")
			spec.KeyParam, spec.LookupPath = tt.keyParam, tt.lookupPath
			src := e.source(t, spec)
			rec, ok, err := src.Lookup(ctx, e.ex.RecreatedKey)
			if err != nil || !ok {
				t.Fatalf("Lookup(%q) = %v, %v", e.ex.RecreatedKey, ok, err)
			}
			if rec.Deleted || rec.Recno != e.ex.RecreatedRecno {
				t.Errorf("Lookup of a re-created key returned recno %d deleted %v, want the live %d", rec.Recno, rec.Deleted, e.ex.RecreatedRecno)
			}
			if _, ok, err := src.Lookup(ctx, "|999999|01"); ok || err != nil {
				t.Errorf("Lookup of a missing key = %v, %v", ok, err)
			}
		})
	}
	links := e.source(t, e.route("contactLinks", "AC8"))
	recs, err := links.Find(ctx, protheus.LinksOfContact(e.ex.SharedContact), 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != len(e.ex.SharedContactOf) {
		t.Errorf("contact %s has %d links over REST, want %d", e.ex.SharedContact, len(recs), len(e.ex.SharedContactOf))
	}
}

func TestProductsCarryPriceAndContactsTheirLinks(t *testing.T) {
	e := newEnv(t, restsim.Options{})
	ctx := context.Background()
	spec := e.route("products", "SB1")
	spec.Fields = nil // "all": every scalar property, the embedded price included
	recs := readAll(t, e.source(t, spec).FullPass(ctx, "", 50))
	if len(recs) != e.ex.ProductRows {
		t.Fatalf("read %d products, want %d", len(recs), e.ex.ProductRows)
	}
	p := recs[0] // PA0001: DA1 price 9.3 (float noise 9.299999… in the database)
	if price, ok := p.Fields["DA1_PRCVEN"].(decimal.Decimal); !ok || !price.Equal(decimal.RequireFromString("9.3")) {
		t.Errorf("PA0001 DA1_PRCVEN = %#v, want 9.3", p.Fields["DA1_PRCVEN"])
	}
	if _, ok := p.Fields[protheus.StampColumn]; ok {
		t.Error("the stamp is among the fields")
	}

	contacts := e.route("contacts", "SU5")
	contacts.Fields = nil
	c, ok, err := e.source(t, contacts).Lookup(ctx, "01|"+e.ex.SharedContact)
	if err != nil || !ok {
		t.Fatalf("Lookup contact: %v, %v", ok, err)
	}
	if _, nested := c.Fields["LINKS"]; nested {
		t.Error("nested links became a field")
	}
}

func TestAuthRefused(t *testing.T) {
	e := newEnv(t, restsim.Options{})
	ctx := context.Background()
	for _, auth := range []resterp.Auth{{User: user, Password: "nope"}, {Token: "nope-token"}, {}} {
		spec := e.route("customers", "SA1")
		spec.Auth = auth
		_, err := e.source(t, spec).Checkpoint(ctx)
		if !errors.Is(err, resterp.ErrUnauthorized) {
			t.Fatalf("auth %+v: err = %v, want ErrUnauthorized", auth.User, err)
		}
		if strings.Contains(err.Error(), "nope") {
			t.Errorf("error leaks the credential: %v", err)
		}
	}
	spec := e.route("customers", "SA1")
	spec.Auth = resterp.Auth{Token: token}
	if _, err := e.source(t, spec).Checkpoint(ctx); err != nil {
		t.Fatalf("bearer token refused: %v", err)
	}
}

func TestServerErrorsThenSuccess(t *testing.T) {
	e := newEnv(t, restsim.Options{})
	ctx := context.Background()
	src := e.source(t, e.route("customers", "SA1"))
	e.sim.FailNext(2) // the first page fails twice, then succeeds
	if got := readAll(t, src.FullPass(ctx, "", 20)); len(got) != e.ex.CustomerRows {
		t.Fatalf("read %d customers after two 500s, want %d", len(got), e.ex.CustomerRows)
	}
	e.sim.FailNext(10)
	var rerr *resterp.RequestError
	_, _, err := src.Lookup(ctx, "|000001|01")
	if !errors.As(err, &rerr) || rerr.Status != 500 || !strings.Contains(err.Error(), "GET /customers?") {
		t.Fatalf("err = %v, want a 500 naming GET /customers", err)
	}
	e.sim.FailNext(0)
}

func TestOrdersOverREST(t *testing.T) {
	e := newEnv(t, restsim.Options{})
	if !e.sim.Available("orders") || !e.sim.Available("orderItems") {
		t.Skipf("SC5010/SC6010 are not in the fixture: %v", e.sim.Unavailable())
	}
	ctx := context.Background()
	spec := e.route("orders", "SC5")
	spec.Fields = nil // every scalar: C5_XCRMID included, the nested items skipped
	orders := e.source(t, spec)
	all := readAll(t, orders.FullPass(ctx, "", 10))
	if len(all) != e.ex.OrderRows {
		t.Fatalf("read %d orders, want %d", len(all), e.ex.OrderRows)
	}
	crm, ok, err := orders.Lookup(ctx, e.ex.CRMOrderKey)
	if err != nil || !ok || crm.Fields["C5_XCRMID"] != fixture.CRMDealID {
		t.Fatalf("CRM order %s: %+v %v %v", e.ex.CRMOrderKey, crm, ok, err)
	}
	// A large order's items all come back through Find (paged past 100).
	items := e.source(t, e.route("orderItems", "SC6"))
	num := erp.SplitKey(e.ex.LargeOrderKey)[1]
	recs, err := items.Find(ctx, protheus.ItemsOf(num), protheus.MaxOrderItems)
	if err != nil || len(recs) != e.ex.LargeOrderItems {
		t.Fatalf("order %s: %d items over REST, want %d (%v)", num, len(recs), e.ex.LargeOrderItems, err)
	}
	// Invoicing an open order shows up in the next poll, status derivable.
	cp, err := orders.Checkpoint(ctx)
	if err != nil {
		t.Fatal(err)
	}
	open := e.ex.OrderKeys[protheus.StatusOpen][0]
	if _, err := e.fx.InvoiceOrder(ctx, erp.SplitKey(open)[1]); err != nil {
		t.Fatal(err)
	}
	changed := readAll(t, orders.Changes(ctx, cp, 10))
	if len(changed) != 1 || changed[0].Key != open {
		t.Fatalf("changes after invoicing %s: %+v", open, changed)
	}
	lines, err := items.Find(ctx, protheus.ItemsOf(erp.SplitKey(open)[1]), protheus.MaxOrderItems)
	if err != nil {
		t.Fatal(err)
	}
	if got := protheus.OrderStatus(changed[0], lines); got != protheus.StatusInvoiced {
		t.Errorf("status over REST after invoicing = %s, want invoiced", got)
	}
}

// TestKeyWithSince: a key read with since answers the row only when it
// changed at or after since.
func TestKeyWithSince(t *testing.T) {
	e := newEnv(t, restsim.Options{})
	ctx := context.Background()
	key := e.ex.SameNameKeys[0]
	parts := erp.SplitKey(key)
	if err := e.fx.TouchCustomer(ctx, parts[1], parts[2]); err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC()
	for _, tt := range []struct {
		since time.Time
		found bool
	}{{now.Add(-time.Hour), true}, {now.Add(time.Hour), false}} {
		spec := e.route("customers", "SA1")
		spec.Query = map[string]string{"since": tt.since.Format(time.RFC3339)}
		_, ok, err := e.source(t, spec).Lookup(ctx, key)
		if err != nil || ok != tt.found {
			t.Errorf("key %s since %s: found %v, %v; want found %v", key, tt.since, ok, err, tt.found)
		}
	}
}

// TestOrderRouteEmbedsEveryItem: an order numbered up to the last C6_ITEM
// (more items than a list page holds) comes back with all its items.
func TestOrderRouteEmbedsEveryItem(t *testing.T) {
	e := newEnv(t, restsim.Options{})
	if !e.sim.Available("orders") || !e.sim.Available("orderItems") {
		t.Skipf("SC5010/SC6010 are not in the fixture: %v", e.sim.Unavailable())
	}
	ctx := context.Background()
	o := fixture.NewOrder{Customer: "000001", Loja: "01", Items: make([]fixture.NewOrderItem, protheus.MaxOrderItems)}
	for i := range o.Items {
		o.Items[i] = fixture.NewOrderItem{Product: "PA0001", Qty: decimal.NewFromInt(1), Price: decimal.NewFromInt(1)}
	}
	num, err := e.fx.AddOrder(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, e.url+"/orders/"+url.PathEscape(fixture.OrderKey(num)), nil)
	if err != nil {
		t.Fatal(err)
	}
	req.SetBasicAuth(user, password)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var order struct {
		Items []map[string]any `json:"items"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&order); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET order %s: status %d, %v", num, resp.StatusCode, err)
	}
	if len(order.Items) != protheus.MaxOrderItems {
		t.Errorf("order %s came back with %d items, want %d", num, len(order.Items), protheus.MaxOrderItems)
	}
}

func TestServe(t *testing.T) {
	e := newEnv(t, restsim.Options{})
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan string, 1)
	done := make(chan error, 1)
	go func() { done <- restsim.Serve(ctx, "127.0.0.1:0", e.sim, func(u string) { ready <- u }) }()
	var base string
	select {
	case base = <-ready:
	case err := <-done:
		t.Fatalf("Serve: %v", err)
	case <-time.After(5 * time.Second):
		t.Fatal("Serve never became ready")
	}
	spec := e.route("customers", "SA1")
	spec.BaseURL = base
	if _, ok, err := e.source(t, spec).Lookup(context.Background(), "|000001|01"); err != nil || !ok {
		t.Fatalf("Lookup through Serve: %v %v", ok, err)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Serve returned %v after shutdown", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Serve did not stop")
	}
}

// TestMessyRecordsOverREST: an item whose value cannot be read (a price
// that is text or infinite) or whose key is blank is read over a route as
// over SQL: with its problem, the items after it too.
func TestMessyRecordsOverREST(t *testing.T) {
	e := newEnv(t, restsim.Options{})
	m, err := e.fx.AddMessyRecords(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	spec := e.route("products", "SB1")
	spec.FilialField = "B1_FILIAL"
	products := readAll(t, e.source(t, spec).FullPass(context.Background(), "", 7))
	if len(products) != e.ex.ProductRows+3 {
		t.Fatalf("read %d products, want the fixture's %d and the 3 messy ones", len(products), e.ex.ProductRows)
	}
	bad := map[string]erp.BadValue{}
	for _, r := range products {
		for _, b := range r.BadValues {
			bad[r.Key] = b
		}
	}
	for _, key := range []string{m.BadPriceProduct, m.InfPriceProduct} {
		if b, ok := bad[key]; !ok || b.Column != "B1_PRV1" || b.Value == "" || b.Key {
			t.Errorf("product %s: bad value %+v, want B1_PRV1 with its stored value", key, b)
		}
	}
	if len(bad) != 2 {
		t.Errorf("bad values %v, want only the two unreadable prices", bad)
	}

	cspec := e.route("customers", "SA1")
	cspec.FilialField = "A1_FILIAL"
	customers := readAll(t, e.source(t, cspec).FullPass(context.Background(), "", 50))
	keyless := 0
	for _, r := range customers {
		if r.KeyError() != nil {
			keyless++
			if r.Recno != m.BlankKeyRecno || !strings.Contains(r.KeyError().Error(), "A1_COD") {
				t.Errorf("keyless customer %+v, want record number %d naming A1_COD", r, m.BlankKeyRecno)
			}
		}
	}
	if keyless != 1 {
		t.Errorf("%d keyless customers over REST, want 1", keyless)
	}
}
