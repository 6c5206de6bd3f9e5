package crm_test

// Contract tests: the CRM client against the simulator, both written from
// docs/rdstation-api.md §1. Every test runs the real client over HTTP
// against rdsim on a fake clock shared by both, with the simulator in strict
// body mode (a body in the shape the docs do not show is rejected), so a
// green run means the two agree on paths, body shapes, field names, error
// bodies and the rate window.

import (
	"cmp"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/shopspring/decimal"

	"github.com/erpbridge/erpbridge/rdstation/crm"
	"github.com/erpbridge/erpbridge/rdstation/rdsim"
)

// ---- token and users ----

func TestContractTokenCheck(t *testing.T) {
	for _, shape := range []string{"", "flat"} {
		t.Run("shape="+cmp.Or(shape, "nested"), func(t *testing.T) {
			h := newHarness(t, withSwitches(rdsim.Switches{StrictBodies: true, TokenCheckShape: shape}))
			info := try(h.c.CheckToken(ctxFor(t))).must(t)
			got := [3]string{info.Email, info.Name, info.Account}
			want := [3]string{rdsim.DefaultAdminEmail, rdsim.DefaultAdminName, rdsim.DefaultAccountName}
			if got != want {
				t.Errorf("token check = %q, want %q", got, want)
			}
		})
	}
}

func TestContractUsers(t *testing.T) {
	h := newHarness(t, withTokens(contractToken, "tok-second-user-5a1d"))
	ctx := ctxFor(t)

	page := try(h.c.ListUsers(ctx, crm.UserQuery{Active: crm.Bool(true)})).must(t)
	if len(page.Items) != 2 {
		t.Fatalf("active users = %d, want 2", len(page.Items))
	}
	u := try(h.c.FindUserByEmail(ctx, "  USER2@sim.example ")).must(t)
	if u.Name != "Sim User 2" || u.ID == "" {
		t.Errorf("user by e-mail = %+v, want Sim User 2 with an id", u)
	}
	admin := try(h.c.FindUserByEmail(ctx, rdsim.DefaultAdminEmail)).must(t)
	full := try(h.c.GetUser(ctx, admin.ID)).must(t)
	if full.Phone == "" || len(full.Teams) != 1 || full.Teams[0].Name != "Vendas" || full.Teams[0].ID == "" {
		t.Errorf("GetUser = %+v, want phone and team Vendas", full)
	}
	_, err := h.c.FindUserByEmail(ctx, "nobody@sim.example")
	apiError(t, err, crm.ErrNotFound)
}

// ---- body shapes per resource ----

// TestContractBodyShapes drives a write of every kind through the client
// against the strict simulator (which rejects an unwrapped body where the
// docs wrap it and ignores a wrapped one where they do not), then checks the
// top-level keys of each body the client sent.
func TestContractBodyShapes(t *testing.T) {
	h := newHarness(t)
	ctx := ctxFor(t)
	st := h.state()
	pipe, stages := h.pipeline(rdsim.DefaultPipelineName)
	sourceID := named(t, st.DealSources, "Site")
	campaignID := named(t, st.Campaigns, "Campanha Padrão")

	org := try(h.c.CreateOrganization(ctx, crm.OrganizationInput{Name: "Shape Org"})).must(t)
	try(h.c.UpdateOrganization(ctx, org.ID, crm.OrganizationInput{Resume: "Resumo"})).must(t)
	ct := try(h.c.CreateContact(ctx, crm.ContactInput{Name: "Shape Contact"})).must(t)
	try(h.c.UpdateContact(ctx, ct.ID, crm.ContactInput{Title: "Gerente"})).must(t)
	prod := try(h.c.CreateProduct(ctx, crm.ProductInput{Name: "Shape Product", BasePrice: money(t, "10.50")})).must(t)
	try(h.c.UpdateProduct(ctx, prod.ID, crm.ProductInput{Visible: crm.Bool(false)})).must(t)
	try(h.c.CreateCustomField(ctx, crm.CustomFieldInput{Label: "Shape Field", Type: crm.FieldTypeText, For: crm.ForDeal})).must(t)
	try(h.c.CreateDealSource(ctx, crm.NamedInput{Name: "Shape Source"})).must(t)
	try(h.c.CreateCampaign(ctx, crm.NamedInput{Name: "Shape Campaign"})).must(t)
	lr := try(h.c.CreateLostReason(ctx, "Shape Reason")).must(t)
	stage := try(h.c.CreateDealStage(ctx, crm.StageInput{DealPipelineID: pipe.ID, Name: "Shape Stage"})).must(t)
	try(h.c.UpdateDealStage(ctx, stage.ID, crm.StageInput{Name: "Shape Stage 2"})).must(t)
	deal := try(h.c.CreateDeal(ctx, crm.DealCreate{
		Deal:           crm.DealInput{Name: "Shape Deal", DealStageID: stages[0].ID},
		OrganizationID: org.ID, DealSourceID: sourceID, CampaignID: campaignID,
	})).must(t)
	try(h.c.UpdateDeal(ctx, deal.ID, crm.DealUpdate{Name: "Shape Deal 2", DealStageID: stages[1].ID})).must(t)
	dp := try(h.c.CreateDealProduct(ctx, deal.ID, crm.DealProductInput{ProductID: prod.ID, Price: money(t, "10")})).must(t)
	try(h.c.UpdateDealProduct(ctx, deal.ID, dp.ID, crm.DealProductInput{Amount: money(t, "2")})).must(t)
	batch := try(h.c.CreateDealProducts(ctx, deal.ID, []crm.DealProductInput{{ProductID: prod.ID, Price: money(t, "1")}})).must(t)
	try(h.c.UpdateDealProducts(ctx, deal.ID, []crm.DealProductInput{{ID: batch[0].ID, Price: money(t, "2")}})).must(t)
	if err := h.c.DeleteDealProducts(ctx, deal.ID, []string{batch[0].ID}); err != nil {
		t.Fatal(err)
	}

	// The simulator applied what was sent: the fields were read from the
	// shape the client chose.
	st = h.state()
	if got := named(t, st.LostReasons, "Shape Reason"); got != lr.ID {
		t.Errorf("lost reason id %s, want %s", lr.ID, got)
	}
	if d := h.simDeal(deal.ID); d.Name != "Shape Deal 2" || d.StageID != stages[1].ID || d.SourceID != sourceID || d.CampaignID != campaignID || d.OrganizationID != org.ID {
		t.Errorf("deal in the simulator = %+v", d)
	}

	tests := []struct {
		method, path string
		want         []string // top-level keys, sorted
	}{
		{"POST", "/organizations", []string{"organization"}},
		{"PUT", "/organizations/*", []string{"organization"}},
		{"POST", "/contacts", []string{"contact"}},
		{"PUT", "/contacts/*", []string{"contact"}},
		{"POST", "/products", []string{"product"}},
		{"PUT", "/products/*", []string{"product"}},
		{"POST", "/custom_fields", []string{"custom_field"}},
		{"POST", "/deal_sources", []string{"deal_source"}},
		{"POST", "/campaigns", []string{"campaign"}},
		{"POST", "/deal_lost_reasons", []string{"name"}},
		{"POST", "/deal_stages", []string{"deal_pipeline_id", "name"}},
		{"PUT", "/deal_stages/*", []string{"name"}},
		{"POST", "/deals", []string{"campaign", "deal", "deal_source", "organization"}},
		{"PUT", "/deals/*", []string{"deal", "deal_stage_id"}},
		{"POST", "/deals/*/deal_products", []string{"discount", "discount_type", "price", "product_id"}},
		{"PUT", "/deals/*/deal_products/*", []string{"amount"}},
		{"POST", "/deals/*/deal_products/batch", []string{"deal_products"}},
		{"PATCH", "/deals/*/deal_products/batch/update", []string{"deal_products"}},
		{"DELETE", "/deals/*/deal_products/batch/destroy", []string{"deal_products"}},
	}
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.path, func(t *testing.T) {
			body := h.rec.last(t, tt.method, tt.path).object(t)
			if got := slices.Sorted(maps.Keys(body)); !slices.Equal(got, tt.want) {
				t.Errorf("top-level keys %q, want %q (body %v)", got, tt.want, body)
			}
		})
	}
	// On create the stage sits inside "deal"; on update beside it.
	if inner := h.rec.last(t, "POST", "/deals").object(t)["deal"].(map[string]any); inner["deal_stage_id"] != stages[0].ID {
		t.Errorf("create body deal = %v, want deal_stage_id inside", inner)
	}
	if inner := h.rec.last(t, "PUT", "/deals/*").object(t)["deal"].(map[string]any); inner["deal_stage_id"] != nil {
		t.Errorf("update body deal = %v, want no deal_stage_id inside", inner)
	}

	// Control: the strict simulator does catch the wrong shapes, so the
	// green rows above mean something.
	if status, _ := h.raw("POST", "/organizations", map[string]any{"name": "Unwrapped Org"}); status != http.StatusBadRequest {
		t.Errorf("unwrapped organization: status %d, want 400", status)
	}
	if status, _ := h.raw("POST", "/deal_lost_reasons", map[string]any{"deal_lost_reason": map[string]any{"name": "Wrapped"}}); status != http.StatusUnprocessableEntity {
		t.Errorf("wrapped lost reason: status %d, want 422", status)
	}
}

