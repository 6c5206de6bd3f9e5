package wiring

import (
	"context"
	"errors"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/erpbridge/erpbridge/cmd/erpbridge/internal/components"

	"github.com/erpbridge/erpbridge/bridge"
	"github.com/erpbridge/erpbridge/bridge/clock"
	"github.com/erpbridge/erpbridge/bridge/store"
	instancelock "github.com/erpbridge/erpbridge/bridge/store/dirlock"
	"github.com/erpbridge/erpbridge/cmd/erpbridge/internal/config"
	"github.com/erpbridge/erpbridge/erp/protheus/fixture"
	"github.com/erpbridge/erpbridge/erp/protheus/streams"
	"github.com/erpbridge/erpbridge/rdstation/rdsim"
)

// engineEnv is a SQLite fixture ERP, an in-process simulator and a bridge
// sharing one fake clock.
type engineEnv struct {
	t   *testing.T
	ctx context.Context
	erp fixture.ERP
	exp fixture.Expect
	sim *rdsim.Sim
	clk *clock.Fake
	cfg *config.Config
	b   *Bridge
}

func newEngineEnv(t *testing.T, edit func(*config.Config)) *engineEnv {
	t.Helper()
	ctx := context.Background()
	dbPath := filepath.Join(t.TempDir(), "erp.db")
	erpDB, exp, err := fixture.CreateSQLite(ctx, dbPath, fixture.Options{Customers: 40})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { erpDB.DB.Close() })
	clk := clock.NewFake(time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC))
	sim := rdsim.New(rdsim.Options{Tokens: []string{"sim-token"}, Clock: clk})
	srv := httptest.NewServer(sim)
	t.Cleanup(srv.Close)
	cfg := testConfig(t, "sqlite", dbPath, srv.URL+"/api/v1")
	if edit != nil {
		edit(cfg)
		if err := cfg.Validate(); err != nil {
			t.Fatal(err)
		}
	}
	e := &engineEnv{t: t, ctx: ctx, erp: erpDB, exp: exp, sim: sim, clk: clk, cfg: cfg}
	e.reopen()
	return e
}

// reopen opens the bridge again on the same store, as a restarted process would.
func (e *engineEnv) reopen() {
	e.t.Helper()
	if e.b != nil {
		e.b.Close()
	}
	b, err := Open(e.ctx, e.cfg, Options{Clock: e.clk})
	if err != nil {
		e.t.Fatal(err)
	}
	e.b = b
	e.t.Cleanup(func() { b.Close() })
}

func (e *engineEnv) sync(stream string, so bridge.SyncOptions) bridge.Report {
	e.t.Helper()
	rep, err := e.b.Engine.Sync(e.ctx, stream, so)
	if err != nil {
		e.t.Fatalf("sync %s: %v", stream, err)
	}
	return rep
}

func (e *engineEnv) orgNames() map[string]int {
	names := map[string]int{}
	for _, o := range e.sim.State().Organizations {
		names[o.Name]++
	}
	return names
}

func TestDryRunWritesNothing(t *testing.T) {
	e := newEngineEnv(t, nil)
	rep := e.sync("customers", bridge.SyncOptions{DryRun: true})
	if rep.Stats.Created == 0 {
		t.Fatalf("dry run predicts no creates: %+v", rep.Stats)
	}
	if len(rep.Samples) == 0 || rep.Samples[0].Payload == nil {
		t.Fatalf("dry run shows no sample payload: %+v", rep.Samples)
	}
	if c := e.sim.Counts(); c.Writes != 0 {
		t.Fatalf("dry run wrote %d times to the CRM", c.Writes)
	}
	runs, err := e.b.Store.LastRuns(e.ctx, 10)
	if err != nil {
		t.Fatal(err)
	}
	total, _, err := e.b.Store.CountIdentities(e.ctx, "organization")
	if err != nil {
		t.Fatal(err)
	}
	if len(runs) != 0 || total != 0 {
		t.Fatalf("dry run wrote to the store: %d runs, %d identities", len(runs), total)
	}
	// The real sync afterwards creates what the dry run predicted.
	real := e.sync("customers", bridge.SyncOptions{})
	if real.Stats.Created != rep.Stats.Created {
		t.Fatalf("dry run predicted %d creates, the sync made %d", rep.Stats.Created, real.Stats.Created)
	}
}

