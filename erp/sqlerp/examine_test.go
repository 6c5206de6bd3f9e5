package sqlerp_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/erpbridge/erpbridge/erp/protheus"
	"github.com/erpbridge/erpbridge/erp/protheus/fixture"
	"github.com/erpbridge/erpbridge/erp/sqlerp"
)

func TestExamineSQLite(t *testing.T) {
	fx, ex := fixture.NewSQLite(t, fixture.Options{})
	exerciseExamine(t, fx, sqlerp.SQLite{}, ex)
}

func TestExaminePostgresIntegration(t *testing.T) {
	fx, _ := fixture.NewPostgres(t)
	ex, err := fx.Load(context.Background(), fixture.Options{})
	if err != nil {
		t.Fatal(err)
	}
	exerciseExamine(t, fx, sqlerp.Postgres{}, ex)
}

// exerciseExamine examines SA1010 as the customers stream reads it: its
// rows and NULL stamps, the index on S_T_A_M_P_, and whether the poll's
// plan seeks the stamp in it — without planner statistics (the planner
// prefers the filial index), with them (it seeks the stamp), and with the
// index dropped (no index serves the poll).
func exerciseExamine(t *testing.T, fx fixture.ERP, d sqlerp.Dialect, ex fixture.Expect) {
	ctx := context.Background()
	spec, err := protheus.Customers(fixture.Company, fixture.SharedFilial)
	if err != nil {
		t.Fatal(err)
	}
	src, err := sqlerp.NewSource(ctx, fx.DB, d, spec, sqlerp.Options{Overlap: 2 * time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	examine := func(t *testing.T) sqlerp.TableFacts {
		t.Helper()
		f, err := src.Examine(ctx, sqlerp.ExamineOptions{PageSize: 500})
		if err != nil {
			t.Fatal(err)
		}
		return f
	}
	index := protheus.ObjectPrefix + "SA1010_STAMP"

	t.Run("rows and the poll", func(t *testing.T) {
		f := examine(t)
		if f.Rows != int64(ex.CustomerRows) || f.NullStamps != int64(ex.NullStampCustomers) || !f.Incremental {
			t.Errorf("rows %d, NULL stamps %d, incremental %v; want %d, %d, true", f.Rows, f.NullStamps, f.Incremental, ex.CustomerRows, ex.NullStampCustomers)
		}
		if want := ex.MaxCustomerStamp.Add(-2 * time.Minute); !f.StampIndex.From.Equal(want) {
			t.Errorf("the poll reads from %s, want the newest stamp minus the overlap, %s", f.StampIndex.From, want)
		}
		if f.Poll.Rows == 0 || f.Poll.Rows > 10 || f.Poll.Limit != 500 {
			t.Errorf("the poll read %d rows (limit %d), want the few stamped in the last 2 minutes", f.Poll.Rows, f.Poll.Limit)
		}
		if names := indexNames(f.StampIndex.Serving); !slices.Equal(names, []string{index}) {
			t.Errorf("indexes serving the poll: %v, want [%s]", names, index)
		}
		if d.Name() == "postgres" && (!f.LockWaits.Exposed || f.LockWaits.Waits != 0) {
			t.Errorf("lock waits: %+v, want exposed and none", f.LockWaits)
		}
	})
	t.Run("no statistics", func(t *testing.T) {
		f := examine(t)
		if f.StampIndex.Stats || !f.StampIndex.StatsKnown {
			t.Errorf("the fresh fixture has planner statistics: %+v", f.StampIndex)
		}
		if f.StampIndex.Access.StampSeek {
			t.Logf("without statistics the plan seeks the stamp anyway: %v", f.StampIndex.Plan)
		}
	})
	if _, err := fx.DB.ExecContext(ctx, "ANALYZE SA1010"); err != nil {
		t.Fatal(err)
	}
	t.Run("statistics", func(t *testing.T) {
		f := examine(t).StampIndex
		if !f.Stats || !f.Access.StampSeek || f.Access.Index != index {
			t.Errorf("with statistics: stats %v, access %+v, want the stamp sought in %s\n%s", f.Stats, f.Access, index, strings.Join(f.Plan, "\n"))
		}
	})
	if _, err := fx.DB.ExecContext(ctx, "DROP INDEX "+index); err != nil {
		t.Fatal(err)
	}
	if _, err := fx.DB.ExecContext(ctx, "ANALYZE SA1010"); err != nil {
		t.Fatal(err)
	}
	t.Run("index dropped", func(t *testing.T) {
		f, err := src.StampIndex(ctx, 500)
		if err != nil {
			t.Fatal(err)
		}
		if len(f.Serving) != 0 || len(f.Indexes) != 0 || f.Access.StampSeek || f.Access.Scan == "" {
			t.Errorf("without the index: serving %v, access %+v, want none and the scan named\n%s", f.Serving, f.Access, strings.Join(f.Plan, "\n"))
		}
		if !strings.Contains(strings.ToUpper(f.Access.Scan), "SA1010") {
			t.Errorf("the scan %q does not name the table", f.Access.Scan)
		}
	})
}

func indexNames(is []sqlerp.Index) []string {
	var out []string
	for _, i := range is {
		out = append(out, i.Name)
	}
	return out
}

func TestExamineServerSQLite(t *testing.T) {
	fx, _ := fixture.NewSQLite(t, fixture.Options{})
	f, err := sqlerp.ExamineServer(context.Background(), fx.DB, sqlerp.SQLite{})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(f.Get("version"), "SQLite 3.") || f.Get("encoding") != "UTF-8" {
		t.Errorf("settings %+v", f.Settings)
	}
	if f.BlankEqual || f.CaseEqual || f.AssumesBlankEqual {
		t.Errorf("SQLite compares 'A' = 'A ' %v and 'A' = 'a' %v (assumed %v); want false for all", f.BlankEqual, f.CaseEqual, f.AssumesBlankEqual)
	}
	if f.Skew.Abs() > time.Second+f.RoundTrip {
		t.Errorf("SQLite's clock is this machine's, yet the skew is %s", f.Skew)
	}
}

func TestExamineServerPostgresIntegration(t *testing.T) {
	fx, _ := fixture.NewPostgres(t)
	f, err := sqlerp.ExamineServer(context.Background(), fx.DB, sqlerp.Postgres{})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(f.Get("version"), "PostgreSQL ") || f.Get("collation") != "C" || f.Get("encoding") != "SQL_ASCII" {
		t.Errorf("settings %+v", f.Settings)
	}
	if f.BlankEqual || f.CaseEqual {
		t.Errorf("PostgreSQL compares 'A' = 'A ' %v and 'A' = 'a' %v; want false", f.BlankEqual, f.CaseEqual)
	}
	if f.Skew.Abs() > 5*time.Second+f.RoundTrip {
		t.Errorf("the local server's clock is %s off", f.Skew)
	}
}
