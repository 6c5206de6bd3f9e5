package resterp_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/erpbridge/erpbridge/erp"
	"github.com/erpbridge/erpbridge/erp/protheus/fixture"
	"github.com/erpbridge/erpbridge/erp/protheus/restsim"
	"github.com/erpbridge/erpbridge/erp/resterp"
	"github.com/erpbridge/erpbridge/erp/sqlerp"
)

const (
	simUser     = "erpbridge"
	simPassword = "s3cr3t-pass"
	simToken    = "t0ken-abcdef"
)

// simEnv is the Protheus REST simulator over a SQLite fixture, counting
// the requests it gets.
type simEnv struct {
	fx       fixture.ERP
	sim      *restsim.Sim
	url      string
	requests atomic.Int32
}

func newSimEnv(t *testing.T) *simEnv {
	t.Helper()
	ctx := context.Background()
	fx, _ := fixture.NewSQLite(t, fixture.Options{Customers: 40})
	sim, err := restsim.New(ctx, fx.DB, sqlerp.SQLite{}, restsim.Options{User: simUser, Password: simPassword, Token: simToken})
	if err != nil {
		t.Fatal(err)
	}
	e := &simEnv{fx: fx, sim: sim}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		e.requests.Add(1)
		sim.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	e.url = srv.URL + restsim.BasePath
	return e
}

// sink returns an order sink on the simulator with Basic auth, short
// timeouts and backoffs; change adjusts the spec.
func (e *simEnv) sink(t *testing.T, change func(*resterp.OrderRouteSpec)) *resterp.OrderSink {
	t.Helper()
	spec := resterp.OrderRouteSpec{BaseURL: e.url, Auth: resterp.Auth{User: simUser, Password: simPassword},
		Timeout: 2 * time.Second, Retries: 2, Backoff: 10 * time.Millisecond}
	if change != nil {
		change(&spec)
	}
	s, err := resterp.NewOrderSink(spec)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// orders lists the numbers of the live SC5 orders of a deal.
func (e *simEnv) orders(t *testing.T, deal string) []string {
	t.Helper()
	rows, err := e.fx.DB.Query("SELECT C5_NUM FROM SC5010 WHERE C5_XCRMID = ? AND D_E_L_E_T_ = ' '", deal)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			t.Fatal(err)
		}
		out = append(out, strings.TrimSpace(n))
	}
	return out
}

func dec(s string) decimal.Decimal { return decimal.RequireFromString(s) }

func decp(s string) *decimal.Decimal { d := dec(s); return &d }

func deal(deal string, items ...erp.OrderItem) erp.Order {
	return erp.Order{DealID: deal, Customer: "000003", Store: "01", PaymentTerms: "001", Seller: "000001",
		PriceTable: "001", OrderType: "N", Message: "won deal", Items: items}
}

var (
	goodItem    = erp.OrderItem{Product: "PA0001", Quantity: dec("2.35"), UnitPrice: decp("10.10"), TES: "501", Operation: "01"}
	pricedByERP = erp.OrderItem{Product: "PA0002", Quantity: dec("1")}
)

func TestOrderSinkCreatesOnce(t *testing.T) {
	ctx := context.Background()
	e := newSimEnv(t)
	s := e.sink(t, nil)
	const id = "65d1000000000000000000a1"
	res, err := s.Submit(ctx, deal(id, goodItem, pricedByERP))
	if err != nil || res.State != erp.OrderDone || res.Number == "" {
		t.Fatalf("Submit = %+v, %v; want a new order", res, err)
	}
	again, err := s.Submit(ctx, deal(id, goodItem, pricedByERP))
	if err != nil || again != res {
		t.Errorf("Submit again = %+v, %v; want %+v", again, err, res)
	}
	if got := e.orders(t, id); len(got) != 1 || got[0] != res.Number {
		t.Errorf("orders of the deal %v, want [%s]", got, res.Number)
	}
	var qty, price, value float64
	if err := e.fx.DB.QueryRow("SELECT C6_QTDVEN, C6_PRCVEN, C6_VALOR FROM SC6010 WHERE C6_NUM = ? AND C6_ITEM = '01'", res.Number).
		Scan(&qty, &price, &value); err != nil {
		t.Fatal(err)
	}
	if qty != 2.35 || price != 10.1 || value != 23.74 {
		t.Errorf("item 01: %v × %v = %v; want 2.35 × 10.1 = 23.74", qty, price, value)
	}
}

