package crm

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
)

func dec(s string) *Decimal {
	d, err := ParseDecimal(s)
	if err != nil {
		panic(err)
	}
	return &d
}

func TestWriteBodies(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name       string
		call       func(*Client) error
		method     string
		path       string
		wantBody   string
		wantNoBody bool
	}{
		{name: "deal update sends the stage at the top level",
			call: func(c *Client) error {
				_, err := c.UpdateDeal(ctx, "d1", DealUpdate{DealStageID: "s2", Name: "Pedido 123",
					CustomFields: []CustomFieldValue{{CustomFieldID: "cf1", Value: "PV-123"}}})
				return err
			},
			method: "PUT", path: "/deals/d1",
			wantBody: `{"deal":{"name":"Pedido 123","deal_custom_fields":[{"custom_field_id":"cf1","value":"PV-123"}]},"deal_stage_id":"s2"}`},
		{name: "win",
			call:   func(c *Client) error { _, err := c.WinDeal(ctx, "d1"); return err },
			method: "PUT", path: "/deals/d1", wantBody: `{"deal":{"win":true}}`},
		{name: "lose with reason and note",
			call:   func(c *Client) error { _, err := c.LoseDeal(ctx, "d1", "lr1", "preço"); return err },
			method: "PUT", path: "/deals/d1",
			wantBody: `{"deal":{"win":false,"deal_lost_reason_id":"lr1","deal_lost_note":"preço"}}`},
		{name: "reopen sends win null",
			call:   func(c *Client) error { _, err := c.ReopenDeal(ctx, "d1"); return err },
			method: "PUT", path: "/deals/d1", wantBody: `{"deal":{"win":null}}`},
		{name: "deal create: stage inside deal, relations beside it",
			call: func(c *Client) error {
				_, err := c.CreateDeal(ctx, DealCreate{
					Deal:           DealInput{Name: "Pedido 123", DealStageID: "s1", UserID: "u1", Rating: Int(3)},
					OrganizationID: "o1", DealSourceID: "src1",
					Contacts: []ContactInput{{Name: "Ana", Emails: []Email{{Email: "ana@example.com"}}}},
					Products: []DealProductInput{{ProductID: "p1", Price: dec("10.10"), Amount: dec("2")}},
				})
				return err
			},
			method: "POST", path: "/deals",
			wantBody: `{"deal":{"name":"Pedido 123","deal_stage_id":"s1","user_id":"u1","rating":3},
				"organization":{"_id":"o1"},"deal_source":{"_id":"src1"},
				"contacts":[{"name":"Ana","emails":[{"email":"ana@example.com"}]}],
				"deal_products":[{"product_id":"p1","price":10.10,"amount":2,"discount":0,"discount_type":"value"}]}`},
		{name: "organization wrapped with custom fields by id",
			call: func(c *Client) error {
				_, err := c.CreateOrganization(ctx, OrganizationInput{Name: "Acme", Segments: []string{"Indústria"},
					CustomFields: []CustomFieldValue{{CustomFieldID: "cnpj", Value: "12.345.678/0001-90"}, {CustomFieldID: "old", Value: nil}}})
				return err
			},
			method: "POST", path: "/organizations",
			wantBody: `{"organization":{"name":"Acme","organization_segments":["Indústria"],
				"organization_custom_fields":[{"custom_field_id":"cnpj","value":"12.345.678/0001-90"},{"custom_field_id":"old","value":null}]}}`},
		{name: "product update wrapped, visible false sent",
			call: func(c *Client) error {
				_, err := c.UpdateProduct(ctx, "p1", ProductInput{Visible: Bool(false), BasePrice: dec("0.00")})
				return err
			},
			method: "PUT", path: "/products/p1", wantBody: `{"product":{"base_price":0,"visible":false}}`},
		{name: "contact wrapped with legal bases",
			call: func(c *Client) error {
				_, err := c.CreateContact(ctx, ContactInput{Name: "Ana", OrganizationID: "o1",
					Phones:     []Phone{{Phone: "+55 11 99999-0000", Type: "cellphone"}},
					LegalBases: []LegalBasis{{Category: LegalCategoryCommunications, Type: LegalTypeConsent, Status: LegalStatusGranted}}})
				return err
			},
			method: "POST", path: "/contacts",
			wantBody: `{"contact":{"name":"Ana","phones":[{"phone":"+55 11 99999-0000","type":"cellphone"}],"organization_id":"o1",
				"legal_bases":[{"category":"communications","type":"consent","status":"granted"}]}}`},
		{name: "deal stage unwrapped",
			call: func(c *Client) error {
				_, err := c.CreateDealStage(ctx, StageInput{DealPipelineID: "p1", Name: "Faturado", Order: Int(5)})
				return err
			},
			method: "POST", path: "/deal_stages", wantBody: `{"deal_pipeline_id":"p1","name":"Faturado","order":5}`},
		{name: "lost reason unwrapped",
			call:   func(c *Client) error { _, err := c.CreateLostReason(ctx, "Preço"); return err },
			method: "POST", path: "/deal_lost_reasons", wantBody: `{"name":"Preço"}`},
		{name: "deal product unwrapped with default discount",
			call: func(c *Client) error {
				_, err := c.CreateDealProduct(ctx, "d1", DealProductInput{ProductID: "p1", Price: dec("150"), Amount: dec("3"),
					Recurrence: RecurrenceSpare})
				return err
			},
			method: "POST", path: "/deals/d1/deal_products",
			wantBody: `{"product_id":"p1","price":150,"amount":3,"discount":0,"discount_type":"value","recurrence":"spare"}`},
		{name: "custom field wrapped",
			call: func(c *Client) error {
				_, err := c.CreateCustomField(ctx, CustomFieldInput{Label: "CNPJ", Type: FieldTypeText, For: ForOrganization, Unique: Bool(true)})
				return err
			},
			method: "POST", path: "/custom_fields", wantBody: `{"custom_field":{"label":"CNPJ","type":"text","for":"organization","unique":true}}`},
		{name: "delete deal product",
			call:   func(c *Client) error { return c.DeleteDealProduct(ctx, "d1", "dp1") },
			method: "DELETE", path: "/deals/d1/deal_products/dp1", wantNoBody: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := newTestAPI(t, func(w http.ResponseWriter, r *http.Request, n int) { reply(w, 200, `{"id":"x"}`) })
			c, _ := newTestClient(t, a)
			if err := tt.call(c); err != nil {
				t.Fatal(err)
			}
			reqs := a.requests()
			if len(reqs) != 1 {
				t.Fatalf("%d requests", len(reqs))
			}
			r := reqs[0]
			if r.Method != tt.method || r.Path != tt.path {
				t.Errorf("sent %s %s, want %s %s", r.Method, r.Path, tt.method, tt.path)
			}
			if tt.wantNoBody {
				if r.Body != "" {
					t.Errorf("body = %s, want none", r.Body)
				}
				return
			}
			jsonEqual(t, r.Body, tt.wantBody)
		})
	}
}

