package target

import (
	"context"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	"github.com/erpbridge/erpbridge/bridge/clock"
	"github.com/erpbridge/erpbridge/bridge/store"
	"github.com/erpbridge/erpbridge/mapping"
	"github.com/erpbridge/erpbridge/rdstation/crm"
	"github.com/erpbridge/erpbridge/rdstation/rdsim"
)

// catalogEnv is a simulator, a checkpoint store and a way to open the CRM
// target system on them as a new process would.
type catalogEnv struct {
	sim *rdsim.Sim
	st  *store.Store
	clk *clock.Fake
	url string
}

func newCatalogEnv(t *testing.T) *catalogEnv {
	t.Helper()
	clk := clock.NewFake(time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC))
	sim := rdsim.New(rdsim.Options{Tokens: []string{"tok", "other"}, Clock: clk, RequestsPerMinute: -1})
	srv := httptest.NewServer(sim)
	t.Cleanup(srv.Close)
	st, err := store.Open(context.Background(), filepath.Join(t.TempDir(), "s.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return &catalogEnv{sim: sim, st: st, clk: clk, url: srv.URL + "/api/v1"}
}

// open opens the system as a new process with token tok.
func (e *catalogEnv) open(t *testing.T, tok string) *System {
	t.Helper()
	c := Default()
	c.BaseURL, c.Token, c.RequestsPerMinute = e.url, tok, Unlimited
	cl, err := c.NewClient(Options{Clock: e.clk})
	if err != nil {
		t.Fatal(err)
	}
	s := NewSystem(cl)
	s.Keep(e.st, c.CatalogTTL.D(), c.credentials(), e.clk, nil)
	return s
}

// fieldReads counts the custom field listings since the last reset.
func (e *catalogEnv) fieldReads() int { return e.sim.Counts().ByRoute["GET /api/v1/custom_fields"] }

// TestKeptCustomFieldsAreReadAgainWhenTheyMayHaveChanged: the kept custom
// fields serve the next process until the CRM refuses a write for a custom
// field (or a check refreshes them, or other credentials open the store).
func TestKeptCustomFieldsAreReadAgainWhenTheyMayHaveChanged(t *testing.T) {
	ctx := context.Background()
	e := newCatalogEnv(t)
	admin := e.open(t, "tok")
	f, err := admin.C.CreateCustomField(ctx, crm.CustomFieldInput{Label: "Região", Type: "text", For: crm.ForOrganization})
	if err != nil {
		t.Fatal(err)
	}
	schema := func(s *System) mapping.Schema {
		t.Helper()
		sc, err := s.Schema(ctx, mapping.EntityOrganization)
		if err != nil {
			t.Fatal(err)
		}
		return sc
	}
	steps := []struct {
		name  string
		do    func() *System
		reads int
		has   bool // the schema has the field
	}{
		{"the first process reads the fields", func() *System { return e.open(t, "tok") }, 1, true},
		{"the next one is served the kept copy", func() *System { return e.open(t, "tok") }, 0, true},
		{"another token of the account reads them", func() *System { return e.open(t, "other") }, 1, true},
		{"a write refused for a custom field drops the kept copy", func() *System {
			s := e.open(t, "tok")
			if err := s.C.DeleteCustomField(ctx, f.ID); err != nil {
				t.Fatal(err)
			}
			_, err := s.C.CreateOrganization(ctx, crm.OrganizationInput{Name: "Acme",
				CustomFields: []crm.CustomFieldValue{{CustomFieldID: f.ID, Value: "Sul"}}})
			if err == nil {
				t.Fatal("a write naming a deleted custom field was accepted")
			}
			return e.open(t, "tok")
		}, 1, false},
		{"kept again", func() *System { return e.open(t, "tok") }, 0, false},
		{"a check reads them again", func() *System {
			s := e.open(t, "tok")
			if _, err := s.Refresh(ctx); err != nil {
				t.Fatal(err)
			}
			return s
		}, 1, false},
		{"after catalog_ttl they are read again", func() *System {
			e.clk.Advance(DefaultCatalogTTL)
			return e.open(t, "tok")
		}, 1, false},
	}
	for _, s := range steps {
		e.sim.ResetCounts()
		sys := s.do()
		sc := schema(sys)
		if got := e.fieldReads(); got != s.reads {
			t.Errorf("%s: %d custom field listings, want %d", s.name, got, s.reads)
		}
		if _, has := sc.Custom["Região"]; has != s.has {
			t.Errorf("%s: the schema has Região = %v, want %v", s.name, has, s.has)
		}
	}
}