// ---- organizations, contacts, products ----

func TestContractOrganizations(t *testing.T) {
	h := newHarness(t)
	ctx := ctxFor(t)
	admin := try(h.c.FindUserByEmail(ctx, rdsim.DefaultAdminEmail)).must(t)

	created := try(h.c.CreateOrganization(ctx, crm.OrganizationInput{
		Name: "Acme Indústria Ltda", Resume: "Cliente desde 2019", URL: "https://acme.example",
		Address: "Rua A, 1", Segments: []string{"Indústria"},
	})).must(t)
	got := try(h.c.GetOrganization(ctx, created.ID)).must(t)
	if got.ID != created.ID || got.Name != "Acme Indústria Ltda" || got.Resume != "Cliente desde 2019" ||
		got.URL != "https://acme.example" || got.Address != "Rua A, 1" || got.User == nil || got.User.ID != admin.ID {
		t.Errorf("GetOrganization = %+v", got)
	}
	if len(got.OrganizationSegments) != 1 || got.OrganizationSegments[0].Name != "Indústria" {
		t.Errorf("segments = %+v, want the auto-created Indústria", got.OrganizationSegments)
	}

	upd := try(h.c.UpdateOrganization(ctx, created.ID, crm.OrganizationInput{Resume: "Atualizado"})).must(t)
	if upd.Resume != "Atualizado" || upd.Name != "Acme Indústria Ltda" {
		t.Errorf("UpdateOrganization = %+v, want resume changed and name kept", upd)
	}
	if o := h.orgsNamed("Acme Indústria Ltda"); len(o) != 1 || o[0].Resume != "Atualizado" {
		t.Errorf("simulator holds %+v", o)
	}

	try(h.c.CreateOrganization(ctx, crm.OrganizationInput{Name: "Acme Serviços"})).must(t)
	page := try(h.c.ListOrganizations(ctx, crm.OrganizationQuery{Q: "acme", Limit: 1})).must(t)
	if len(page.Items) != 1 || !page.HasMore || page.Total != 2 {
		t.Errorf("first page of 1 = %d items, has_more %v, total %d; want 1, true, 2", len(page.Items), page.HasMore, page.Total)
	}
	found := try(h.c.FindOrganizationsByName(ctx, "  ACME indústria LTDA ")).must(t)
	if len(found) != 1 || found[0].ID != created.ID {
		t.Errorf("FindOrganizationsByName = %+v, want only %s", found, created.ID)
	}
}

func TestContractContacts(t *testing.T) {
	h := newHarness(t)
	ctx := ctxFor(t)
	org := try(h.c.CreateOrganization(ctx, crm.OrganizationInput{Name: "Contatos Org"})).must(t)

	ct := try(h.c.CreateContact(ctx, crm.ContactInput{
		Name: "Maria Silva", Title: "Compras", OrganizationID: org.ID,
		Emails: []crm.Email{{Email: "maria@acme.example"}},
		Phones: []crm.Phone{{Phone: "(11) 3333-4444", Type: "work"}},
		LegalBases: []crm.LegalBasis{{Category: crm.LegalCategoryCommunications, Type: crm.LegalTypeConsent,
			Status: crm.LegalStatusGranted}},
	})).must(t)
	got := try(h.c.GetContact(ctx, ct.ID)).must(t)
	if got.Name != "Maria Silva" || got.OrganizationID != org.ID || len(got.Emails) != 1 || len(got.Phones) != 1 ||
		got.Phones[0].Type != "work" || len(got.LegalBases) != 1 || got.LegalBases[0].Status != crm.LegalStatusGranted {
		t.Errorf("GetContact = %+v", got)
	}
	if upd := try(h.c.UpdateContact(ctx, ct.ID, crm.ContactInput{Title: "Diretora"})).must(t); upd.Title != "Diretora" || upd.Name != "Maria Silva" {
		t.Errorf("UpdateContact = %+v", upd)
	}
	found := try(h.c.FindContactsByEmail(ctx, "MARIA@acme.example")).must(t)
	if len(found) != 1 || found[0].ID != ct.ID {
		t.Errorf("FindContactsByEmail = %+v, want %s", found, ct.ID)
	}
	if none := try(h.c.FindContactsByEmail(ctx, "other@acme.example")).must(t); len(none) != 0 {
		t.Errorf("unknown e-mail found %+v", none)
	}
	if page := try(h.c.ListContacts(ctx, crm.ContactQuery{Q: "silva"})).must(t); len(page.Items) != 1 || page.Total != 1 {
		t.Errorf("ListContacts q=silva = %+v", page)
	}
}

func TestContractProducts(t *testing.T) {
	for _, asString := range []bool{false, true} {
		t.Run(fmt.Sprintf("base_price_as_string=%v", asString), func(t *testing.T) {
			h := newHarness(t, withSwitches(rdsim.Switches{StrictBodies: true, BasePriceAsString: asString}))
			ctx := ctxFor(t)
			p := try(h.c.CreateProduct(ctx, crm.ProductInput{Name: "Parafuso M8", Description: "Aço", BasePrice: money(t, "15.44")})).must(t)
			decEqual(t, "created base_price", p.BasePrice, dec(t, "15.44"))
			if !p.Visible {
				t.Error("a new product is not visible")
			}
			hidden := try(h.c.UpdateProduct(ctx, p.ID, crm.ProductInput{Visible: crm.Bool(false)})).must(t)
			if hidden.Visible {
				t.Error("UpdateProduct visible=false left it visible")
			}
			got := try(h.c.GetProduct(ctx, p.ID)).must(t)
			decEqual(t, "read base_price", got.BasePrice, dec(t, "15.44"))
			if got.Visible || got.Description != "Aço" {
				t.Errorf("GetProduct = %+v", got)
			}
			if page := try(h.c.ListProducts(ctx, crm.ProductQuery{})).must(t); len(page.Items) != 1 {
				t.Errorf("ListProducts = %d items, want 1", len(page.Items))
			}
			if found := try(h.c.FindProductsByName(ctx, "parafuso m8")).must(t); len(found) != 1 || found[0].ID != p.ID {
				t.Errorf("FindProductsByName = %+v", found)
			}
		})
	}
}

// ---- validation quirks ----

