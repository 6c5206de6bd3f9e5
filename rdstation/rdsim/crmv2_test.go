package rdsim

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

// v2do sends a /crm/v2 request with the bearer token.
func (a *api) v2do(bearer, method, path string, body any) resp {
	a.t.Helper()
	var rd io.Reader
	if body != nil {
		raw, err := json.Marshal(body)
		if err != nil {
			a.t.Fatal(err)
		}
		rd = bytes.NewReader(raw)
	}
	u := path
	if !strings.HasPrefix(path, "http") {
		u = a.base + "/crm/v2" + path
	}
	req, err := http.NewRequest(method, u, rd)
	if err != nil {
		a.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	res, err := a.hc.Do(req)
	if err != nil {
		return resp{err: err}
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	return resp{status: res.StatusCode, header: res.Header, body: raw, err: err}
}

func (a *api) v2must(bearer string, want int, method, path string, body any) map[string]any {
	a.t.Helper()
	r := a.v2do(bearer, method, path, body)
	if r.err != nil {
		a.t.Fatalf("%s %s: %v", method, path, r.err)
	}
	if r.status != want {
		a.t.Fatalf("%s %s: status %d, want %d; body %s", method, path, r.status, want, r.body)
	}
	var m map[string]any
	if err := json.Unmarshal(r.body, &m); err != nil {
		a.t.Fatalf("%s %s: decoding %s: %v", method, path, r.body, err)
	}
	return m
}

func (a *api) tokenForm(form url.Values) resp {
	a.t.Helper()
	res, err := a.hc.Post(a.base+"/oauth2/token", "application/x-www-form-urlencoded", strings.NewReader(form.Encode()))
	if err != nil {
		return resp{err: err}
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	return resp{status: res.StatusCode, header: res.Header, body: raw, err: err}
}

func grantForm(kind, val string) url.Values {
	f := url.Values{"client_id": {DefaultCRMv2ClientID}, "client_secret": {DefaultCRMv2ClientSecret}, "grant_type": {kind}}
	if kind == "refresh_token" {
		f.Set("refresh_token", val)
	} else {
		f.Set("code", val)
		f.Set("redirect_uri", "http://127.0.0.1:9/cb")
	}
	return f
}

func decodeGrant(t *testing.T, r resp) (access, refresh string) {
	t.Helper()
	if r.err != nil || r.status != http.StatusOK {
		t.Fatalf("token: %v %d %s", r.err, r.status, r.body)
	}
	var g struct {
		AccessToken  string `json:"access_token"`
		RefreshToken string `json:"refresh_token"`
		ExpiresIn    int    `json:"expires_in"`
	}
	if err := json.Unmarshal(r.body, &g); err != nil {
		t.Fatal(err)
	}
	if g.ExpiresIn != 7200 || g.AccessToken == "" || g.RefreshToken == "" {
		t.Fatalf("grant %s: want expires_in 7200 and both tokens", r.body)
	}
	return g.AccessToken, g.RefreshToken
}

// The whole grant: authorize → code → tokens; the access token expires
// after 2 h; a refresh rotates (the old refresh token is refused); a
// refresh token unused for 14 days dies; codes are single-use, 5 min.
func TestCRMv2OAuthGrant(t *testing.T) {
	a, fake := newAPI(t, Options{})
	noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	authorize := func() string {
		t.Helper()
		res, err := noRedirect.Get(a.base + "/oauth/authorize?response_type=code&client_id=" + DefaultCRMv2ClientID +
			"&redirect_uri=" + url.QueryEscape("http://127.0.0.1:9/cb") + "&state=xyz")
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		loc, err := url.Parse(res.Header.Get("Location"))
		if err != nil || res.StatusCode != http.StatusFound || loc.Query().Get("state") != "xyz" {
			t.Fatalf("authorize: %d %q %v", res.StatusCode, res.Header.Get("Location"), err)
		}
		return loc.Query().Get("code")
	}
	code := authorize()
	access, refresh := decodeGrant(t, a.tokenForm(grantForm("authorization_code", code)))
	if r := a.tokenForm(grantForm("authorization_code", code)); r.status != http.StatusBadRequest || !strings.Contains(string(r.body), "invalid_grant") {
		t.Fatalf("second use of a code: %d %s", r.status, r.body)
	}
	late := authorize()
	fake.Advance(CRMv2CodeLifetime)
	if r := a.tokenForm(grantForm("authorization_code", late)); r.status != http.StatusBadRequest {
		t.Fatalf("a code 5 min old: %d %s", r.status, r.body)
	}
	bad := grantForm("authorization_code", authorize())
	bad.Set("client_secret", "wrong")
	if r := a.tokenForm(bad); r.status != http.StatusUnauthorized || !strings.Contains(string(r.body), "invalid_client") {
		t.Fatalf("wrong secret: %d %s", r.status, r.body)
	}

	a.v2must(access, http.StatusOK, "GET", "/organizations", nil)
	fake.Advance(2 * time.Hour)
	r := a.v2do(access, "GET", "/organizations", nil)
	if r.status != http.StatusUnauthorized || !strings.Contains(r.header.Get("WWW-Authenticate"), "invalid_token") {
		t.Fatalf("expired access token: %d %s", r.status, r.body)
	}
	jsonEq(t, r.body, `{"errors":[{"error_type":"UNAUTHORIZED","error_message":"The access token is invalid or has expired"}]}`)

	access2, refresh2 := decodeGrant(t, a.tokenForm(grantForm("refresh_token", refresh)))
	if refresh2 == refresh {
		t.Fatal("refresh did not rotate the refresh token")
	}
	if r := a.tokenForm(grantForm("refresh_token", refresh)); r.status != http.StatusBadRequest || !strings.Contains(string(r.body), "invalid_grant") {
		t.Fatalf("rotated-out refresh token: %d %s", r.status, r.body)
	}
	a.v2must(access2, http.StatusOK, "GET", "/organizations", nil)

	fake.Advance(CRMv2RefreshTokenIdle - time.Second)
	_, refresh3 := decodeGrant(t, a.tokenForm(grantForm("refresh_token", refresh2)))
	fake.Advance(CRMv2RefreshTokenIdle)
	if r := a.tokenForm(grantForm("refresh_token", refresh3)); r.status != http.StatusBadRequest {
		t.Fatalf("refresh token unused 14 days: %d %s", r.status, r.body)
	}
	// The Marketing credentials are another product's.
	mk := grantForm("refresh_token", refresh3)
	mk.Set("client_id", DefaultMarketingClientID)
	mk.Set("client_secret", DefaultMarketingClientSecret)
	if r := a.tokenForm(mk); r.status != http.StatusUnauthorized {
		t.Fatalf("Marketing credentials at the CRM token endpoint: %d %s", r.status, r.body)
	}
}

// A record written through v1 is read through v2 and the other way
// round; custom fields are keyed by slug; ids follow the [U] switch.
func TestCRMv2SameStateAsV1(t *testing.T) {
	for _, uuid := range []bool{false, true} {
		t.Run(fmt.Sprint("uuid=", uuid), func(t *testing.T) {
			a, _ := newAPI(t, Options{Switches: Switches{V2UUIDIDs: uuid}})
			bearer, _ := a.sim.IssueCRMv2Grant()
			cf := a.must(201, "POST", "/custom_fields", map[string]any{"custom_field": map[string]any{"label": "CNPJ", "type": "text", "for": "organization"}})
			org := a.must(200, "POST", "/organizations", map[string]any{"organization": map[string]any{"name": "Acme Ltda",
				"organization_custom_fields": []any{map[string]any{"custom_field_id": str(cf, "id"), "value": "11.222.333/0001-81"}}}})
			v1id := str(org, "id")
			wantID := v1id
			if uuid {
				wantID = "00000000-" + v1id[0:4] + "-" + v1id[4:8] + "-" + v1id[8:12] + "-" + v1id[12:]
			}
			got := a.v2must(bearer, 200, "GET", "/organizations/"+wantID, nil)["data"].(map[string]any)
			if got["id"] != wantID || got["name"] != "Acme Ltda" || got["custom_fields"].(map[string]any)["cnpj"] != "11.222.333/0001-81" {
				t.Fatalf("v1 organization through v2: %v", got)
			}
			if _, has := got["_id"]; has {
				t.Fatal("v2 carries _id")
			}
			if uuid {
				if r := a.v2do(bearer, "GET", "/organizations/"+v1id, nil); r.status != http.StatusNotFound {
					t.Fatalf("v1 id on v2 with uuid ids: %d", r.status)
				}
			}
			l := a.v2must(bearer, 200, "GET", "/organizations?filter="+url.QueryEscape(`@cnpj:"11.222.333/0001-81"`), nil)
			if d := l["data"].([]any); len(d) != 1 || d[0].(map[string]any)["id"] != wantID {
				t.Fatalf("filter by @cnpj: %v", l)
			}
			made := a.v2must(bearer, 201, "POST", "/contacts", map[string]any{"data": map[string]any{"name": "Ana Souza",
				"job_title": "Compras", "emails": []any{map[string]any{"email": "ana@acme.example"}}, "organization_id": wantID}})["data"].(map[string]any)
			cid := made["id"].(string)
			v1cid := cid
			if uuid {
				v1cid = strings.ReplaceAll(cid, "-", "")[8:]
			}
			back := a.must(200, "GET", "/contacts/"+v1cid, nil)
			if back["name"] != "Ana Souza" || back["title"] != "Compras" || back["organization_id"] != v1id {
				t.Fatalf("v2 contact through v1: %v", back)
			}
		})
	}
}

// RDQL filters the bridge uses, on deals and contacts.
func TestCRMv2Filters(t *testing.T) {
	a, fake := newAPI(t, Options{})
	bearer, _ := a.sim.IssueCRMv2Grant()
	mk := func(name string) string {
		return a.v2must(bearer, 201, "POST", "/deals", map[string]any{"data": map[string]any{"name": name}})["data"].(map[string]any)["id"].(string)
	}
	old := mk("Old deal")
	fake.Advance(time.Hour)
	won := mk("Won deal")
	lost := mk("Lost deal")
	open := mk("Open (deal)")
	a.v2must(bearer, 200, "PUT", "/deals/"+won, map[string]any{"data": map[string]any{"status": "won"}})
	a.v2must(bearer, 200, "PUT", "/deals/"+lost, map[string]any{"data": map[string]any{"status": "lost"}})
	v1 := a.must(200, "GET", "/deals/"+won, nil)
	if v1["win"] != true || v1["closed_at"] == nil {
		t.Fatalf("won through v2, read through v1: %v", v1)
	}
	since := testStart.Add(30 * time.Minute).UTC().Format("2006-01-02 15:04:05")
	for _, tc := range []struct {
		filter string
		want   []string
	}{
		{`status:won`, []string{won}},
		{`status:won closed_at:>="` + since + `"`, []string{won}},
		{`updated_at:>="` + since + `"`, []string{won, lost, open}},
		{`updated_at:<"` + since + `"`, []string{old}},
		{`status:(won,lost)`, []string{won, lost}},
		{`-status:ongoing`, []string{won, lost}},
		{`status:won or name:"Old deal"`, []string{old, won}},
		{`(status:won or status:lost) name:~lost`, []string{lost}},
		{`name:"Open (deal)"`, []string{open}},
		{`name:"open (DEAL)"`, []string{open}},
		{`name:~"(deal)"`, []string{open}},
	} {
		l := a.v2must(bearer, 200, "GET", "/deals?filter="+url.QueryEscape(tc.filter), nil)
		var ids []string
		for _, d := range l["data"].([]any) {
			ids = append(ids, d.(map[string]any)["id"].(string))
		}
		if fmt.Sprint(ids) != fmt.Sprint(tc.want) {
			t.Errorf("filter %s: %v, want %v", tc.filter, ids, tc.want)
		}
	}
	for _, bad := range []string{`nope:1`, `status:`, `name:"unterminated`, `(status:won`, `closed_at:>=yesterday`} {
		r := a.v2do(bearer, "GET", "/deals?filter="+url.QueryEscape(bad), nil)
		if r.status != http.StatusBadRequest || !strings.Contains(string(r.body), `"INVALID_FILTER"`) {
			t.Errorf("filter %s: %d %s, want 400 INVALID_FILTER", bad, r.status, r.body)
		}
	}
	a.v2must(bearer, 201, "POST", "/contacts", map[string]any{"data": map[string]any{"name": "Bia", "emails": []any{map[string]any{"email": "bia@x.example"}}}})
	l := a.v2must(bearer, 200, "GET", "/contacts?filter="+url.QueryEscape(`email:"BIA@x.example"`), nil)
	if len(l["data"].([]any)) != 1 {
		t.Fatalf("contact by e-mail: %v", l)
	}
	// POST accepts only ongoing [C].
	r := a.v2do(bearer, "POST", "/deals", map[string]any{"data": map[string]any{"name": "Born won", "status": "won"}})
	if r.status != http.StatusUnprocessableEntity || !strings.Contains(string(r.body), `"path":"status"`) {
		t.Fatalf("POST won deal: %d %s", r.status, r.body)
	}
}

// {data, links} paging, the 10,000 cap on listings, and a filter that
// reaches a record past it.
func TestCRMv2PagingAndCap(t *testing.T) {
	a, _ := newAPI(t, Options{})
	bearer, _ := a.sim.IssueCRMv2Grant()
	cf := a.must(201, "POST", "/custom_fields", map[string]any{"custom_field": map[string]any{"label": "CNPJ", "type": "text", "for": "organization"}})
	var sd SeedData
	for i := range 12000 {
		sd.Organizations = append(sd.Organizations, Organization{Name: fmt.Sprintf("Org %05d", i),
			CustomFields: []CustomFieldValue{{CustomFieldID: str(cf, "id"), Value: fmt.Sprintf("%014d", i)}}})
	}
	if err := a.sim.Seed(sd); err != nil {
		t.Fatal(err)
	}
	first := a.v2must(bearer, 200, "GET", "/organizations?page[size]=500", nil)
	if n := len(first["data"].([]any)); n != MaxListLimit {
		t.Fatalf("page size 500 gave %d records, want the max %d", n, MaxListLimit)
	}
	links := first["links"].(map[string]any)
	if links["prev"] != nil || links["next"] == nil || !strings.Contains(links["last"].(string), "page%5Bnumber%5D=50") {
		t.Fatalf("links of page 1: %v", links)
	}
	last := a.v2must(bearer, 200, "GET", links["last"].(string), nil)
	if l := last["links"].(map[string]any); l["next"] != nil || len(last["data"].([]any)) != MaxListLimit {
		t.Fatalf("last reachable page: next %v, %d records", l["next"], len(last["data"].([]any)))
	}
	if past := a.v2must(bearer, 200, "GET", "/organizations?page[size]=200&page[number]=51", nil); len(past["data"].([]any)) != 0 {
		t.Fatal("a page past the 10,000th record is not empty")
	}
	got := a.v2must(bearer, 200, "GET", "/organizations?filter="+url.QueryEscape(`@cnpj:"00000000011500"`), nil)
	if d := got["data"].([]any); len(d) != 1 || d[0].(map[string]any)["name"] != "Org 11500" {
		t.Fatalf("@cnpj past the cap: %v", got)
	}
	sorted := a.v2must(bearer, 200, "GET", "/organizations?page[size]=1&sort[name]=desc", nil)
	if d := sorted["data"].([]any); d[0].(map[string]any)["name"] != "Org 11999" {
		t.Fatalf("sort[name]=desc: %v", d)
	}
}

// v1 and v2 share the account's window; a v2 429 carries Retry-After.
func TestCRMv2SharesRateLimitAndMapsErrors(t *testing.T) {
	a, _ := newAPI(t, Options{RequestsPerMinute: 3})
	bearer, _ := a.sim.IssueCRMv2Grant()
	a.must(200, "POST", "/organizations", map[string]any{"organization": map[string]any{"name": "Acme"}})
	r := a.v2do(bearer, "POST", "/organizations", map[string]any{"data": map[string]any{"name": "ACME"}})
	if r.status != http.StatusUnprocessableEntity {
		t.Fatalf("duplicate name through v2: %d %s", r.status, r.body)
	}
	jsonEq(t, r.body, `{"errors":[{"error_type":"UNPROCESSABLE_ENTITY","error_message":"has already been taken","path":"name"}]}`)
	r = a.v2do(bearer, "GET", "/deals/0123456789abcdef01234567", nil)
	if r.status != http.StatusUnprocessableEntity && r.status != http.StatusNotFound {
		t.Fatalf("unknown deal: %d", r.status)
	}
	jsonEq(t, r.body, `{"errors":[{"error_type":"RESOURCE_NOT_FOUND","error_message":"Deal not found"}]}`)
	r = a.v2do(bearer, "GET", "/deals", nil)
	if r.status != http.StatusTooManyRequests || r.header.Get("Retry-After") == "" {
		t.Fatalf("fourth request of the minute (v1+v2): %d %v %s", r.status, r.header, r.body)
	}
	if c := a.sim.Counts(); c.ByRoute["GET /crm/v2/deals"] != 1 || c.ByRoute["POST /crm/v2/organizations"] != 1 {
		t.Fatalf("v2 requests not counted: %v", c.ByRoute)
	}
	if r := a.v2do("", "GET", "/deals", nil); r.status != http.StatusUnauthorized {
		t.Fatalf("no bearer: %d", r.status)
	}
}

// A LostResponse fault applies the v2 write and withholds the answer.
func TestCRMv2LostResponseApplies(t *testing.T) {
	a, _ := newAPI(t, Options{})
	bearer, _ := a.sim.IssueCRMv2Grant()
	a.sim.SetFaults(Faults{Script: []FaultKind{FaultLostResponse}})
	if r := a.v2do(bearer, "POST", "/products", map[string]any{"data": map[string]any{"name": "Parafuso", "price": 1.5}}); r.err == nil {
		t.Fatalf("lost response answered: %d %s", r.status, r.body)
	}
	l := a.v2must(bearer, 200, "GET", "/products?filter="+url.QueryEscape(`name:Parafuso`), nil)
	if d := l["data"].([]any); len(d) != 1 || fmt.Sprint(d[0].(map[string]any)["price"]) != "1.5" {
		t.Fatalf("product after a lost response: %v", l)
	}
}
