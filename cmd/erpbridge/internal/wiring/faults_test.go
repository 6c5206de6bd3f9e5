package wiring

import (
	"fmt"
	"github.com/erpbridge/erpbridge/bridge"
	"strings"
	"testing"
	"time"

	"github.com/erpbridge/erpbridge/bridge/store"
	"github.com/erpbridge/erpbridge/erp/protheus/fixture"
	"github.com/erpbridge/erpbridge/rdstation/crm"
	"github.com/erpbridge/erpbridge/rdstation/rdsim"
)

// maxSyncs bounds every convergence loop of these tests.
const maxSyncs = 30

// settled reports whether the outbox holds nothing but what bad ERP data
// leaves there for good: the rejected records (parked, level skip) and the
// contacts of rejected customers (parked waiting on their organization's
// record). It returns a description of the first other open item.
func (h *harness) settled(w wantCRM) (bool, string) {
	h.t.Helper()
	for _, it := range h.openItems() {
		switch {
		case it.State == store.StateParked && it.Level == store.LevelSkip && w.rejected[it.ERPKey]:
		case it.State == store.StateParked && it.Level == store.LevelSkip && it.Stream == "contacts" &&
			w.deferred[it.ERPKey] && it.WaitsOnEntity == "organization" && it.WaitsOnKey != "":
		default:
			return false, fmt.Sprintf("%s %s %s (attempts %d, level %q): %s", it.Stream, it.ERPKey, it.State, it.Attempts, it.Level, firstLine(it.LastError))
		}
	}
	return true, ""
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(s, "\n")
	return s
}

// syncUntilSettled syncs at most maxSyncs times until the outbox is
// settled. Between syncs the fake clock, which drives both the CRM client
// and the engine's retry schedule, moves past the longest retry backoff, so
// every failed item is due on the next sync.
func (h *harness) syncUntilSettled(w wantCRM) int {
	h.t.Helper()
	var why string
	for i := 1; i <= maxSyncs; i++ {
		if _, err := h.sync(); err != nil {
			h.t.Logf("sync %d: %v", i, err)
		}
		var ok bool
		if ok, why = h.settled(w); ok {
			return i
		}
		h.clk.Advance(6*time.Hour + time.Minute)
	}
	h.t.Fatalf("the outbox did not settle in %d syncs; still open: %s", maxSyncs, why)
	return maxSyncs
}

// mutateCustomers renames eight customers and adds four, so a phase always
// has updates and creates to make under faults.
func mutateCustomers(h *harness, round int) {
	h.t.Helper()
	for i, cod := range []string{"000041", "000042", "000043", "000044", "000045", "000046", "000047", "000048"} {
		if err := h.erp.RenameCustomer(h.ctx, cod, "01", fmt.Sprintf("RENOMEADA %d-%d COMERCIO LTDA", round, i)); err != nil {
			h.t.Fatal(err)
		}
	}
	for i := range 4 {
		cod := fmt.Sprintf("9%02d%03d", round, i)
		if _, err := h.erp.AddCustomer(h.ctx, fixture.NewCustomer{Cod: cod, Loja: "01", Name: "CLIENTE NOVO " + cod + " LTDA"}); err != nil {
			h.t.Fatal(err)
		}
	}
}

func TestFaultStormsConvergeToOneRecordPerKey(t *testing.T) {
	if testing.Short() {
		t.Skip("fault storms: skipped under -short")
	}
	cases := []struct {
		name   string
		faults rdsim.Faults
	}{
		{"429 storm", rdsim.Faults{RateLimited: 0.3}},
		{"500 storm", rdsim.Faults{ServerError: 0.3}},
		{"lost responses after writes", rdsim.Faults{LostResponse: 0.2}},
		{"mix", rdsim.Faults{RateLimited: 0.1, ServerError: 0.1, LostResponse: 0.1, Drop: 0.05}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, sqliteBackend, harnessOptions{})
			r := defaultRules(h.exp, false)
			h.sim.SetFaults(tc.faults)

			for round := range 2 {
				if round > 0 {
					mutateCustomers(h, round)
				}
				want := expectCRM(h.ctx, t, h.erp.DB, r)
				n := h.syncUntilSettled(want)
				if checkCRM(t, h.sim.State(), want) > 0 {
					t.Fatalf("round %d: the CRM does not match the ERP after %d syncs", round, n)
				}
				t.Logf("round %d: settled after %d syncs; simulator faults so far %v", round, n, h.sim.Counts().Faults)
			}
			if c := h.sim.Counts(); len(c.Faults) == 0 {
				t.Errorf("the simulator injected no faults: %+v", c)
			}

			// A rate limit is never a reason to give up on a record.
			items, err := h.bridge.Store.Errors(h.ctx, store.OutboxFilter{States: []store.State{store.StateParked}})
			if err != nil {
				t.Fatal(err)
			}
			for _, it := range items {
				if it.Level == store.LevelError || strings.Contains(strings.ToLower(it.LastError), "rate limit") {
					t.Errorf("%s %s parked with level %q: %s", it.Stream, it.ERPKey, it.Level, it.LastError)
				}
			}
		})
	}
}

// badRowsMapping is a customers mapping that also sends the e-mail and the
// customer type (A1_TIPO, an option field whose options leave out "F").
const badRowsMapping = `[streams.customers]
cnpj_field = "CNPJ"
[streams.customers.mapping]
%s
[streams.customers.mapping.fields]
name = "A1_NOME"
[streams.customers.mapping.custom_fields]
CNPJ = "doc(A1_CGC)"
"E-mail NF-e" = "join(', ', emails(A1_EMAIL))"
Tipo = "A1_TIPO"
[streams.customers.mapping.unique_name]
suffix = " ({A1_COD}/{A1_LOJA})"
`

