package wiring

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/erpbridge/erpbridge/cmd/erpbridge/internal/components"

	"github.com/erpbridge/erpbridge/erp/protheus/erpjob"
	"github.com/erpbridge/erpbridge/rdstation/crm"
	"github.com/erpbridge/erpbridge/rdstation/rdsim"
)

// simPipelines returns the simulator's pipelines by name, with their
// stages in order.
func simPipelines(t *testing.T, sim *rdsim.Sim) map[string][]string {
	t.Helper()
	st := sim.State()
	out := map[string][]string{}
	ids := map[string]string{}
	for _, p := range st.Pipelines {
		ids[p.ID] = p.Name
		out[p.Name] = []string{p.ID}
	}
	for order := 1; order <= 12; order++ {
		for _, s := range st.Stages {
			if s.Order == order {
				out[ids[s.PipelineID]] = append(out[ids[s.PipelineID]], s.ID)
			}
		}
	}
	return out
}

// copyWonDeals sets, through the API as an admin would, the pipeline a
// pipeline copies its won deals into.
func copyWonDeals(t *testing.T, sim *rdsim.Sim, from, to string) {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"deal_pipeline": map[string]any{"config": map[string]any{"deal_won": map[string]any{"copy_to_pipeline": to}}}})
	rec := httptest.NewRecorder()
	sim.ServeHTTP(rec, httptest.NewRequest(http.MethodPut, "/api/v1/deal_pipelines/"+from+"?token="+simToken, strings.NewReader(string(body))))
	if rec.Code != http.StatusOK {
		t.Fatalf("setting copy_to_pipeline: %d %s", rec.Code, rec.Body)
	}
}

// TestWonDealsOfOtherPipelinesAndTheirCopiesMakeNoSecondOrder: the orders
// pipeline ("Funil de Vendas", the first: won_deals.pipelines is empty)
// copies its won deals into "Funil de Pós-venda". A deal won in the orders
// pipeline makes one ERP order; its copy, won in after-sales (or made won
// at once, under the simulator's WonCopyIsWon), and a deal won in
// after-sales, make none, and are counted as skipped.
func TestWonDealsOfOtherPipelinesAndTheirCopiesMakeNoSecondOrder(t *testing.T) {
	for _, copyIsWon := range []bool{false, true} {
		name := "open copy won later"
		if copyIsWon {
			name = "copy won at once"
		}
		t.Run(name, func(t *testing.T) {
			var pipes map[string][]string
			h := newHarness(t, sqliteBackend, harnessOptions{
				extraConfig: wonDealsConfig,
				fields:      []crm.CustomFieldInput{{Label: "Pedido ERP", Type: "text", For: "deal"}},
				seed:        &rdsim.SeedData{Users: []rdsim.User{{Name: "Vendedor Um", Email: sellerEmail, Active: true}}},
				configFor: func(h *harness) string {
					pipes = simPipelines(t, h.sim)
					copyWonDeals(t, h.sim, pipes[rdsim.DefaultPipelineName][0], pipes["Funil de Pós-venda"][0])
					h.sim.SetSwitches(rdsim.Switches{WonCopyIsWon: copyIsWon})
					return ""
				},
			})
			h.mustSync("first sync")
			first := runWon(h, "first poll") // the deals the orders stream made, won by invoiced orders

			sale := wonDeal(h, "Venda no funil de vendas", customerKey("000001", "01"), map[string][2]string{productKey("PA0001"): {"2", "10.30"}})
			afterSales := newDeal(h, pipes["Funil de Pós-venda"][1], "Renovação no pós-venda", customerKey("000003", "01"),
				map[string][2]string{productKey("PA0002"): {"1", "50"}})
			if _, err := h.crm.WinDeal(h.ctx, afterSales); err != nil {
				t.Fatal(err)
			}
			var copies []string
			for _, d := range h.sim.State().Deals {
				if d.Name == "Venda no funil de vendas" && d.ID != sale {
					copies = append(copies, d.ID)
				}
			}
			if len(copies) != 1 {
				t.Fatalf("the simulator made %d copies of the won deal, want 1", len(copies))
			}
			if !copyIsWon {
				if _, err := h.crm.WinDeal(h.ctx, copies[0]); err != nil { // won again in after-sales
					t.Fatal(err)
				}
			}
			rep := runWon(h, "poll")
			if rep.Sent != 1 || rep.OtherPipeline != first.OtherPipeline+2 {
				t.Errorf("poll: %+v, want 1 sent and the copy and the after-sales deal skipped", rep)
			}
			if _, err := erpjob.Run(h.ctx, h.erp, erpjob.Options{}); err != nil {
				t.Fatal(err)
			}
			if rep := runWon(h, "poll after the job"); rep.Ordered != 1 || rep.Sent != 0 {
				t.Errorf("poll after the job: %+v, want the one order's number written back", rep)
			}
			got := ordersOfDeal(h)
			if got[sale] != 1 || got[copies[0]] != 0 || got[afterSales] != 0 {
				t.Errorf("ERP orders by deal %v; want 1 for the sale, none for its copy %s or the after-sales deal %s", got, copies[0], afterSales)
			}
			for _, id := range []string{copies[0], afterSales} {
				if _, has, _ := h.bridge.Store.Writeback(h.ctx, id); has {
					t.Errorf("deal %s of another pipeline has a writeback", id)
				}
			}
		})
	}
}

// TestWonDealPipelinesRefuseAPipelineAndItsCopies: listing both the orders
// pipeline and the pipeline it copies its won deals into, or a pipeline the
// CRM lacks, stops the bridge opening, naming won_deals.pipelines.
func TestWonDealPipelinesRefuseAPipelineAndItsCopies(t *testing.T) {
	var pipes map[string][]string
	h := newHarness(t, sqliteBackend, harnessOptions{
		extraConfig: wonDealsConfig,
		fields:      []crm.CustomFieldInput{{Label: "Pedido ERP", Type: "text", For: "deal"}},
		configFor: func(h *harness) string {
			pipes = simPipelines(t, h.sim)
			copyWonDeals(t, h.sim, pipes[rdsim.DefaultPipelineName][0], pipes["Funil de Pós-venda"][0])
			return ""
		},
	})
	if err := h.bridge.Close(); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		pipelines []string
		want      []string
	}{
		{[]string{"funil de vendas", "Funil de Pós-venda"}, []string{"won_deals.pipelines", `"Funil de Vendas" copies its won deals into "Funil de Pós-venda"`,
			"second ERP order", `list only "Funil de Vendas"`}},
		{[]string{"Funil de Parceiros"}, []string{`won_deals.pipelines: the CRM has no pipeline "Funil de Parceiros" (it has: "Funil de Vendas", "Funil de Pós-venda")`}},
	} {
		components.WonDeals(h.cfg).Pipelines = tc.pipelines
		b, err := Open(h.ctx, h.cfg, Options{Clock: h.clk})
		if err == nil {
			b.Close()
			t.Errorf("pipelines %q: the bridge opened", tc.pipelines)
			continue
		}
		for _, w := range tc.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("pipelines %q: %v\nwant it to say %q", tc.pipelines, err, w)
			}
		}
	}
	components.WonDeals(h.cfg).Pipelines = []string{"Funil de Pós-venda"} // the copies only: one order per sale
	b, err := Open(h.ctx, h.cfg, Options{Clock: h.clk})
	if err != nil {
		t.Fatalf("pipelines [Funil de Pós-venda]: %v", err)
	}
	b.Close()
}
