package sqlerp_test

import (
	"context"
	"testing"

	"github.com/erpbridge/erpbridge/erp"
	"github.com/erpbridge/erpbridge/erp/protheus"
	"github.com/erpbridge/erpbridge/erp/protheus/fixture"
	"github.com/erpbridge/erpbridge/erp/sqlerp"
)

// A row stamped in the future (a skewed clock, a manual UPDATE) must not
// carry the cursor past the changes written after it.
func TestFutureStampDoesNotHideLaterChanges(t *testing.T) {
	ctx := context.Background()
	fx, _ := fixture.NewSQLite(t, fixture.Options{Customers: 40})
	if _, err := fx.DB.ExecContext(ctx, `UPDATE SA1010 SET S_T_A_M_P_ = '2099-01-01 00:00:00.000' WHERE A1_COD = '000005'`); err != nil {
		t.Fatal(err)
	}
	spec, err := protheus.Customers(fixture.Company, "")
	if err != nil {
		t.Fatal(err)
	}
	src, err := sqlerp.NewSource(ctx, fx.DB, sqlerp.SQLite{}, spec, sqlerp.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var cursor erp.Position
	for page, err := range src.Changes(ctx, "", 1000) {
		if err != nil {
			t.Fatal(err)
		}
		cursor = page.Next
	}
	if err := fx.RenameCustomer(ctx, "000010", "01", "MUDOU DEPOIS LTDA"); err != nil {
		t.Fatal(err)
	}
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
		t.Fatalf("the change written after a 2099 stamp was not read (cursor %s)", cursor)
	}
}
