package wiring

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/erpbridge/erpbridge/bridge/component"
	"github.com/erpbridge/erpbridge/cmd/erpbridge/internal/components"

	"github.com/google/go-cmp/cmp"
	"github.com/shopspring/decimal"

	"github.com/erpbridge/erpbridge/cmd/erpbridge/internal/config"
	"github.com/erpbridge/erpbridge/erp/protheus"
	"github.com/erpbridge/erpbridge/erp/protheus/access"
	"github.com/erpbridge/erpbridge/erp/protheus/fixture"
	"github.com/erpbridge/erpbridge/erp/protheus/restsim"
	"github.com/erpbridge/erpbridge/erp/sqlerp"
	"github.com/erpbridge/erpbridge/rdstation/crm"
	"github.com/erpbridge/erpbridge/rdstation/rdsim"
)

// Credentials of the REST simulator in these tests.
const restUser, restPassword = "bridge", "s3cret-rest"

// requestLog records the path and query of every request a server got.
type requestLog struct {
	mu   sync.Mutex
	reqs []string
}

func (l *requestLog) wrap(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		l.mu.Lock()
		l.reqs = append(l.reqs, r.URL.RequestURI())
		l.mu.Unlock()
		h.ServeHTTP(w, r)
	})
}

// since returns the requests received after the first n.
func (l *requestLog) since(n int) []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.reqs[n:])
}

func (l *requestLog) len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.reqs)
}

// serveRestsim serves the harness's ERP fixture through the Protheus REST
// simulator on 127.0.0.1 and returns its base URL (…/rest).
func serveRestsim(h *harness, log *requestLog) string {
	h.t.Helper()
	sim, err := restsim.New(h.ctx, h.erp.DB, sqlerp.SQLite{}, restsim.Options{User: restUser, Password: restPassword})
	if err != nil {
		h.t.Fatalf("starting the REST simulator: %v", err)
	}
	var handler http.Handler = sim
	if log != nil {
		handler = log.wrap(sim)
	}
	srv := httptest.NewServer(handler)
	h.t.Cleanup(srv.Close)
	return srv.URL + restsim.BasePath
}

// restConfig switches the harness's [erp] to the REST routes at baseURL;
// it must come first in the extra configuration (it continues [erp]).
func restConfig(baseURL string) string {
	return fmt.Sprintf("source = \"rest\"\n[erp.rest]\nbase_url = %q\nuser = %q\npassword = %q\ntimeout = \"5s\"\n",
		baseURL, restUser, restPassword)
}

// ordersHarnessOptions are newOrdersHarness's options, with more
// configuration (placed before the orders stream's) from configFor.
func ordersHarnessOptions(configFor func(h *harness) string) harnessOptions {
	return harnessOptions{
		configFor: func(h *harness) string { return configFor(h) + ordersConfig },
		fields:    []crm.CustomFieldInput{{Label: "Pedido ERP", Type: "text", For: "deal"}},
		seed: &rdsim.SeedData{
			Users: []rdsim.User{{Name: "Vendedor Um", Email: sellerEmail, Active: true}},
			Deals: []rdsim.Deal{{ID: fixture.CRMDealID, Name: "Negócio ganho no CRM", Win: ptr(true)}},
		},
	}
}

// newRESTOrdersHarness is newOrdersHarness reading the ERP through the
// REST simulator (erp.source = "rest") instead of SQL; more is
// configuration added to [erp] (e.g. page_size).
func newRESTOrdersHarness(t *testing.T, log *requestLog, more string) *harness {
	t.Helper()
	return newHarness(t, sqliteBackend, ordersHarnessOptions(func(h *harness) string {
		return more + restConfig(serveRestsim(h, log))
	}))
}