func TestBadRowsAreReportedPerRecordAndTheBatchGoesOn(t *testing.T) {
	fields := []crm.CustomFieldInput{
		{Label: "CNPJ", Type: "text", For: "organization"},
		{Label: "E-mail NF-e", Type: "text", For: "organization"},
		{Label: "Tipo", Type: "option", For: "organization", Options: []string{"R", "L", "S", "X"}},
	}
	// The fixture's customer 000002 is a person: A1_TIPO = "F", not an option.
	typeKey := customerKey("000002", "01")
	cases := []struct {
		name        string
		invalidUTF8 string
		rejectLatin bool
	}{
		{"Latin-1 transcoded", "", false},
		{"Latin-1 rejected", `invalid_utf8 = "reject"`, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, sqliteBackend, harnessOptions{extraConfig: fmt.Sprintf(badRowsMapping, tc.invalidUTF8), fields: fields})
			exp := h.exp
			wantErrs := map[string]string{ // ERP key → column the error must name
				exp.BadEmailKey:      "A1_EMAIL",
				exp.BadCNPJKey:       "A1_CGC",
				exp.ShortNameKey:     "A1_NOME",
				typeKey:              "A1_TIPO",
				contactKey("000003"): "U5_EMAIL",
			}
			if tc.rejectLatin {
				wantErrs[exp.Latin1Key] = "A1_NOME"
			}
			h.mustSync("first sync")

			items, err := h.bridge.Store.Errors(h.ctx, store.OutboxFilter{Level: store.LevelSkip})
			if err != nil {
				t.Fatal(err)
			}
			got := map[string]store.OutboxItem{}
			for _, it := range items {
				got[it.ERPKey] = it
			}
			for _, key := range sortedKeys(wantErrs) {
				it, ok := got[key]
				if !ok {
					t.Errorf("%s: no error reported (want one naming %s)", key, wantErrs[key])
					continue
				}
				if !strings.Contains(it.LastError, key) || !strings.Contains(it.LastError, wantErrs[key]) {
					t.Errorf("%s: error %q does not name the key and the column %s", key, it.LastError, wantErrs[key])
				}
				t.Logf("%s: %s", key, it.LastError)
			}
			for key, it := range got {
				_, want := wantErrs[key]
				// A contact of a rejected customer waits for it, at level skip too.
				waiting := it.Stream == "contacts" && strings.Contains(it.LastError, "waits for its organization")
				if !want && !waiting {
					t.Errorf("unexpected bad-data error for %s: %s", key, it.LastError)
				}
			}

			// The rest of the batch is in the CRM, the Latin-1 name transcoded.
			r := rules{badCustomers: map[string]bool{}, badContacts: map[string]bool{}}
			for key := range wantErrs {
				if strings.HasPrefix(key, fixture.ContactFilial+"|") {
					r.badContacts[key] = true
				} else {
					r.badCustomers[key] = true
				}
			}
			want := expectCRM(h.ctx, t, h.erp.DB, r)
			st := h.sim.State()
			checkCRM(t, st, want)
			latin := strings.Split(exp.Latin1Key, "|")
			latinName := exp.Latin1Name + " (" + latin[1] + "/" + latin[2] + ")"
			found := false
			for _, o := range st.Organizations {
				found = found || o.Name == latinName
			}
			if found == tc.rejectLatin {
				t.Errorf("organization %q in the CRM: %v, want %v", latinName, found, !tc.rejectLatin)
			}
		})
	}
}

// TestErrorsRetryAfterLostCreateDoesNotDuplicate: a create whose response
// was lost fails with an unknown outcome; `erpbridge errors retry` (store.
// RetryParked) makes it due now, and the next sync must find the record the
// lost create made rather than create a second one.
func TestErrorsRetryAfterLostCreateDoesNotDuplicate(t *testing.T) {
	for _, path := range []string{"/contacts", "/organizations", "/products"} {
		t.Run(strings.TrimPrefix(path, "/"), func(t *testing.T) {
			h := newHarness(t, sqliteBackend, harnessOptions{})
			want := expectCRM(h.ctx, t, h.erp.DB, defaultRules(h.exp, false))
			h.sim.SetFaults(rdsim.Faults{Script: []rdsim.FaultKind{rdsim.FaultLostResponse}, Methods: []string{"POST"}, PathPrefix: path})
			// Only the stream that lost its create: a contacts sync would bring
			// a lost organization on demand (resolving it live) before errors retry.
			stream := map[string]string{"/contacts": "contacts", "/organizations": "customers", "/products": "products"}[path]
			if _, err := h.bridge.Engine.Sync(h.ctx, stream, bridge.SyncOptions{}); err != nil {
				t.Fatal(err)
			}
			if got := h.sim.Counts().Faults["lost_response"]; got != 1 {
				t.Fatalf("the simulator lost %d responses, want 1", got)
			}
			n, err := h.bridge.Store.RetryParked(h.ctx, store.OutboxFilter{Level: store.LevelError})
			if err != nil {
				t.Fatal(err)
			}
			if n == 0 {
				t.Fatal("errors retry found nothing to retry after a lost create")
			}
			// RetryParked makes items due at the store's (wall) clock time; let
			// the fake clock catch up, as real time would.
			h.clk.Advance(time.Minute)
			h.mustSync("sync after errors retry")
			if ok, why := h.settled(want); !ok {
				t.Errorf("outbox not settled: %s", why)
			}
			checkCRM(t, h.sim.State(), want)
		})
	}
}
