package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/erpbridge/erpbridge/erp/protheus/erpjob"
	"github.com/erpbridge/erpbridge/erp/protheus/fixture"
	"github.com/erpbridge/erpbridge/rdstation/crm"
)

// wonDealsE2EConfig enables orders → deals and won deals → staging.
const wonDealsE2EConfig = `[streams.orders]
enabled = true
filial = "01"
order_number_field = "Pedido ERP"
[won_deals]
enabled = true
sink = "staging"
filial = "01"
`

// minOrderCrashes is how many runs must die between the ERP's answer and
// the checkpoint.
const minOrderCrashes = 20

// TestCrashBetweenERPInsertAndCheckpointMakesOneOrderPerDeal wins deals in
// the simulator and runs the binary with a failpoint that exits (like a
// SIGKILL) right after the ERP accepted an order and before the store
// recorded it, at least minOrderCrashes times, with the ERP job running in
// between. Every deal must end with exactly one staging row, one ERP order
// and that order's number on the deal.
func TestCrashBetweenERPInsertAndCheckpointMakesOneOrderPerDeal(t *testing.T) {
	bin := erpbridgeBinary(t)
	dir := t.TempDir()
	fx, _, dsn := createFixture(t, fixture.SQLite, dir)
	sim := startSim(t, bin)
	cfg := writeConfig(t, dir, "sqlite", dsn, sim, wonDealsE2EConfig)
	ctx := context.Background()
	c, err := crm.New(crm.Config{BaseURL: sim.baseURL, Token: e2eToken, Budget: crm.NewBudget(crm.BudgetConfig{RequestsPerMinute: -1})})
	if err != nil {
		t.Fatal(err)
	}
	field, err := c.CreateCustomField(ctx, crm.CustomFieldInput{Label: "Pedido ERP", Type: "text", For: "deal"})
	if err != nil {
		t.Fatal(err)
	}
	if r := runBinary(t, bin, "sync", "-c", cfg); r.code != ExitOK && r.code != ExitPartial {
		t.Fatalf("first sync: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	orgs := map[string]string{}
	for o, err := range c.Organizations(ctx, crm.OrganizationQuery{}) {
		if err != nil {
			t.Fatal(err)
		}
		orgs[o.Name] = o.ID
	}
	var customers, products []string
	for name, id := range orgs {
		if strings.Contains(name, "(0000") {
			customers = append(customers, id)
		}
	}
	for p, err := range c.Products(ctx, crm.ProductQuery{}) {
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(p.Name, "PA0005") { // blocked in the ERP: MATA410 refuses it
			products = append(products, p.ID)
		}
	}
	if len(customers) < 5 || len(products) < 5 {
		t.Fatalf("the first sync made %d organizations and %d products", len(customers), len(products))
	}

	var won []string
	win := func(i int) {
		d, err := c.CreateDeal(ctx, crm.DealCreate{
			Deal:           crm.DealInput{Name: fmt.Sprintf("Venda CRM %02d", i)},
			OrganizationID: customers[i%len(customers)],
			Products: []crm.DealProductInput{{ProductID: products[i%len(products)],
				Amount: crm.DecimalPtr(decimal.RequireFromString("1.5")), Price: crm.DecimalPtr(decimal.RequireFromString("12.34"))}},
		})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := c.WinDeal(ctx, d.ID); err != nil {
			t.Fatal(err)
		}
		won = append(won, d.ID)
	}
	crashes, finished, kills := 0, 0, 0
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 0x776f6e))
	for i := 0; i < 3*minOrderCrashes && crashes < minOrderCrashes; i++ {
		win(2 * i)
		win(2*i + 1)
		cmd := exec.Command(bin, "sync", "--stream", "won_deals", "-c", cfg)
		if i%4 == 3 {
			// A real SIGKILL at a random moment of the run, too.
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			done := make(chan error, 1)
			go func() { done <- cmd.Wait() }()
			select {
			case err := <-done:
				t.Logf("iteration %d finished before the SIGKILL: %v", i, err)
			case <-time.After(time.Duration(20+rng.IntN(120)) * time.Millisecond):
				_ = cmd.Process.Kill()
				<-done
				kills++
			}
		} else {
			cmd.Env = append(os.Environ(), FailpointEnv+"=won_deals.after_submit", fmt.Sprintf("%s_SKIP=%d", FailpointEnv, i%3))
			out, err := cmd.CombinedOutput()
			if ee, ok := err.(*exec.ExitError); ok && ee.ExitCode() == 137 {
				crashes++
			} else {
				finished++
				t.Logf("iteration %d finished without reaching the failpoint: %v\n%s", i, err, out)
			}
		}
		if i%2 == 1 {
			if _, err := erpjob.Run(ctx, fx, erpjob.Options{}); err != nil {
				t.Fatal(err)
			}
		}
	}
	if crashes < minOrderCrashes {
		t.Fatalf("only %d runs crashed after an order was sent (%d finished)", crashes, finished)
	}

	// Settle: the ERP job and clean runs until every deal has its number.
	numbers := map[string]string{}
	for run := 1; run <= 5 && len(numbers) < len(won); run++ {
		if _, err := erpjob.Run(ctx, fx, erpjob.Options{}); err != nil {
			t.Fatal(err)
		}
		if r := runBinary(t, bin, "sync", "--stream", "won_deals", "-c", cfg); r.code != ExitOK {
			t.Fatalf("settling run %d: exit %d\n%s%s", run, r.code, r.stdout, r.stderr)
		}
		for _, id := range won {
			d, err := c.GetDeal(ctx, id)
			if err != nil {
				t.Fatal(err)
			}
			if v, ok := crm.FieldValue(d.CustomFields, field.ID); ok && v.Text() != "" {
				numbers[id] = v.Text()
			}
		}
	}
	staged, status := map[string]int{}, map[string]string{}
	for _, r := range rows(t, fx.DB, "SELECT ZB1_DEALID, ZB1_STATUS, ZB1_ERRO FROM ZB1010 WHERE D_E_L_E_T_ = ' '") {
		staged[r[0]]++
		status[r[0]] = r[1] + " " + r[2]
	}
	orders := map[string][]string{}
	for _, r := range rows(t, fx.DB, "SELECT C5_XCRMID, C5_NUM FROM SC5010 WHERE D_E_L_E_T_ = ' ' AND TRIM(C5_XCRMID) <> ''") {
		orders[r[0]] = append(orders[r[0]], r[1])
	}
	for _, id := range won {
		if staged[id] != 1 || len(orders[id]) != 1 {
			t.Errorf("deal %s: %d staging rows (status %s) and ERP orders %v; want exactly one of each", id, staged[id], status[id], orders[id])
			continue
		}
		if numbers[id] != orders[id][0] {
			t.Errorf("deal %s: number on the deal %q, ERP order %s", id, numbers[id], orders[id][0])
		}
	}
	t.Logf("%d deals, %d crashes after the ERP answered, %d SIGKILLs at random moments, %d runs finished first", len(won), crashes, kills, finished)

	// A won deal with a product the ERP does not have: exit 3, listed by
	// `errors list` with the deal and the product, due again after `retry`.
	p, err := c.CreateProduct(ctx, crm.ProductInput{Name: "Consultoria só no CRM", BasePrice: crm.DecimalPtr(decimal.NewFromInt(100))})
	if err != nil {
		t.Fatal(err)
	}
	d, err := c.CreateDeal(ctx, crm.DealCreate{Deal: crm.DealInput{Name: "Venda sem produto no ERP"}, OrganizationID: customers[0],
		Products: []crm.DealProductInput{{ProductID: p.ID, Amount: crm.DecimalPtr(decimal.NewFromInt(1)), Price: crm.DecimalPtr(decimal.NewFromInt(100))}}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.WinDeal(ctx, d.ID); err != nil {
		t.Fatal(err)
	}
	if r := runBinary(t, bin, "sync", "--stream", "won_deals", "-c", cfg); r.code != ExitPartial {
		t.Fatalf("sync with an unmappable won deal: exit %d, want %d\n%s%s", r.code, ExitPartial, r.stdout, r.stderr)
	}
	var listed bool
	for _, e := range readErrors(t, bin, cfg) {
		if e.Stream == "won_deals" && e.CRMID == d.ID && strings.Contains(e.Error, "Consultoria só no CRM") {
			listed = true
		}
	}
	if !listed {
		t.Errorf("errors list does not show won deal %s and its product: %+v", d.ID, readErrors(t, bin, cfg))
	}
	if r := runBinary(t, bin, "errors", "retry", "--stream", "won_deals", "-c", cfg); r.code != 0 || !strings.Contains(r.stdout, "1 records") {
		t.Errorf("errors retry: exit %d: %s%s", r.code, r.stdout, r.stderr)
	}
}
