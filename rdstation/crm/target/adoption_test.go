package target

import (
	"context"
	"iter"
	"net/http/httptest"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/erpbridge/erpbridge/bridge"
	"github.com/erpbridge/erpbridge/bridge/store"
	"github.com/erpbridge/erpbridge/erp"
	"github.com/erpbridge/erpbridge/rdstation/crm"
	"github.com/erpbridge/erpbridge/rdstation/rdsim"
)

// The engine with an in-memory ERP table against the real simulator: the
// adoption rules for organizations.

type rrow struct {
	key, name, cnpj string
	seq             int64
}
type rsrc struct{ rows []*rrow }

func (s *rsrc) rec(r *rrow) erp.Record {
	st := time.Unix(r.seq, 0).UTC()
	return erp.Record{Key: r.key, Recno: r.seq, Stamp: &st, Fields: map[string]any{"name": r.name, "cnpj": r.cnpj}}
}
func (s *rsrc) Incremental() bool                                { return true }
func (s *rsrc) Checkpoint(context.Context) (erp.Position, error) { return "0", nil }
func (s *rsrc) Changes(_ context.Context, since erp.Position, _ int) iter.Seq2[erp.Page, error] {
	n, _ := strconv.ParseInt(string(since), 10, 64)
	return func(yield func(erp.Page, error) bool) {
		var recs []erp.Record
		for _, r := range s.rows {
			if r.seq > n {
				recs = append(recs, s.rec(r))
			}
		}
		sort.Slice(recs, func(i, j int) bool { return recs[i].Recno < recs[j].Recno })
		if len(recs) > 0 {
			yield(erp.Page{Records: recs, Next: erp.Position(strconv.FormatInt(recs[len(recs)-1].Recno, 10))}, nil)
		}
	}
}
func (s *rsrc) FullPass(ctx context.Context, a erp.Position, n int) iter.Seq2[erp.Page, error] {
	return s.Changes(ctx, a, n)
}
func (s *rsrc) Lookup(_ context.Context, key string) (erp.Record, bool, error) {
	for _, r := range s.rows {
		if r.key == key {
			return s.rec(r), true, nil
		}
	}
	return erp.Record{}, false, nil
}
func (s *rsrc) Find(context.Context, []erp.Match, int) ([]erp.Record, error) { return nil, nil }
func (s *rsrc) Close() error                                                 { return nil }

type rmap struct{ field string }

func (m rmap) Map(_ context.Context, rec erp.Record, _ bridge.Resolver) bridge.Mapped {
	n, c := rec.Fields["name"].(string), rec.Fields["cnpj"].(string)
	p := bridge.Payload{"name": n, orgCustomKey: []any{map[string]any{"custom_field_id": m.field, "value": c}}}
	return bridge.Mapped{Payload: p, Fingerprint: n + "/" + c}
}
func (m rmap) MapDeleted(context.Context, erp.Record, bridge.Resolver) bridge.Mapped {
	return bridge.Mapped{Skip: true}
}

func setup(t *testing.T, rows []*rrow, seed func(c *crm.Client, field string)) (*store.Store, *bridge.Engine) {
	ctx := context.Background()
	sim := rdsim.New(rdsim.Options{Tokens: []string{"tok"}})
	srv := httptest.NewServer(sim)
	t.Cleanup(srv.Close)
	c, err := crm.New(crm.Config{BaseURL: srv.URL + "/api/v1", Token: "tok"})
	if err != nil {
		t.Fatal(err)
	}
	f, err := c.CreateCustomField(ctx, crm.CustomFieldInput{Label: "CNPJ", Type: "text", For: "organization"})
	if err != nil {
		t.Fatal(err)
	}
	if seed != nil {
		seed(c, f.ID)
	}
	st, err := store.Open(ctx, filepath.Join(t.TempDir(), "s.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	e, err := bridge.New(st, []*bridge.Stream{{Name: "customers", Source: &rsrc{rows: rows}, Mapper: rmap{f.ID},
		Target: NewOrganizations(c, f.ID), Mode: bridge.ModeUpsert, Deletes: bridge.DeletesIgnore}}, bridge.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.Sync(ctx, "customers", bridge.SyncOptions{}); err != nil {
		t.Fatal(err)
	}
	return st, e
}