func TestContractUniqueNames(t *testing.T) {
	for _, body := range []string{"", "typed", "flat"} {
		t.Run("duplicate_name_body="+cmp.Or(body, "field"), func(t *testing.T) {
			h := newHarness(t, withSwitches(rdsim.Switches{StrictBodies: true, DuplicateNameBody: body}))
			ctx := ctxFor(t)
			try(h.c.CreateOrganization(ctx, crm.OrganizationInput{Name: "Acme Ltda"})).must(t)
			other := try(h.c.CreateOrganization(ctx, crm.OrganizationInput{Name: "Outra Ltda"})).must(t)
			try(h.c.CreateProduct(ctx, crm.ProductInput{Name: "Widget"})).must(t)

			for _, tt := range []struct {
				name string
				call func() error
			}{
				{"organization", func() error {
					_, err := h.c.CreateOrganization(ctx, crm.OrganizationInput{Name: "  acme LTDA "})
					return err
				}},
				{"organization renamed", func() error {
					_, err := h.c.UpdateOrganization(ctx, other.ID, crm.OrganizationInput{Name: "ACME LTDA"})
					return err
				}},
				{"product", func() error {
					_, err := h.c.CreateProduct(ctx, crm.ProductInput{Name: "WIDGET"})
					return err
				}},
			} {
				t.Run(tt.name, func(t *testing.T) {
					e := apiError(t, tt.call(), crm.ErrValidation)
					if e.Status != http.StatusUnprocessableEntity {
						t.Errorf("status %d, want 422", e.Status)
					}
					if body == "flat" {
						// The flat body names no field; the message says it all.
						if !strings.Contains(e.Message, "already been taken") {
							t.Errorf("message %q, want the duplicate-name message", e.Message)
						}
						return
					}
					if msgs := e.Fields["name"]; !slices.Contains(msgs, "has already been taken") {
						t.Errorf("Fields = %v, want name: has already been taken", e.Fields)
					}
				})
			}
			if n := len(h.orgsNamed("Acme Ltda")); n != 1 {
				t.Errorf("%d organizations named Acme Ltda, want 1", n)
			}
			if o := h.orgsNamed("Outra Ltda"); len(o) != 1 {
				t.Errorf("the refused rename changed Outra Ltda: %+v", o)
			}
		})
	}
}

func TestContractTextFieldsNeedTwoCharacters(t *testing.T) {
	h := newHarness(t)
	ctx := ctxFor(t)
	pipe, stages := h.pipeline(rdsim.DefaultPipelineName)
	before := h.state()

	tests := []struct {
		name, field string
		call        func() error
	}{
		{"organization", "name", func() error {
			_, err := h.c.CreateOrganization(ctx, crm.OrganizationInput{Name: "A"})
			return err
		}},
		{"organization resume", "resume", func() error {
			_, err := h.c.CreateOrganization(ctx, crm.OrganizationInput{Name: "Nome Válido", Resume: "R"})
			return err
		}},
		{"contact", "name", func() error {
			_, err := h.c.CreateContact(ctx, crm.ContactInput{Name: "B"})
			return err
		}},
		{"product", "name", func() error {
			_, err := h.c.CreateProduct(ctx, crm.ProductInput{Name: "C"})
			return err
		}},
		{"deal", "name", func() error {
			_, err := h.c.CreateDeal(ctx, crm.DealCreate{Deal: crm.DealInput{Name: "D", DealStageID: stages[0].ID}})
			return err
		}},
		{"deal source", "name", func() error {
			_, err := h.c.CreateDealSource(ctx, crm.NamedInput{Name: "E"})
			return err
		}},
		{"campaign", "name", func() error {
			_, err := h.c.CreateCampaign(ctx, crm.NamedInput{Name: "F"})
			return err
		}},
		{"lost reason", "name", func() error {
			_, err := h.c.CreateLostReason(ctx, "G")
			return err
		}},
		{"lost reason over 40", "name", func() error {
			_, err := h.c.CreateLostReason(ctx, strings.Repeat("x", 41))
			return err
		}},
		{"stage", "name", func() error {
			_, err := h.c.CreateDealStage(ctx, crm.StageInput{DealPipelineID: pipe.ID, Name: "H"})
			return err
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := apiError(t, tt.call(), crm.ErrValidation)
			if len(e.Fields[tt.field]) == 0 {
				t.Errorf("Fields = %v, want a message for %q", e.Fields, tt.field)
			}
		})
	}
	after := h.state()
	counts := func(s rdsim.State) []int {
		return []int{len(s.Organizations), len(s.Contacts), len(s.Products), len(s.Deals), len(s.DealSources),
			len(s.Campaigns), len(s.LostReasons), len(s.Stages)}
	}
	if !slices.Equal(counts(before), counts(after)) {
		t.Errorf("record counts %v → %v: a refused write created something", counts(before), counts(after))
	}
	// Two characters are enough.
	try(h.c.CreateOrganization(ctx, crm.OrganizationInput{Name: "AB"})).must(t)
	try(h.c.CreateLostReason(ctx, strings.Repeat("y", 40))).must(t)
}

func TestContractCustomFields(t *testing.T) {
	h := newHarness(t)
	ctx := ctxFor(t)
	text := try(h.c.CreateCustomField(ctx, crm.CustomFieldInput{Label: "Apelido", Type: crm.FieldTypeText, For: crm.ForOrganization})).must(t)
	date := try(h.c.CreateCustomField(ctx, crm.CustomFieldInput{Label: "Fundação", Type: crm.FieldTypeDate, For: crm.ForOrganization})).must(t)
	option := try(h.c.CreateCustomField(ctx, crm.CustomFieldInput{Label: "Porte", Type: crm.FieldTypeOption,
		For: crm.ForOrganization, Options: []string{"Pequeno", "Médio", "Grande"}})).must(t)
	multi := try(h.c.CreateCustomField(ctx, crm.CustomFieldInput{Label: "Canais", Type: crm.FieldTypeMultipleChoice,
		For: crm.ForOrganization, Options: []string{"Loja", "Site"}})).must(t)
	dealField := try(h.c.CreateCustomField(ctx, crm.CustomFieldInput{Label: "Pedido ERP", Type: crm.FieldTypeText, For: crm.ForDeal})).must(t)

	fields := try(h.c.ListCustomFields(ctx, crm.ForOrganization)).must(t)
	var labels []string
	for _, f := range fields {
		labels = append(labels, f.Label)
	}
	if want := []string{"Apelido", "Fundação", "Porte", "Canais"}; !slices.Equal(labels, want) {
		t.Errorf("organization fields %q, want %q", labels, want)
	}
	if i := slices.IndexFunc(fields, func(f crm.CustomField) bool { return f.ID == option.ID }); i < 0 ||
		len(fields[i].Options) != 3 || fields[i].Options[1].Label != "Médio" || fields[i].Type != crm.FieldTypeOption {
		t.Errorf("option field as listed: %+v", fields)
	}
	if deal := try(h.c.ListCustomFields(ctx, crm.ForDeal)).must(t); len(deal) != 1 || deal[0].ID != dealField.ID {
		t.Errorf("deal fields = %+v", deal)
	}

	n := 0
	create := func(id string, v any) error {
		n++
		_, err := h.c.CreateOrganization(ctx, crm.OrganizationInput{Name: fmt.Sprintf("Campos %02d", n),
			CustomFields: []crm.CustomFieldValue{{CustomFieldID: id, Value: v}}})
		return err
	}
	tests := []struct {
		name  string
		field crm.CustomField
		value any
		ok    bool
	}{
		{"date DD/MM/YYYY", date, "02/03/2026", true},
		{"date ISO", date, "2026-03-02", false},
		{"date D/M/YYYY", date, "2/3/2026", false},
		{"option exact case", option, "Médio", true},
		{"option other case", option, "médio", false},
		{"option unknown", option, "Enorme", false},
		{"text two chars", text, "AB", true},
		{"text one char", text, "A", false},
		{"multiple choice exact", multi, []string{"Loja", "Site"}, true},
		{"multiple choice other case", multi, []string{"Loja", "site"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := create(tt.field.ID, tt.value)
			if tt.ok {
				if err != nil {
					t.Fatalf("valid value refused: %v", err)
				}
				return
			}
			e := apiError(t, err, crm.ErrValidation)
			if len(e.Fields[tt.field.Label]) == 0 {
				t.Errorf("Fields = %v, want a message under the label %q", e.Fields, tt.field.Label)
			}
		})
	}

	// Values round-trip, and an unknown field id is the documented 400.
	org := try(h.c.CreateOrganization(ctx, crm.OrganizationInput{Name: "Campos Completos",
		CustomFields: []crm.CustomFieldValue{{CustomFieldID: date.ID, Value: "31/12/1999"}, {CustomFieldID: multi.ID, Value: []string{"Site"}}}})).must(t)
	got := try(h.c.GetOrganization(ctx, org.ID)).must(t)
	if v, ok := crm.FieldValue(got.CustomFields, date.ID); !ok || v.Text() != "31/12/1999" {
		t.Errorf("date value read back = %+v, %v", v, ok)
	}
	if v, ok := crm.FieldValue(got.CustomFields, multi.ID); !ok || v.Text() != "Site" {
		t.Errorf("multiple choice value read back = %+v, %v", v, ok)
	}
	e := apiError(t, create("0123456789abcdef01234567", "x"), crm.ErrBadRequest)
	if e.Status != http.StatusBadRequest || !strings.Contains(e.Message, "Could not find a custom field") {
		t.Errorf("unknown field: status %d message %q", e.Status, e.Message)
	}
	// A deal field on an organization is unknown there too.
	apiError(t, create(dealField.ID, "Pedido 1"), crm.ErrBadRequest)
}

