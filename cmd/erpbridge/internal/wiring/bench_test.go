package wiring

import (
	"context"
	"fmt"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	"github.com/erpbridge/erpbridge/bridge"
	"github.com/erpbridge/erpbridge/bridge/clock"
	"github.com/erpbridge/erpbridge/cmd/erpbridge/internal/config"
	"github.com/erpbridge/erpbridge/erp/protheus"
	"github.com/erpbridge/erpbridge/erp/protheus/fixture"
	"github.com/erpbridge/erpbridge/rdstation/rdsim"
	"github.com/shopspring/decimal"
)

// Benchmarks of the customers stream, in process: the fixture ERP scaled
// up, the simulator unthrottled (requests_per_minute = -1 on both sides)
// on a fake clock. They run only with -bench; setup (the fixture, the first
// sync that creates every organization, the ERP changes) is kept out of the
// timed part. Their check that an unchanged pass writes nothing also runs,
// on a small fixture, in every test run (TestAnUnchangedFullPassWritesNothing). cmd/erpbridge-bench measures the same against PostgreSQL with
// the bridge and the simulator in separate processes; docs/benchmarks.md
// has the figures.
//
//	go test -run '^$' -bench . -benchtime 5x ./cmd/erpbridge/internal/wiring/
//	ERPBRIDGE_TEST_PG_DSN=postgres://… go test -run '^$' -bench UnchangedFullPass/postgres …

// benchCustomers is the fixture size in customer codes (SA1 has about as
// many rows; 1 in 25 is blocked and skipped).
const benchCustomers = 5000

// benchEnv is a fixture ERP, an unthrottled in-process simulator and a
// bridge syncing customers only.
type benchEnv struct {
	ctx context.Context
	erp fixture.ERP
	sim *rdsim.Sim
	b   *Bridge
}

// newBenchEnv creates the ERP (kind sqlite or postgres) with customers
// codes, lets setup change it, and opens a bridge on it with the given
// [streams.…] configuration.
func newBenchEnv(b testing.TB, kind fixture.Kind, customers int, streams string, setup func(fixture.ERP)) *benchEnv {
	b.Helper()
	ctx := context.Background()
	be := map[fixture.Kind]erpBackend{fixture.SQLite: sqliteBackend, fixture.Postgres: postgresBackend}[kind]
	erpDB, _, driver, dsn := be.create(b, ctx, fixture.Options{Customers: customers})
	if setup != nil {
		setup(erpDB)
	}
	clk := clock.NewFake(time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC))
	sim := rdsim.New(rdsim.Options{Tokens: []string{"sim-token"}, Clock: clk, RequestsPerMinute: -1})
	srv := httptest.NewServer(sim)
	b.Cleanup(srv.Close)
	cfg, err := config.Parse([]byte(fmt.Sprintf(`
data_dir = %q
[crm]
base_url = %q
token = "sim-token"
requests_per_minute = -1
[erp]
driver = %q
dsn = %q
%s`, filepath.ToSlash(b.TempDir()), srv.URL+"/api/v1", driver, dsn, streams)), func(string) (string, bool) { return "", false })
	if err != nil {
		b.Fatal(err)
	}
	if err := cfg.Validate(); err != nil {
		b.Fatal(err)
	}
	br, err := Open(ctx, cfg, Options{Clock: clk})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { br.Close() })
	return &benchEnv{ctx: ctx, erp: erpDB, sim: sim, b: br}
}

// customersOnly is the configuration of the customers benchmarks.
const customersOnly = "[streams.contacts]\nenabled = false\n[streams.products]\nenabled = false\n"

// sync syncs the customers stream and fails the benchmark on an error.
func (e *benchEnv) sync(b testing.TB, full bool) bridge.Report {
	rep, err := e.b.Engine.Sync(e.ctx, "customers", bridge.SyncOptions{Full: full})
	if err != nil {
		b.Fatal(err)
	}
	return rep
}

// BenchmarkUnchangedFullPass reads every SA1 row again after everything is
// synced: ERP page → mapping → fingerprint compare, with no CRM call.
func BenchmarkUnchangedFullPass(b *testing.B) {
	for _, kind := range []fixture.Kind{fixture.SQLite, fixture.Postgres} {
		b.Run(string(kind), func(b *testing.B) {
			e := newBenchEnv(b, kind, benchCustomers, customersOnly, nil)
			if rep := e.sync(b, true); rep.Stats.Created == 0 {
				b.Fatalf("the first sync created nothing: %+v", rep.Stats)
			}
			var read, calls int64
			for b.Loop() {
				rep := e.unchangedFullPass(b, "customers")
				read += rep.Stats.Read
				calls += rep.Stats.APICalls
			}
			b.ReportMetric(float64(read)/b.Elapsed().Seconds(), "rows/s")
			b.ReportMetric(float64(calls)/float64(read), "api-calls/row")
		})
	}
}

// BenchmarkChangedWritePath changes every SA1 row (outside the timed part)
// and times the incremental sync that sends them: one PUT per live,
// unblocked row.
func BenchmarkChangedWritePath(b *testing.B) {
	const customers = 1000
	e := newBenchEnv(b, fixture.SQLite, customers, customersOnly, nil)
	if rep := e.sync(b, true); rep.Stats.Created == 0 {
		b.Fatalf("the first sync created nothing: %+v", rep.Stats)
	}
	sa1 := protheus.TableName("SA1", fixture.Company)
	var changed, calls int64
	round := 0
	for b.Loop() {
		b.StopTimer()
		round++
		if _, err := e.erp.DB.ExecContext(e.ctx, "UPDATE "+sa1+" SET A1_BAIRRO = ? WHERE D_E_L_E_T_ = ' '",
			protheus.PadFilial(fmt.Sprintf("BAIRRO %d", round), 40)); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		rep := e.sync(b, false)
		if rep.Stats.Updated < customers*9/10 {
			b.Fatalf("round %d updated %d records, want most of %d: %+v", round, rep.Stats.Updated, customers, rep.Stats)
		}
		changed += rep.Stats.Updated
		calls += rep.Stats.APICalls
	}
	b.ReportMetric(float64(changed)/b.Elapsed().Seconds(), "changed-rows/s")
	b.ReportMetric(float64(calls)/float64(changed), "api-calls/row")
}

