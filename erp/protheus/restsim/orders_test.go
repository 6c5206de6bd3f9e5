package restsim_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/erpbridge/erpbridge/erp"
	"github.com/erpbridge/erpbridge/erp/protheus/fixture"
	"github.com/erpbridge/erpbridge/erp/protheus/restsim"
)

// post sends POST /rest/orders with Basic auth and decodes the answer.
func (e *env) post(t *testing.T, client *http.Client, body string) (int, map[string]any, error) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, e.url+"/orders", bytes.NewBufferString(body))
	if err != nil {
		t.Fatal(err)
	}
	req.SetBasicAuth(user, password)
	req.Header.Set("Content-Type", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	var out map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		t.Fatalf("decoding a %d answer: %v", resp.StatusCode, err)
	}
	return resp.StatusCode, out, nil
}

// ordersOfDeal counts the live SC5 rows carrying a deal id.
func (e *env) ordersOfDeal(t *testing.T, deal string) int {
	t.Helper()
	var n int
	if err := e.fx.DB.QueryRow("SELECT COUNT(*) FROM SC5010 WHERE C5_XCRMID = ? AND D_E_L_E_T_ = ' '", deal).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func orderBody(deal, customer, store string, items ...string) string {
	return `{"dealId":"` + deal + `","customer":"` + customer + `","store":"` + store + `","paymentTerms":"001","seller":"000001","items":[` + strings.Join(items, ",") + `]}`
}

func needOrders(t *testing.T, e *env) {
	t.Helper()
	if !e.sim.Available("orders") || !e.sim.Available("orderItems") {
		t.Skipf("SC5010/SC6010 are not in the fixture: %v", e.sim.Unavailable())
	}
}

func TestPostOrderValidation(t *testing.T) {
	e := newEnv(t, restsim.Options{RequirePaymentTerms: true})
	needOrders(t, e)
	const deal = "aaaaaaaaaaaaaaaaaaaaaaa1"
	good := `{"product":"PA0001","quantity":2,"unitPrice":"10.50"}`
	tests := []struct {
		name, body, want string
	}{
		{"no deal id", orderBody("", "000001", "01", good), "dealId"},
		{"deal id too long", orderBody(strings.Repeat("a", 25), "000001", "01", good), "dealId"},
		{"unknown customer", orderBody(deal, "999999", "01", good), "customer 999999/01 not found"},
		{"blocked customer", orderBody(deal, "000025", "01", good), "A1_MSBLQL"},
		{"no items", orderBody(deal, "000001", "01"), "at least one item"},
		{"unknown product", orderBody(deal, "000001", "01", `{"product":"ZZ9999","quantity":1}`), "product ZZ9999 not found"},
		{"deleted product", orderBody(deal, "000001", "01", `{"product":"PA0040","quantity":1}`), "product PA0040 not found"},
		{"blocked product", orderBody(deal, "000001", "01", good, `{"product":"PA0005","quantity":1}`), "item 02: product PA0005 is blocked"},
		{"zero quantity", orderBody(deal, "000001", "01", `{"product":"PA0001","quantity":0}`), "C6_QTDVEN"},
		{"negative price", orderBody(deal, "000001", "01", `{"product":"PA0001","quantity":1,"unitPrice":-1}`), "C6_PRCVEN"},
		{"no payment terms", `{"dealId":"` + deal + `","customer":"000001","store":"01","items":[` + good + `]}`, "C5_CONDPAG"},
		{"unknown JSON field", `{"dealId":"` + deal + `","cliente":"000001"}`, "unknown field"},
		{"not JSON", `pedido`, "invalid"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, body, err := e.post(t, http.DefaultClient, tt.body)
			if err != nil {
				t.Fatal(err)
			}
			if status != http.StatusBadRequest || body["errorCode"] != float64(400) {
				t.Fatalf("answer %d %v, want 400 with errorCode 400", status, body)
			}
			text, _ := body["errorMessage"].(string)
			text += " " + body["detailedMessage"].(string)
			if !strings.Contains(text, tt.want) {
				t.Errorf("error %q does not mention %q", text, tt.want)
			}
		})
	}
	if n := e.ordersOfDeal(t, deal); n != 0 {
		t.Errorf("rejected requests created %d orders", n)
	}
}