// ---- pipelines, stages, catalogues ----

func TestContractPipelinesAndStages(t *testing.T) {
	h := newHarness(t)
	ctx := ctxFor(t)
	pipes := try(h.c.ListPipelines(ctx)).must(t)
	if len(pipes) != 2 || pipes[0].Name != rdsim.DefaultPipelineName || len(pipes[0].Stages) != 5 || len(pipes[1].Stages) != 3 {
		t.Fatalf("pipelines = %+v", pipes)
	}
	for _, s := range pipes[0].Stages {
		if s.ID == "" || s.Name == "" {
			t.Errorf("embedded stage without id or name: %+v", s)
		}
	}

	def := try(h.c.ListDealStages(ctx, crm.StageQuery{})).must(t)
	if len(def.Items) != 5 || def.Items[0].Name != "Sem contato" || def.Items[0].DealPipelineID != pipes[0].ID {
		t.Errorf("default pipeline stages = %+v", def.Items)
	}
	post := pipes[1]
	created := try(h.c.CreateDealStage(ctx, crm.StageInput{DealPipelineID: post.ID, Name: "Expansão", Objective: "Upsell"})).must(t)
	if created.DealPipelineID != post.ID || created.Order != 4 {
		t.Errorf("CreateDealStage = %+v, want order 4 in %s", created, post.ID)
	}
	upd := try(h.c.UpdateDealStage(ctx, created.ID, crm.StageInput{Name: "Expansão de conta", Order: crm.Int(9)})).must(t)
	if upd.Name != "Expansão de conta" || upd.Order != 9 || upd.Objective != "Upsell" {
		t.Errorf("UpdateDealStage = %+v", upd)
	}
	var names []string
	for s, err := range h.c.DealStages(ctx, crm.StageQuery{DealPipelineID: post.ID}) {
		if err != nil {
			t.Fatal(err)
		}
		names = append(names, s.Name)
	}
	if want := []string{"Onboarding", "Acompanhamento", "Renovação", "Expansão de conta"}; !slices.Equal(names, want) {
		t.Errorf("stages of %s = %q, want %q", post.Name, names, want)
	}
	// The stage listing asks for at most 12 a page.
	if limit := h.rec.last(t, "GET", "/deal_stages").Query.Get("limit"); limit != "12" {
		t.Errorf("stage listing limit=%s, want 12", limit)
	}
}

func TestContractCatalogues(t *testing.T) {
	h := newHarness(t)
	ctx := ctxFor(t)

	src := try(h.c.CreateDealSource(ctx, crm.NamedInput{Name: "Feira 2026", Description: "Stand"})).must(t)
	srcs := try(h.c.ListDealSources(ctx, crm.NameQuery{Q: "feira"})).must(t)
	if len(srcs.Items) != 1 || srcs.Items[0].ID != src.ID || srcs.Items[0].Description != "Stand" {
		t.Errorf("deal sources q=feira = %+v", srcs.Items)
	}

	var sources []string
	for s, err := range h.c.DealSources(ctx, crm.NameQuery{}) {
		if err != nil {
			t.Fatal(err)
		}
		sources = append(sources, s.Name)
	}
	if want := []string{"Site", "Feira 2026"}; !slices.Equal(sources, want) {
		t.Errorf("deal sources = %q, want %q", sources, want)
	}

	camp := try(h.c.CreateCampaign(ctx, crm.NamedInput{Name: "Black Friday", Description: "Novembro"})).must(t)
	if page := try(h.c.ListCampaigns(ctx, crm.NameQuery{Q: "black"})).must(t); len(page.Items) != 1 ||
		page.Items[0].ID != camp.ID || page.Items[0].Description != "Novembro" {
		t.Errorf("campaigns q=black = %+v", page.Items)
	}
	var campaigns []string
	for c, err := range h.c.Campaigns(ctx, crm.NameQuery{}) {
		if err != nil {
			t.Fatal(err)
		}
		campaigns = append(campaigns, c.Name)
	}
	if !slices.Contains(campaigns, "Campanha Padrão") || !slices.Contains(campaigns, camp.Name) {
		t.Errorf("campaigns = %q", campaigns)
	}

	lr := try(h.c.CreateLostReason(ctx, "Prazo de entrega")).must(t)
	if lr.ID == "" {
		t.Error("a lost reason answered with only _id has no ID")
	}
	var reasons []crm.LostReason
	for r, err := range h.c.LostReasons(ctx, crm.NameQuery{}) {
		if err != nil {
			t.Fatal(err)
		}
		reasons = append(reasons, r)
	}
	if len(reasons) != 5 || !slices.ContainsFunc(reasons, func(r crm.LostReason) bool { return r.ID == lr.ID && r.Name == "Prazo de entrega" }) {
		t.Errorf("lost reasons = %+v, want the 4 seeded and the new one", reasons)
	}
	if page := try(h.c.ListLostReasons(ctx, crm.NameQuery{Q: "preço"})).must(t); len(page.Items) != 1 || page.Items[0].ID == "" {
		t.Errorf("lost reasons q=preço = %+v", page.Items)
	}
}

// ---- deals ----

// TestContractDealStageMovesOnUpdate proves the quirk end to end: inside
// "deal" the simulator ignores deal_stage_id on update (as the API does),
// and the client's UpdateDeal still moves the deal.
func TestContractDealStageMovesOnUpdate(t *testing.T) {
	h := newHarness(t)
	ctx := ctxFor(t)
	_, stages := h.pipeline(rdsim.DefaultPipelineName)

	d := try(h.c.CreateDeal(ctx, crm.DealCreate{Deal: crm.DealInput{Name: "Mover", DealStageID: stages[1].ID}})).must(t)
	if got := h.simDeal(d.ID).StageID; got != stages[1].ID {
		t.Fatalf("created in stage %s, want %s (stage inside deal on create)", got, stages[1].ID)
	}

	status, _ := h.raw("PUT", "/deals/"+d.ID, map[string]any{"deal": map[string]any{"deal_stage_id": stages[3].ID}})
	if status != http.StatusOK {
		t.Fatalf("control PUT status %d, want 200", status)
	}
	if got := h.simDeal(d.ID).StageID; got != stages[1].ID {
		t.Fatalf("control: stage inside deal moved the deal to %s; the simulator lost the quirk", got)
	}

	upd := try(h.c.UpdateDeal(ctx, d.ID, crm.DealUpdate{DealStageID: stages[3].ID})).must(t)
	if got := h.simDeal(d.ID).StageID; got != stages[3].ID {
		t.Fatalf("after UpdateDeal the simulator has stage %s, want %s", got, stages[3].ID)
	}
	if upd.Stage == nil || upd.Stage.ID != stages[3].ID {
		t.Errorf("UpdateDeal answered stage %+v, want %s", upd.Stage, stages[3].ID)
	}
	if got := try(h.c.GetDeal(ctx, d.ID)).must(t); got.Stage == nil || got.Stage.ID != stages[3].ID || got.Pipeline == nil {
		t.Errorf("GetDeal stage %+v pipeline %+v", got.Stage, got.Pipeline)
	}
}