func TestContactsSyncTheirOrganizationOnDemand(t *testing.T) {
	e := newEngineEnv(t, nil)
	rep := e.sync("contacts", bridge.SyncOptions{})
	if rep.Stats.Created == 0 {
		t.Fatalf("no contacts created: %+v", rep.Stats)
	}
	st := e.sim.State()
	if len(st.Organizations) == 0 {
		t.Fatal("contacts synced before customers did not bring their organizations")
	}
	linked := 0
	for _, c := range st.Contacts {
		if c.OrganizationID != "" {
			linked++
		}
	}
	if linked == 0 {
		t.Fatal("no contact is linked to an organization")
	}
	// The customers stream then finds them in its identity map: no duplicate.
	before := len(st.Organizations)
	e.sync("customers", bridge.SyncOptions{})
	for name, n := range e.orgNames() {
		if n > 1 {
			t.Errorf("organization %q exists %d times", name, n)
		}
	}
	if after := len(e.sim.State().Organizations); after < before {
		t.Fatalf("organizations went from %d to %d", before, after)
	}
}

func TestModes(t *testing.T) {
	t.Run("create_only never updates", func(t *testing.T) {
		e := newEngineEnv(t, func(c *config.Config) { components.Customers(c).Mode = streams.ModeCreateOnly })
		e.sync("customers", bridge.SyncOptions{})
		if err := e.erp.RenameCustomer(e.ctx, "000010", "01", "NOME TROCADO LTDA"); err != nil {
			t.Fatal(err)
		}
		rep := e.sync("customers", bridge.SyncOptions{})
		if rep.Stats.Updated != 0 || e.orgNames()["NOME TROCADO LTDA (000010/01)"] != 0 {
			t.Fatalf("create_only updated a record: %+v", rep.Stats)
		}
	})
	t.Run("update_only never creates", func(t *testing.T) {
		e := newEngineEnv(t, func(c *config.Config) { components.Customers(c).Mode = streams.ModeUpdateOnly })
		rep := e.sync("customers", bridge.SyncOptions{})
		if n := len(e.sim.State().Organizations); n != 0 || rep.Stats.Created != 0 {
			t.Fatalf("update_only created %d organizations (%+v)", n, rep.Stats)
		}
	})
}

func TestDeletesMarkPrefixesTheName(t *testing.T) {
	e := newEngineEnv(t, func(c *config.Config) {
		components.Customers(c).Deletes = streams.DeletesMark
		components.Customers(c).DeleteMark = streams.DeleteMark{NamePrefix: "[EXCLUÍDO] "}
	})
	e.sync("customers", bridge.SyncOptions{})
	if err := e.erp.DeleteCustomer(e.ctx, "000010", "01"); err != nil {
		t.Fatal(err)
	}
	rep := e.sync("customers", bridge.SyncOptions{})
	if rep.Stats.Deleted != 1 {
		t.Fatalf("deleted = %d, want 1 (%+v)", rep.Stats.Deleted, rep.Stats)
	}
	marked := 0
	for name := range e.orgNames() {
		if strings.HasPrefix(name, "[EXCLUÍDO] ") {
			marked++
			if !strings.HasSuffix(name, "(000010/01)") {
				t.Errorf("marked the wrong organization: %q", name)
			}
		}
	}
	if marked != 1 {
		t.Fatalf("%d organizations marked deleted, want 1", marked)
	}
	// Marked once: the next sync leaves it alone.
	if rep := e.sync("customers", bridge.SyncOptions{}); rep.Stats.Deleted != 0 || rep.Stats.Updated != 0 {
		t.Fatalf("the delete was marked again: %+v", rep.Stats)
	}
}

func TestResyncUpdatesEveryRecordWithoutCreating(t *testing.T) {
	e := newEngineEnv(t, nil)
	first := e.sync("products", bridge.SyncOptions{})
	n, err := e.b.Engine.Resync(e.ctx, "products")
	if err != nil {
		t.Fatal(err)
	}
	if n == 0 {
		t.Fatal("resync forgot nothing")
	}
	rep := e.sync("products", bridge.SyncOptions{Full: true})
	if rep.Stats.Created != 0 || rep.Stats.Updated != first.Stats.Created {
		t.Fatalf("after resync: %+v, want %d updates and no creates", rep.Stats, first.Stats.Created)
	}
}

func TestLostCreateIsResolvedWithoutDuplicate(t *testing.T) {
	e := newEngineEnv(t, nil)
	// The CRM applies the first contact create but the response is lost.
	e.sim.SetFaults(rdsim.Faults{Methods: []string{"POST"}, PathPrefix: "/api/v1/contacts", Script: []rdsim.FaultKind{rdsim.FaultLostResponse}})
	rep := e.sync("contacts", bridge.SyncOptions{})
	if rep.Stats.Failed == 0 || len(e.sim.Counts().Faults) == 0 {
		t.Fatalf("no response was lost: %+v, faults %v", rep.Stats, e.sim.Counts().Faults)
	}
	// Restart the process (new target indexes) and let the retry come due.
	e.reopen()
	e.clk.Advance(2 * time.Hour)
	e.sync("contacts", bridge.SyncOptions{})
	seen := map[string]int{}
	for _, c := range e.sim.State().Contacts {
		for _, m := range c.Emails {
			seen[m.Email]++
		}
	}
	for mail, n := range seen {
		if n > 1 {
			t.Errorf("contact %s exists %d times", mail, n)
		}
	}
	items, err := e.b.Store.OpenItems(e.ctx, store.OutboxFilter{Stream: "contacts", States: []store.State{store.StateInflight, store.StateFailed, store.StatePending}})
	if err != nil {
		t.Fatal(err)
	}
	for _, it := range items {
		if !strings.Contains(it.LastError, "organization") && !strings.Contains(it.LastError, "e-mail") {
			t.Errorf("outbox still holds %s: %s %s", it.ERPKey, it.State, it.LastError)
		}
	}
}

