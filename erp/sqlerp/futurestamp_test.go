package sqlerp_test

import (
	"context"
	"testing"
	"time"

	"github.com/erpbridge/erpbridge/erp"
	"github.com/erpbridge/erpbridge/erp/protheus"
	"github.com/erpbridge/erpbridge/erp/protheus/fixture"
	"github.com/erpbridge/erpbridge/erp/sqlerp"
)

// A row stamped in the future (a skewed clock, a manual UPDATE) must not
// carry the cursor past the changes written after it — however long after
// the poll (or the full pass's checkpoint) they come: polls run every 5
// minutes by default, and the overlap is 2.
func TestFutureStampDoesNotHideLaterChanges(t *testing.T) {
	for _, tc := range []struct {
		name   string
		cursor func(ctx context.Context, t *testing.T, src *sqlerp.Source) erp.Position
	}{
		{"the cursor of a poll", func(ctx context.Context, t *testing.T, src *sqlerp.Source) erp.Position {
			var cursor erp.Position
			for page, err := range src.Changes(ctx, "", 1000) {
				if err != nil {
					t.Fatal(err)
				}
				cursor = page.Next
			}
			return cursor
		}},
		{"the checkpoint of a full pass", func(ctx context.Context, t *testing.T, src *sqlerp.Source) erp.Position {
			cp, err := src.Checkpoint(ctx)
			if err != nil {
				t.Fatal(err)
			}
			return cp
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			fx, _ := fixture.NewSQLite(t, fixture.Options{Customers: 40})
			if _, err := fx.DB.ExecContext(ctx, `UPDATE SA1010 SET S_T_A_M_P_ = '2099-01-01 00:00:00.000' WHERE A1_COD = '000005'`); err != nil {
				t.Fatal(err)
			}
			spec, err := protheus.Customers(fixture.Company, "")
			if err != nil {
				t.Fatal(err)
			}
			now := time.Now()
			src, err := sqlerp.NewSource(ctx, fx.DB, sqlerp.SQLite{}, spec, sqlerp.Options{Overlap: 2 * time.Minute,
				Now: func() time.Time { return now }})
			if err != nil {
				t.Fatal(err)
			}
			cursor := tc.cursor(ctx, t, src)
			if err := fx.RenameCustomer(ctx, "000010", "01", "MUDOU DEPOIS LTDA"); err != nil {
				t.Fatal(err)
			}
			now = now.Add(5 * time.Minute) // the next scheduled poll
			found := false
			for page, err := range src.Changes(ctx, cursor, 1000) {
				if err != nil {
					t.Fatal(err)
				}
				for _, r := range page.Records {
					if r.Fields["A1_NOME"] == "MUDOU DEPOIS LTDA" {
						found = true
					}
				}
			}
			if !found {
				t.Fatalf("the change written after a 2099 stamp was not read by the next poll (cursor %s)", cursor)
			}
		})
	}
}
