package marketing_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/erpbridge/erpbridge/bridge/clock"
	"github.com/erpbridge/erpbridge/bridge/oauth"
	"github.com/erpbridge/erpbridge/bridge/store"
	"github.com/erpbridge/erpbridge/rdstation/crm"
	"github.com/erpbridge/erpbridge/rdstation/marketing"
	"github.com/erpbridge/erpbridge/rdstation/rdsim"
)

var start = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

// env is a Marketing client over the simulator, its grant in a real store.
type env struct {
	ctx context.Context
	clk *clock.Fake
	sim *rdsim.Sim
	srv *httptest.Server
	st  *store.Store
	c   *marketing.Client
	src *oauth.Source
}

const hint = "run `erpbridge marketing authorize`"

func newEnv(t *testing.T, rpm int) *env {
	t.Helper()
	e := &env{ctx: context.Background(), clk: clock.NewFake(start)}
	e.sim = rdsim.New(rdsim.Options{Clock: e.clk, Marketing: rdsim.MarketingOptions{RequestsPerMinute: rpm}})
	e.srv = httptest.NewServer(e.sim)
	t.Cleanup(e.srv.Close)
	var err error
	if e.st, err = store.Open(e.ctx, filepath.Join(t.TempDir(), "erpbridge.db")); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.st.Close() })
	e.c = e.client(t, nil)
	return e
}