func TestMappingReadsCustomColumns(t *testing.T) {
	ctx := context.Background()
	dbPath := filepath.Join(t.TempDir(), "erp.db")
	erpDB, _, err := fixture.CreateSQLite(ctx, dbPath, fixture.Options{Customers: 40})
	if err != nil {
		t.Fatal(err)
	}
	defer erpDB.DB.Close()
	// A custom field the customer added to SA1 (not in the Protheus preset).
	if _, err := erpDB.DB.ExecContext(ctx, `ALTER TABLE SA1010 ADD COLUMN A1_XSEGM VARCHAR(10) NOT NULL DEFAULT 'VAREJO    '`); err != nil {
		t.Fatal(err)
	}
	clk := clock.NewFake(time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC))
	sim := rdsim.New(rdsim.Options{Tokens: []string{"sim-token"}, Clock: clk})
	srv := httptest.NewServer(sim)
	defer srv.Close()

	t.Run("a column the table has is selected and typed from the catalog", func(t *testing.T) {
		cfg := testConfig(t, "sqlite", dbPath, srv.URL+"/api/v1")
		components.Customers(cfg).Mapping.Fields["resume"] = "'Segmento: ' + A1_XSEGM"
		b, err := Open(ctx, cfg, Options{Clock: clk})
		if err != nil {
			t.Fatal(err)
		}
		defer b.Close()
		if _, err := b.Engine.Sync(ctx, "customers", bridge.SyncOptions{}); err != nil {
			t.Fatal(err)
		}
		orgs := sim.State().Organizations
		if len(orgs) == 0 || orgs[0].Resume != "Segmento: VAREJO" {
			t.Fatalf("resume not mapped from the custom column: %+v", orgs[:min(1, len(orgs))])
		}
	})
	t.Run("a column the table lacks is named at start", func(t *testing.T) {
		cfg := testConfig(t, "sqlite", dbPath, srv.URL+"/api/v1")
		components.Customers(cfg).Mapping.Fields["resume"] = "A1_XNOPE"
		_, err := Open(ctx, cfg, Options{Clock: clk})
		if err == nil || !strings.Contains(err.Error(), "A1_XNOPE") || !strings.Contains(err.Error(), "streams.customers.mapping") {
			t.Fatalf("Open = %v, want an error naming A1_XNOPE and the mapping", err)
		}
	})
}

func TestCustomerEmailBecomesAContactOfItsOrganization(t *testing.T) {
	e := newEngineEnv(t, func(c *config.Config) { components.Contacts(c).CustomerEmail = true })
	if !slices.Contains(e.b.Engine.Streams(), "customer_contacts") {
		t.Fatalf("streams = %v, want customer_contacts", e.b.Engine.Streams())
	}
	rep := e.sync("customer_contacts", bridge.SyncOptions{})
	if rep.Stats.Created == 0 {
		t.Fatalf("no customer contact created: %+v", rep.Stats)
	}
	orgs := map[string]bool{}
	for _, o := range e.sim.State().Organizations {
		orgs[o.ID] = true
	}
	for _, c := range e.sim.State().Contacts {
		if !orgs[c.OrganizationID] {
			t.Fatalf("contact %q is not linked to a known organization", c.Name)
		}
	}
	if again := e.sync("customer_contacts", bridge.SyncOptions{}); again.Stats.Created+again.Stats.Updated != 0 {
		t.Fatalf("second sync wrote: %+v", again.Stats)
	}
}

func TestASecondBridgeOnTheSameDataDirIsRefused(t *testing.T) {
	e := newEngineEnv(t, nil)
	_, err := Open(e.ctx, e.cfg, Options{Clock: e.clk})
	if !errors.Is(err, instancelock.ErrLocked) {
		t.Fatalf("second Open = %v, want ErrLocked", err)
	}
	// A dry run may look while the service runs.
	dry, err := Open(e.ctx, e.cfg, Options{Clock: e.clk, DryRun: true})
	if err != nil {
		t.Fatalf("dry-run Open next to a running bridge: %v", err)
	}
	dry.Close()
}
