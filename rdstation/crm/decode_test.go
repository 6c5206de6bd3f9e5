package crm

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"
)

func TestReadShapes(t *testing.T) {
	ctx := context.Background()
	a := newTestAPI(t, func(w http.ResponseWriter, r *http.Request, n int) {
		switch r.URL.Path {
		case "/api/v1/products":
			reply(w, 200, `{"products":[{"_id":"p1","name":"Parafuso","base_price":"15.44","visible":true},
				{"_id":"p2","id":"p2","name":"Porca","base_price":0.1,"visible":false}],"has_more":false,"total":2}`)
		case "/api/v1/deal_lost_reasons":
			reply(w, 200, `{"deal_lost_reasons":[{"_id":"lr1","name":"Preço"}],"has_more":false,"total":1}`)
		case "/api/v1/organizations":
			reply(w, 200, `{"_id":"o1","id":"o1","name":"Acme","organization_custom_fields":[{"_id":"v1","custom_field_id":"cnpj","value":"12.345.678/0001-90"}]}`)
		case "/api/v1/deals/d1":
			reply(w, 200, `{"_id":"d1","id":"d1","name":"Pedido","win":null,"hold":null,"amount_montly":"12.30","amount_unique":100.05,
				"amount_total":"112.35","deal_stage":{"_id":"s1","id":"s1","name":"Novo","deal_pipeline_id":"pl1"},
				"deal_products":[{"_id":"dp1","id":"dp1","product_id":"p1","price":150,"amount":3,"discount":50,"discount_type":"value","total":400}],
				"deal_custom_fields":[{"custom_field_id":"tags","value":["a","b"]}]}`)
		case "/api/v1/deal_pipelines":
			reply(w, 200, `[{"id":"pl1","name":"Vendas","order":1,"deal_stages":[{"_id":"s1","id":"s1","name":"Novo","order":1}],"config":{"deal_won":{"copy_to_pipeline":null}}}]`)
		case "/api/v1/custom_fields":
			reply(w, 200, `[{"_id":"cf1","id":"cf1","label":"Tipo","type":"option","for":"deal","opts":["A",{"id":"2","label":"B"}]}]`)
		case "/api/v1/token/check":
			reply(w, 200, `{"email":"ana@example.com","name":"Ana","organization":{"name":"Acme Vendas"}}`)
		case "/api/v1/deal_stages":
			reply(w, 200, `{"deal_stages":[{"_id":"s1","id":"s1","name":"Novo","order":1,"deal_pipeline":{"id":"pl1","name":"Vendas"}}],"has_more":false,"total":1}`)
		}
	})
	c, _ := newTestClient(t, a)

	prods, err := collect(c.Products(ctx, ProductQuery{}))
	if err != nil || len(prods) != 2 {
		t.Fatalf("products = %+v, %v", prods, err)
	}
	if prods[0].ID != "p1" || prods[0].BasePrice.String() != "15.44" || prods[1].BasePrice.String() != "0.1" || prods[1].Visible {
		t.Errorf("products decoded as %+v", prods)
	}
	lrs, err := collect(c.LostReasons(ctx, NameQuery{}))
	if err != nil || len(lrs) != 1 || lrs[0].ID != "lr1" {
		t.Errorf("lost reasons = %+v, %v", lrs, err)
	}
	org, err := c.CreateOrganization(ctx, OrganizationInput{Name: "Acme"})
	if v, ok := FieldValue(org.CustomFields, "cnpj"); err != nil || !ok || v.Text() != "12.345.678/0001-90" {
		t.Errorf("organization = %+v, %v", org, err)
	}
	d, err := c.GetDeal(ctx, "d1")
	if err != nil {
		t.Fatal(err)
	}
	if d.Win != nil || d.AmountMonthly.String() != "12.3" || d.AmountTotal.String() != "112.35" || d.Stage.ID != "s1" ||
		d.Products[0].Total.String() != "400" || d.CustomFields[0].Text() != "a, b" {
		t.Errorf("deal = %+v", d)
	}
	pls, err := c.ListPipelines(ctx)
	if err != nil || len(pls) != 1 || pls[0].Stages[0].ID != "s1" {
		t.Errorf("pipelines = %+v, %v", pls, err)
	}
	cfs, err := c.ListCustomFields(ctx, ForDeal)
	if err != nil || len(cfs) != 1 || cfs[0].Options[0].Label != "A" || cfs[0].Options[1].Label != "B" {
		t.Errorf("custom fields = %+v, %v", cfs, err)
	}
	ti, err := c.CheckToken(ctx)
	if err != nil || ti.Email != "ana@example.com" || ti.Account != "Acme Vendas" {
		t.Errorf("token info = %+v, %v", ti, err)
	}
	st, err := c.ListDealStages(ctx, StageQuery{DealPipelineID: "pl1"})
	if err != nil || len(st.Items) != 1 || st.Items[0].DealPipelineID != "pl1" {
		t.Errorf("stages = %+v, %v", st, err)
	}
	if q := a.requests()[len(a.requests())-1].Query; q.Get("limit") != "12" {
		t.Errorf("stages limit = %q, want 12", q.Get("limit"))
	}
}

func TestDecimalIsExact(t *testing.T) {
	tests := []struct{ in, want string }{
		{`0.1`, `0.1`}, {`"15.44"`, `15.44`}, {`123456789012345.678901`, `123456789012345.678901`}, {`null`, `0`}, {`""`, `0`},
	}
	for _, tt := range tests {
		var d Decimal
		if err := json.Unmarshal([]byte(tt.in), &d); err != nil {
			t.Fatalf("%s: %v", tt.in, err)
		}
		out, _ := json.Marshal(d)
		if string(out) != tt.want {
			t.Errorf("%s round-tripped to %s, want %s", tt.in, out, tt.want)
		}
	}
	var d Decimal
	if err := json.Unmarshal([]byte(`"abc"`), &d); err == nil {
		t.Error("garbage decimal decoded without error")
	}
}

// TestPipelineCopyToPipeline reads config.deal_won.copy_to_pipeline in the
// shapes it may take ([U]): null, a pipeline id, {id} or {_id}; another
// shape is reported as unknown.
func TestPipelineCopyToPipeline(t *testing.T) {
	for _, tc := range []struct {
		config string
		id     string
		ok     bool
	}{
		{``, "", true},
		{`{"deal_won":{"copy_to_pipeline":null}}`, "", true},
		{`{}`, "", true},
		{`{"deal_won":{"copy_to_pipeline":"pl2"}}`, "pl2", true},
		{`{"deal_won":{"copy_to_pipeline":{"id":"pl2","name":"Pós-venda"}}}`, "pl2", true},
		{`{"deal_won":{"copy_to_pipeline":{"_id":"pl2"}}}`, "pl2", true},
		{`{"deal_won":{"copy_to_pipeline":42}}`, "", false},
		{`{"deal_won":"x"}`, "", false},
	} {
		p := Pipeline{ID: "pl1", Config: json.RawMessage(tc.config)}
		if id, ok := p.CopyToPipeline(); id != tc.id || ok != tc.ok {
			t.Errorf("config %s: CopyToPipeline() = %q, %v; want %q, %v", tc.config, id, ok, tc.id, tc.ok)
		}
	}
}
