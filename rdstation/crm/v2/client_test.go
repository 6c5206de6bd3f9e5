package crmv2_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/erpbridge/erpbridge/bridge/oauth"
	"github.com/erpbridge/erpbridge/bridge/store"
	"github.com/erpbridge/erpbridge/rdstation/crm"
	crmv2 "github.com/erpbridge/erpbridge/rdstation/crm/v2"
	"github.com/erpbridge/erpbridge/rdstation/rdsim"
	"github.com/shopspring/decimal"
)

const redirect = "http://127.0.0.1:9/cb"

type env struct {
	sim  *rdsim.Sim
	srv  *httptest.Server
	st   *store.Store
	path string
	app  *crmv2.App
}

func newEnv(t *testing.T, opts rdsim.Options) *env {
	t.Helper()
	if opts.RequestsPerMinute == 0 {
		opts.RequestsPerMinute = -1
	}
	sim := rdsim.New(opts)
	srv := httptest.NewServer(sim)
	t.Cleanup(srv.Close)
	path := filepath.Join(t.TempDir(), "erpbridge.db")
	st, err := store.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return &env{sim: sim, srv: srv, st: st, path: path, app: newApp(t, srv.URL)}
}

func newApp(t *testing.T, base string) *crmv2.App {
	t.Helper()
	app, err := crmv2.NewApp(crmv2.AppConfig{ClientID: rdsim.DefaultCRMv2ClientID, ClientSecret: rdsim.DefaultCRMv2ClientSecret,
		TokenURL: base + "/oauth2/token", AuthorizeURL: base + "/oauth/authorize"})
	if err != nil {
		t.Fatal(err)
	}
	return app
}

// authorize runs the browser step against the simulator and stores the grant.
func (e *env) authorize(t *testing.T) oauth.Token {
	t.Helper()
	hc := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err := hc.Get(e.app.AuthorizeURL(redirect, "st"))
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	loc, err := url.Parse(res.Header.Get("Location"))
	if err != nil || loc.Query().Get("code") == "" {
		t.Fatalf("authorize: %d %q", res.StatusCode, res.Header.Get("Location"))
	}
	g, err := e.app.Exchange(context.Background(), loc.Query().Get("code"), redirect)
	if err != nil {
		t.Fatal(err)
	}
	if err := oauth.Save(context.Background(), e.st, crmv2.GrantName, g); err != nil {
		t.Fatal(err)
	}
	return g
}

func (e *env) client(t *testing.T, o oauth.Options) *crmv2.Client {
	t.Helper()
	c, err := crmv2.New(crmv2.Config{BaseURL: e.srv.URL + "/crm/v2", Bearer: crmv2.NewSource(e.st, e.app, o), MaxRetries: -1,
		Budget: crm.NewBudget(crm.BudgetConfig{RequestsPerMinute: -1})})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func collect[T any](t *testing.T, seq func(func(T, error) bool)) []T {
	t.Helper()
	var out []T
	for v, err := range seq {
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, v)
	}
	return out
}