func TestContractDealLifecycle(t *testing.T) {
	h := newHarness(t)
	ctx := ctxFor(t)
	st := h.state()
	_, stages := h.pipeline(rdsim.DefaultPipelineName)
	reasonID := named(t, st.LostReasons, "Preço")
	field := try(h.c.CreateCustomField(ctx, crm.CustomFieldInput{Label: "Pedido ERP", Type: crm.FieldTypeText, For: crm.ForDeal})).must(t)
	org := try(h.c.CreateOrganization(ctx, crm.OrganizationInput{Name: "Cliente Ciclo"})).must(t)
	license := try(h.c.CreateProduct(ctx, crm.ProductInput{Name: "Licença", BasePrice: money(t, "99.90")})).must(t)
	setup := try(h.c.CreateProduct(ctx, crm.ProductInput{Name: "Implantação", BasePrice: money(t, "1500")})).must(t)

	d := try(h.c.CreateDeal(ctx, crm.DealCreate{
		Deal: crm.DealInput{Name: "Ciclo", DealStageID: stages[0].ID, Rating: crm.Int(3), PredictionDate: "2026-04-30",
			CustomFields: []crm.CustomFieldValue{{CustomFieldID: field.ID, Value: "PV-0001"}}},
		OrganizationID: org.ID,
		Contacts:       []crm.ContactInput{{Name: "João Souza", Emails: []crm.Email{{Email: "joao@cliente.example"}}}},
		Products: []crm.DealProductInput{
			{ProductID: license.ID, Price: money(t, "99.90"), Amount: money(t, "3"), Recurrence: crm.RecurrenceMonthly},
			{ProductID: setup.ID, Price: money(t, "1500"), Discount: money(t, "10"), DiscountType: crm.DiscountPercent},
		},
	})).must(t)
	// amount_montly (sic) carries the monthly products, amount_unique the
	// one-off ones; posted totals do not exist, products decide.
	decEqual(t, "amount_montly", d.AmountMonthly, dec(t, "299.70"))
	decEqual(t, "amount_unique", d.AmountUnique, dec(t, "1350"))
	decEqual(t, "amount_total", d.AmountTotal, dec(t, "1649.70"))
	if d.Organization == nil || d.Organization.ID != org.ID || len(d.Contacts) != 1 || d.Rating != 3 || d.PredictionDate != "2026-04-30" {
		t.Errorf("created deal = %+v", d)
	}
	if v, ok := crm.FieldValue(d.CustomFields, field.ID); !ok || v.Text() != "PV-0001" {
		t.Errorf("deal custom field = %+v, %v", v, ok)
	}
	if _, raw := h.raw("GET", "/deals/"+d.ID, nil); raw["amount_montly"] == nil || raw["amount_monthly"] != nil {
		t.Errorf("the simulator's deal spells amount_montly? got keys %q", slices.Sorted(maps.Keys(raw)))
	}
	if c := h.state().Contacts; len(c) != 1 || c[0].OrganizationID != org.ID {
		t.Errorf("deal create made contacts %+v, want one linked to the organization", c)
	}

	won := try(h.c.WinDeal(ctx, d.ID)).must(t)
	if won.Win == nil || !*won.Win || won.ClosedAt == "" {
		t.Errorf("WinDeal = win %v closed_at %q", won.Win, won.ClosedAt)
	}
	if s := h.simDeal(d.ID); s.Win == nil || !*s.Win || s.ClosedAt == nil {
		t.Errorf("simulator after win: %+v", s)
	}

	reopened := try(h.c.ReopenDeal(ctx, d.ID)).must(t)
	if reopened.Win != nil || reopened.ClosedAt != "" {
		t.Errorf("ReopenDeal = win %v closed_at %q, want open", reopened.Win, reopened.ClosedAt)
	}
	if body := string(h.rec.last(t, "PUT", "/deals/*").Body); body != `{"deal":{"win":null}}` {
		t.Errorf("reopen body %s, want win:null", body)
	}
	if s := h.simDeal(d.ID); s.Win != nil || s.ClosedAt != nil {
		t.Errorf("simulator after reopen: win %v closed_at %v", s.Win, s.ClosedAt)
	}

	lost := try(h.c.LoseDeal(ctx, d.ID, reasonID, "Achou caro")).must(t)
	if lost.Win == nil || *lost.Win || lost.LostReasonID != reasonID || lost.LostNote != "Achou caro" {
		t.Errorf("LoseDeal = %+v", lost)
	}
	if s := h.simDeal(d.ID); s.Win == nil || *s.Win || s.LostReasonID != reasonID || s.ClosedAt == nil {
		t.Errorf("simulator after lose: %+v", s)
	}

	try(h.c.ReopenDeal(ctx, d.ID)).must(t)
	if s := h.simDeal(d.ID); s.LostReasonID != "" {
		t.Errorf("reopening kept lost reason %s", s.LostReasonID)
	}
	paused := try(h.c.UpdateDeal(ctx, d.ID, crm.DealUpdate{Hold: crm.True})).must(t)
	if paused.Hold == nil || !*paused.Hold {
		t.Errorf("hold:true = %v", paused.Hold)
	}
	resumed := try(h.c.UpdateDeal(ctx, d.ID, crm.DealUpdate{Hold: crm.Null, Rating: crm.Int(5)})).must(t)
	if resumed.Hold != nil || resumed.Rating != 5 {
		t.Errorf("hold:null = %v rating %d", resumed.Hold, resumed.Rating)
	}
}

func TestContractDealFilters(t *testing.T) {
	h := newHarness(t)
	ctx := ctxFor(t)
	sales, salesStages := h.pipeline(rdsim.DefaultPipelineName)
	post, postStages := h.pipeline("Funil de Pós-venda")
	reasonID := named(t, h.state().LostReasons, "Concorrência")

	create := func(name, stage string) string {
		return try(h.c.CreateDeal(ctx, crm.DealCreate{Deal: crm.DealInput{Name: name, DealStageID: stage}})).must(t).ID
	}
	t0 := h.clk.Now()
	won1 := create("won-early", salesStages[0].ID)
	won2 := create("won-late", salesStages[1].ID)
	lost := create("lost-early", postStages[0].ID)
	create("open", salesStages[0].ID)

	h.clk.Advance(time.Hour)
	try(h.c.WinDeal(ctx, won1)).must(t)
	try(h.c.LoseDeal(ctx, lost, reasonID, "")).must(t)
	h.clk.Advance(72 * time.Hour)
	try(h.c.WinDeal(ctx, won2)).must(t)

	// Period bounds go in the account's offset (-03:00).
	day1 := [2]time.Time{t0.In(accountZone), t0.Add(24 * time.Hour).In(accountZone)}
	day4 := [2]time.Time{t0.Add(48 * time.Hour).In(accountZone), t0.Add(96 * time.Hour).In(accountZone)}
	tests := []struct {
		name string
		q    crm.DealQuery
		want []string
	}{
		{"all", crm.DealQuery{}, []string{"lost-early", "open", "won-early", "won-late"}},
		{"win=true", crm.DealQuery{Win: crm.Won}, []string{"won-early", "won-late"}},
		{"win=false", crm.DealQuery{Win: crm.Lost}, []string{"lost-early"}},
		{"win=null", crm.DealQuery{Win: crm.Open}, []string{"open"}},
		{"closed_at=true", crm.DealQuery{ClosedAt: crm.Bool(true)}, []string{"lost-early", "won-early", "won-late"}},
		{"won, closed on day 1", crm.DealQuery{Win: crm.Won, Period: crm.PeriodClosedAt, Start: day1[0], End: day1[1]}, []string{"won-early"}},
		{"won, closed on day 3-4", crm.DealQuery{Win: crm.Won, Period: crm.PeriodClosedAt, Start: day4[0], End: day4[1]}, []string{"won-late"}},
		{"closed on day 1", crm.DealQuery{Period: crm.PeriodClosedAt, Start: day1[0], End: day1[1]}, []string{"lost-early", "won-early"}},
		{"closed since day 3", crm.DealQuery{Period: crm.PeriodClosedAt, Start: day4[0]}, []string{"won-late"}},
		{"pipeline sales", crm.DealQuery{DealPipelineID: sales.ID}, []string{"open", "won-early", "won-late"}},
		{"pipeline post-sale", crm.DealQuery{DealPipelineID: post.ID}, []string{"lost-early"}},
		{"stage", crm.DealQuery{DealStageID: salesStages[0].ID}, []string{"open", "won-early"}},
		{"pipeline and won", crm.DealQuery{DealPipelineID: sales.ID, Win: crm.Won}, []string{"won-early", "won-late"}},
		{"lost reason", crm.DealQuery{LostReasonID: reasonID}, []string{"lost-early"}},
		{"exact name", crm.DealQuery{Name: "won-late", ExactName: true}, []string{"won-late"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := dealNames(ctx, t, h.c, tt.q); !slices.Equal(got, tt.want) {
				t.Errorf("deals = %q, want %q", got, tt.want)
			}
		})
	}

	// One page, then the rest through its next_page cursor.
	first := try(h.c.ListDeals(ctx, crm.DealQuery{Limit: 3})).must(t)
	if len(first.Items) != 3 || !first.HasMore || first.Total != 4 || first.NextPage == "" {
		t.Fatalf("first page: %d items, has_more %v, total %d, next_page %q", len(first.Items), first.HasMore, first.Total, first.NextPage)
	}
	rest := try(h.c.ListDeals(ctx, crm.DealQuery{Limit: 3, NextPage: first.NextPage})).must(t)
	if len(rest.Items) != 1 || rest.HasMore || slices.ContainsFunc(first.Items, func(d crm.Deal) bool { return d.ID == rest.Items[0].ID }) {
		t.Errorf("page after the cursor = %+v", rest)
	}

	// Paging by the next_page cursor, one deal a page, sees each once.
	h.rec.reset()
	var seen []string
	for d, err := range h.c.Deals(ctx, crm.DealQuery{Limit: 1}) {
		if err != nil {
			t.Fatal(err)
		}
		seen = append(seen, d.Name)
	}
	slices.Sort(seen)
	if want := []string{"lost-early", "open", "won-early", "won-late"}; !slices.Equal(seen, want) {
		t.Errorf("cursor paging saw %q, want %q", seen, want)
	}
	if cursors := countCursorRequests(h); cursors != 3 {
		t.Errorf("%d listing requests followed next_page, want 3", cursors)
	}
}