// crmView renders a simulator's records without ids and timestamps: each
// reference is replaced by the name of what it points to, lists are
// sorted. Two bridges that wrote the same data have equal views.
func crmView(t *testing.T, st rdsim.State) map[string][]string {
	t.Helper()
	names := map[string]string{}
	for _, o := range st.Organizations {
		names[o.ID] = "org:" + o.Name
	}
	for _, u := range st.Users {
		names[u.ID] = "user:" + u.Email
	}
	for _, s := range st.Stages {
		names[s.ID] = "stage:" + s.Name
	}
	for _, p := range st.Products {
		names[p.ID] = "product:" + p.Name
	}
	for _, f := range st.CustomFields {
		names[f.ID] = "field:" + f.Label
	}
	for _, r := range st.LostReasons {
		names[r.ID] = "reason:" + r.Name
	}
	for _, c := range st.Contacts {
		names[c.ID] = "contact:" + c.Name
	}
	ref := func(id string) string {
		if n, ok := names[id]; ok || id == "" {
			return n
		}
		return "?" + id
	}
	values := func(vs []rdsim.CustomFieldValue) []string {
		out := make([]string, 0, len(vs))
		for _, v := range vs {
			out = append(out, ref(v.CustomFieldID)+"="+fmt.Sprint(v.Value))
		}
		slices.Sort(out)
		return out
	}
	enc := func(v any) string {
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	view := map[string][]string{}
	for _, o := range st.Organizations {
		view["organizations"] = append(view["organizations"], enc([]any{o.Name, o.Resume, o.URL, o.Address, ref(o.UserID), values(o.CustomFields)}))
	}
	for _, c := range st.Contacts {
		view["contacts"] = append(view["contacts"], enc([]any{c.Name, c.Title, c.Birthday, ref(c.OrganizationID), c.Emails, c.Phones,
			c.LegalBases, values(c.CustomFields), c.Notes}))
	}
	for _, p := range st.Products {
		view["products"] = append(view["products"], enc([]any{p.Name, p.Description, p.BasePrice.String(), p.Visible, values(p.CustomFields)}))
	}
	for _, d := range st.Deals {
		var lines []string
		for _, p := range d.Products {
			lines = append(lines, ref(p.ProductID)+"|"+p.Amount.String()+"|"+p.Price.String()+"|"+p.Discount.String())
		}
		slices.Sort(lines)
		contacts := make([]string, len(d.ContactIDs))
		for i, id := range d.ContactIDs {
			contacts[i] = ref(id)
		}
		slices.Sort(contacts)
		view["deals"] = append(view["deals"], enc([]any{d.Name, ref(d.UserID), ref(d.StageID), ref(d.OrganizationID), contacts,
			d.Win, d.Hold, ref(d.LostReasonID), d.LostNote, values(d.CustomFields), lines}))
	}
	for _, v := range view {
		slices.Sort(v)
	}
	return view
}

// sameCRM fails the test when the two harnesses' CRMs differ.
func sameCRM(t *testing.T, when string, sqlH, restH *harness) {
	t.Helper()
	want, got := crmView(t, sqlH.sim.State()), crmView(t, restH.sim.State())
	if len(want["organizations"]) == 0 || len(want["contacts"]) == 0 || len(want["products"]) == 0 || len(want["deals"]) < 9 {
		t.Fatalf("%s: the SQL bridge wrote too little to compare: %d organizations, %d contacts, %d products, %d deals", when,
			len(want["organizations"]), len(want["contacts"]), len(want["products"]), len(want["deals"]))
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("%s: the CRM fed through REST routes differs from the CRM fed over SQL (-sql +rest):\n%s", when, diff)
	}
}

// TestRESTSourceSyncsLikeSQL feeds one CRM from a fixture over SQL and
// another from an identical fixture through the Protheus REST simulator
// (erp.source = "rest"): customers, contacts, products and orders must
// end up exactly alike, a second sync must write nothing, and changes in
// the ERP must be read by the next, incremental, sync.
func TestRESTSourceSyncsLikeSQL(t *testing.T) {
	checkRESTSyncsLikeSQL(t, "")
}

// TestRESTSourceSyncsLikeSQLInSmallPages is TestRESTSourceSyncsLikeSQL
// with pages far smaller than the tables.
func TestRESTSourceSyncsLikeSQLInSmallPages(t *testing.T) {
	checkRESTSyncsLikeSQL(t, "page_size = 5\n")
}

// checkRESTSyncsLikeSQL runs TestRESTSourceSyncsLikeSQL with more [erp]
// configuration for the REST bridge.
func checkRESTSyncsLikeSQL(t *testing.T, more string) {
	sqlH := newOrdersHarness(t, sqliteBackend)
	log := &requestLog{}
	restH := newRESTOrdersHarness(t, log, more)
	if db, _ := restH.bridge.ERP.SQL(); db != nil {
		t.Errorf("source = \"rest\" opened an ERP database")
	}

	sqlH.mustSync("SQL: first sync")
	restStats := restH.mustSync("REST: first sync")
	for _, s := range StreamNames(restH.cfg) {
		if restStats[s].Created == 0 {
			t.Errorf("REST: stream %s created nothing: %+v", s, restStats[s])
		}
	}
	sameCRM(t, "after the first sync", sqlH, restH)
	if n := checkCRM(t, restH.sim.State(), expectCRM(restH.ctx, t, restH.erp.DB, defaultRules(restH.exp, false))); n > 0 {
		t.Errorf("REST: %d differences from the ERP's data", n)
	}

	before := restH.sim.Counts().Writes
	again := restH.mustSync("REST: second sync")
	if w := restH.sim.Counts().Writes - before; w != 0 {
		t.Errorf("REST: an unchanged ERP cost %d CRM writes: %+v", w, again)
	}

	const renamed = "RENOMEADA PELO ERP VIA REST LTDA"
	for _, h := range []*harness{sqlH, restH} {
		if err := h.erp.RenameCustomer(h.ctx, "000010", "01", renamed); err != nil {
			t.Fatal(err)
		}
		if _, err := h.erp.InvoiceOrder(h.ctx, "000001"); err != nil {
			t.Fatal(err)
		}
		if err := h.erp.ChangeItemQty(h.ctx, "000002", "01", decimal.RequireFromString("7.25")); err != nil {
			t.Fatal(err)
		}
	}
	sqlH.mustSync("SQL: sync after the changes")
	mark := log.len()
	changed := restH.mustSync("REST: sync after the changes")
	if changed["customers"].Updated != 1 || changed["orders"].Updated != 2 {
		t.Errorf("REST: after renaming one customer and changing two orders: customers %+v, orders %+v", changed["customers"], changed["orders"])
	}
	sameCRM(t, "after the changes", sqlH, restH)
	found := false
	for _, o := range restH.sim.State().Organizations {
		found = found || strings.HasPrefix(o.Name, renamed)
	}
	if !found {
		t.Errorf("REST: the renamed customer %q is not in the CRM", renamed)
	}

	// The sync read changes (since=) and no route page by page from the start.
	lists := 0
	for _, r := range log.since(mark) {
		path, query, _ := strings.Cut(r, "?")
		if strings.Count(path, "/") > 2 || strings.Contains(query, "key=") || strings.Contains(query, "pageSize=1&") ||
			strings.Contains(query, "A1_COD=") || strings.Contains(query, "C5_NUM=") || // a page's customers; the orders of changed items
			strings.Contains(query, "C5_CLIENTE=") || strings.Contains(query, "U5_CODCONT=") || // the orders and contacts of a changed customer

			strings.HasPrefix(path, restsim.BasePath+"/orderItems") || strings.HasPrefix(path, restsim.BasePath+"/contactLinks") ||
			strings.HasPrefix(path, restsim.BasePath+"/prices") {
			continue // lookups and finds of single records
		}
		lists++
		if !strings.Contains(query, "since=") {
			t.Errorf("REST: the sync after the changes read %s without since=", r)
		}
	}
	if lists < 4 {
		t.Errorf("REST: %d list reads after the changes, want at least one per stream: %v", lists, log.since(mark))
	}
}

// TestRESTSourceFiltersByFilial: every list request names the stream's
// filial, so a route serving several branches answers only the stream's.
func TestRESTSourceFiltersByFilial(t *testing.T) {
	log := &requestLog{}
	h := newRESTOrdersHarness(t, log, "")
	h.mustSync("REST: first sync")
	want := map[string]string{
		"customers": "A1_FILIAL=", "contacts": "U5_FILIAL=" + fixture.ContactFilial, "products": "B1_FILIAL=",
		"orders": "C5_FILIAL=" + fixture.OrderFilial, "orderItems": "C6_FILIAL=" + fixture.OrderFilial, "sellers": "A3_FILIAL=",
	}
	seen := map[string]bool{}
	for _, r := range log.since(0) {
		path, query, _ := strings.Cut(r, "?")
		route := strings.TrimPrefix(path, restsim.BasePath+"/")
		f, ok := want[route]
		if !ok {
			continue
		}
		seen[route] = true
		params := "&" + query + "&"
		if !strings.Contains(params, "&"+f+"&") {
			t.Errorf("%s without the stream's filial (%s)", r, f)
		}
	}
	for route := range want {
		if !seen[route] {
			t.Errorf("no request to the %s route", route)
		}
	}
}

// restTestConfig is a validated configuration reading the routes at
// baseURL with every stream on.
func restTestConfig(t *testing.T, baseURL, password string) *config.Config {
	t.Helper()
	text := baseConfig(t.TempDir(), "", "", "http://127.0.0.1:1/api/v1",
		strings.Replace(restConfig(baseURL), restPassword, password, 1)+ordersConfig)
	cfg, err := config.Parse([]byte(text), func(string) (string, bool) { return "", false })
	if err != nil {
		t.Fatal(err)
	}
	if err := cfg.Validate(); err != nil {
		t.Fatalf("%v\n%s", err, text)
	}
	return cfg
}

// restRoutes lists the routes the configuration's streams read.
func restRoutes(t *testing.T, cfg *config.Config) []access.RESTRoute {
	t.Helper()
	a, err := access.Open(t.Context(), components.ERP(cfg))
	if err != nil {
		t.Fatal(err)
	}
	tables, err := Tables(cfg, a.Company())
	if err != nil {
		t.Fatal(err)
	}
	routes, err := a.Routes(tables)
	if err != nil {
		t.Fatal(err)
	}
	return routes
}

// TestRESTRoutesProbe checks what `erpbridge check` reports for REST
// routes: each route once, its status, its item count and the fields the
// bridge reads that its items lack.
func TestRESTRoutesProbe(t *testing.T) {
	h := &harness{t: t, ctx: t.Context()}
	h.erp, h.exp, _, _ = sqliteBackend.create(t, h.ctx, fixture.Options{})
	base := serveRestsim(h, nil)

	cfg := restTestConfig(t, base, restPassword)
	routes := restRoutes(t, cfg)
	var paths []string
	for _, r := range routes {
		paths = append(paths, r.Route.Path)
	}
	wantPaths := []string{"/customers", "/contacts", "/contactLinks", "/products", "/prices", "/orders", "/orderItems", "/sellers"}
	if !slices.Equal(paths, wantPaths) {
		t.Fatalf("RESTRoutes: %v, want %v", paths, wantPaths)
	}
	for _, r := range routes {
		p := access.ProbeRoute(h.ctx, r.Route, 5)
		if p.Err != nil || p.Status != http.StatusOK || p.Items == 0 || len(p.Missing) > 0 {
			t.Errorf("%s (%s): %+v, want 200 with items and every field", r.Table.Role, p.Request, p)
		}
		if !strings.Contains(p.Request, "page=1") || !strings.Contains(p.Request, "pageSize=5") {
			t.Errorf("%s: request %s, want page 1 of 5", r.Table.Role, p.Request)
		}
	}

	tests := []struct {
		name   string
		edit   func(*access.RESTRoute)
		status int
		want   string
	}{
		{"wrong password", func(r *access.RESTRoute) { r.Route.Auth.Password = "nope-nope" }, http.StatusUnauthorized, "status 401"},
		{"unknown route", func(r *access.RESTRoute) { r.Route.Path = "/clientes" }, http.StatusNotFound, "status 404"},
		{"items elsewhere", func(r *access.RESTRoute) { r.Route.ItemsPath = "data.items" }, http.StatusOK, `no item list at "data.items"`},
		{"nothing listens", func(r *access.RESTRoute) { r.Route.BaseURL = "http://127.0.0.1:1/rest" }, 0, "sending GET /customers"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := routes[0]
			tt.edit(&r)
			p := access.ProbeRoute(h.ctx, r.Route, 5)
			if p.Status != tt.status || p.Err == nil || !strings.Contains(p.Err.Error(), tt.want) {
				t.Fatalf("probe: status %d err %v, want status %d and an error with %q", p.Status, p.Err, tt.status, tt.want)
			}
			if strings.Contains(p.Err.Error(), "nope-nope") {
				t.Fatalf("the error shows the password: %v", p.Err)
			}
		})
	}

	t.Run("a field the items lack", func(t *testing.T) {
		r := routes[0]
		r.Route.Fields = append(slices.Clone(r.Route.Fields), r.Route.Fields[0])
		r.Route.Fields[len(r.Route.Fields)-1].Name = "A1_XCUSTOM"
		if p := access.ProbeRoute(h.ctx, r.Route, 5); !slices.Equal(p.Missing, []string{"A1_XCUSTOM"}) {
			t.Fatalf("missing %v, want [A1_XCUSTOM] (%+v)", p.Missing, p)
		}
	})
}