// The grant: authorized, stored, used; an access token the server expired
// is renewed once and the call goes through, with the rotated refresh
// token committed to the store; a refused refresh token says to authorize.
func TestGrantRenewedAndRotated(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, rdsim.Options{})
	first := e.authorize(t)
	c := e.client(t, oauth.Options{})
	if _, err := c.CreateOrganization(ctx, crmv2.Organization{Name: "Acme Ltda"}); err != nil {
		t.Fatal(err)
	}
	e.sim.ExpireCRMv2AccessTokens()
	got := collect(t, c.Organizations(ctx, crmv2.Query{Filter: crmv2.Eq(crmv2.FieldName, "acme ltda")}))
	if len(got) != 1 || got[0].Name != "Acme Ltda" {
		t.Fatalf("after the expiry: %+v", got)
	}
	stored, ok, err := oauth.Load(ctx, e.st, crmv2.GrantName)
	if err != nil || !ok || stored.RefreshToken == first.RefreshToken || stored.AccessToken == first.AccessToken {
		t.Fatalf("stored grant after the renewal: %v %v, rotated: %v", ok, err, stored.RefreshToken != first.RefreshToken)
	}
	if _, err := e.app.Refresh(ctx, first.RefreshToken); !errors.Is(err, oauth.ErrRefused) {
		t.Fatalf("the rotated-out refresh token: %v, want oauth.ErrRefused", err)
	}

	if err := oauth.Save(ctx, e.st, crmv2.GrantName, oauth.Token{AccessToken: "dead", RefreshToken: first.RefreshToken}); err != nil {
		t.Fatal(err)
	}
	_, err = e.client(t, oauth.Options{}).Organization(ctx, "x")
	if !errors.Is(err, oauth.ErrRefused) || !strings.Contains(err.Error(), "erpbridge crm authorize") {
		t.Fatalf("a refused grant: %v, want oauth.ErrRefused naming `erpbridge crm authorize`", err)
	}
	if _, err := newApp(t, e.srv.URL).Exchange(ctx, "no-such-code", redirect); !errors.Is(err, oauth.ErrRefused) {
		t.Fatalf("a bad code: %v", err)
	}
	bad, _ := crmv2.NewApp(crmv2.AppConfig{ClientID: "x", ClientSecret: "y", TokenURL: e.srv.URL + "/oauth2/token"})
	if _, err := bad.Refresh(ctx, "r"); !errors.Is(err, crm.ErrUnauthorized) || errors.Is(err, oauth.ErrRefused) {
		t.Fatalf("wrong client credentials: %v, want crm.ErrUnauthorized (a setting), not a refused grant", err)
	}
}

// Paging follows links.next to the last page; filters by custom field and
// by a name full of RDQL syntax find exactly the record.
func TestListingPagesAndFilters(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, rdsim.Options{})
	e.authorize(t)
	c := e.client(t, oauth.Options{})
	var sd rdsim.SeedData
	sd.CustomFields = []rdsim.CustomField{{ID: "cf0000000000000000000001", Label: "CNPJ", Type: "text", For: "organization", Visible: true}}
	for i := range 450 {
		sd.Organizations = append(sd.Organizations, rdsim.Organization{Name: fmt.Sprintf("Org %03d", i),
			CustomFields: []rdsim.CustomFieldValue{{CustomFieldID: "cf0000000000000000000001", Value: fmt.Sprintf("%014d", i)}}})
	}
	if err := e.sim.Seed(sd); err != nil {
		t.Fatal(err)
	}
	e.sim.ResetCounts()
	all := collect(t, c.Organizations(ctx, crmv2.Query{}))
	if len(all) != 450 || all[449].Name != "Org 449" {
		t.Fatalf("%d organizations", len(all))
	}
	if n := e.sim.Counts().ByRoute["GET /crm/v2/organizations"]; n != 3 {
		t.Fatalf("%d pages read, want 3", n)
	}
	one := collect(t, c.Organizations(ctx, crmv2.Query{Filter: crmv2.Eq(crmv2.CustomField("cnpj"), "00000000000321")}))
	if len(one) != 1 || one[0].Name != "Org 321" || one[0].CustomFields["cnpj"] != "00000000000321" {
		t.Fatalf("by @cnpj: %+v", one)
	}
	tricky := `Acme "Tricky" \ (Ltda) or name:x, -y`
	made, err := c.CreateOrganization(ctx, crmv2.Organization{Name: tricky, CustomFields: map[string]any{"cnpj": "11"}})
	if err != nil {
		t.Fatal(err)
	}
	got := collect(t, c.Organizations(ctx, crmv2.Query{Filter: crmv2.And(crmv2.Eq(crmv2.FieldName, tricky),
		crmv2.Or(crmv2.Eq(crmv2.CustomField("cnpj"), "11"), crmv2.Eq(crmv2.CustomField("cnpj"), "22")))}))
	if len(got) != 1 || got[0].ID != made.ID {
		t.Fatalf("by a name full of RDQL syntax: %+v", got)
	}
	if _, err := collectErr(c.Organizations(ctx, crmv2.Query{Filter: crmv2.Eq(crmv2.Field("na me"), "x")})); err == nil || !strings.Contains(err.Error(), "not a field name") {
		t.Fatalf("a bad field name: %v", err)
	}
}

func collectErr[T any](seq func(func(T, error) bool)) ([]T, error) {
	var out []T
	for v, err := range seq {
		if err != nil {
			return out, err
		}
		out = append(out, v)
	}
	return out, nil
}