// client returns a client whose grant comes from the store (through a new
// Source: a restarted process), with the hooks given.
func (e *env) client(t *testing.T, o *oauth.Options) *marketing.Client {
	t.Helper()
	auth, err := marketing.New(marketing.Config{BaseURL: e.srv.URL, ClientID: rdsim.DefaultMarketingClientID,
		ClientSecret: rdsim.DefaultMarketingClientSecret, Clock: e.clk, MaxRetries: -1, AuthHint: hint})
	if err != nil {
		t.Fatal(err)
	}
	opts := oauth.Options{Clock: e.clk, Hint: hint}
	if o != nil {
		opts.AfterRefresh, opts.AfterSave = o.AfterRefresh, o.AfterSave
	}
	e.src = oauth.New(e.st, "marketing", auth.Refresh, opts)
	c, err := marketing.New(marketing.Config{BaseURL: e.srv.URL, ClientID: rdsim.DefaultMarketingClientID,
		ClientSecret: rdsim.DefaultMarketingClientSecret, Clock: e.clk, MaxRetries: -1, AuthHint: hint, Tokens: e.src,
		Budget: crm.NewBudget(crm.BudgetConfig{RequestsPerMinute: -1, Clock: e.clk})})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// authorize walks the code flow as `erpbridge marketing authorize` does:
// the admin opens the URL, the browser comes back with a code.
func (e *env) authorize(t *testing.T) oauth.Token {
	t.Helper()
	u := e.c.AuthorizeURL("https://example.com/callback", "st4te")
	noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := noRedirect.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	loc, err := url.Parse(resp.Header.Get("Location"))
	if err != nil || resp.StatusCode != http.StatusFound {
		t.Fatalf("dialog: %d %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	if loc.Query().Get("state") != "st4te" {
		t.Fatalf("the state did not come back: %s", loc)
	}
	tok, err := e.c.ExchangeCode(e.ctx, loc.Query().Get("code"))
	if err != nil {
		t.Fatal(err)
	}
	if err := oauth.Save(e.ctx, e.st, "marketing", tok); err != nil {
		t.Fatal(err)
	}
	if _, err := e.c.ExchangeCode(e.ctx, loc.Query().Get("code")); !errors.Is(err, marketing.ErrCodeExpired) {
		t.Fatalf("a code used twice: %v, want ErrCodeExpired", err)
	}
	e.sim.ResetMarketingCounts()
	return tok
}

func TestAuthorizeAndRefreshBeforeExpiry(t *testing.T) {
	e := newEnv(t, -1)
	if _, err := e.c.Fields(e.ctx); !errors.Is(err, oauth.ErrNotAuthorized) || !strings.Contains(err.Error(), hint) {
		t.Fatalf("before authorizing: %v, want ErrNotAuthorized with what to do", err)
	}
	first := e.authorize(t)
	if first.Expiry.Sub(start) != 24*time.Hour {
		t.Fatalf("access token lasts %s, want 24h", first.Expiry.Sub(start))
	}
	if _, err := e.c.Fields(e.ctx); err != nil {
		t.Fatal(err)
	}
	// Close to its expiry the token is refreshed before it is used: no
	// request ever meets the expired-token 401.
	e.clk.Advance(24*time.Hour - 5*time.Minute)
	if _, err := e.c.Fields(e.ctx); err != nil {
		t.Fatal(err)
	}
	if n := e.sim.MarketingCounts().ByStatus[401]; n != 0 {
		t.Fatalf("%d requests were refused: the token should be refreshed before expiry", n)
	}
	got, _, err := oauth.Load(e.ctx, e.st, "marketing")
	if err != nil || got.AccessToken == first.AccessToken || !got.Expiry.After(first.Expiry) {
		t.Fatalf("the store holds %+v (%v), want a new access token", got, err)
	}
	// Wrong app credentials are ACCESS_DENIED, with what to do.
	bad, _ := marketing.New(marketing.Config{BaseURL: e.srv.URL, ClientID: rdsim.DefaultMarketingClientID, ClientSecret: "nope", Clock: e.clk, AuthHint: hint})
	if _, err := bad.Refresh(e.ctx, got.RefreshToken); !errors.Is(err, marketing.ErrUnauthorized) || !marketing.HasType(err, "ACCESS_DENIED") ||
		strings.Contains(err.Error(), "nope") {
		t.Fatalf("wrong secret: %v", err)
	}
}

func TestExpiredTokenRefreshedOnceWithRotation(t *testing.T) {
	e := newEnv(t, -1)
	e.sim.SetMarketingSwitches(rdsim.MarketingSwitches{RefreshRotation: true})
	first := e.authorize(t)
	e.sim.ExpireMarketingTokens() // the server ends the token early
	if _, err := e.c.Fields(e.ctx); err != nil {
		t.Fatal(err)
	}
	if n := e.sim.MarketingCounts().ByStatus[401]; n != 1 {
		t.Fatalf("%d expired-token answers, want 1 (refreshed, then retried)", n)
	}
	saved, _, err := oauth.Load(e.ctx, e.st, "marketing")
	if err != nil || saved.RefreshToken == first.RefreshToken {
		t.Fatalf("the rotated refresh token was not saved: %+v %v", saved, err)
	}
	// The old refresh token is retired: using it is what fails.
	if _, err := e.c.Refresh(e.ctx, first.RefreshToken); !errors.Is(err, oauth.ErrRefused) || !errors.Is(err, marketing.ErrRefreshRefused) {
		t.Fatalf("the retired refresh token: %v, want refused", err)
	}
	// A new process reads the saved grant and goes on.
	if _, err := e.client(t, nil).Fields(e.ctx); err != nil {
		t.Fatal(err)
	}
}

// TestRefreshTokenSavedBeforeUse: the process dies right after the server
// rotated the refresh token and the grant was committed, before the new
// access token is used (AfterSave). The restarted process works with the
// saved grant; the stale one is refused. A death before the commit
// (AfterRefresh) leaves the grant that was sent: with rotation off (the
// documented behaviour) it still works; with rotation on the server has
// retired it, and the bridge says to authorize again (the one residual
// risk, docs/marketing.md).
func TestRefreshTokenSavedBeforeUse(t *testing.T) {
	for _, tc := range []struct {
		name           string
		rotation       bool
		beforeCommit   bool
		restartRefused bool
	}{
		{"after the commit, rotation on", true, false, false},
		{"before the commit, rotation off", false, true, false},
		{"before the commit, rotation on", true, true, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, -1)
			e.sim.SetMarketingSwitches(rdsim.MarketingSwitches{RefreshRotation: tc.rotation})
			first := e.authorize(t)
			type crash struct{}
			die := func() { panic(crash{}) } // the process stops here: nothing after runs
			hooks := &oauth.Options{AfterSave: die}
			if tc.beforeCommit {
				hooks = &oauth.Options{AfterRefresh: die}
			}
			c := e.client(t, hooks)
			e.clk.Advance(24 * time.Hour)
			func() {
				defer func() {
					if _, ok := recover().(crash); !ok {
						t.Fatal("the refresh never happened")
					}
				}()
				_, _ = c.Fields(e.ctx)
			}()
			_, err := e.client(t, nil).Fields(e.ctx)
			if tc.restartRefused {
				if !errors.Is(err, oauth.ErrRefused) || !strings.Contains(err.Error(), hint) {
					t.Fatalf("restart: %v, want the refusal and what to do", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("restart: %v", err)
			}
			if tc.rotation {
				if _, err := e.c.Refresh(e.ctx, first.RefreshToken); !errors.Is(err, oauth.ErrRefused) {
					t.Fatalf("the stale refresh token: %v, want refused", err)
				}
			}
		})
	}
}

func TestContactUpsertTagsFieldsAndQuota(t *testing.T) {
	e := newEnv(t, -1)
	e.authorize(t)
	if err := e.sim.SeedMarketing(rdsim.MarketingSeed{Fields: []rdsim.MarketingField{
		{APIIdentifier: "cf_segmento", Custom: true, PresentationType: "COMBO_BOX", Label: "Segmento", Options: []string{"Varejo", "Indústria"}},
	}}); err != nil {
		t.Fatal(err)
	}
	fields, err := e.c.Fields(e.ctx)
	if err != nil {
		t.Fatal(err)
	}
	var seg marketing.Field
	for _, f := range fields {
		if f.APIIdentifier == "cf_segmento" {
			seg = f
		}
	}
	if !seg.Custom || seg.Label != "Segmento" || strings.Join(seg.Options, ",") != "Varejo,Indústria" {
		t.Fatalf("custom field read as %+v", seg)
	}
	const who = "Ana@Example.com"
	if _, err := e.c.UpsertContact(e.ctx, who, map[string]any{"name": "Ana", "tags": []string{"cliente-erp"}, "cf_segmento": "Varejo",
		"legal_bases": []marketing.LegalBase{{Category: "communications", Type: "legitimate_interest", Status: "granted"}}}); err != nil {
		t.Fatal(err)
	}
	// PATCH replaces tags; /tag appends.
	if _, err := e.c.UpsertContact(e.ctx, who, map[string]any{"tags": []string{"vip"}}); err != nil {
		t.Fatal(err)
	}
	if err := e.c.AddTags(e.ctx, who, []string{"cliente-erp"}); err != nil {
		t.Fatal(err)
	}
	got, err := e.c.GetContact(e.ctx, who)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(got.Tags, ",") != "vip,cliente-erp" || got.Fields["cf_segmento"] != "Varejo" || len(got.LegalBases) != 1 {
		t.Fatalf("contact: %+v", got)
	}
	for _, tc := range []struct {
		fields map[string]any
		typ    string
	}{
		{map[string]any{"tags": []string{"VIP"}}, "VALUES_MUST_BE_LOWERCASE"},
		{map[string]any{"tags": []string{"a", "a"}}, "VALUES_MUST_BE_UNIQUE"},
		{map[string]any{"tags": "a"}, "INVALID_DATA_TYPE"},
		{map[string]any{"available_for_mailing": true}, "INVALID_FIELDS"},
		{map[string]any{"cf_nope": "x"}, "INVALID_FIELDS"},
		{map[string]any{"email": "x@y.com"}, "CONFLICTING_FIELD"},
	} {
		_, err := e.c.UpsertContact(e.ctx, who, tc.fields)
		if !errors.Is(err, marketing.ErrBadRequest) || !marketing.HasType(err, tc.typ) {
			t.Errorf("%v: %v, want %s", tc.fields, err, tc.typ)
		}
	}
	if _, err := e.c.GetContact(e.ctx, "nobody@example.com"); !errors.Is(err, marketing.ErrNotFound) {
		t.Fatalf("unknown contact: %v", err)
	}
	// 24 PATCHes a day per contact: the next is the contact's own 429,
	// returned at once with when it may go again; others go on.
	n := 2
	for ; n < 24; n++ {
		if _, err := e.c.UpsertContact(e.ctx, who, map[string]any{"job_title": "Compras"}); err != nil {
			t.Fatalf("PATCH %d: %v", n+1, err)
		}
	}
	_, err = e.c.UpsertContact(e.ctx, who, map[string]any{"job_title": "Compras"})
	var cl *marketing.ContactLimitError
	if !errors.As(err, &cl) || !errors.Is(err, marketing.ErrContactLimited) || cl.Max != 24 || cl.Key != "ana@example.com" ||
		cl.RetryIn <= 0 || cl.RetryIn > 24*time.Hour {
		t.Fatalf("25th PATCH: %v (%+v)", err, cl)
	}
	if _, err := e.c.UpsertContact(e.ctx, "bia@example.com", map[string]any{"name": "Bia"}); err != nil {
		t.Fatalf("another contact: %v", err)
	}
	e.clk.Advance(cl.RetryIn)
	if _, err := e.c.UpsertContact(e.ctx, who, map[string]any{"job_title": "Compras"}); err != nil {
		t.Fatalf("after the window the contact named: %v", err)
	}
}

func TestAccountRateLimitIsWaitedOut(t *testing.T) {
	e := newEnv(t, 5)
	e.authorize(t)
	before := e.clk.Now()
	for i := range 12 {
		if _, err := e.c.Fields(e.ctx); err != nil {
			t.Fatalf("call %d: %v", i, err)
		}
	}
	if e.sim.MarketingCounts().ByStatus[429] == 0 || e.clk.Now().Sub(before) < time.Minute {
		t.Fatalf("5/min: 12 calls should meet the account's 429 and wait a minute (waited %s)", e.clk.Now().Sub(before))
	}
}

func TestEventsAreNeverSentTwice(t *testing.T) {
	e := newEnv(t, -1)
	e.authorize(t)
	sale := marketing.Event{Type: marketing.EventSale, Payload: map[string]any{"email": "ana@example.com", "value": 10.5}}
	if _, err := e.c.SendEvent(e.ctx, sale); !errors.Is(err, marketing.ErrNotFound) {
		t.Fatalf("SALE for a contact Marketing does not have: %v, want not found", err)
	}
	conv := marketing.Event{Type: marketing.EventConversion, Payload: map[string]any{"email": "ana@example.com", "conversion_identifier": "erpbridge",
		"name": "Ana", "legal_bases": []marketing.LegalBase{{Category: "communications", Type: "legitimate_interest", Status: "granted"}}}}
	if _, err := e.c.SendEvent(e.ctx, conv); err != nil {
		t.Fatal(err)
	}
	e.sim.SetMarketingFaults(rdsim.Faults{Script: []rdsim.FaultKind{rdsim.FaultLostResponse}})
	if _, err := e.c.SendEvent(e.ctx, sale); !errors.Is(err, marketing.ErrOutcomeUnknown) {
		t.Fatalf("lost answer: %v, want outcome unknown", err)
	}
	e.sim.SetMarketingFaults(rdsim.Faults{Script: []rdsim.FaultKind{rdsim.FaultServerError}})
	if _, err := e.c.SendEvent(e.ctx, sale); !errors.Is(err, marketing.ErrOutcomeUnknown) {
		t.Fatalf("500 on a POST: %v, want outcome unknown", err)
	}
	sales := 0
	for _, ev := range e.sim.MarketingState().Events {
		if ev.Type == marketing.EventSale {
			sales++
		}
	}
	if sales != 1 {
		t.Fatalf("%d SALE events recorded, want 1 (the lost one, never resent)", sales)
	}
	// A batch names the bad event.
	_, err := e.c.SendEvents(e.ctx, []marketing.Event{sale, {Type: marketing.EventSale, Payload: map[string]any{"email": "bad"}}})
	var me *marketing.Error
	if !errors.As(err, &me) || me.JSONPath != "$[1].payload.email" {
		t.Fatalf("batch with a bad event: %v", err)
	}
	uuids, err := e.c.SendEvents(e.ctx, []marketing.Event{sale, {Type: marketing.EventOpportunityLost, Payload: map[string]any{"email": "ana@example.com", "reason": "Preço"}}})
	if err != nil || len(uuids) != 2 {
		t.Fatalf("batch: %v %v", uuids, err)
	}
}
