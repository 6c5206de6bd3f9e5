package orders

import (
	"context"
	"net/http/httptest"
	"testing"

	"github.com/erpbridge/erpbridge/erp/protheus"
	"github.com/erpbridge/erpbridge/rdstation/crm"
	"github.com/erpbridge/erpbridge/rdstation/crm/target"
	"github.com/erpbridge/erpbridge/rdstation/rdsim"
)

// TestUnmappedStatusGoesToThePipelinesFirstStage: with a stage for one
// status only, every other status lands in the configured pipeline's first
// stage, not in the CRM's default pipeline.
func TestUnmappedStatusGoesToThePipelinesFirstStage(t *testing.T) {
	ctx := context.Background()
	sim := rdsim.New(rdsim.Options{Tokens: []string{"t"}, RequestsPerMinute: -1})
	srv := httptest.NewServer(sim)
	t.Cleanup(srv.Close)
	c, err := crm.New(crm.Config{BaseURL: srv.URL + "/api/v1", Token: "t", MaxRetries: -1,
		Budget: crm.NewBudget(crm.BudgetConfig{RequestsPerMinute: -1})})
	if err != nil {
		t.Fatal(err)
	}
	cfg := Default()
	cfg.Pipeline, cfg.Stages = "Funil de Pós-venda", map[string]string{"invoiced": "Renovação"}
	o := &orderMapper{}
	if err := orderSettings(ctx, cfg, target.NewSystem(c), o); err != nil {
		t.Fatal(err)
	}
	st := sim.State()
	if got, want := o.stages[protheus.StatusInvoiced], stageNamed(t, st, "Renovação"); got != want {
		t.Errorf("invoiced: stage %s, want %s", got, want)
	}
	for _, status := range []protheus.Status{protheus.StatusOpen, protheus.StatusBlocked, protheus.StatusResidueEliminated} {
		if got, want := o.stages[status], stageNamed(t, st, "Onboarding"); got != want {
			t.Errorf("%s (no stage configured): stage %s, want the pipeline's first, Onboarding (%s)", status, got, want)
		}
	}
}

func stageNamed(t *testing.T, st rdsim.State, name string) string {
	t.Helper()
	for _, s := range st.Stages {
		if s.Name == name {
			return s.ID
		}
	}
	t.Fatalf("no stage %q", name)
	return ""
}