// countCursorRequests counts the deal listings the client sent with a
// next_page cursor.
func countCursorRequests(h *harness) int {
	n := 0
	for _, r := range h.rec.matching("GET", "/deals") {
		if r.Query.Get("next_page") != "" {
			n++
		}
	}
	return n
}

// ---- deal products ----

func TestContractDealProductsSingle(t *testing.T) {
	h := newHarness(t)
	ctx := ctxFor(t)
	p := try(h.c.CreateProduct(ctx, crm.ProductInput{Name: "Consultoria", BasePrice: money(t, "150")})).must(t)
	d := try(h.c.CreateDeal(ctx, crm.DealCreate{Deal: crm.DealInput{Name: "Produtos"}})).must(t)

	// The documented example: 150 × 3 − 50 = 400.
	dp := try(h.c.CreateDealProduct(ctx, d.ID, crm.DealProductInput{ProductID: p.ID, Price: money(t, "150"),
		Amount: money(t, "3"), Discount: money(t, "50"), DiscountType: crm.DiscountValue})).must(t)
	decEqual(t, "total", dp.Total, dec(t, "400"))
	if dp.ProductID != p.ID || dp.Name != "Consultoria" || dp.Recurrence != crm.RecurrenceSpare {
		t.Errorf("CreateDealProduct = %+v", dp)
	}
	upd := try(h.c.UpdateDealProduct(ctx, d.ID, dp.ID, crm.DealProductInput{Amount: money(t, "2")})).must(t)
	decEqual(t, "updated total", upd.Total, dec(t, "250"))
	list := try(h.c.ListDealProducts(ctx, d.ID)).must(t)
	if len(list) != 1 || list[0].ID != dp.ID {
		t.Fatalf("ListDealProducts = %+v", list)
	}
	decEqual(t, "deal total", try(h.c.GetDeal(ctx, d.ID)).must(t).AmountTotal, dec(t, "250"))
	if err := h.c.DeleteDealProduct(ctx, d.ID, dp.ID); err != nil {
		t.Fatal(err)
	}
	if list := try(h.c.ListDealProducts(ctx, d.ID)).must(t); len(list) != 0 {
		t.Errorf("after delete: %+v", list)
	}
	_, err := h.c.ListDealProducts(ctx, "0123456789abcdef01234567")
	apiError(t, err, crm.ErrNotFound)
}

func TestContractDealProductsBatch(t *testing.T) {
	h := newHarness(t)
	ctx := ctxFor(t)
	prods := []crm.Product{
		try(h.c.CreateProduct(ctx, crm.ProductInput{Name: "Item A"})).must(t),
		try(h.c.CreateProduct(ctx, crm.ProductInput{Name: "Item B"})).must(t),
	}
	d := try(h.c.CreateDeal(ctx, crm.DealCreate{Deal: crm.DealInput{Name: "Lote"}})).must(t)

	const n = 250
	items := make([]crm.DealProductInput, n)
	want := make([]decimal.Decimal, n)
	var unique, monthly decimal.Decimal
	for i := range items {
		price := dec(t, "10.01").Add(dec(t, "0.37").Mul(decimal.NewFromInt(int64(i))))
		amount := decimal.NewFromInt(int64(1 + i%3))
		it := crm.DealProductInput{ProductID: prods[i%2].ID, Price: crm.DecimalPtr(price), Amount: crm.DecimalPtr(amount)}
		gross := price.Mul(amount)
		if i%5 == 0 {
			it.Discount, it.DiscountType = money(t, "12.5"), crm.DiscountPercent
			want[i] = gross.Sub(gross.Mul(dec(t, "0.125")))
		} else {
			disc := dec(t, "0.11").Mul(decimal.NewFromInt(int64(i % 7)))
			it.Discount, it.DiscountType = crm.DecimalPtr(disc), crm.DiscountValue
			want[i] = gross.Sub(disc)
		}
		if i%4 == 0 {
			it.Recurrence = crm.RecurrenceMonthly
			monthly = monthly.Add(want[i])
		} else {
			unique = unique.Add(want[i])
		}
		items[i] = it
	}

	h.rec.reset()
	got := try(h.c.CreateDealProducts(ctx, d.ID, items)).must(t)
	if len(got) != n {
		t.Fatalf("CreateDealProducts returned %d lines, want %d", len(got), n)
	}
	var sizes []int
	for _, r := range h.rec.matching("POST", "/deals/*/deal_products/batch") {
		sizes = append(sizes, len(r.object(t)["deal_products"].([]any)))
	}
	if !slices.Equal(sizes, []int{100, 100, 50}) {
		t.Errorf("batch sizes %v, want [100 100 50]", sizes)
	}
	list := try(h.c.ListDealProducts(ctx, d.ID)).must(t)
	if len(list) != n {
		t.Fatalf("deal has %d products, want %d", len(list), n)
	}
	for i, dp := range list {
		if !dp.Total.Equal(want[i]) {
			t.Errorf("line %d total %s, want exactly %s", i, dp.Total.String(), want[i])
		}
	}
	deal := try(h.c.GetDeal(ctx, d.ID)).must(t)
	decEqual(t, "amount_unique", deal.AmountUnique, unique)
	decEqual(t, "amount_montly", deal.AmountMonthly, monthly)
	decEqual(t, "amount_total", deal.AmountTotal, unique.Add(monthly))

	// Update 150 lines (100 + 50), then delete all 250 (100 + 100 + 50).
	upd := make([]crm.DealProductInput, 150)
	for i := range upd {
		upd[i] = crm.DealProductInput{ID: list[i].ID, Discount: money(t, "0"), DiscountType: crm.DiscountValue}
	}
	h.rec.reset()
	try(h.c.UpdateDealProducts(ctx, d.ID, upd)).must(t)
	if calls := len(h.rec.matching("PATCH", "/deals/*/deal_products/batch/update")); calls != 2 {
		t.Errorf("%d batch update calls, want 2", calls)
	}
	for _, dp := range h.simDeal(d.ID).Products[:150] {
		if !dp.Discount.IsZero() {
			t.Fatalf("line %s kept discount %s", dp.ID, dp.Discount)
		}
	}
	ids := make([]string, len(list))
	for i, dp := range list {
		ids[i] = dp.ID
	}
	if err := h.c.DeleteDealProducts(ctx, d.ID, ids); err != nil {
		t.Fatal(err)
	}
	if calls := len(h.rec.matching("DELETE", "/deals/*/deal_products/batch/destroy")); calls != 3 {
		t.Errorf("%d batch destroy calls, want 3", calls)
	}
	if left := h.simDeal(d.ID).Products; len(left) != 0 {
		t.Errorf("%d products left after deleting all", len(left))
	}
}