func TestOrderSinkRejections(t *testing.T) {
	e := newSimEnv(t)
	s := e.sink(t, nil)
	tests := []struct {
		name  string
		order erp.Order
		want  string
	}{
		{"blocked product", deal("65d1000000000000000000b1", goodItem, erp.OrderItem{Product: "PA0005", Quantity: dec("1")}),
			"item 02: product PA0005 is blocked (B1_MSBLQL)"},
		{"unknown customer", func() erp.Order { o := deal("65d1000000000000000000b2", goodItem); o.Customer = "999999"; return o }(),
			"customer 999999/01 not found in SA1 (REGNOIS)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := e.requests.Load()
			res, err := s.Submit(context.Background(), tt.order)
			if err != nil || res.State != erp.OrderRejected || res.Error != tt.want {
				t.Errorf("Submit = %+v, %v; want rejected with %q", res, err, tt.want)
			}
			if n := e.requests.Load() - before; n != 1 {
				t.Errorf("%d requests, want 1 (a rejection is not retried)", n)
			}
			if got := e.orders(t, tt.order.DealID); len(got) != 0 {
				t.Errorf("a rejected deal has orders %v", got)
			}
		})
	}
}

func TestOrderSinkRetries(t *testing.T) {
	ctx := context.Background()
	e := newSimEnv(t)

	t.Run("500 once, then created", func(t *testing.T) {
		e.sim.FailNext(1)
		res, err := e.sink(t, nil).Submit(ctx, deal("65d1000000000000000000c1", goodItem))
		if err != nil || res.State != erp.OrderDone {
			t.Fatalf("Submit = %+v, %v; want done", res, err)
		}
		if got := e.orders(t, "65d1000000000000000000c1"); len(got) != 1 {
			t.Errorf("orders %v, want one", got)
		}
	})

	t.Run("500 until the retries run out", func(t *testing.T) {
		e.sim.FailNext(3)
		before := e.requests.Load()
		_, err := e.sink(t, func(s *resterp.OrderRouteSpec) { s.Retries = 2 }).Submit(ctx, deal("65d1000000000000000000c2", goodItem))
		if !errors.Is(err, erp.ErrOrderOutcomeUnknown) || !strings.Contains(err.Error(), "status 500") {
			t.Errorf("Submit error %v; want a 500 whose outcome is unknown", err)
		}
		if n := e.requests.Load() - before; n != 3 {
			t.Errorf("%d requests, want 3 (1 + 2 retries)", n)
		}
	})

	t.Run("answer lost after the order was created", func(t *testing.T) {
		const id = "65d1000000000000000000c3"
		e.sim.TimeoutAfterCreate(1)
		short := e.sink(t, func(s *resterp.OrderRouteSpec) { s.Timeout, s.Retries = 300*time.Millisecond, -1 })
		_, err := short.Submit(ctx, deal(id, goodItem))
		if !errors.Is(err, erp.ErrOrderOutcomeUnknown) {
			t.Fatalf("Submit error %v; want ErrOrderOutcomeUnknown", err)
		}
		created := e.orders(t, id)
		if len(created) != 1 {
			t.Fatalf("orders %v, want the one the lost request created", created)
		}
		res, err := short.Submit(ctx, deal(id, goodItem))
		if err != nil || res != (erp.OrderResult{State: erp.OrderDone, Number: created[0]}) {
			t.Errorf("Submit again = %+v, %v; want done with %s", res, err, created[0])
		}
		if got := e.orders(t, id); len(got) != 1 {
			t.Errorf("orders %v, want still one", got)
		}
	})

	t.Run("answer lost, recovered by a retry", func(t *testing.T) {
		const id = "65d1000000000000000000c4"
		e.sim.TimeoutAfterCreate(1)
		res, err := e.sink(t, func(s *resterp.OrderRouteSpec) { s.Timeout = 300 * time.Millisecond }).Submit(ctx, deal(id, goodItem))
		if got := e.orders(t, id); err != nil || len(got) != 1 || res.Number != got[0] {
			t.Errorf("Submit = %+v, %v, orders %v; want done with the one order", res, err, got)
		}
	})

	t.Run("connection refused", func(t *testing.T) {
		dead := httptest.NewServer(http.NotFoundHandler())
		dead.Close()
		s, err := resterp.NewOrderSink(resterp.OrderRouteSpec{BaseURL: dead.URL + "/rest", Retries: 1, Backoff: time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		_, err = s.Submit(ctx, deal("65d1000000000000000000c5", goodItem))
		if err == nil || errors.Is(err, erp.ErrOrderOutcomeUnknown) {
			t.Errorf("Submit error %v; want a plain error (nothing was sent)", err)
		}
	})
}

func TestOrderSinkAuth(t *testing.T) {
	e := newSimEnv(t)
	tests := []struct {
		name    string
		auth    resterp.Auth
		wantErr bool
	}{
		{"basic", resterp.Auth{User: simUser, Password: simPassword}, false},
		{"bearer", resterp.Auth{Token: simToken}, false},
		{"wrong password", resterp.Auth{User: simUser, Password: "wrong-password-123"}, true},
		{"wrong token", resterp.Auth{Token: "wrong-token-123"}, true},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := e.sink(t, func(s *resterp.OrderRouteSpec) { s.Auth = tt.auth })
			before := e.requests.Load()
			res, err := s.Submit(context.Background(), deal("65d1000000000000000000d"+string(rune('0'+i)), goodItem))
			if !tt.wantErr {
				if err != nil || res.State != erp.OrderDone {
					t.Errorf("Submit = %+v, %v; want done", res, err)
				}
				return
			}
			if !errors.Is(err, resterp.ErrUnauthorized) || !strings.Contains(err.Error(), "401") {
				t.Errorf("Submit error %v; want ErrUnauthorized (401)", err)
			}
			if err != nil && (strings.Contains(err.Error(), tt.auth.Password+tt.auth.Token) || errors.Is(err, erp.ErrOrderOutcomeUnknown)) {
				t.Errorf("error %q leaks the secret or claims an unknown outcome", err)
			}
			if n := e.requests.Load() - before; n != 1 {
				t.Errorf("%d requests, want 1 (401 is never retried)", n)
			}
		})
	}
}