func TestBatchDealProductsSplitAt100(t *testing.T) {
	ctx := context.Background()
	a := newTestAPI(t, func(w http.ResponseWriter, r *http.Request, n int) {
		var in struct {
			DealProducts []map[string]any `json:"deal_products"`
		}
		if err := json.NewDecoder(r.Body).Decode(&in); err != nil || len(in.DealProducts) > MaxBatch {
			reply(w, 413, `{"errors":"too many"}`)
			return
		}
		var out []string
		for i := range in.DealProducts {
			out = append(out, fmt.Sprintf(`{"id":"dp-%d-%d","product_id":"p"}`, n, i))
		}
		reply(w, 201, `{"deal":{"id":"d1","name":"D","deal_products":[`+strings.Join(out, ",")+`]}}`)
	})
	c, _ := newTestClient(t, a)
	items := make([]DealProductInput, 250)
	for i := range items {
		items[i] = DealProductInput{ProductID: fmt.Sprintf("p%d", i), Price: dec("1.5"), Amount: dec("1")}
	}
	got, err := c.CreateDealProducts(ctx, "d1", items)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 250 {
		t.Errorf("%d deal products returned, want 250", len(got))
	}
	var sizes []int
	for _, r := range a.requests() {
		if r.Method != "POST" || r.Path != "/deals/d1/deal_products/batch" {
			t.Errorf("sent %s %s", r.Method, r.Path)
		}
		var in struct {
			DealProducts []map[string]any `json:"deal_products"`
		}
		_ = json.Unmarshal([]byte(r.Body), &in)
		sizes = append(sizes, len(in.DealProducts))
		if in.DealProducts[0]["discount_type"] != "value" {
			t.Errorf("first item = %v, want discount defaults", in.DealProducts[0])
		}
	}
	if fmt.Sprint(sizes) != "[100 100 50]" {
		t.Errorf("batch sizes = %v, want [100 100 50]", sizes)
	}

	ids := make([]string, 101)
	for i := range ids {
		ids[i] = fmt.Sprintf("dp%d", i)
	}
	if err := c.DeleteDealProducts(ctx, "d1", ids); err != nil {
		t.Fatal(err)
	}
	reqs := a.requests()
	last := reqs[len(reqs)-1]
	if len(reqs) != 5 || last.Method != "DELETE" || last.Path != "/deals/d1/deal_products/batch/destroy" {
		t.Fatalf("delete requests: %d, last %s %s", len(reqs)-3, last.Method, last.Path)
	}
	jsonEqual(t, last.Body, `{"deal_products":[{"id":"dp100"}]}`)
}