// ---- errors ----

func TestContractNotFoundAndUnauthorized(t *testing.T) {
	h := newHarness(t)
	ctx := ctxFor(t)
	const missing = "0123456789abcdef01234567"
	tests := []struct {
		name string
		call func() error
	}{
		{"deal", func() error { _, err := h.c.GetDeal(ctx, missing); return err }},
		{"deal update", func() error { _, err := h.c.WinDeal(ctx, missing); return err }},
		{"organization", func() error { _, err := h.c.GetOrganization(ctx, missing); return err }},
		{"contact", func() error { _, err := h.c.GetContact(ctx, missing); return err }},
		{"product", func() error { _, err := h.c.GetProduct(ctx, missing); return err }},
		{"user", func() error { _, err := h.c.GetUser(ctx, missing); return err }},
		{"stage listing of unknown pipeline", func() error {
			_, err := h.c.ListDealStages(ctx, crm.StageQuery{DealPipelineID: missing})
			return err
		}},
	}
	for _, tt := range tests {
		t.Run("404 "+tt.name, func(t *testing.T) {
			e := apiError(t, tt.call(), crm.ErrNotFound)
			if e.Status != http.StatusNotFound || e.Message == "" {
				t.Errorf("status %d message %q, want 404 with the API's message", e.Status, e.Message)
			}
		})
	}

	t.Run("401", func(t *testing.T) {
		const wrong = "tok-WRONG-b7d0e2"
		c := h.newClient(crm.NewBudget(crm.BudgetConfig{Clock: h.clk}), func(cfg *crm.Config) { cfg.Token = wrong })
		for _, call := range []func() error{
			func() error { _, err := c.CheckToken(ctx); return err },
			func() error { _, err := c.CreateOrganization(ctx, crm.OrganizationInput{Name: "Nunca"}); return err },
		} {
			err := call()
			e := apiError(t, err, crm.ErrUnauthorized)
			if e.Status != http.StatusUnauthorized || e.Message != "Permission denied." {
				t.Errorf("status %d message %q", e.Status, e.Message)
			}
			if strings.Contains(err.Error(), wrong) || strings.Contains(fmt.Sprintf("%+v", err), wrong) {
				t.Errorf("the token leaked into %q", err)
			}
		}
		if c.Stats().Retries != 0 {
			t.Errorf("a 401 was retried %d times", c.Stats().Retries)
		}
	})
}

// ---- the listing cap ----

func TestContractOrganizationListingCap(t *testing.T) {
	h := newHarness(t)
	ctx := ctxFor(t)
	orgs := make([]rdsim.Organization, rdsim.ListingCap+50)
	for i := range orgs {
		orgs[i] = rdsim.Organization{Name: fmt.Sprintf("Org %05d", i)}
	}
	if err := h.sim.Seed(rdsim.SeedData{Organizations: orgs}); err != nil {
		t.Fatal(err)
	}

	n := 0
	var last error
	for o, err := range h.c.Organizations(ctx, crm.OrganizationQuery{}) {
		if err != nil {
			last = err
			break
		}
		if want := fmt.Sprintf("Org %05d", n); o.Name != want {
			t.Fatalf("record %d is %q, want %q", n, o.Name, want)
		}
		n++
	}
	if n != crm.MaxReachable {
		t.Errorf("iterator yielded %d organizations, want %d", n, crm.MaxReachable)
	}
	if !errors.Is(last, crm.ErrListingCapped) {
		t.Fatalf("iterator ended with %v, want ErrListingCapped", last)
	}
	var capped *crm.ListingCappedError
	if !errors.As(last, &capped) || capped.Reached != crm.MaxReachable || capped.Total != len(orgs) {
		t.Errorf("capped error = %+v, want reached %d of %d", capped, crm.MaxReachable, len(orgs))
	}
	if calls := h.sim.Counts().ByRoute["GET /api/v1/organizations"]; calls != crm.MaxReachable/crm.MaxLimit {
		t.Errorf("%d listing calls, want %d (no call past the cap)", calls, crm.MaxReachable/crm.MaxLimit)
	}
}

// ---- the rate budget against the account window ----

func TestContractRateBudget(t *testing.T) {
	const calls = 300
	tests := []struct {
		name    string
		budget  crm.BudgetConfig
		clients int // goroutines, each with its own client on the shared budget
		// want429 says whether the simulator must have answered 429s.
		want429 bool
	}{
		{"default budget, one client", crm.BudgetConfig{}, 1, false},
		{"default budget, four goroutines", crm.BudgetConfig{}, 4, false},
		{"budget above the account limit", crm.BudgetConfig{RequestsPerMinute: 200, Burst: 10}, 1, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			ctx := ctxFor(t)
			cfg := tt.budget
			cfg.Clock = h.clk
			budget := crm.NewBudget(cfg)
			clients := make([]*crm.Client, tt.clients)
			for i := range clients {
				clients[i] = h.newClient(budget)
			}
			var wg sync.WaitGroup
			errs := make(chan error, calls)
			for i, c := range clients {
				share := calls / tt.clients
				if i == 0 {
					share += calls % tt.clients
				}
				wg.Go(func() {
					for range share {
						if _, err := c.CheckToken(ctx); err != nil {
							errs <- err
							return
						}
					}
				})
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				t.Fatalf("a call failed: %v", err)
			}

			counts := h.sim.Counts()
			var limited, retries, requests int64
			for _, c := range clients {
				s := c.Stats()
				limited += s.RateLimited
				retries += s.Retries
				requests += s.Requests
			}
			if counts.ByStatus[http.StatusOK] != calls {
				t.Errorf("simulator answered %d calls with 200, want %d", counts.ByStatus[http.StatusOK], calls)
			}
			if got := int64(counts.ByStatus[http.StatusTooManyRequests]); got != limited {
				t.Errorf("simulator sent %d 429s, clients counted %d", got, limited)
			}
			if retries != 0 {
				t.Errorf("%d retries used; a 429 must not consume one", retries)
			}
			if requests != calls+limited {
				t.Errorf("%d requests sent, want %d calls + %d repeats after 429", requests, calls, limited)
			}
			if tt.want429 {
				if limited == 0 {
					t.Errorf("no 429 with a budget above the account limit; the 429 path went untested")
				}
				return
			}
			if limited != 0 {
				t.Errorf("%d 429s with the default budget", limited)
			}
			// 10 at once, then 290 at 100 a minute: 2.9 minutes.
			if el := h.elapsed(); el < 150*time.Second {
				t.Errorf("fake time advanced %v, want at least 2.5 minutes of pacing", el)
			}
		})
	}
}

// ---- faults ----

