package target

import (
	"context"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/erpbridge/erpbridge/rdstation/crm"
	"github.com/erpbridge/erpbridge/rdstation/rdsim"
)

// TestUserDirectorySurvivesAFailingListing: a failing users listing is not
// asked again for every record (a minute later), and a directory that had
// a good list keeps answering from it.
func TestUserDirectorySurvivesAFailingListing(t *testing.T) {
	ctx := context.Background()
	sim := rdsim.New(rdsim.Options{Tokens: []string{"t"}, RequestsPerMinute: -1})
	srv := httptest.NewServer(sim)
	t.Cleanup(srv.Close)
	c, err := crm.New(crm.Config{BaseURL: srv.URL + "/api/v1", Token: "t", MaxRetries: -1,
		Budget: crm.NewBudget(crm.BudgetConfig{RequestsPerMinute: -1})})
	if err != nil {
		t.Fatal(err)
	}
	users := func() int { return sim.Counts().Reads }
	fail := func() { sim.SetFaults(rdsim.Faults{ServerError: 1, PathPrefix: "/users"}) }

	// Never listed, and the listing fails: one request, then the error
	// without asking again.
	fail()
	u := &userDirectory{c: c, ttl: time.Hour}
	before := users()
	for range 5 {
		if _, err := u.byEmail(ctx, rdsim.DefaultAdminEmail); err == nil {
			t.Fatal("a failed listing answered without an error")
		}
	}
	if n := users() - before; n != 1 {
		t.Errorf("5 look-ups during a failing listing sent %d requests, want 1", n)
	}

	// Listed once, then the listing fails when it is due again: the last
	// good list answers.
	sim.SetFaults(rdsim.Faults{})
	u = &userDirectory{c: c, ttl: time.Hour}
	id, err := u.byEmail(ctx, rdsim.DefaultAdminEmail)
	if err != nil || id == "" {
		t.Fatalf("first look-up: %q, %v", id, err)
	}
	if email, _ := u.emailOf(ctx, id); email != rdsim.DefaultAdminEmail {
		t.Errorf("emailOf(%s) = %q", id, email)
	}
	u.loaded = time.Now().Add(-2 * time.Hour)
	fail()
	before = users()
	for range 5 {
		if got, err := u.byEmail(ctx, rdsim.DefaultAdminEmail); err != nil || got != id {
			t.Fatalf("look-up during a failing listing: %q, %v; want the last good %q", got, err, id)
		}
	}
	if n := users() - before; n != 1 {
		t.Errorf("5 look-ups with a stale list sent %d requests, want 1", n)
	}
}
