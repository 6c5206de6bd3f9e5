package target

import (
	"context"
	"errors"
	"fmt"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/erpbridge/erpbridge/bridge"
	"github.com/erpbridge/erpbridge/bridge/oauth"
	"github.com/erpbridge/erpbridge/bridge/store"
	"github.com/erpbridge/erpbridge/rdstation/crm"
	crmv2 "github.com/erpbridge/erpbridge/rdstation/crm/v2"
	"github.com/erpbridge/erpbridge/rdstation/rdsim"
)

const cnpjFieldID = "cf0000000000000000000001"

// twoClients returns a v1 and a v2 client of one simulated account.
func twoClients(t *testing.T, sim *rdsim.Sim) (*crm.Client, *crmv2.Client) {
	t.Helper()
	srv := httptest.NewServer(sim)
	t.Cleanup(srv.Close)
	unlimited := crm.NewBudget(crm.BudgetConfig{RequestsPerMinute: -1})
	v1, err := crm.New(crm.Config{BaseURL: srv.URL + "/api/v1", Token: rdsim.DefaultToken, Budget: unlimited, MaxRetries: -1})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	st, err := store.Open(ctx, filepath.Join(t.TempDir(), "erpbridge.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	access, refresh := sim.IssueCRMv2Grant()
	if err := oauth.Save(ctx, st, crmv2.GrantName, oauth.Token{AccessToken: access, RefreshToken: refresh}); err != nil {
		t.Fatal(err)
	}
	app, err := crmv2.NewApp(crmv2.AppConfig{ClientID: rdsim.DefaultCRMv2ClientID, ClientSecret: rdsim.DefaultCRMv2ClientSecret,
		TokenURL: srv.URL + "/oauth2/token"})
	if err != nil {
		t.Fatal(err)
	}
	v2, err := crmv2.New(crmv2.Config{BaseURL: srv.URL + "/crm/v2", Bearer: crmv2.NewSource(st, app, oauth.Options{}), Budget: unlimited, MaxRetries: -1})
	if err != nil {
		t.Fatal(err)
	}
	return v1, v2
}

func orgPayload(name, customID, doc string) bridge.Payload {
	return bridge.Payload{"name": name, "organization_custom_fields": []any{map[string]any{"custom_field_id": customID, "value": doc}}}
}

// Issue 15 "Done when": with 12,000 organizations in the CRM, a renamed
// customer whose organization is beyond the first 10,000 is adopted by
// CNPJ on v2 — and not on v1, whose index stops at the listing cap (the
// documented v1 limit). The CRM may hold the CNPJ masked while the ERP
// sends it bare.
func TestV2AdoptsByCNPJPastTheCap(t *testing.T) {
	if testing.Short() {
		t.Skip("lists 12,000 organizations")
	}
	ctx := context.Background()
	sim := rdsim.New(rdsim.Options{RequestsPerMinute: -1})
	var sd rdsim.SeedData
	sd.CustomFields = []rdsim.CustomField{{ID: cnpjFieldID, Label: "CNPJ", Type: "text", For: "organization", Visible: true}}
	for i := range 12000 {
		doc := fmt.Sprintf("%014d", i+1)
		if i == 11999 {
			doc = "11.222.333/0001-81"
		}
		sd.Organizations = append(sd.Organizations, rdsim.Organization{Name: fmt.Sprintf("Empresa %05d", i),
			CustomFields: []rdsim.CustomFieldValue{{CustomFieldID: cnpjFieldID, Value: doc}}})
	}
	if err := sim.Seed(sd); err != nil {
		t.Fatal(err)
	}
	ids := map[string]string{}
	for _, o := range sim.State().Organizations {
		ids[o.Name] = o.ID
	}
	v1, v2 := twoClients(t, sim)
	t2 := NewOrganizationsV2(v2, "cnpj")
	for _, tc := range []struct {
		name, doc, want string
	}{
		{"renamed, past the cap", "00000000011501", ids["Empresa 11500"]},
		{"renamed, masked in the CRM, bare from the ERP", "11222333000181", ids["Empresa 11999"]},
		{"renamed, within the first 10,000", "00000000000008", ids["Empresa 00007"]},
	} {
		t.Run(tc.name, func(t *testing.T) {
			id, found, err := t2.Find(ctx, orgPayload("Razão Social Nova "+tc.doc, "cnpj", tc.doc), false)
			if err != nil || !found || id != tc.want {
				t.Fatalf("v2 Find: %q %v %v, want %s", id, found, err, tc.want)
			}
		})
	}
	id, found, err := NewOrganizations(v1, cnpjFieldID).Find(ctx, orgPayload("Razão Social Nova", cnpjFieldID, "00000000011501"), false)
	if found || err != nil {
		t.Fatalf("v1 found %q (%v) past the listing cap: the documented v1 limit changed?", id, err)
	}
}

// Create and Update through v2 write the mapping's payload (custom
// fields by slug) onto the account's records; a taken name is adopted
// unless it is another company's.
func TestV2OrganizationsWrite(t *testing.T) {
	ctx := context.Background()
	sim := rdsim.New(rdsim.Options{RequestsPerMinute: -1})
	if err := sim.Seed(rdsim.SeedData{CustomFields: []rdsim.CustomField{{ID: cnpjFieldID, Label: "CNPJ", Type: "text", For: "organization", Visible: true}}}); err != nil {
		t.Fatal(err)
	}
	_, v2 := twoClients(t, sim)
	tg := NewOrganizationsV2(v2, "cnpj")
	p := orgPayload("Acme Ltda", "cnpj", "11.222.333/0001-81")
	p["address"], p["resume"] = "Rua A, 1", "Cliente desde 2001"
	id, err := tg.Create(ctx, p)
	if err != nil {
		t.Fatal(err)
	}
	got := sim.State().Organizations[0]
	if got.ID != id || got.Name != "Acme Ltda" || got.Address != "Rua A, 1" || got.Resume != "Cliente desde 2001" ||
		len(got.CustomFields) != 1 || got.CustomFields[0].Value != "11.222.333/0001-81" {
		t.Fatalf("created: %+v", got)
	}
	if err := tg.Update(ctx, id, bridge.Payload{"name": "Acme S.A."}); err != nil {
		t.Fatal(err)
	}
	if n := sim.State().Organizations[0].Name; n != "Acme S.A." {
		t.Fatalf("updated name %q", n)
	}
	_, err = tg.Create(ctx, orgPayload("ACME S.A.", "cnpj", "11222333000181"))
	var ex *bridge.ExistsError
	if !errors.As(err, &ex) || ex.CRMID != id {
		t.Fatalf("same company, taken name: %v", err)
	}
	_, err = tg.Create(ctx, orgPayload("Acme S.A.", "cnpj", "45.723.174/0001-10"))
	if !errors.Is(err, bridge.ErrRejected) {
		t.Fatalf("another company's name: %v", err)
	}
	if _, err := tg.Create(ctx, bridge.Payload{"name": "Seg", "organization_segments": []any{"Varejo"}}); !errors.Is(err, bridge.ErrRejected) {
		t.Fatalf("segments through v2: %v", err)
	}
}

// Contacts through v2: adopted by e-mail (any case) or by name within the
// organization; a dry run's creates are found by later streams of the run,
// and forgotten after it.
func TestV2ContactsFindAndPretend(t *testing.T) {
	ctx := context.Background()
	sim := rdsim.New(rdsim.Options{RequestsPerMinute: -1})
	_, v2 := twoClients(t, sim)
	tg := NewContactsV2(v2, false)
	withMail := bridge.Payload{"name": "Ana Souza", "emails": []any{map[string]any{"email": "ana@acme.example"}},
		"phones": []any{map[string]any{"phone": "11 99999-0000", "type": "cellphone"}}}
	id, err := tg.Create(ctx, withMail)
	if err != nil {
		t.Fatal(err)
	}
	if ph := sim.State().Contacts[0].Phones; len(ph) != 1 || ph[0].Type != "mobile" {
		t.Fatalf("phones: %+v", ph)
	}
	for _, p := range []bridge.Payload{
		{"name": "Outra Ana", "emails": []any{map[string]any{"email": "ANA@acme.example"}}},
		{"name": "Ana Souza"},
	} {
		got, found, err := tg.Find(ctx, p, false)
		if err != nil || !found || got != id {
			t.Fatalf("find %v: %q %v %v", p, got, found, err)
		}
	}
	if _, found, err := tg.Find(ctx, bridge.Payload{"name": "Ana Souza", "organization_id": "0123456789abcdef01234567"}, false); found || err != nil {
		t.Fatalf("the same name in another organization: %v %v", found, err)
	}
	if _, err := tg.Create(ctx, bridge.Payload{"name": "Bia", "skype": "bia.s"}); !errors.Is(err, bridge.ErrRejected) || !strings.Contains(err.Error(), "skype") {
		t.Fatalf("a field v2 has no place for: %v", err)
	}
	dry := bridge.Payload{"name": "Caio", "emails": []any{map[string]any{"email": "caio@x.example"}}}
	if err := tg.Pretend(ctx, dry, "<new contacts 1>"); err != nil {
		t.Fatal(err)
	}
	if got, found, _ := tg.Find(ctx, dry, false); !found || got != "<new contacts 1>" {
		t.Fatalf("pretended contact: %q %v", got, found)
	}
	tg.ForgetPretended()
	if _, found, err := tg.Find(ctx, dry, false); found || err != nil {
		t.Fatalf("after ForgetPretended: %v %v", found, err)
	}
}