// benchOrders is how many sales orders BenchmarkOrdersUnchangedFullPass
// adds to the fixture (3 items each).
const benchOrders = 2000

// BenchmarkOrdersUnchangedFullPass reads every SC5 order again after all
// are deals: per order the SC6 items, the customer and the seller are read
// (three indexed queries), mapped and fingerprinted, with no CRM call.
func BenchmarkOrdersUnchangedFullPass(b *testing.B) {
	for _, kind := range []fixture.Kind{fixture.SQLite, fixture.Postgres} {
		b.Run(string(kind), func(b *testing.B) {
			e := newOrdersBenchEnv(b, kind, 0, benchOrders)
			var read, calls int64
			for b.Loop() {
				rep := e.unchangedFullPass(b, "orders")
				read += rep.Stats.Read
				calls += rep.Stats.APICalls
			}
			b.ReportMetric(float64(read)/b.Elapsed().Seconds(), "orders/s")
			b.ReportMetric(float64(calls)/float64(read), "api-calls/order")
		})
	}
}

// newOrdersBenchEnv is the fixture of customers codes (0: its default)
// with orders more orders, every stream but contacts synced once.
func newOrdersBenchEnv(b testing.TB, kind fixture.Kind, customers, orders int) *benchEnv {
	b.Helper()
	ordering := 200 // the customers the orders are spread over
	if customers > 0 {
		ordering = min(ordering, customers)
	}
	addOrders := func(erpDB fixture.ERP) {
		for i := range orders {
			var items []fixture.NewOrderItem
			for k := range 3 {
				p := 1 + (i+k*7)%39
				if p == 5 { // blocked in SB1: not a CRM product
					p = 6
				}
				items = append(items, fixture.NewOrderItem{Product: fmt.Sprintf("PA%04d", p), TES: "501",
					Qty: decimal.NewFromInt(int64(1 + k)), Price: decimal.RequireFromString("12.34")})
			}
			if _, err := erpDB.AddOrder(context.Background(), fixture.NewOrder{Customer: fmt.Sprintf("%06d", 1+i%ordering), Loja: "01",
				Seller: fmt.Sprintf("%06d", 1+i%5), Items: items}); err != nil {
				b.Fatal(err)
			}
		}
	}
	e := newBenchEnv(b, kind, customers, fmt.Sprintf("[streams.contacts]\nenabled = false\n[streams.products]\nprice_table = %q\n[streams.orders]\nenabled = true\nfilial = %q\nhistory_days = 0\n",
		fixture.PriceTable, fixture.OrderFilial), addOrders)
	if _, err := e.b.Engine.SyncAll(e.ctx, bridge.SyncOptions{Full: true}); err != nil {
		b.Fatal(err)
	}
	return e
}

// unchangedFullPass runs a full pass of stream over an ERP the CRM already
// mirrors, and fails unless it wrote nothing: no create, no update, not one
// CRM request.
func (e *benchEnv) unchangedFullPass(tb testing.TB, stream string) bridge.Report {
	tb.Helper()
	writes := e.sim.Counts().Writes
	rep, err := e.b.Engine.Sync(e.ctx, stream, bridge.SyncOptions{Full: true})
	if err != nil {
		tb.Fatal(err)
	}
	if rep.Stats.Created+rep.Stats.Updated != 0 || rep.Stats.APICalls != 0 || e.sim.Counts().Writes != writes {
		tb.Fatalf("an unchanged pass of %s wrote: %+v, %d CRM writes", stream, rep.Stats, e.sim.Counts().Writes-writes)
	}
	return rep
}

// TestAnUnchangedFullPassWritesNothing is the benchmarks' check on a small
// fixture, in every test run: a full pass over an ERP the CRM already
// mirrors reads every row and sends nothing — customers, and orders with
// their items, customers and sellers.
func TestAnUnchangedFullPassWritesNothing(t *testing.T) {
	checkUnchangedFullPass(t, fixture.SQLite)
}

func TestAnUnchangedFullPassWritesNothingPostgresIntegration(t *testing.T) {
	checkUnchangedFullPass(t, fixture.Postgres)
}

func checkUnchangedFullPass(t *testing.T, kind fixture.Kind) {
	t.Run("customers", func(t *testing.T) {
		e := newBenchEnv(t, kind, 40, customersOnly, nil)
		first := e.sync(t, true)
		if first.Stats.Created == 0 {
			t.Fatalf("the first sync created nothing: %+v", first.Stats)
		}
		if rep := e.unchangedFullPass(t, "customers"); rep.Stats.Read != first.Stats.Read || rep.Stats.Unchanged != first.Stats.Created {
			t.Errorf("the unchanged pass: %+v; want the %d rows read and the %d records created unchanged",
				rep.Stats, first.Stats.Read, first.Stats.Created)
		}
	})
	t.Run("orders", func(t *testing.T) {
		e := newOrdersBenchEnv(t, kind, 40, 20)
		if rep := e.unchangedFullPass(t, "orders"); rep.Stats.Unchanged < 20 {
			t.Errorf("the unchanged pass: %+v; want the 20 added orders (and the fixture's) unchanged", rep.Stats)
		}
	})
}
