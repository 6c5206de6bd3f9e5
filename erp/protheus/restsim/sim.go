package restsim

import (
	"context"
	"crypto/subtle"
	"database/sql"
	"fmt"
	"net/http"
	"sync"

	"github.com/erpbridge/erpbridge/erp/protheus"
	"github.com/erpbridge/erpbridge/erp/protheus/advpl"
	"github.com/erpbridge/erpbridge/erp/sqlerp"
)

// BasePath prefixes every route, as the AppServer's [HTTPURI] URL=/rest.
const BasePath = "/rest"

// Options configure a Sim.
type Options struct {
	// Company is the grupo de empresas (default "01": SA1010 …).
	Company string
	// Filials maps an alias to the filial read (defaults: SA1, SB1, DA1
	// shared "  "; SU5, AC8, SC5, SC6 "01"; SA3 shared).
	Filials map[string]string
	// PriceTable is the DA1 table whose price products carry (default "001").
	PriceTable string
	// User and Password enable Basic auth, Token bearer auth; with both set
	// either is accepted, with neither no auth is asked.
	User, Password, Token string
	// Orders keeps the orders the POST creates. Default: SC5/SC6 rows in
	// the fixture database (fixture.ERP.AddOrder, filial fixture.OrderFilial)
	// when SC5 has C5_XCRMID, else in memory.
	Orders OrderStore
	// RequirePaymentTerms makes the POST reject an order without paymentTerms
	// (MATA410's C5_CONDPAG is mandatory); DefaultPaymentTerms fills it instead.
	RequirePaymentTerms bool
	DefaultPaymentTerms string
	// OrderRouteVersion is the version the order route answers (GET
	// /rest/orders/version and the X-Erpbridge-Version header): default
	// advpl.Version, the sources this erpbridge ships; NoRouteVersion for
	// a route compiled from sources that did not answer it.
	OrderRouteVersion string
}

// NoRouteVersion makes the order route answer no version, as one compiled
// from sources older than erpbridge.ch does.
const NoRouteVersion = "-"

// filial is the filial the simulator reads (and writes) alias with.
func (s *Sim) filial(alias string) string {
	if f, ok := s.opts.Filials[alias]; ok {
		return f
	}
	return defaultFilials[alias]
}

// defaultFilials are the fixture's filials per alias.
var defaultFilials = map[string]string{"SA1": "  ", "SB1": "  ", "DA1": "  ", "SU5": "01", "AC8": "01", "SC5": "01", "SC6": "01", "SA3": "  "}

// route is one read route over one table.
type route struct {
	name  string
	alias string
	src   *sqlerp.Source
	// embed adds related data to an item (links, price, order items).
	embed func(ctx context.Context, item map[string]any) error
}

// Sim is the simulator, an http.Handler. It does not own the database.
type Sim struct {
	opts        Options
	routes      map[string]*route
	unavailable map[string]string // route → why (e.g. table not found)
	mux         *http.ServeMux

	orderMu sync.Mutex // serialises the lookup and insert of an order POST

	faultMu      sync.Mutex
	fail500      int // the next n requests answer 500
	hangAfterNew int // the next n creating order POSTs never answer
}

var _ http.Handler = (*Sim)(nil)

// routeTables lists the read routes and their aliases.
var routeTables = []struct{ name, alias string }{
	{"customers", "SA1"}, {"contacts", "SU5"}, {"contactLinks", "AC8"}, {"products", "SB1"},
	{"prices", "DA1"}, {"orders", "SC5"}, {"orderItems", "SC6"}, {"sellers", "SA3"},
}

// New builds a simulator over a fixture database. A route whose table is
// missing (or unknown to the dictionary) answers 404 and is listed by
// Unavailable; the others work.
func New(ctx context.Context, db *sql.DB, d sqlerp.Dialect, opts Options) (*Sim, error) {
	if opts.Company == "" {
		opts.Company = "01"
	}
	if opts.PriceTable == "" {
		opts.PriceTable = "001"
	}
	s := &Sim{opts: opts, routes: map[string]*route{}, unavailable: map[string]string{}}
	for _, rt := range routeTables {
		filial, ok := opts.Filials[rt.alias]
		if !ok {
			filial = defaultFilials[rt.alias]
		}
		spec, err := protheus.Table(rt.alias, opts.Company, filial)
		if err != nil {
			s.unavailable[rt.name] = err.Error()
			continue
		}
		if rt.alias == "SC5" { // the custom deal-id field, where the install has it
			withID := spec
			withID.Columns = append(append([]sqlerp.ColumnSpec(nil), spec.Columns...), protheus.CRMIDField().Column())
			if rep, err := sqlerp.Check(ctx, db, d, withID); err == nil && rep.OK() {
				spec = withID
			}
		}
		// Since is served exactly: no overlap, the client adds its own.
		src, err := sqlerp.NewSource(ctx, db, d, spec, sqlerp.Options{})
		if err != nil {
			if ctx.Err() != nil {
				return nil, fmt.Errorf("opening simulator: %w", err)
			}
			s.unavailable[rt.name] = err.Error()
			continue
		}
		s.routes[rt.name] = &route{name: rt.name, alias: rt.alias, src: src}
	}
	s.wireEmbeds()
	if s.opts.Orders == nil {
		s.opts.Orders = s.defaultOrders(db, d)
	}
	s.mux = s.newMux()
	return s, nil
}