func TestOrderSinkStatus(t *testing.T) {
	ctx := context.Background()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/rest/orders/deal/65d1000000000000000000e1" {
			http.Error(w, `{"errorCode":404,"errorMessage":"not found"}`, http.StatusNotFound)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"orderNumber":"000123","dealId":"65d1000000000000000000e1"}`))
	}))
	defer srv.Close()
	tests := []struct {
		name, statusPath, deal string
		want                   erp.OrderResult
		found                  bool
	}{
		{"an order", "/orders/deal/{dealId}", "65d1000000000000000000e1", erp.OrderResult{State: erp.OrderDone, Number: "000123"}, true},
		{"no order", "/orders/deal/{dealId}", "65d1000000000000000000e2", erp.OrderResult{}, false},
		{"no status route", "", "65d1000000000000000000e1", erp.OrderResult{}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := resterp.NewOrderSink(resterp.OrderRouteSpec{BaseURL: srv.URL + "/rest", StatusPath: tt.statusPath})
			if err != nil {
				t.Fatal(err)
			}
			res, found, err := s.Status(ctx, tt.deal, "")
			if err != nil || found != tt.found || res != tt.want {
				t.Errorf("Status = %+v, %v, %v; want %+v, %v", res, found, err, tt.want, tt.found)
			}
		})
	}
}

func TestNewOrderSinkValidates(t *testing.T) {
	tests := []struct {
		name string
		spec resterp.OrderRouteSpec
		want string
	}{
		{"credentials in the URL", resterp.OrderRouteSpec{BaseURL: "http://u:p@127.0.0.1/rest"}, "credentials belong in auth"},
		{"not http", resterp.OrderRouteSpec{BaseURL: "ftp://127.0.0.1"}, "want http"},
		{"user and token", resterp.OrderRouteSpec{BaseURL: "http://127.0.0.1", Auth: resterp.Auth{User: "u", Token: "t"}}, "not both"},
		{"status path without placeholder", resterp.OrderRouteSpec{BaseURL: "http://127.0.0.1", StatusPath: "/orders"}, "{dealId}"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := resterp.NewOrderSink(tt.spec)
			if err == nil || !strings.Contains(err.Error(), tt.want) || strings.Contains(err.Error(), "u:p") {
				t.Errorf("NewOrderSink error %v; want one containing %q", err, tt.want)
			}
		})
	}
}

// TestOrderSinkSendsItsDestination: the spec's Fields (the company and
// branch a won deal's order is made in) go in every order's body; the
// route refuses a company or branch other than its own.
func TestOrderSinkSendsItsDestination(t *testing.T) {
	ctx := context.Background()
	e := newSimEnv(t)
	for i, tc := range []struct {
		fields map[string]string
		want   erp.OrderState
		reason string
	}{
		{map[string]string{"company": "01", "filial": "01"}, erp.OrderDone, ""},
		{map[string]string{"company": "02", "filial": "01"}, erp.OrderRejected, "not 02"},
		{map[string]string{"company": "01", "filial": "02"}, erp.OrderRejected, `not "02"`},
	} {
		s := e.sink(t, func(spec *resterp.OrderRouteSpec) { spec.Fields = tc.fields })
		id := "65d10000000000000000b0" + string(rune('0'+i)) + "0"
		res, err := s.Submit(ctx, deal(id, goodItem))
		if err != nil || res.State != tc.want || !strings.Contains(res.Error, tc.reason) {
			t.Errorf("fields %v: Submit = %+v, %v; want %s (%q)", tc.fields, res, err, tc.want, tc.reason)
		}
	}
}