func TestPostOrderCreatesOnceAndShowsOnGet(t *testing.T) {
	e := newEnv(t, restsim.Options{})
	needOrders(t, e)
	ctx := context.Background()
	const deal = "bbbbbbbbbbbbbbbbbbbbbbb2"
	body := orderBody(deal, "000001", "01", `{"product":"PA0001","quantity":"3.00","unitPrice":0.1}`, `{"product":"PA0002","quantity":2}`)
	status, first, err := e.post(t, http.DefaultClient, body)
	if err != nil || status != http.StatusCreated || first["created"] != true {
		t.Fatalf("first POST: %d %v %v", status, first, err)
	}
	num, _ := first["orderNumber"].(string)
	status, again, err := e.post(t, http.DefaultClient, body)
	if err != nil || status != http.StatusOK || again["orderNumber"] != num || again["created"] != false {
		t.Fatalf("repeated POST: %d %v %v, want 200 with order %s", status, again, err, num)
	}
	if n := e.ordersOfDeal(t, deal); n != 1 {
		t.Fatalf("%d orders for one deal", n)
	}
	// The order reads back over REST with exact money.
	spec := e.route("orders", "SC5")
	spec.Fields = nil
	hdr, ok, err := e.source(t, spec).Lookup(ctx, erp.JoinKey(fixture.OrderFilial, num))
	if err != nil || !ok || hdr.Fields["C5_XCRMID"] != deal || hdr.Fields["C5_CLIENTE"] != "000001" {
		t.Fatalf("order %s over REST: %+v %v %v", num, hdr, ok, err)
	}
	items, err := e.source(t, e.route("orderItems", "SC6")).Find(ctx, []erp.Match{{Column: "C6_NUM", Value: num}}, 100)
	if err != nil || len(items) != 2 {
		t.Fatalf("items: %v %v", items, err)
	}
	for _, tt := range []struct {
		field string
		item  int
		want  string
	}{
		{"C6_QTDVEN", 0, "3"}, {"C6_PRCVEN", 0, "0.1"}, {"C6_VALOR", 0, "0.3"},
		{"C6_PRCVEN", 1, "18.3"}, // no unitPrice: the DA1 price of table 001
	} {
		got, _ := items[tt.item].Fields[tt.field].(decimal.Decimal)
		if !got.Equal(decimal.RequireFromString(tt.want)) {
			t.Errorf("item %d %s = %s, want %s", tt.item+1, tt.field, got, tt.want)
		}
	}
}

func TestPostOrderTimeoutAfterCreate(t *testing.T) {
	e := newEnv(t, restsim.Options{})
	needOrders(t, e)
	const deal = "ccccccccccccccccccccccc3"
	body := orderBody(deal, "000001", "01", `{"product":"PA0001","quantity":1}`)
	e.sim.TimeoutAfterCreate(1)
	_, _, err := e.post(t, &http.Client{Timeout: 300 * time.Millisecond}, body)
	var ne interface{ Timeout() bool }
	if !errors.As(err, &ne) || !ne.Timeout() {
		t.Fatalf("err = %v, want a client timeout", err)
	}
	if n := e.ordersOfDeal(t, deal); n != 1 {
		t.Fatalf("after the timeout %d orders exist, want the 1 written before it", n)
	}
	status, again, err := e.post(t, http.DefaultClient, body)
	if err != nil || status != http.StatusOK || again["created"] != false {
		t.Fatalf("retry after the timeout: %d %v %v, want 200 with the existing order", status, again, err)
	}
	if n := e.ordersOfDeal(t, deal); n != 1 {
		t.Errorf("the retry made %d orders", n)
	}
}

func TestPostOrderFaultsAndAuth(t *testing.T) {
	e := newEnv(t, restsim.Options{})
	needOrders(t, e)
	const deal = "ddddddddddddddddddddddd4"
	body := orderBody(deal, "000001", "01", `{"product":"PA0001","quantity":1}`)
	e.sim.FailNext(1)
	status, out, err := e.post(t, http.DefaultClient, body)
	if err != nil || status != http.StatusInternalServerError || out["errorCode"] != float64(500) {
		t.Fatalf("faulted POST: %d %v %v", status, out, err)
	}
	if n := e.ordersOfDeal(t, deal); n != 0 {
		t.Fatalf("a 500 created %d orders", n)
	}
	resp, err := http.Post(e.url+"/orders", "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("POST without credentials: %d, want 401", resp.StatusCode)
	}
	// Concurrent POSTs of one deal make one order.
	var wg sync.WaitGroup
	created := make(chan bool, 6)
	for range 6 {
		wg.Go(func() {
			status, out, err := e.post(t, http.DefaultClient, body)
			if err != nil || (status != 200 && status != 201) {
				t.Errorf("concurrent POST: %d %v %v", status, out, err)
			}
			created <- out["created"] == true
		})
	}
	wg.Wait()
	close(created)
	n := 0
	for c := range created {
		if c {
			n++
		}
	}
	if n != 1 || e.ordersOfDeal(t, deal) != 1 {
		t.Errorf("6 concurrent POSTs: %d answered created, %d orders; want 1 and 1", n, e.ordersOfDeal(t, deal))
	}
}

func TestPostOrderInMemory(t *testing.T) {
	store := restsim.NewMemoryOrders()
	e := newEnv(t, restsim.Options{Orders: store})
	body := orderBody("eeeeeeeeeeeeeeeeeeeeeee5", "000001", "01", `{"product":"PA0001","quantity":1.5}`)
	for i, want := range []int{http.StatusCreated, http.StatusOK} {
		status, out, err := e.post(t, http.DefaultClient, body)
		if err != nil || status != want || out["orderNumber"] != "000001" {
			t.Fatalf("POST %d: %d %v %v", i+1, status, out, err)
		}
	}
	o, ok := store.Order("000001")
	if !ok || store.Len() != 1 || !o.Items[0].Value.Equal(decimal.RequireFromString("13.95")) {
		t.Fatalf("stored %+v (%d orders)", o, store.Len())
	}
}
