package wiring

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/erpbridge/erpbridge/bridge"

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
// customer type (A1_TIPO, an option field whose options leave out "F"); %s
// takes more of its settings.
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

// TestBadFieldsAreLeftOutAndListedPerRecord: an invalid field is not an
// invalid record. By default each bad value is left out of its record's
// payload and listed once as a warning naming the key and the column, and
// the record reaches the CRM; on_invalid = "skip_record" keeps the record
// out instead (its contacts wait for it), as does a name the CRM would
// refuse. The batch always goes on.
func TestBadFieldsAreLeftOutAndListedPerRecord(t *testing.T) {
	fields := []crm.CustomFieldInput{
		{Label: "CNPJ", Type: "text", For: "organization"},
		{Label: "E-mail NF-e", Type: "text", For: "organization"},
		{Label: "Tipo", Type: "option", For: "organization", Options: []string{"R", "L", "S", "X"}},
	}
	// The fixture's customer 000002 is a person: A1_TIPO = "F", not an option.
	typeKey := customerKey("000002", "01")
	cases := []struct {
		name     string
		settings string
		skip     func(fixture.Expect) map[string]string // records kept out → the column their error names
	}{
		{"defaults: every bad field left out", "", func(fixture.Expect) map[string]string { return nil }},
		{"Latin-1 rejected: the name stops its record", `invalid_utf8 = "reject"`,
			func(e fixture.Expect) map[string]string { return map[string]string{e.Latin1Key: "A1_NOME"} }},
		{"a bad CNPJ keeps its customer out", "[streams.customers.mapping.on_invalid]\nCNPJ = \"skip_record\"",
			func(e fixture.Expect) map[string]string { return map[string]string{e.BadCNPJKey: "A1_CGC"} }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, sqliteBackend, harnessOptions{extraConfig: fmt.Sprintf(badRowsMapping, tc.settings), fields: fields})
			exp := h.exp
			skipped := tc.skip(exp)
			r := rules{badCustomers: map[string]bool{}, badContacts: map[string]bool{}, warned: map[string]string{
				exp.BadEmailKey:      "A1_EMAIL",
				exp.BadCNPJKey:       "A1_CGC",
				typeKey:              "A1_TIPO",
				contactKey("000003"): "U5_EMAIL",
			}}
			for key := range skipped {
				r.badCustomers[key] = true
				delete(r.warned, key)
			}
			first := h.mustSync("first sync")
			if first["customers"].Failed != int64(len(skipped)) {
				t.Errorf("customers failed: %d, want %d (the records kept out)", first["customers"].Failed, len(skipped))
			}

			// Records kept out are errors (parked, level skip) naming key and column.
			items, err := h.bridge.Store.Errors(h.ctx, store.OutboxFilter{Level: store.LevelSkip})
			if err != nil {
				t.Fatal(err)
			}
			got := map[string]store.OutboxItem{}
			for _, it := range items {
				got[it.ERPKey] = it
			}
			for key, col := range skipped {
				it, ok := got[key]
				if !ok || !strings.Contains(it.LastError, key) || !strings.Contains(it.LastError, col) {
					t.Errorf("%s: error %+v, want one naming the key and %s", key, it, col)
				}
			}
			for key, it := range got {
				// A contact of a rejected customer waits for it, at level skip too.
				waiting := it.Stream == "contacts" && strings.Contains(it.LastError, "waits for its organization")
				if _, want := skipped[key]; !want && !waiting {
					t.Errorf("unexpected bad-data error for %s: %s", key, it.LastError)
				}
			}

			// The rest is in the CRM, without its bad fields, each listed once.
			want := expectCRM(h.ctx, t, h.erp.DB, r)
			st := h.sim.State()
			checkCRM(t, st, want)
			h.checkWarnings(want)
			ids := map[string]string{}
			for _, f := range st.CustomFields {
				ids[f.Label] = f.ID
			}
			for key, label := range map[string]string{exp.BadEmailKey: "E-mail NF-e", typeKey: "Tipo", exp.BadCNPJKey: "CNPJ"} {
				if _, out := skipped[key]; out {
					continue
				}
				for _, o := range st.Organizations {
					if o.Name != want.orgs[key] {
						continue
					}
					for _, v := range o.CustomFields {
						if v.CustomFieldID == ids[label] && v.Value != nil {
							t.Errorf("%s: custom field %s = %v, want it left out", key, label, v.Value)
						}
					}
				}
			}

			// Read again: nothing is written, nothing new is listed.
			writes := h.sim.Counts().Writes
			if _, err := h.bridge.Engine.SyncAll(h.ctx, bridge.SyncOptions{Full: true}); err != nil {
				t.Fatal(err)
			}
			if n := h.sim.Counts().Writes - writes; n != 0 {
				t.Errorf("a full pass over the same ERP wrote %d records", n)
			}
			h.checkWarnings(want)

			// Fixed in the ERP: the field goes, the warning goes.
			if _, err := h.erp.DB.ExecContext(h.ctx, "UPDATE SA1010 SET A1_EMAIL = 'nfe@central.com.br' WHERE A1_COD = '"+exp.BadEmailKey[1:7]+"'"); err != nil {
				t.Fatal(err)
			}
			h.mustSync("sync after the fix")
			delete(want.warned, exp.BadEmailKey)
			h.checkWarnings(want)
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
