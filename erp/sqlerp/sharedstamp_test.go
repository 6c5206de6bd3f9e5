package sqlerp_test

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/erpbridge/erpbridge/erp"
	"github.com/erpbridge/erpbridge/erp/protheus"
	"github.com/erpbridge/erpbridge/erp/protheus/fixture"
	"github.com/erpbridge/erpbridge/erp/sqlerp"
)

// TestLateRowsSharingTheLastStampSQLite: rows that share the stamp of the
// row a poll stopped at, committed after that poll (a stamp is taken before
// its transaction commits, and SQL Server's DATETIME ticks every ~3 ms),
// are read by the next poll even with no overlap at all, whatever their
// record numbers; the overlap re-reads exactly its window behind the cursor.
func TestLateRowsSharingTheLastStampSQLite(t *testing.T) {
	fx, ex := fixture.NewSQLite(t, fixture.Options{Customers: 40})
	checkLateRowsSharingTheLastStamp(t, fx, sqlerp.SQLite{}, ex)
}

func TestLateRowsSharingTheLastStampPostgresIntegration(t *testing.T) {
	fx, _ := fixture.NewPostgres(t)
	ex, err := fx.Load(context.Background(), fixture.Options{Customers: 40})
	if err != nil {
		t.Fatal(err)
	}
	checkLateRowsSharingTheLastStamp(t, fx, sqlerp.Postgres{}, ex)
}

func checkLateRowsSharingTheLastStamp(t *testing.T, fx fixture.ERP, d sqlerp.Dialect, ex fixture.Expect) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	spec, err := protheus.Customers(fixture.Company, fixture.SharedFilial)
	if err != nil {
		t.Fatal(err)
	}
	for i, tc := range []struct {
		overlap time.Duration
		want    []string // what the poll after the late commits reads, in (stamp, recno) order
	}{
		{0, []string{"late at T, lower recno", "first at T", "late at T, higher recno"}},
		{90 * time.Second, []string{"late at T-1m", "late at T, lower recno", "first at T", "late at T, higher recno"}},
	} {
		t.Run(fmt.Sprintf("overlap %v", tc.overlap), func(t *testing.T) {
			src, err := sqlerp.NewSource(ctx, fx.DB, d, spec, sqlerp.Options{Overlap: tc.overlap})
			if err != nil {
				t.Fatal(err)
			}
			defer src.Close()
			poll := func(from erp.Position) ([]string, erp.Position) {
				t.Helper()
				var names []string
				next := from
				for page, err := range src.Changes(ctx, from, 2) {
					if err != nil {
						t.Fatal(err)
					}
					for _, r := range page.Records {
						names = append(names, r.Fields["A1_NOME"].(string))
					}
					next = page.Next
				}
				return names, next
			}
			_, cursor := poll("")

			// T is an hour after every row written so far, in the past.
			stamp := ex.MaxCustomerStamp.Add(time.Duration(i+1) * time.Hour)
			var maxRecno int64
			if err := fx.DB.QueryRowContext(ctx, "SELECT MAX(R_E_C_N_O_) FROM "+spec.Physical).Scan(&maxRecno); err != nil {
				t.Fatal(err)
			}
			add := func(name string, recno int64, at time.Time) {
				t.Helper()
				cod := fmt.Sprintf("9%05d", recno%100000)
				if err := fx.AddStampedRow(ctx, "SA1", map[string]any{"A1_FILIAL": fixture.SharedFilial, "A1_COD": cod,
					"A1_LOJA": "01", "A1_NOME": name, "A1_MSBLQL": "2"}, recno, at); err != nil {
					t.Fatal(err)
				}
			}
			add("first at T", maxRecno+2, stamp)
			names, cursor := poll(cursor)
			if len(names) == 0 || names[len(names)-1] != "first at T" {
				t.Fatalf("the poll after the first row read %q; want it to end at that row", names)
			}
			if want := sqlerp.StampPosition(stamp, maxRecno+2); cursor != want {
				t.Fatalf("cursor after the first row = %s; want %s", cursor, want)
			}

			// Written (stamped) before the poll above, committed after it.
			add("late at T, lower recno", maxRecno+1, stamp)
			add("late at T, higher recno", maxRecno+3, stamp)
			add("late at T-1m", maxRecno+4, stamp.Add(-time.Minute))
			names, _ = poll(cursor)
			if !slices.Equal(names, tc.want) {
				t.Errorf("the next poll read %q; want %q", names, tc.want)
			}
		})
	}
}
