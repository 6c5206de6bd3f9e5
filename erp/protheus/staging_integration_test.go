package protheus_test

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/erpbridge/erpbridge/erp"
	"github.com/erpbridge/erpbridge/erp/protheus"
	"github.com/erpbridge/erpbridge/erp/protheus/erpjob"
	"github.com/erpbridge/erpbridge/erp/protheus/fixture"
	"github.com/erpbridge/erpbridge/erp/sqlerp"
)

func dec(s string) decimal.Decimal { return decimal.RequireFromString(s) }

func decp(s string) *decimal.Decimal { d := dec(s); return &d }

// stagingEnv is a fixture ERP with a staging sink writing into it.
type stagingEnv struct {
	fx   fixture.ERP
	sink *sqlerp.StagingSink
}

func newStagingEnv(t *testing.T, fx fixture.ERP) stagingEnv {
	t.Helper()
	d, err := sqlerp.DialectFor(string(fx.Kind))
	if err != nil {
		t.Fatal(err)
	}
	staged := time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)
	sink, err := sqlerp.NewStagingSink(fx.DB, d, protheus.Staging(fixture.Company, fixture.OrderFilial, protheus.DefaultStagingAliases),
		sqlerp.WithStagingClock(func() time.Time { return staged }))
	if err != nil {
		t.Fatal(err)
	}
	return stagingEnv{fx: fx, sink: sink}
}

