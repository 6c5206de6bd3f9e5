package main

import (
	"bufio"
	"bytes"
	"context"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/erpbridge/erpbridge/erp/protheus/fixture"
	"github.com/erpbridge/erpbridge/rdstation/crm"
)

// startProtheusSim runs `erpbridge protheus-sim` over dsn and returns its
// base URL (…/rest).
func startProtheusSim(t *testing.T, bin, dsn string, args ...string) string {
	t.Helper()
	cmd := exec.Command(bin, append([]string{"protheus-sim", "--dsn", dsn, "--addr", "127.0.0.1:0"}, args...)...)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	found := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if url, ok := strings.CutPrefix(strings.TrimSpace(sc.Text()), "base URL:"); ok {
				found <- strings.TrimSpace(url)
			}
		}
		close(found)
	}()
	select {
	case url, ok := <-found:
		if !ok {
			t.Fatalf("protheus-sim exited: %s", stderr.String())
		}
		return url
	case <-time.After(15 * time.Second):
		t.Fatalf("protheus-sim did not start: %s", stderr.String())
	}
	return ""
}

// TestWonDealThroughTheRESTSink runs the binary with won_deals.sink =
// "rest" against `erpbridge protheus-sim`: the won deal becomes one SC5
// order and its number is on the deal; a second run sends nothing.
func TestWonDealThroughTheRESTSink(t *testing.T) {
	bin := erpbridgeBinary(t)
	dir := t.TempDir()
	fx, _, dsn := createFixture(t, fixture.SQLite, dir)
	sim := startSim(t, bin)
	rest := startProtheusSim(t, bin, dsn, "--user", "bridge", "--password", "s3cret", "--default-payment-terms", "001")
	cfg := writeConfig(t, dir, "sqlite", dsn, sim, `[streams.orders]
enabled = true
filial = "01"
order_number_field = "Pedido ERP"
[won_deals]
enabled = true
sink = "rest"
[won_deals.rest]
url = "`+rest+`/orders"
user = "bridge"
password = "s3cret"
`)
	ctx := context.Background()
	c, err := crm.New(crm.Config{BaseURL: sim.baseURL, Token: e2eToken, Budget: crm.NewBudget(crm.BudgetConfig{RequestsPerMinute: -1})})
	if err != nil {
		t.Fatal(err)
	}
	field, err := c.CreateCustomField(ctx, crm.CustomFieldInput{Label: "Pedido ERP", Type: "text", For: "deal"})
	if err != nil {
		t.Fatal(err)
	}
	if r := runBinary(t, bin, "check", "-c", cfg); !strings.Contains(r.stdout, "order route "+rest+"/orders answers") {
		t.Errorf("check does not confirm the order route:\n%s%s", r.stdout, r.stderr)
	}
	if r := runBinary(t, bin, "sync", "-c", cfg); r.code != ExitOK && r.code != ExitPartial {
		t.Fatalf("first sync: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	var org, prod string
	for o, err := range c.Organizations(ctx, crm.OrganizationQuery{}) {
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(o.Name, "(000001/01)") {
			org = o.ID
		}
	}
	for p, err := range c.Products(ctx, crm.ProductQuery{}) {
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(p.Name, "PA0001") {
			prod = p.ID
		}
	}
	d, err := c.CreateDeal(ctx, crm.DealCreate{Deal: crm.DealInput{Name: "Venda pela rota REST"}, OrganizationID: org,
		Products: []crm.DealProductInput{{ProductID: prod, Amount: crm.DecimalPtr(decimal.RequireFromString("2.35")), Price: crm.DecimalPtr(decimal.RequireFromString("10.10"))}}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.WinDeal(ctx, d.ID); err != nil {
		t.Fatal(err)
	}
	for i := range 2 {
		if r := runBinary(t, bin, "sync", "--stream", "won_deals", "-c", cfg); r.code != ExitOK {
			t.Fatalf("won deals run %d: exit %d\n%s%s", i+1, r.code, r.stdout, r.stderr)
		}
	}
	orders := rows(t, fx.DB, "SELECT C5_NUM FROM SC5010 WHERE D_E_L_E_T_ = ' ' AND C5_XCRMID = '"+d.ID+"'")
	if len(orders) != 1 {
		t.Fatalf("deal %s has %d ERP orders, want 1", d.ID, len(orders))
	}
	items := rows(t, fx.DB, "SELECT C6_QTDVEN, C6_PRCVEN FROM SC6010 WHERE C6_NUM = '"+orders[0][0]+"'")
	if len(items) != 1 || items[0][0] != "2.35" || items[0][1] != "10.1" {
		t.Errorf("order %s items %v, want 2.35 × 10.10", orders[0][0], items)
	}
	got, err := c.GetDeal(ctx, d.ID)
	if err != nil {
		t.Fatal(err)
	}
	if v, _ := crm.FieldValue(got.CustomFields, field.ID); v.Text() != orders[0][0] {
		t.Errorf("deal's order number %q, want %s", v.Text(), orders[0][0])
	}
}