func TestContractFaults(t *testing.T) {
	t.Run("lost response on create is outcome unknown", func(t *testing.T) {
		h := newHarness(t)
		ctx := ctxFor(t)
		h.sim.SetFaults(rdsim.Faults{Script: []rdsim.FaultKind{rdsim.FaultLostResponse}, Methods: []string{"POST"}, PathPrefix: "/organizations"})
		_, err := h.c.CreateOrganization(ctx, crm.OrganizationInput{Name: "Perdida Ltda"})
		e := apiError(t, err, crm.ErrOutcomeUnknown)
		if e.Status != 0 {
			t.Errorf("status %d, want 0 (no answer)", e.Status)
		}
		if n := len(h.orgsNamed("Perdida Ltda")); n != 1 {
			t.Fatalf("%d organizations in the simulator, want exactly 1", n)
		}
		if s := h.c.Stats(); s.OutcomeUnknown != 1 || s.Retries != 0 || s.ByMethod["POST"] != 1 {
			t.Errorf("stats %+v: want one unknown outcome, no retry, one POST", s)
		}
		// Resolving by the natural key finds it.
		if found := try(h.c.FindOrganizationsByName(ctx, "Perdida Ltda")).must(t); len(found) != 1 {
			t.Errorf("lookup after the lost answer found %d", len(found))
		}
	})

	t.Run("drop on create is outcome unknown too", func(t *testing.T) {
		h := newHarness(t)
		h.sim.SetFaults(rdsim.Faults{Script: []rdsim.FaultKind{rdsim.FaultDrop}, Methods: []string{"POST"}})
		_, err := h.c.CreateOrganization(ctxFor(t), crm.OrganizationInput{Name: "Derrubada Ltda"})
		apiError(t, err, crm.ErrOutcomeUnknown)
		if n := len(h.orgsNamed("Derrubada Ltda")); n != 0 {
			t.Errorf("%d organizations: a dropped request was applied", n)
		}
	})

	t.Run("lost response on update is retried", func(t *testing.T) {
		h := newHarness(t)
		ctx := ctxFor(t)
		org := try(h.c.CreateOrganization(ctx, crm.OrganizationInput{Name: "Atualizada Ltda"})).must(t)
		before := len(h.state().Organizations)
		h.sim.SetFaults(rdsim.Faults{Script: []rdsim.FaultKind{rdsim.FaultLostResponse}, Methods: []string{"PUT"}})
		upd := try(h.c.UpdateOrganization(ctx, org.ID, crm.OrganizationInput{Resume: "Uma vez"})).must(t)
		if upd.Resume != "Uma vez" {
			t.Errorf("answer resume %q", upd.Resume)
		}
		if s := h.c.Stats(); s.Retries != 1 || s.OutcomeUnknown != 0 || s.ByMethod["PUT"] != 2 {
			t.Errorf("stats %+v: want one retry of the PUT", s)
		}
		// The idempotent PUT reached the simulator twice and left one record
		// in the state a single application gives.
		o := h.orgsNamed("Atualizada Ltda")
		if len(o) != 1 || o[0].Resume != "Uma vez" || len(h.state().Organizations) != before {
			t.Errorf("simulator holds %+v", o)
		}
		if c := h.sim.Counts(); c.ByRoute["PUT /api/v1/organizations/{id}"] != 2 || c.Faults["lost_response"] != 1 {
			t.Errorf("simulator counts %+v", c)
		}
	})

	t.Run("server error on a read or a PUT is retried", func(t *testing.T) {
		h := newHarness(t)
		ctx := ctxFor(t)
		p := try(h.c.CreateProduct(ctx, crm.ProductInput{Name: "Retentado"})).must(t)
		h.sim.SetFaults(rdsim.Faults{Script: []rdsim.FaultKind{rdsim.FaultServerError}, Methods: []string{"PUT"}, PathPrefix: "/products"})
		try(h.c.UpdateProduct(ctx, p.ID, crm.ProductInput{Description: "Depois do 500"})).must(t)
		if s := h.c.Stats(); s.Retries != 1 {
			t.Errorf("retries %d, want 1", s.Retries)
		}
		if c := h.sim.Counts(); c.ByStatus[500] != 1 {
			t.Errorf("simulator 500s %d, want 1", c.ByStatus[500])
		}
	})

	t.Run("server error on a create is outcome unknown, never resent", func(t *testing.T) {
		h := newHarness(t)
		ctx := ctxFor(t)
		h.sim.SetFaults(rdsim.Faults{Script: []rdsim.FaultKind{rdsim.FaultServerError}, Methods: []string{"POST"}, PathPrefix: "/products"})
		_, err := h.c.CreateProduct(ctx, crm.ProductInput{Name: "Talvez"})
		if !errors.Is(err, crm.ErrOutcomeUnknown) || !errors.Is(err, crm.ErrServer) {
			t.Fatalf("err = %v, want outcome unknown (a server error)", err)
		}
		if s := h.c.Stats(); s.Retries != 0 || s.OutcomeUnknown != 1 {
			t.Errorf("stats %+v: want no retry, one outcome unknown", s)
		}
		if c := h.sim.Counts(); c.ByRoute["POST /api/v1/products"] != 1 {
			t.Errorf("POSTs %d, want 1", c.ByRoute["POST /api/v1/products"])
		}
	})

	t.Run("drop is retried", func(t *testing.T) {
		h := newHarness(t)
		ctx := ctxFor(t)
		p := try(h.c.CreateProduct(ctx, crm.ProductInput{Name: "Derrubado"})).must(t)
		h.sim.SetFaults(rdsim.Faults{Script: []rdsim.FaultKind{rdsim.FaultDrop}, Methods: []string{"PUT"}})
		try(h.c.UpdateProduct(ctx, p.ID, crm.ProductInput{Description: "Depois da queda"})).must(t)
		// A GET on a fresh connection (a reused one would be retried
		// inside net/http, out of the client's sight).
		fresh := h.newClient(crm.NewBudget(crm.BudgetConfig{Clock: h.clk}), func(c *crm.Config) {
			c.HTTPClient = &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
		})
		h.sim.SetFaults(rdsim.Faults{Script: []rdsim.FaultKind{rdsim.FaultDrop}, Methods: []string{"GET"}})
		got := try(fresh.GetProduct(ctx, p.ID)).must(t)
		if got.Description != "Depois da queda" {
			t.Errorf("description %q", got.Description)
		}
		if s, f := h.c.Stats(), fresh.Stats(); s.Retries != 1 || f.Retries != 1 {
			t.Errorf("retries: PUT client %d, GET client %d; want 1 each", s.Retries, f.Retries)
		}
		if c := h.sim.Counts(); c.Faults["drop"] != 2 {
			t.Errorf("simulator drops %d, want 2", c.Faults["drop"])
		}
	})

	t.Run("HTML 500 with retries exhausted", func(t *testing.T) {
		h := newHarness(t, withClient(func(c *crm.Config) { c.MaxRetries = 2 }))
		ctx := ctxFor(t)
		h.sim.SetFaults(rdsim.Faults{ServerError: 1, PathPrefix: "/deals"})
		for _, call := range []func() error{
			func() error { _, err := h.c.ListDeals(ctx, crm.DealQuery{}); return err },
			func() error {
				_, err := h.c.CreateDeal(ctx, crm.DealCreate{Deal: crm.DealInput{Name: "Nunca criado"}})
				return err
			},
		} {
			err := call()
			e := apiError(t, err, crm.ErrServer)
			if e.Status != http.StatusInternalServerError {
				t.Errorf("status %d, want 500", e.Status)
			}
			if !strings.Contains(e.Excerpt, "something went wrong") || strings.ContainsAny(e.Excerpt, "<>") ||
				utf8.RuneCountInString(e.Excerpt) > 201 {
				t.Errorf("excerpt %q: want a short, tag-free start of the HTML page", e.Excerpt)
			}
			msg := err.Error()
			for _, bad := range []string{"invalid character", "<html", "<body", "unmarshal", "JSON"} {
				if strings.Contains(msg, bad) {
					t.Errorf("error %q mentions %q", msg, bad)
				}
			}
			if !strings.Contains(msg, "something went wrong") {
				t.Errorf("error %q does not carry the excerpt", msg)
			}
		}
		// The GET is retried twice; the create is never resent.
		if s := h.c.Stats(); s.Retries != 2 {
			t.Errorf("retries %d, want 2 (the GET's)", s.Retries)
		}
		if c := h.sim.Counts(); c.ByStatus[500] != 4 || len(h.state().Deals) != 0 {
			t.Errorf("simulator 500s %d (want 4), deals %d (want 0)", c.ByStatus[500], len(h.state().Deals))
		}
	})
}
