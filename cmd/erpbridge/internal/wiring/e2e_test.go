package wiring

import (
	"context"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	"github.com/erpbridge/erpbridge/bridge"
	"github.com/erpbridge/erpbridge/bridge/clock"
	"github.com/erpbridge/erpbridge/cmd/erpbridge/internal/config"
	"github.com/erpbridge/erpbridge/erp/protheus/fixture"
	"github.com/erpbridge/erpbridge/rdstation/rdsim"
)

// testConfig returns a config for the fixture ERP at dsn and the simulator at baseURL.
func testConfig(t *testing.T, driver, dsn, baseURL string) *config.Config {
	t.Helper()
	cfg, err := config.Parse([]byte(`
data_dir = "`+filepath.ToSlash(t.TempDir())+`"
[crm]
base_url = "`+baseURL+`"
token = "sim-token"
requests_per_minute = 110
[erp]
driver = "`+driver+`"
dsn = "`+dsn+`"
[streams.contacts]
filial = "`+fixture.ContactFilial+`"
[streams.products]
price_table = "`+fixture.PriceTable+`"
`), func(string) (string, bool) { return "", false })
	if err != nil {
		t.Fatal(err)
	}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	return cfg
}

func TestSyncSQLiteFixtureIntoSimulator(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	dbPath := filepath.Join(dir, "erp.db")
	erpDB, exp, err := fixture.CreateSQLite(ctx, dbPath, fixture.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer erpDB.DB.Close()
	clk := clock.NewFake(time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC))
	sim := rdsim.New(rdsim.Options{Tokens: []string{"sim-token"}, Clock: clk})
	srv := httptest.NewServer(sim)
	defer srv.Close()

	cfg := testConfig(t, "sqlite", dbPath, srv.URL+"/api/v1")
	b, err := Open(ctx, cfg, Options{Clock: clk})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	reps, err := b.Engine.SyncAll(ctx, bridge.SyncOptions{})
	for _, r := range reps {
		t.Logf("%s: %+v err=%v", r.Stream, r.Stats, r.Err)
	}
	if err != nil {
		t.Fatal(err)
	}
	_ = exp
	t.Logf("sim counts after first sync: %+v", sim.Counts())
	reps, err = b.Engine.SyncAll(ctx, bridge.SyncOptions{})
	if err != nil {
		t.Fatalf("second sync: %v", err)
	}
	for _, r := range reps {
		t.Logf("second %s: %+v err=%v", r.Stream, r.Stats, r.Err)
		if r.Stats.Created+r.Stats.Updated != 0 {
			t.Errorf("%s: second sync wrote %d records", r.Stream, r.Stats.Created+r.Stats.Updated)
		}
	}
}