// v2 errors map to rdstation/crm's kinds; a POST whose answer was lost is
// ErrOutcomeUnknown and not sent again; a 401 on a good grant is renewed.
func TestErrorsMapped(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, rdsim.Options{})
	e.authorize(t)
	c := e.client(t, oauth.Options{})
	if _, err := c.CreateProduct(ctx, crmv2.Product{Name: "Parafuso"}); err != nil {
		t.Fatal(err)
	}
	_, err := c.CreateProduct(ctx, crmv2.Product{Name: "PARAFUSO"})
	var ce *crm.Error
	if !errors.Is(err, crm.ErrValidation) || !errors.As(err, &ce) || len(ce.Fields["name"]) != 1 {
		t.Fatalf("duplicate product: %v", err)
	}
	if _, err := c.Deal(ctx, "0123456789abcdef01234567"); !errors.Is(err, crm.ErrNotFound) {
		t.Fatalf("unknown deal: %v", err)
	}
	_, err = c.CreateOrganization(ctx, crmv2.Organization{Name: "Sem Campo", CustomFields: map[string]any{"nope": "1"}})
	if !errors.Is(err, crm.ErrValidation) || !strings.Contains(err.Error(), "custom_fields.nope") {
		t.Fatalf("unknown custom field slug: %v", err)
	}
	e.sim.SetFaults(rdsim.Faults{Script: []rdsim.FaultKind{rdsim.FaultLostResponse}})
	e.sim.ResetCounts()
	if _, err := c.CreateDeal(ctx, crmv2.Deal{Name: "Perdida"}); !errors.Is(err, crm.ErrOutcomeUnknown) {
		t.Fatalf("lost answer: %v", err)
	}
	if n := e.sim.Counts().ByRoute["POST /crm/v2/deals"]; n != 1 {
		t.Fatalf("the lost POST was sent %d times", n)
	}
	won := collect(t, c.Deals(ctx, crmv2.Query{Filter: crmv2.Eq(crmv2.FieldName, "Perdida")}))
	if len(won) != 1 {
		t.Fatalf("the lost POST's deal: %+v", won)
	}
	d, err := c.UpdateDeal(ctx, won[0].ID, crmv2.Deal{Status: crmv2.StatusWon})
	if err != nil || d.Status != crmv2.StatusWon || d.ClosedAt == nil {
		t.Fatalf("winning: %+v %v", d, err)
	}
	since := d.ClosedAt.Add(-1)
	w := collect(t, c.Deals(ctx, crmv2.Query{Filter: crmv2.And(crmv2.Eq(crmv2.FieldStatus, crmv2.StatusWon), crmv2.Since(crmv2.FieldClosedAt, since))}))
	if len(w) != 1 || w[0].ID != d.ID {
		t.Fatalf("won since: %+v", w)
	}
}

// The helper process: opens the store, makes one call whose access token
// the server expired, and SIGKILLs itself right after the rotated grant is
// committed, before using it.
func TestRefreshKillHelper(t *testing.T) {
	if os.Getenv("ERPBRIDGE_CRMV2_KILL") == "" {
		t.Skip("helper process of TestRotationSurvivesSIGKILL")
	}
	ctx := context.Background()
	st, err := store.Open(ctx, os.Getenv("ERPBRIDGE_CRMV2_STORE"))
	if err != nil {
		t.Fatal(err)
	}
	base := os.Getenv("ERPBRIDGE_CRMV2_SIM")
	kill := func() {
		p, _ := os.FindProcess(os.Getpid())
		_ = p.Kill()
		select {}
	}
	c, err := crmv2.New(crmv2.Config{BaseURL: base + "/crm/v2", MaxRetries: -1,
		Bearer: crmv2.NewSource(st, newApp(t, base), oauth.Options{AfterSave: kill})})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Organization(ctx, "x")
	t.Fatalf("the helper was not killed: %v", err)
}