// TestRESTHasColumn: a route serves a field when its first item has it;
// an empty route cannot tell and says no.
func TestRESTHasColumn(t *testing.T) {
	h := &harness{t: t, ctx: t.Context()}
	h.erp, h.exp, _, _ = sqliteBackend.create(t, h.ctx, fixture.Options{})
	cfg := restTestConfig(t, serveRestsim(h, nil), restPassword)
	r, err := access.Open(h.ctx, components.ERP(cfg))
	if err != nil {
		t.Fatal(err)
	}
	ordersTable := func(spec sqlerp.TableSpec) component.Table {
		return component.Table{Role: "orders", Route: "orders", RouteDefault: "/orders", Spec: spec}
	}
	tests := []struct {
		name, filial, column string
		want                 bool
	}{
		{"custom deal-id field", fixture.OrderFilial, protheus.CRMIDField().Name, true},
		{"standard field", fixture.OrderFilial, "C5_NUM", true},
		{"field the route lacks", fixture.OrderFilial, "C5_XNOPE", false},
		{"empty route", "99", "C5_NUM", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			spec, err := protheus.Orders(components.ERP(cfg).Company, tt.filial)
			if err != nil {
				t.Fatal(err)
			}
			has, err := r.Columns(h.ctx, ordersTable(spec))
			if err != nil || has(tt.column) != tt.want {
				t.Fatalf("columns(): %s = %v, %v; want %v", tt.column, err == nil && has(tt.column), err, tt.want)
			}
		})
	}
	components.ERP(cfg).REST.Password = "wrong-password"
	spec, _ := protheus.Orders(components.ERP(cfg).Company, fixture.OrderFilial)
	if _, err := r.Columns(h.ctx, ordersTable(spec)); err == nil || strings.Contains(err.Error(), "wrong-password") {
		t.Fatalf("columns with a wrong password: err = %v, want an error without the password", err)
	}
}