// Two lojas, one CNPJ, one name (unique_name off): the second create is
// refused (name taken) and Create adopts the first loja's organization.
func TestSameNameAndCNPJNeverMergeTwoERPKeys(t *testing.T) {
	st, _ := setup(t, []*rrow{{"01|000001|01", "ACME", "11222333000181", 1}, {"01|000001|02", "ACME", "11222333000181", 2}}, nil)
	a, _, _ := st.Identity(context.Background(), "organization", "01|000001|01")
	b, _, _ := st.Identity(context.Background(), "organization", "01|000001|02")
	t.Logf("A -> %q, B -> %q", a.CRMID, b.CRMID)
	if a.CRMID == "" {
		t.Fatal("the first loja was not synced")
	}
	if a.CRMID == b.CRMID {
		t.Errorf("MERGE: two ERP keys own CRM organization %s", a.CRMID)
	}
	// The second is reported (same name), not merged.
	items, err := st.Errors(context.Background(), store.OutboxFilter{ERPKey: "01|000001|02"})
	if err != nil || len(items) != 1 || !strings.Contains(items[0].LastError, "01|000001|01") {
		t.Errorf("the second loja's error should name the first: %v %+v", err, items)
	}
}

// A CRM organization "ACME" with CNPJ 111 exists; an ERP customer "ACME"
// with another CNPJ is adopted from the index by name (findLive would not).
func TestSameNameWithAnotherCNPJIsNotAdopted(t *testing.T) {
	var other string
	st, _ := setup(t, []*rrow{{"01|000009|01", "ACME", "99888777000166", 1}}, func(c *crm.Client, field string) {
		o, err := c.CreateOrganization(context.Background(), crm.OrganizationInput{Name: "ACME",
			CustomFields: []crm.CustomFieldValue{{CustomFieldID: field, Value: "11222333000181"}}})
		if err != nil {
			t.Fatal(err)
		}
		other = o.ID
	})
	id, _, _ := st.Identity(context.Background(), "organization", "01|000009|01")
	t.Logf("ERP customer (CNPJ 998…) -> %q; pre-existing org of CNPJ 112… = %q", id.CRMID, other)
	if id.CRMID == other {
		t.Errorf("ADOPTED another company's organization %s and overwrote its CNPJ", other)
	}
}

// TestDiscountPercentInBothSpellings: RD Station answers a percentage
// discount as "percent" or "percentage"; both reach the won-deal poller as
// a percentage.
func TestDiscountPercentInBothSpellings(t *testing.T) {
	for typ, want := range map[string]bool{"percent": true, "percentage": true, "value": false, "": false} {
		if got := isPercent(typ); got != want {
			t.Errorf("isPercent(%q) = %v, want %v", typ, got, want)
		}
	}
}

// TestOrganizationAdoptedByItsCNPJ: an organization already in the CRM
// (another name, the CNPJ masked or not, upper or lower case) is adopted
// by its CNPJ, the alphanumeric CNPJ issued since July 2026 as the
// numeric one, instead of a second organization being created.
func TestOrganizationAdoptedByItsCNPJ(t *testing.T) {
	for _, tt := range []struct {
		name, inCRM, inERP string
		adopted            bool
	}{
		{"numeric, masked in the CRM", "11.222.333/0001-81", "11222333000181", true},
		{"alphanumeric, masked in the CRM", "12.ABC.345/01DE-35", "12ABC34501DE35", true},
		{"alphanumeric, lower case in the ERP", "12ABC34501DE35", "12abc34501de35", true},
		{"alphanumeric, masked in the ERP", "12ABC34501DE35", "12.ABC.345/01DE-35", true},
		// The same digits, other letters: another company.
		{"another alphanumeric CNPJ with the same digits", "12ABC34501DE35", "12XYZ34501WV35", false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var existing string
			st, _ := setup(t, []*rrow{{"01|000010|01", "ACME INDUSTRIA LTDA", tt.inERP, 1}}, func(c *crm.Client, field string) {
				o, err := c.CreateOrganization(context.Background(), crm.OrganizationInput{Name: "Acme (cadastro comercial)",
					CustomFields: []crm.CustomFieldValue{{CustomFieldID: field, Value: tt.inCRM}}})
				if err != nil {
					t.Fatal(err)
				}
				existing = o.ID
			})
			id, ok, err := st.Identity(context.Background(), "organization", "01|000010|01")
			if err != nil || !ok || (id.CRMID == existing) != tt.adopted {
				t.Errorf("ERP customer with CNPJ %q -> %+v (%v); organization %s has CNPJ %q, adopted = %v wanted", tt.inERP, id, err, existing, tt.inCRM, tt.adopted)
			}
		})
	}
}