// Issue 15 "Done when": refresh-token rotation survives a SIGKILL between
// refresh and save. RD rotates, so the grant committed before the kill is
// the only one that works: the next process uses it; the old one is refused.
func TestRotationSurvivesSIGKILL(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a helper process")
	}
	ctx := context.Background()
	e := newEnv(t, rdsim.Options{})
	first := e.authorize(t)
	e.st.Close()
	e.sim.ExpireCRMv2AccessTokens()
	cmd := exec.Command(os.Args[0], "-test.run=^TestRefreshKillHelper$", "-test.count=1")
	cmd.Env = append(os.Environ(), "ERPBRIDGE_CRMV2_KILL=1", "ERPBRIDGE_CRMV2_STORE="+e.path, "ERPBRIDGE_CRMV2_SIM="+e.srv.URL)
	out, err := cmd.CombinedOutput()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.Success() || exit.ExitCode() != -1 {
		t.Fatalf("the helper was not killed: %v\n%s", err, out)
	}
	st, err := store.Open(ctx, e.path)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	e.st = st
	if _, err := e.client(t, oauth.Options{}).CreateOrganization(ctx, crmv2.Organization{Name: "Depois"}); err != nil {
		t.Fatalf("after the kill: %v", err)
	}
	if _, err := e.app.Refresh(ctx, first.RefreshToken); !errors.Is(err, oauth.ErrRefused) {
		t.Fatalf("the pre-kill refresh token: %v, want refused", err)
	}
}

// Issue 15 "Done when": a deal won beyond the first 10,000 is read. 12,000
// won deals (some sharing a second, across the cap's edge): the plain
// listing stops at 10,000; WonDealsSince yields each exactly once.
func TestWonDealsPastTheCap(t *testing.T) {
	if testing.Short() {
		t.Skip("reads 12,000 deals")
	}
	ctx := context.Background()
	e := newEnv(t, rdsim.Options{})
	e.authorize(t)
	c := e.client(t, oauth.Options{})
	t0 := time.Date(2026, 1, 5, 10, 0, 0, 0, time.UTC)
	won := true
	var sd rdsim.SeedData
	for i := range 12000 {
		at := t0.Add(time.Duration(i/3) * time.Second) // three deals a second
		sd.Deals = append(sd.Deals, rdsim.Deal{Name: fmt.Sprintf("Deal %05d", i), Win: &won, ClosedAt: &at})
	}
	sd.Deals = append(sd.Deals, rdsim.Deal{Name: "Open"})
	if err := e.sim.Seed(sd); err != nil {
		t.Fatal(err)
	}
	plain := collect(t, c.Deals(ctx, crmv2.Query{Filter: crmv2.Eq(crmv2.FieldStatus, crmv2.StatusWon)}))
	if len(plain) != crmv2.ListingCap {
		t.Fatalf("the plain listing read %d deals, want the cap %d", len(plain), crmv2.ListingCap)
	}
	seen := map[string]int{}
	names := map[string]bool{}
	for d, err := range c.WonDealsSince(ctx, t0.Add(-time.Hour)) {
		if err != nil {
			t.Fatal(err)
		}
		seen[d.ID]++
		names[d.Name] = true
	}
	if len(seen) != 12000 || !names["Deal 11999"] || !names["Deal 10001"] {
		t.Fatalf("%d distinct won deals, want 12000", len(seen))
	}
	for id, n := range seen {
		if n != 1 {
			t.Fatalf("deal %s yielded %d times", id, n)
		}
	}
	late := collect(t, c.WonDealsSince(ctx, t0.Add(3990*time.Second)))
	if len(late) != 30 || late[0].Name != "Deal 11970" {
		t.Fatalf("won since the 3990th second: %d, first %v", len(late), late[0].Name)
	}
}

