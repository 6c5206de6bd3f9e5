package crm

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"
)

// pagedOrganizations serves total organizations, capping the listing at
// MaxReachable like the real API.
func pagedOrganizations(total int) func(w http.ResponseWriter, r *http.Request, n int) {
	return func(w http.ResponseWriter, r *http.Request, n int) {
		page, _ := strconv.Atoi(r.URL.Query().Get("page"))
		limit, _ := strconv.Atoi(r.URL.Query().Get("limit"))
		start := (page - 1) * limit
		end := min(start+limit, total, MaxReachable)
		var items []string
		for i := start; i < end; i++ {
			items = append(items, fmt.Sprintf(`{"_id":"o%d","id":"o%d","name":"Org %d"}`, i, i, i))
		}
		reply(w, 200, fmt.Sprintf(`{"organizations":[%s],"has_more":%t,"total":%d}`, strings.Join(items, ","), end < total, total))
	}
}

func TestOrganizationsIterator(t *testing.T) {
	tests := []struct {
		name      string
		total     int
		wantItems int
		wantReqs  int
		capped    bool
	}{
		{name: "small listing ends cleanly", total: 450, wantItems: 450, wantReqs: 3},
		{name: "exactly the cap is not capped", total: MaxReachable, wantItems: MaxReachable, wantReqs: 50},
		{name: "beyond the cap reports it", total: 10050, wantItems: MaxReachable, wantReqs: 50, capped: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := newTestAPI(t, pagedOrganizations(tt.total))
			c, _ := newTestClient(t, a)
			items := 0
			var last error
			for o, err := range c.Organizations(context.Background(), OrganizationQuery{Q: "Org"}) {
				if err != nil {
					last = err
					continue
				}
				if o.ID != fmt.Sprintf("o%d", items) {
					t.Fatalf("item %d has id %q", items, o.ID)
				}
				items++
			}
			if items != tt.wantItems {
				t.Errorf("%d items, want %d", items, tt.wantItems)
			}
			if got := len(a.requests()); got != tt.wantReqs {
				t.Errorf("%d requests, want %d", got, tt.wantReqs)
			}
			if tt.capped {
				var ce *ListingCappedError
				if !errors.Is(last, ErrListingCapped) || !errors.As(last, &ce) || ce.Total != tt.total || ce.Reached != MaxReachable {
					t.Fatalf("last error = %v, want ErrListingCapped with total %d", last, tt.total)
				}
			} else if last != nil {
				t.Fatalf("unexpected error %v", last)
			}
			q := a.requests()[0].Query
			if q.Get("limit") != "200" || q.Get("q") != "Org" || q.Get("page") != "1" {
				t.Errorf("first query = %v", q)
			}
		})
	}
}

func TestIteratorStopsWhenTheCallerBreaks(t *testing.T) {
	a := newTestAPI(t, pagedOrganizations(1000))
	c, _ := newTestClient(t, a)
	for _, err := range c.Organizations(context.Background(), OrganizationQuery{Limit: 10}) {
		if err != nil {
			t.Fatal(err)
		}
		break
	}
	if got := len(a.requests()); got != 1 {
		t.Errorf("%d requests after breaking on the first item", got)
	}
}

func TestDealsFollowNextPage(t *testing.T) {
	a := newTestAPI(t, func(w http.ResponseWriter, r *http.Request, n int) {
		switch r.URL.Query().Get("next_page") {
		case "":
			reply(w, 200, `{"deals":[{"_id":"d1","id":"d1","name":"A","win":true}],"has_more":true,"total":2,"next_page":"i-1,s-abc"}`)
		case "i-1,s-abc":
			reply(w, 200, `{"deals":[{"_id":"d2","id":"d2","name":"B","win":true}],"has_more":false,"total":2}`)
		default:
			reply(w, 400, `{"errors":"bad cursor"}`)
		}
	})
	c, _ := newTestClient(t, a)
	var ids []string
	q := DealQuery{Win: Won, Period: PeriodClosedAt, Start: testStart, End: testStart.Add(24 * 3600e9), DealPipelineID: "p1"}
	for d, err := range c.Deals(context.Background(), q) {
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, d.ID)
	}
	if strings.Join(ids, ",") != "d1,d2" {
		t.Errorf("ids = %v", ids)
	}
	first := a.requests()[0].Query
	want := map[string]string{"win": "true", "closed_at_period": "true", "start_date": "2026-03-02T09:00:00",
		"end_date": "2026-03-03T09:00:00", "deal_pipeline_id": "p1", "limit": "200", "page": "1"}
	for k, v := range want {
		if first.Get(k) != v {
			t.Errorf("query %s = %q, want %q", k, first.Get(k), v)
		}
	}
}

func TestFindByNaturalKey(t *testing.T) {
	a := newTestAPI(t, func(w http.ResponseWriter, r *http.Request, n int) {
		switch r.URL.Path {
		case "/api/v1/organizations":
			reply(w, 200, `{"organizations":[{"id":"1","name":"Acme Ltda Filial"},{"id":"2","name":"ACME LTDA "}],"has_more":false,"total":2}`)
		case "/api/v1/contacts":
			reply(w, 200, `{"contacts":[{"id":"c1","name":"Ana","emails":[{"email":"Ana@Example.com"}]},{"id":"c2","name":"Bo","emails":[{"email":"bo@example.com"}]}],"has_more":false,"total":2}`)
		case "/api/v1/users":
			reply(w, 200, `{"users":[{"_id":"u1","id":"u1","name":"Ana","email":"ana@example.com"}]}`)
		}
	})
	c, _ := newTestClient(t, a)
	ctx := context.Background()
	orgs, err := c.FindOrganizationsByName(ctx, "Acme Ltda")
	if err != nil || len(orgs) != 1 || orgs[0].ID != "2" {
		t.Errorf("FindOrganizationsByName = %+v, %v", orgs, err)
	}
	contacts, err := c.FindContactsByEmail(ctx, "ana@example.com")
	if err != nil || len(contacts) != 1 || contacts[0].ID != "c1" {
		t.Errorf("FindContactsByEmail = %+v, %v", contacts, err)
	}
	u, err := c.FindUserByEmail(ctx, "ANA@example.com")
	if err != nil || u.ID != "u1" {
		t.Errorf("FindUserByEmail = %+v, %v", u, err)
	}
	if _, err := c.FindUserByEmail(ctx, "nobody@example.com"); !errors.Is(err, ErrNotFound) {
		t.Errorf("missing user: err = %v, want ErrNotFound", err)
	}
	for _, r := range a.requests() {
		if r.Path == "/contacts" && r.Query["email"][0] != "ana@example.com" {
			t.Errorf("contacts query = %v", r.Query)
		}
	}
}