// Unavailable lists the routes that answer 404 and why.
func (s *Sim) Unavailable() map[string]string {
	out := make(map[string]string, len(s.unavailable))
	for k, v := range s.unavailable {
		out[k] = v
	}
	return out
}

// Available reports whether a read route serves data.
func (s *Sim) Available(name string) bool { return s.routes[name] != nil }

// FailNext makes the next n requests (after authentication) answer 500.
func (s *Sim) FailNext(n int) {
	s.faultMu.Lock()
	defer s.faultMu.Unlock()
	s.fail500 = n
}

// TimeoutAfterCreate makes the next n order POSTs that create an order
// write it and then never answer (until the client gives up or the server
// stops): the client sees a timeout although the order exists.
func (s *Sim) TimeoutAfterCreate(n int) {
	s.faultMu.Lock()
	defer s.faultMu.Unlock()
	s.hangAfterNew = n
}

func (s *Sim) drawFail500() bool {
	s.faultMu.Lock()
	defer s.faultMu.Unlock()
	if s.fail500 > 0 {
		s.fail500--
		return true
	}
	return false
}

func (s *Sim) drawHang() bool {
	s.faultMu.Lock()
	defer s.faultMu.Unlock()
	if s.hangAfterNew > 0 {
		s.hangAfterNew--
		return true
	}
	return false
}

// ServeHTTP implements http.Handler.
func (s *Sim) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !s.authorized(r) {
		w.Header().Set("WWW-Authenticate", `Basic realm="protheus"`)
		writeError(w, http.StatusUnauthorized, "unauthorized", "invalid or missing credentials")
		return
	}
	if s.drawFail500() {
		writeError(w, http.StatusInternalServerError, "internal server error", "simulated fault")
		return
	}
	s.mux.ServeHTTP(w, r)
}

func (s *Sim) authorized(r *http.Request) bool {
	o := s.opts
	if o.User == "" && o.Token == "" {
		return true
	}
	if user, pass, ok := r.BasicAuth(); ok && o.User != "" {
		return eq(user, o.User) && eq(pass, o.Password)
	}
	const bearer = "Bearer "
	if h := r.Header.Get("Authorization"); o.Token != "" && len(h) > len(bearer) && h[:len(bearer)] == bearer {
		return eq(h[len(bearer):], o.Token)
	}
	return false
}

func eq(a, b string) bool { return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1 }

func (s *Sim) newMux() *http.ServeMux {
	mux := http.NewServeMux()
	for _, rt := range routeTables {
		name := rt.name
		mux.HandleFunc("GET "+BasePath+"/"+name, func(w http.ResponseWriter, r *http.Request) { s.list(w, r, name) })
		mux.HandleFunc("GET "+BasePath+"/"+name+"/{key}", func(w http.ResponseWriter, r *http.Request) { s.one(w, r, name) })
	}
	mux.HandleFunc("POST "+BasePath+"/orders", func(w http.ResponseWriter, r *http.Request) {
		s.versionHeader(w)
		s.postOrder(w, r)
	})
	mux.HandleFunc("GET "+BasePath+"/orders"+advpl.VersionPath, s.orderRouteVersion)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, "not found", r.Method+" "+r.URL.Path+" is not a route")
	})
	return mux
}

// RouteVersion is what GET /rest/orders/version answers: the version of
// the sources the route was compiled from (erp/protheus/advpl).
type RouteVersion struct {
	Name    string `json:"name"`
	Version string `json:"version"`
}

// routeVersion is the version the order route answers ("" none).
func (s *Sim) routeVersion() string {
	switch v := s.opts.OrderRouteVersion; v {
	case "":
		return advpl.Version
	case NoRouteVersion:
		return ""
	default:
		return v
	}
}

// versionHeader sets the header every answer of the order route carries.
func (s *Sim) versionHeader(w http.ResponseWriter) {
	if v := s.routeVersion(); v != "" {
		w.Header().Set(advpl.VersionHeader, v)
	}
}

// orderRouteVersion answers GET /rest/orders/version as
// erpbridge_orders.tlpp does.
func (s *Sim) orderRouteVersion(w http.ResponseWriter, r *http.Request) {
	v := s.routeVersion()
	if v == "" {
		writeError(w, http.StatusNotFound, "not found", r.Method+" "+r.URL.Path+" is not a route")
		return
	}
	s.versionHeader(w)
	writeJSON(w, http.StatusOK, RouteVersion{Name: "erpbridge orders route", Version: v})
}