// Pipelines, stages, lost reasons, users and deal products through v2,
// over the account v1 sees.
func TestReferenceDataAndDealProducts(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, rdsim.Options{})
	e.authorize(t)
	c := e.client(t, oauth.Options{})
	pipes := collect(t, c.Pipelines(ctx))
	if len(pipes) != 2 || pipes[0].Name != rdsim.DefaultPipelineName {
		t.Fatalf("pipelines: %+v", pipes)
	}
	stages := collect(t, c.Stages(ctx, pipes[0].ID))
	if len(stages) != 5 || stages[0].Name != "Sem contato" || stages[0].PipelineID != pipes[0].ID {
		t.Fatalf("stages: %+v", stages)
	}
	if _, err := collectErr(c.Stages(ctx, "0123456789abcdef01234567")); !errors.Is(err, crm.ErrNotFound) {
		t.Fatalf("stages of no pipeline: %v", err)
	}
	if lr := collect(t, c.LostReasons(ctx)); len(lr) != 4 || lr[0].Name != "Preço" {
		t.Fatalf("lost reasons: %+v", lr)
	}
	users := collect(t, c.Users(ctx, crmv2.Query{Filter: crmv2.Eq(crmv2.FieldEmail, rdsim.DefaultAdminEmail)}))
	if len(users) != 1 || !users[0].Active {
		t.Fatalf("users by e-mail: %+v", users)
	}
	prod, err := c.CreateProduct(ctx, crmv2.Product{Name: "Parafuso", Price: crm.DecimalPtr(decimal.RequireFromString("1.25"))})
	if err != nil {
		t.Fatal(err)
	}
	deal, err := c.CreateDeal(ctx, crmv2.Deal{Name: "Pedido 1", StageID: stages[1].ID})
	if err != nil || deal.StageID != stages[1].ID || deal.PipelineID != pipes[0].ID || deal.Status != crmv2.StatusOngoing {
		t.Fatalf("deal: %+v %v", deal, err)
	}
	dp, err := c.CreateDealProduct(ctx, deal.ID, crmv2.DealProduct{ProductID: prod.ID, Price: crm.DecimalPtr(decimal.RequireFromString("1.25")),
		Quantity: crm.DecimalPtr(decimal.NewFromInt(4)), Discount: crm.DecimalPtr(decimal.NewFromInt(10)),
		DiscountType: crmv2.DiscountPercentage, BillingFrequency: crmv2.BillingMonthly})
	if err != nil || dp.TotalPrice == nil || dp.TotalPrice.String() != "4.5" || dp.BillingFrequency != crmv2.BillingMonthly {
		t.Fatalf("deal product: %+v %v", dp, err)
	}
	if _, err := c.UpdateDealProduct(ctx, deal.ID, dp.ID, crmv2.DealProduct{Quantity: crm.DecimalPtr(decimal.NewFromInt(8))}); err != nil {
		t.Fatal(err)
	}
	again, err := c.Deal(ctx, deal.ID)
	if err != nil || again.RecurrencePrice == nil || again.RecurrencePrice.String() != "9" {
		t.Fatalf("deal after the update: %+v %v", again, err)
	}
	_, err = c.CreateDealProduct(ctx, deal.ID, crmv2.DealProduct{ProductID: prod.ID, DiscountType: "bogus"})
	var ce *crm.Error
	if !errors.As(err, &ce) || len(ce.Fields["discount_type"]) == 0 {
		t.Fatalf("bad discount type: %v", err)
	}
	if err := c.DeleteDealProduct(ctx, deal.ID, dp.ID); err != nil {
		t.Fatal(err)
	}
	if l, err := c.DealProducts(ctx, deal.ID); err != nil || len(l) != 0 {
		t.Fatalf("after the delete: %+v %v", l, err)
	}
}

// A window's end inside a second still includes a deal won earlier in
// that second (the filter compares whole seconds).
func TestWonDealsBetweenRoundsTheEndUp(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, rdsim.Options{})
	e.authorize(t)
	c := e.client(t, oauth.Options{})
	closed := time.Date(2026, 1, 5, 10, 0, 7, 400_000_000, time.UTC)
	won := true
	if err := e.sim.Seed(rdsim.SeedData{Deals: []rdsim.Deal{{Name: "No meio do segundo", Win: &won, ClosedAt: &closed}}}); err != nil {
		t.Fatal(err)
	}
	got := collect(t, c.WonDealsBetween(ctx, closed.Add(-time.Minute), closed.Add(300*time.Millisecond)))
	if len(got) != 1 {
		t.Fatalf("a deal won 0.3 s before the window's end: %d listed", len(got))
	}
	if got := collect(t, c.WonDealsBetween(ctx, closed.Add(-time.Minute), closed.Add(-2*time.Second))); len(got) != 0 {
		t.Fatalf("a deal won 2 s after the window's end: %d listed", len(got))
	}
}