// count runs a COUNT(*) query with the fixture's placeholders written as ?.
func (e stagingEnv) count(t *testing.T, query string, args ...any) int {
	t.Helper()
	if e.fx.Kind == fixture.Postgres {
		for i := range args {
			query = strings.Replace(query, "?", fmt.Sprintf("$%d", i+1), 1)
		}
	}
	var n int
	if err := e.fx.DB.QueryRowContext(context.Background(), query, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return n
}

// rows counts a deal's live ZB1 rows, ZB2 rows and SC5 orders.
func (e stagingEnv) rows(t *testing.T, deal string) (headers, items, orders int) {
	t.Helper()
	padded := protheus.PadFilial(deal, 24)
	return e.count(t, "SELECT COUNT(*) FROM ZB1010 WHERE ZB1_DEALID = ? AND D_E_L_E_T_ = ' '", padded),
		e.count(t, "SELECT COUNT(*) FROM ZB2010 WHERE ZB2_DEALID = ? AND D_E_L_E_T_ = ' '", padded),
		e.count(t, "SELECT COUNT(*) FROM SC5010 WHERE C5_XCRMID = ? AND D_E_L_E_T_ = ' '", padded)
}

func (e stagingEnv) runJob(t *testing.T) []erpjob.Outcome {
	t.Helper()
	out, err := erpjob.Run(context.Background(), e.fx, erpjob.Options{})
	if err != nil {
		t.Fatalf("erpjob.Run: %v", err)
	}
	return out
}

func wonDeal(deal string, items ...erp.OrderItem) erp.Order {
	return erp.Order{DealID: deal, Customer: "000003", Store: "01", PaymentTerms: "001", PriceTable: "001",
		OrderType: "N", Message: "deal " + deal, Items: items}
}

func item(product, qty, price string) erp.OrderItem {
	return erp.OrderItem{Product: product, Quantity: dec(qty), UnitPrice: decp(price)}
}

func sqliteFixture(t *testing.T) fixture.ERP {
	fx, _ := fixture.NewSQLite(t, fixture.Options{Customers: 40})
	return fx
}

func postgresFixture(t *testing.T) fixture.ERP {
	t.Helper()
	fx, _ := fixture.NewPostgres(t) // skips under -short or without a server
	if _, err := fx.Load(context.Background(), fixture.Options{Customers: 40}); err != nil {
		t.Fatal(err)
	}
	return fx
}

// TestStagingSinkSQLite runs the staging sink and the stand-in ERP job on
// SQLite fixture files.
func TestStagingSinkSQLite(t *testing.T) { runStagingScenarios(t, sqliteFixture) }

// TestStagingSinkPostgresIntegration runs the same on PostgreSQL.
func TestStagingSinkPostgresIntegration(t *testing.T) {
	fixture.PostgresAdminDSN(t) // skip early, before any subtest
	runStagingScenarios(t, postgresFixture)
}

func runStagingScenarios(t *testing.T, open func(*testing.T) fixture.ERP) {
	t.Run("staged, then turned into an order by the job", func(t *testing.T) {
		ctx := context.Background()
		e := newStagingEnv(t, open(t))
		const deal = "65c1000000000000000000a1"
		if _, ok, err := e.sink.Status(ctx, deal, ""); ok || err != nil {
			t.Fatalf("Status before Submit = %v, %v; want nothing", ok, err)
		}
		o := wonDeal(deal, item("PA0001", "2", "10.30"), item("PA0002", "1", "5"))
		res, err := e.sink.Submit(ctx, o)
		if err != nil || res != (erp.OrderResult{State: erp.OrderWaiting}) {
			t.Fatalf("Submit = %+v, %v; want waiting", res, err)
		}
		// Every character value is written blank-padded, never ''.
		if n := e.count(t, "SELECT COUNT(*) FROM ZB1010 WHERE ZB1_VEND = '      ' AND ZB1_NUMPED = '      ' AND ZB1_STATUS = '0'"+
			" AND ZB1_DTINC = '20260304' AND ZB1_HRINC = '05:06:07' AND ZB1_FILIAL = '01' AND R_E_C_D_E_L_ = 0"); n != 1 {
			t.Errorf("%d header rows as the fixture writes them, want 1", n)
		}
		if n := e.count(t, "SELECT COUNT(*) FROM ZB2010 WHERE ZB2_OPER = '  ' AND ZB2_TES = '   ' AND ZB2_ITEM IN ('01', '02')"); n != 2 {
			t.Errorf("%d item rows with blank-padded TES and operation, want 2", n)
		}
		if res, ok, err := e.sink.Status(ctx, deal, ""); !ok || err != nil || res.State != erp.OrderWaiting {
			t.Errorf("Status = %+v, %v, %v; want waiting", res, ok, err)
		}
		out := e.runJob(t)
		if len(out) != 1 || out[0].Status != fixture.StagingDone {
			t.Fatalf("job outcomes %+v; want one order", out)
		}
		want := erp.OrderResult{State: erp.OrderDone, Number: out[0].Num}
		if res, ok, err := e.sink.Status(ctx, deal, ""); !ok || err != nil || res != want {
			t.Errorf("Status = %+v, %v, %v; want %+v", res, ok, err, want)
		}
		if res, err := e.sink.Submit(ctx, o); err != nil || res != want {
			t.Errorf("Submit again = %+v, %v; want %+v", res, err, want)
		}
		if h, i, n := e.rows(t, deal); h != 1 || i != 2 || n != 1 {
			t.Errorf("%d headers, %d items, %d orders; want 1, 2, 1", h, i, n)
		}
	})

	t.Run("rejected by the job", func(t *testing.T) {
		ctx := context.Background()
		e := newStagingEnv(t, open(t))
		const deal = "65c1000000000000000000a2"
		o := wonDeal(deal, item("PA0001", "1", "10"), item("PA0005", "1", "10")) // PA0005 is blocked
		if _, err := e.sink.Submit(ctx, o); err != nil {
			t.Fatal(err)
		}
		out := e.runJob(t)
		if len(out) != 1 || out[0].Status != fixture.StagingError {
			t.Fatalf("job outcomes %+v; want one rejection", out)
		}
		for _, submit := range []bool{false, true} {
			var res erp.OrderResult
			var err error
			if submit {
				res, err = e.sink.Submit(ctx, o)
			} else {
				res, _, err = e.sink.Status(ctx, deal, "")
			}
			if err != nil || res.State != erp.OrderRejected || res.Error != out[0].Error ||
				!strings.Contains(res.Error, "produto PA0005 bloqueado") {
				t.Errorf("submit %v: %+v, %v; want rejected with the job's text %q", submit, res, err, out[0].Error)
			}
		}
		if h, _, n := e.rows(t, deal); h != 1 || n != 0 {
			t.Errorf("%d headers, %d orders; want 1, 0", h, n)
		}
	})

	t.Run("exact decimals", func(t *testing.T) {
		ctx := context.Background()
		e := newStagingEnv(t, open(t))
		const deal = "65c1000000000000000000a3"
		if _, err := e.sink.Submit(ctx, wonDeal(deal, item("PA0001", "2.35", "10.10"), item("PA0002", "0.5", "1999.99"))); err != nil {
			t.Fatal(err)
		}
		out := e.runJob(t)
		if len(out) != 1 || out[0].Num == "" {
			t.Fatalf("job outcomes %+v; want one order", out)
		}
		src, err := sqlerp.NewSource(ctx, e.fx.DB, mustDialect(t, e.fx), mustSpec(t, "SC6"), sqlerp.Options{})
		if err != nil {
			t.Fatal(err)
		}
		recs, err := src.Find(ctx, protheus.ItemsOf(out[0].Num), 10)
		if err != nil || len(recs) != 2 {
			t.Fatalf("items of %s: %d, %v", out[0].Num, len(recs), err)
		}
		for i, want := range [][3]string{{"2.35", "10.1", "23.74"}, {"0.5", "1999.99", "1000"}} { // 23.735 and 999.995 round up
			for j, field := range []string{"C6_QTDVEN", "C6_PRCVEN", "C6_VALOR"} {
				if got, _ := recs[i].Fields[field].(decimal.Decimal); !got.Equal(dec(want[j])) {
					t.Errorf("item %d %s = %v, want %s", i+1, field, recs[i].Fields[field], want[j])
				}
			}
		}
	})

	t.Run("the same deal eight times at once", func(t *testing.T) {
		ctx := context.Background()
		e := newStagingEnv(t, open(t))
		const deal = "65c1000000000000000000a4"
		o := wonDeal(deal, item("PA0001", "1", "10"), item("PA0002", "2", "20"), item("PA0003", "3", "30"))
		var wg sync.WaitGroup
		results, errs := make([]erp.OrderResult, 8), make([]error, 8)
		for g := range 8 {
			wg.Go(func() { results[g], errs[g] = e.sink.Submit(ctx, o) })
		}
		wg.Wait()
		for g := range 8 {
			if errs[g] != nil || results[g].State != erp.OrderWaiting {
				t.Errorf("Submit %d = %+v, %v; want waiting", g, results[g], errs[g])
			}
		}
		if h, i, _ := e.rows(t, deal); h != 1 || i != 3 {
			t.Errorf("%d headers, %d items; want 1, 3", h, i)
		}
		if out := e.runJob(t); len(out) != 1 {
			t.Errorf("job outcomes %+v; want one", out)
		}
		if res, err := e.sink.Submit(ctx, o); err != nil || res.State != erp.OrderDone {
			t.Errorf("Submit after the job = %+v, %v; want done", res, err)
		}
		if h, _, n := e.rows(t, deal); h != 1 || n != 1 {
			t.Errorf("%d headers, %d orders; want 1, 1", h, n)
		}
	})

	t.Run("losing the race to another writer of the deal", func(t *testing.T) {
		ctx := context.Background()
		e := newStagingEnv(t, open(t))
		const deal = "65c1000000000000000000a5"
		// Another writer has staged the deal (and the job has even done it)
		// but not committed yet when Submit looks the deal up: Submit cannot
		// see the row, collides with it and must answer with its state.
		tx, err := e.fx.DB.BeginTx(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer tx.Rollback()
		insert := "INSERT INTO ZB1010 (ZB1_FILIAL, ZB1_DEALID, ZB1_STATUS, ZB1_NUMPED, R_E_C_N_O_) VALUES ('01', '" + deal + "', '2', '000777', 1)"
		if _, err := tx.ExecContext(ctx, insert); err != nil {
			t.Fatal(err)
		}
		// Submit is held at its first insert — its look-up done, seeing
		// nothing — until the other writer has committed.
		var begins atomic.Int32
		reached, committed := make(chan struct{}), make(chan struct{})
		var once sync.Once
		db := hookedDB(t, e.fx, func() { begins.Add(1) }, func(query string) {
			if !strings.HasPrefix(strings.TrimSpace(strings.ToUpper(query)), "INSERT") {
				return
			}
			once.Do(func() {
				close(reached)
				select {
				case <-committed:
				case <-time.After(time.Minute): // bound: the test has failed by then
				}
			})
		})
		sink, err := sqlerp.NewStagingSink(db, mustDialect(t, e.fx), protheus.Staging(fixture.Company, fixture.OrderFilial, protheus.DefaultStagingAliases))
		if err != nil {
			t.Fatal(err)
		}
		done := make(chan struct{})
		var res erp.OrderResult
		var serr error
		go func() {
			defer close(done)
			res, serr = sink.Submit(ctx, wonDeal(deal, item("PA0001", "1", "10")))
		}()
		select {
		case <-reached:
		case <-done:
			t.Fatalf("Submit returned %+v, %v without inserting anything", res, serr)
		}
		if err := tx.Commit(); err != nil {
			t.Fatal(err)
		}
		close(committed)
		<-done
		if want := (erp.OrderResult{State: erp.OrderDone, Number: "000777"}); serr != nil || res != want {
			t.Errorf("Submit = %+v, %v; want the other writer's row %+v", res, serr, want)
		}
		if n := begins.Load(); n < 2 {
			t.Errorf("Submit ran %d transaction(s); want the one that lost the race and one that read the winner's row", n)
		}
		if h, i, _ := e.rows(t, deal); h != 1 || i != 0 {
			t.Errorf("%d headers, %d items; want the other writer's header alone", h, i)
		}
	})

	t.Run("eight deals at once", func(t *testing.T) {
		ctx := context.Background()
		e := newStagingEnv(t, open(t))
		var wg sync.WaitGroup
		errs := make([]error, 8)
		for g := range 8 {
			wg.Go(func() {
				_, errs[g] = e.sink.Submit(ctx, wonDeal(fmt.Sprintf("65c2%020d", g), item("PA0001", "1", "10"), item("PA0002", "1", "10")))
			})
		}
		wg.Wait()
		for g, err := range errs {
			if err != nil {
				t.Errorf("Submit %d: %v", g, err)
			}
		}
		if n := e.count(t, "SELECT COUNT(DISTINCT ZB1_DEALID) FROM ZB1010"); n != 8 {
			t.Errorf("%d deals staged, want 8", n)
		}
		if n := e.count(t, "SELECT COUNT(*) FROM ZB2010"); n != 16 {
			t.Errorf("%d items staged, want 16", n)
		}
		if out := e.runJob(t); len(out) != 8 {
			t.Errorf("%d job outcomes, want 8", len(out))
		}
	})
}

func mustDialect(t *testing.T, fx fixture.ERP) sqlerp.Dialect {
	t.Helper()
	d, err := sqlerp.DialectFor(string(fx.Kind))
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func mustSpec(t *testing.T, alias string) sqlerp.TableSpec {
	t.Helper()
	spec, err := protheus.Table(alias, fixture.Company, fixture.OrderFilial)
	if err != nil {
		t.Fatal(err)
	}
	return spec
}

// TestStagingSinkCheckRefusesATableThatIsNotTheLayout: the staging
// tables as created pass; a missing table, and a table that differs from
// the layout (another team's table using the alias, a column dropped or
// of another width or kind) are refused with what differs.
func TestStagingSinkCheckRefusesATableThatIsNotTheLayout(t *testing.T) {
	checkStagingLayout(t, sqliteFixture)
}

func TestStagingSinkCheckPostgresIntegration(t *testing.T) {
	fixture.PostgresAdminDSN(t)
	checkStagingLayout(t, postgresFixture)
}

func checkStagingLayout(t *testing.T, open func(*testing.T) fixture.ERP) {
	// recreate drops both staging tables and creates them from the
	// documented DDL, changed by edit (on PostgreSQL, names are lower case).
	recreate := func(t *testing.T, fx fixture.ERP, edit func(string) string) {
		ctx := context.Background()
		for _, tbl := range []string{"ZB1010", "ZB2010"} {
			if _, err := fx.DB.ExecContext(ctx, "DROP TABLE "+tbl); err != nil {
				t.Fatal(err)
			}
		}
		stmts, err := protheus.StagingDDL(string(fx.Kind), fixture.Company, protheus.DefaultStagingAliases)
		if err != nil {
			t.Fatal(err)
		}
		for _, st := range stmts {
			if st = edit(st); st == "" {
				continue
			}
			if _, err := fx.DB.ExecContext(ctx, st); err != nil {
				t.Fatalf("%v\n%s", err, st)
			}
		}
	}
	exec := func(t *testing.T, fx fixture.ERP, stmts ...string) {
		for _, st := range stmts {
			if _, err := fx.DB.ExecContext(context.Background(), st); err != nil {
				t.Fatalf("%s: %v", st, err)
			}
		}
	}
	for _, tc := range []struct {
		name   string
		change func(t *testing.T, fx fixture.ERP)
		want   []string // substrings of the error; none: the check passes
	}{
		{"as documented", func(*testing.T, fixture.ERP) {}, nil},
		{"a table dropped, a field dropped, a control column renamed", func(t *testing.T, fx fixture.ERP) {
			exec(t, fx, "DROP TABLE ZB2010", "ALTER TABLE ZB1010 DROP COLUMN ZB1_NUMPED",
				// Every insert writes R_E_C_D_E_L_: a table without it fails each Submit.
				"ALTER TABLE ZB1010 RENAME COLUMN R_E_C_D_E_L_ TO ZB1_RECDEL")
		}, []string{"ZB2010 does not exist", "staging table ZB1010 does not match the staging layout", "so the bridge writes nothing into it",
			"lacks ZB1_NUMPED, R_E_C_D_E_L_", "has columns the layout does not: ZB1_RECDEL"}},
		{"another team's ZB1 table", func(t *testing.T, fx fixture.ERP) {
			exec(t, fx, "DROP TABLE ZB1010", "CREATE TABLE ZB1010 (ZB1_FILIAL VARCHAR(2) NOT NULL, ZB1_COD VARCHAR(6) NOT NULL, "+
				"ZB1_DESC VARCHAR(40) NOT NULL, D_E_L_E_T_ VARCHAR(1) NOT NULL, R_E_C_N_O_ INTEGER NOT NULL PRIMARY KEY, R_E_C_D_E_L_ INTEGER NOT NULL)")
		}, []string{"staging table ZB1010 does not match", "lacks ZB1_DEALID, ZB1_TIPO", "has columns the layout does not: ZB1_COD, ZB1_DESC"}},
		{"a field of another width, a field of another kind", func(t *testing.T, fx fixture.ERP) {
			recreate(t, fx, func(st string) string {
				for _, r := range [][2]string{
					{`(?i)(ZB1_DEALID\s+)VARCHAR\(24\)`, "${1}VARCHAR(20)"},
					{`(?i)(ZB1_STATUS\s+)VARCHAR\(1\)(\s+NOT NULL DEFAULT) ' '`, "${1}INTEGER${2} 0"},
					{`(?i)(ZB2_QTDVEN\s+)DOUBLE PRECISION(\s+NOT NULL DEFAULT) 0`, "${1}VARCHAR(9)${2} '0'"},
				} {
					st = regexp.MustCompile(r[0]).ReplaceAllString(st, r[1])
				}
				return st
			})
		}, []string{"ZB1_DEALID is ", "(20), not 24 characters wide", "ZB1_STATUS is INTEGER, not a character column",
			"ZB2_QTDVEN is ", "(9), not a numeric column"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fx := open(t)
			e := newStagingEnv(t, fx)
			tc.change(t, fx)
			err := e.sink.Check(context.Background())
			if len(tc.want) == 0 {
				if err != nil {
					t.Fatalf("check: %v, want it to pass", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("check passed, want it to name %q", tc.want)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("check: %v\nwant it to say %q", err, w)
				}
			}
		})
	}
}

// TestStagingUnderOtherAliases stages a deal into tables named by other
// aliases (SZ7/SZ8, fields Z7_…/Z8_…), created from the documented DDL:
// the check passes, the job stand-in makes the order from them, and the
// default ZB1010/ZB2010 are left untouched. Creating the documented DDL
// over existing tables fails instead of replacing them.
func TestStagingUnderOtherAliases(t *testing.T) {
	checkStagingAliases(t, sqliteFixture)
}

func TestStagingUnderOtherAliasesPostgresIntegration(t *testing.T) {
	fixture.PostgresAdminDSN(t)
	checkStagingAliases(t, postgresFixture)
}

func checkStagingAliases(t *testing.T, open func(*testing.T) fixture.ERP) {
	ctx := context.Background()
	fx := open(t)
	if err := fx.CreateStaging(ctx, protheus.DefaultStagingAliases); err == nil {
		t.Error("creating the staging tables over the fixture's ZB1010/ZB2010 succeeded, want it to fail")
	}
	aliases := protheus.StagingAliases{Header: "SZ7", Items: "SZ8"}
	if err := fx.CreateStaging(ctx, aliases); err != nil {
		t.Fatal(err)
	}
	sink, err := sqlerp.NewStagingSink(fx.DB, mustDialect(t, fx), protheus.Staging(fixture.Company, fixture.OrderFilial, aliases))
	if err != nil {
		t.Fatal(err)
	}
	if err := sink.Check(ctx); err != nil {
		t.Fatalf("check of SZ7010/SZ8010: %v", err)
	}
	const deal = "65c10000000000000000a11a"
	if res, err := sink.Submit(ctx, wonDeal(deal, item("PA0001", "2", "10.30"))); err != nil || res.State != erp.OrderWaiting {
		t.Fatalf("Submit = %+v, %v; want waiting", res, err)
	}
	e := stagingEnv{fx: fx, sink: sink}
	if n := e.count(t, "SELECT COUNT(*) FROM SZ7010 WHERE Z7_DEALID = ? AND Z7_STATUS = '0'", protheus.PadFilial(deal, 24)); n != 1 {
		t.Errorf("%d SZ7010 headers for the deal, want 1", n)
	}
	if n := e.count(t, "SELECT COUNT(*) FROM SZ8010 WHERE Z8_DEALID = ? AND Z8_PRODUT = ?", protheus.PadFilial(deal, 24), protheus.PadFilial("PA0001", 15)); n != 1 {
		t.Errorf("%d SZ8010 items for the deal, want 1", n)
	}
	if n := e.count(t, "SELECT COUNT(*) FROM ZB1010") + e.count(t, "SELECT COUNT(*) FROM ZB2010"); n != 0 {
		t.Errorf("%d rows in ZB1010/ZB2010, want none", n)
	}
	out, err := erpjob.Run(ctx, fx, erpjob.Options{Staging: aliases})
	if err != nil || len(out) != 1 || out[0].Status != fixture.StagingDone {
		t.Fatalf("job over SZ7/SZ8: %+v, %v; want one order", out, err)
	}
	if res, ok, err := sink.Status(ctx, deal, ""); err != nil || !ok || res != (erp.OrderResult{State: erp.OrderDone, Number: out[0].Num}) {
		t.Errorf("Status = %+v, %v, %v; want done with order %s", res, ok, err, out[0].Num)
	}
}
