package sqlerp_test

import (
	"context"
	"errors"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/erpbridge/erpbridge/erp"
	"github.com/erpbridge/erpbridge/erp/protheus"
	"github.com/erpbridge/erpbridge/erp/protheus/fixture"
	"github.com/erpbridge/erpbridge/erp/sqlerp"
)

func TestSQLiteSource(t *testing.T) {
	fx, ex := fixture.NewSQLite(t, fixture.Options{})
	exerciseSource(t, fx, sqlerp.SQLite{}, ex)
}

// TestPostgresSourceIntegration runs the same checks on a real PostgreSQL
// server (ERPBRIDGE_TEST_PG_DSN, a postgres:// URL of a user allowed to
// create databases); it creates and drops its own database.
func TestPostgresSourceIntegration(t *testing.T) {
	fx, _ := fixture.NewPostgres(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	ex, err := fx.Load(ctx, fixture.Options{})
	if err != nil {
		t.Fatal(err)
	}
	exerciseSource(t, fx, sqlerp.Postgres{}, ex)
}

func collect(t *testing.T, pages func(func(erp.Page, error) bool), pageSize int) ([]erp.Record, []erp.Position) {
	t.Helper()
	var recs []erp.Record
	var positions []erp.Position
	for page, err := range pages {
		if err != nil {
			t.Fatal(err)
		}
		if len(page.Records) == 0 || len(page.Records) > pageSize {
			t.Fatalf("page of %d records with page size %d", len(page.Records), pageSize)
		}
		recs = append(recs, page.Records...)
		positions = append(positions, page.Next)
	}
	return recs, positions
}

func keysOf(recs []erp.Record) []string {
	var keys []string
	for _, r := range recs {
		keys = append(keys, r.Key)
	}
	slices.Sort(keys)
	return slices.Compact(keys)
}

func exerciseSource(t *testing.T, fx fixture.ERP, d sqlerp.Dialect, ex fixture.Expect) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	spec, err := protheus.Customers(fixture.Company, fixture.SharedFilial)
	if err != nil {
		t.Fatal(err)
	}
	src, err := sqlerp.NewSource(ctx, fx.DB, d, spec, sqlerp.Options{Overlap: 30 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	if !src.Incremental() {
		t.Fatal("SA1010 has S_T_A_M_P_ but the source is not incremental")
	}

	t.Run("full pass reads every row in bounded pages", func(t *testing.T) {
		const pageSize = 37
		recs, positions := collect(t, src.FullPass(ctx, "", pageSize), pageSize)
		if len(recs) != ex.CustomerRows {
			t.Fatalf("full pass read %d rows, fixture has %d", len(recs), ex.CustomerRows)
		}
		if want := (ex.CustomerRows + pageSize - 1) / pageSize; len(positions) != want {
			t.Errorf("%d pages, want %d", len(positions), want)
		}
		var deleted, nullStamps int
		byKey := map[string][]erp.Record{}
		for i, r := range recs {
			if i > 0 && r.Recno <= recs[i-1].Recno {
				t.Fatalf("record numbers out of order: %d after %d", r.Recno, recs[i-1].Recno)
			}
			if r.Deleted {
				deleted++
			}
			if r.Stamp == nil {
				nullStamps++
			}
			byKey[r.Key] = append(byKey[r.Key], r)
		}
		if deleted != ex.DeletedCustomers || nullStamps != ex.NullStampCustomers {
			t.Errorf("deleted %d, NULL stamps %d; want %d, %d", deleted, nullStamps, ex.DeletedCustomers, ex.NullStampCustomers)
		}
		if got := byKey[ex.RecreatedKey]; len(got) != 2 || !got[0].Deleted || got[1].Deleted {
			t.Errorf("re-created customer %s: got %+v, want a deleted and a live row", ex.RecreatedKey, got)
		}
		a, b := byKey[ex.SameNameKeys[0]], byKey[ex.SameNameKeys[1]]
		if len(a) != 1 || len(b) != 1 || a[0].Fields["A1_NOME"] != ex.SameName || b[0].Fields["A1_NOME"] != ex.SameName {
			t.Errorf("same-name lojas: %v / %v, want both named %q", a, b, ex.SameName)
		}
		if got, _ := byKey[ex.Latin1Key][0].Fields["A1_NOME"].(string); got == ex.Latin1Name || !strings.Contains(got, "\xc7") {
			t.Errorf("Latin-1 name read as %q, want the stored Windows-1252 bytes (the mapping transcodes them)", got)
		}
		if got := byKey[ex.InvalidDateKey][0].Fields["A1_DTCAD"]; got != nil {
			t.Errorf("invalid date read as %v, want nil", got)
		}
		if got := byKey[ex.BlankDateKey][0].Fields["A1_DTCAD"]; got != nil {
			t.Errorf("blank date read as %v, want nil", got)
		}
		first := recs[0]
		if first.Key != "|000001|01" || first.Fields["A1_COD"] != "000001" || first.Fields["A1_FILIAL"] != "" {
			t.Errorf("first record key %q fields %v: want trimmed |000001|01", first.Key, first.Fields)
		}
		if dt, ok := first.Fields["A1_DTCAD"].(time.Time); !ok || dt.Location() != time.UTC || dt.Hour() != 0 {
			t.Errorf("A1_DTCAD = %#v, want a UTC midnight date", first.Fields["A1_DTCAD"])
		}
		if lc, ok := first.Fields["A1_LC"].(decimal.Decimal); !ok || lc.String() != "1000.3" {
			t.Errorf("A1_LC = %v, want 1000.30 (0.1+0.2 noise rounded)", first.Fields["A1_LC"])
		}

		// Resuming from a committed full-pass position reads the rest only.
		rest, _ := collect(t, src.FullPass(ctx, positions[len(positions)-2], pageSize), pageSize)
		if want := ex.CustomerRows - (len(positions)-1)*pageSize; len(rest) != want {
			t.Errorf("resumed full pass read %d rows, want %d", len(rest), want)
		}
	})

	t.Run("NULL-stamp rows are only read by the full pass", func(t *testing.T) {
		recs, _ := collect(t, src.Changes(ctx, "", 100), 100)
		if want := ex.CustomerRows - ex.NullStampCustomers; len(recs) != want {
			t.Errorf("changes from the beginning read %d rows, want %d (all but NULL stamps)", len(recs), want)
		}
		for _, r := range recs {
			if r.Stamp == nil {
				t.Fatalf("row %s without stamp in an incremental read", r.Key)
			}
		}
	})

	t.Run("lookup and related rows", func(t *testing.T) {
		r, ok, err := src.Lookup(ctx, ex.RecreatedKey)
		if err != nil || !ok || r.Deleted || r.Recno != ex.RecreatedRecno {
			t.Errorf("lookup %s = %+v, %v, %v; want the live re-created row %d", ex.RecreatedKey, r, ok, err, ex.RecreatedRecno)
		}
		if _, ok, err := src.Lookup(ctx, "|999999|01"); ok || err != nil {
			t.Errorf("lookup of a missing key: found=%v err=%v", ok, err)
		}
		links := newSource(t, fx, d, protheus.ContactLinks, fixture.ContactFilial)
		got, err := links.Find(ctx, protheus.LinksOfContact(ex.SharedContact), 10)
		if err != nil {
			t.Fatal(err)
		}
		var customers []string
		for _, l := range got {
			customers = append(customers, "|"+l.Fields["AC8_CODENT"].(string)[:6]+"|"+l.Fields["AC8_CODENT"].(string)[6:])
		}
		if !slices.Equal(customers, ex.SharedContactOf) {
			t.Errorf("contact %s links to %v, want %v (filial 01 only)", ex.SharedContact, customers, ex.SharedContactOf)
		}
		got, err = links.Find(ctx, protheus.LinksOfCustomer(fixture.SharedFilial, "000002", "01"), 10)
		if err != nil || len(got) != 2 {
			t.Errorf("customer 000002 has %d contact links (%v), want 2", len(got), err)
		}
		prices := newSource(t, fx, d, protheus.Prices, fixture.SharedFilial)
		got, err = prices.Find(ctx, protheus.PriceOf(fixture.PriceTable, "PA0001"), 10)
		if err != nil || len(got) != 1 {
			t.Fatalf("price of PA0001: %v, %v", got, err)
		}
		if p := got[0].Fields["DA1_PRCVEN"].(decimal.Decimal); p.StringFixed(2) != "9.30" {
			t.Errorf("DA1_PRCVEN = %s, want 9.30", p)
		}
	})

	t.Run("filial filter and other tables", func(t *testing.T) {
		for _, tc := range []struct {
			build  func(string, string) (sqlerp.TableSpec, error)
			filial string
			rows   int
		}{
			{protheus.Contacts, fixture.ContactFilial, ex.ContactRows},
			{protheus.Contacts, fixture.OtherFilial, ex.OtherFilialRows},
			{protheus.Products, fixture.SharedFilial, ex.ProductRows},
			{protheus.PriceTables, fixture.SharedFilial, ex.PriceTableRows},
			{protheus.Prices, fixture.SharedFilial, ex.PriceRows},
		} {
			s := newSource(t, fx, d, tc.build, tc.filial)
			recs, _ := collect(t, s.FullPass(ctx, "", 16), 16)
			if len(recs) != tc.rows {
				t.Errorf("%s filial %q: %d rows, want %d", s.Spec().Physical, tc.filial, len(recs), tc.rows)
			}
		}
	})

	t.Run("incremental poll reads only changed rows plus the overlap", func(t *testing.T) {
		pos, err := src.Checkpoint(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if pos != sqlerp.StampPosition(ex.MaxCustomerStamp, 0) {
			t.Errorf("checkpoint %s, want the newest fixture stamp %s", pos, ex.MaxCustomerStamp)
		}
		before, _ := collect(t, src.Changes(ctx, pos, 2), 2)
		if len(before) != 1 || !before[0].Stamp.Equal(ex.MaxCustomerStamp) {
			t.Fatalf("poll without changes read %d rows, want only the overlap row at the checkpoint", len(before))
		}
		overlapKey := before[0].Key

		// A NULL-stamp customer (000017) gets a stamp once the ERP updates it.
		for _, cod := range []string{"000003", "000017", "000100"} {
			if err := fx.RenameCustomer(ctx, cod, "01", "RENOMEADO "+cod); err != nil {
				t.Fatal(err)
			}
		}
		if err := fx.DeleteCustomer(ctx, "000004", "01"); err != nil {
			t.Fatal(err)
		}
		if _, err := fx.AddCustomer(ctx, fixture.NewCustomer{Cod: "900001", Loja: "01", Name: "CLIENTE NOVO LTDA", CGC: fixture.CNPJ("900000010001")}); err != nil {
			t.Fatal(err)
		}
		recs, positions := collect(t, src.Changes(ctx, pos, 2), 2)
		want := []string{"|000003|01", "|000004|01", "|000017|01", "|000100|01", "|900001|01", overlapKey}
		slices.Sort(want)
		if got := keysOf(recs); !slices.Equal(got, want) {
			t.Fatalf("poll after changes read %v, want %v", got, want)
		}
		for _, r := range recs {
			switch r.Key {
			case "|000004|01":
				if !r.Deleted {
					t.Error("soft-deleted customer 000004 not flagged Deleted")
				}
			case "|000017|01":
				if r.Fields["A1_NOME"] != "RENOMEADO 000017" || r.Stamp == nil {
					t.Errorf("renamed NULL-stamp customer read as %+v", r)
				}
			}
		}
		// The next poll starts at the last row's (stamp, recno): the old rows
		// are gone, only the overlap window is re-read.
		again, _ := collect(t, src.Changes(ctx, positions[len(positions)-1], 2), 2)
		for _, r := range again {
			if r.Key == overlapKey {
				t.Errorf("second poll re-read %s from before the cursor", overlapKey)
			}
		}
		if len(again) == 0 || len(again) > 5 {
			t.Errorf("second poll read %d rows, want the 1–5 rows of the overlap window", len(again))
		}
	})

	t.Run("table without stamps is full-pass only", func(t *testing.T) {
		ex2, err := fx.Load(ctx, fixture.Options{WithoutStamps: true})
		if err != nil {
			t.Fatal(err)
		}
		s, err := sqlerp.NewSource(ctx, fx.DB, d, spec, sqlerp.Options{})
		if err != nil {
			t.Fatal(err)
		}
		if s.Incremental() {
			t.Fatal("source over a table without S_T_A_M_P_ claims to be incremental")
		}
		for _, err := range s.Changes(ctx, "", 10) {
			if !errors.Is(err, erp.ErrNotIncremental) {
				t.Errorf("Changes on a stamp-less table: %v, want ErrNotIncremental", err)
			}
		}
		recs, _ := collect(t, s.FullPass(ctx, "", 50), 50)
		if len(recs) != ex2.CustomerRows || recs[0].Stamp != nil {
			t.Errorf("full pass read %d rows, want %d without stamps", len(recs), ex2.CustomerRows)
		}
	})

	t.Run("check reports missing columns from the catalog", func(t *testing.T) {
		bad := spec
		bad.Columns = append(slices.Clone(spec.Columns), sqlerp.ColumnSpec{Name: "A1_XCRMID", Kind: sqlerp.KindChar})
		rep, err := sqlerp.Check(ctx, fx.DB, d, bad)
		if err != nil {
			t.Fatal(err)
		}
		if !rep.Exists || rep.OK() || !slices.Equal(rep.Missing, []string{"A1_XCRMID"}) || rep.Widths["A1_NOME"] != 40 {
			t.Errorf("check = %+v, want A1_XCRMID missing and A1_NOME 40 wide", rep)
		}
		bad.Physical = "SA1990"
		if rep, err := sqlerp.Check(ctx, fx.DB, d, bad); err != nil || rep.Exists {
			t.Errorf("check of a missing table = %+v, %v", rep, err)
		}
		if _, err := sqlerp.NewSource(ctx, fx.DB, d, bad, sqlerp.Options{}); err == nil {
			t.Error("source opened on a missing table")
		}
	})
}

func newSource(t *testing.T, fx fixture.ERP, d sqlerp.Dialect, build func(string, string) (sqlerp.TableSpec, error), filial string) *sqlerp.Source {
	t.Helper()
	spec, err := build(fixture.Company, filial)
	if err != nil {
		t.Fatal(err)
	}
	s, err := sqlerp.NewSource(context.Background(), fx.DB, d, spec, sqlerp.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestSQLiteSourceMessyRecords(t *testing.T) {
	fx, _ := fixture.NewSQLite(t, fixture.Options{Customers: 40})
	exerciseMessy(t, fx, sqlerp.SQLite{})
}

func TestPostgresSourceMessyRecordsIntegration(t *testing.T) {
	fx, _ := fixture.NewPostgres(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if _, err := fx.Load(ctx, fixture.Options{Customers: 40}); err != nil {
		t.Fatal(err)
	}
	exerciseMessy(t, fx, sqlerp.Postgres{})
}

// exerciseMessy: a value a column cannot hold, or a key that identifies
// nothing, is a problem of its record, never of the page: every row is
// read, and each bad one says which column holds what.
func exerciseMessy(t *testing.T, fx fixture.ERP, d sqlerp.Dialect) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	m, err := fx.AddMessyRecords(ctx)
	if err != nil {
		t.Fatal(err)
	}
	open := func(spec sqlerp.TableSpec, err error) *sqlerp.Source {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		src, err := sqlerp.NewSource(ctx, fx.DB, d, spec, sqlerp.Options{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { src.Close() })
		return src
	}
	byRecno := func(recs []erp.Record) map[int64]erp.Record {
		out := map[int64]erp.Record{}
		for _, r := range recs {
			out[r.Recno] = r
		}
		return out
	}
	byKey := func(recs []erp.Record) map[string]erp.Record {
		out := map[string]erp.Record{}
		for _, r := range recs {
			if !r.Deleted {
				out[r.Key] = r
			}
		}
		return out
	}

	customers := open(protheus.Customers(fixture.Company, fixture.SharedFilial))
	recs, _ := collect(t, customers.FullPass(ctx, "", 10), 10)
	rows := byRecno(recs)
	keyless := map[int64]string{m.BlankKeyRecno: "A1_COD"}
	if m.NullKeyRecno != 0 {
		keyless[m.NullKeyRecno] = "A1_COD"
	}
	for recno, col := range keyless {
		r, ok := rows[recno]
		switch {
		case !ok:
			t.Errorf("customer at record number %d was not read", recno)
		case r.KeyError() == nil || !strings.Contains(r.KeyError().Error(), col):
			t.Errorf("customer at record number %d: key %q, KeyError %v; want an error naming %s", recno, r.Key, r.KeyError(), col)
		case !strings.Contains(r.Key, "#"+strconv.FormatInt(recno, 10)):
			t.Errorf("customer at record number %d: key %q does not set it apart from other keyless rows", recno, r.Key)
		}
	}
	live := byKey(recs)
	for _, key := range []string{m.BadCNPJKey, m.ShortNameKey, m.BidiKey, m.ControlKey, m.SharedEmailCustomers[0]} {
		if r, ok := live[key]; !ok || r.KeyError() != nil || len(r.BadValues) > 0 {
			t.Errorf("customer %s: %+v; want it read with no bad value (its data is the mapping's to judge)", key, r)
		}
	}

	products := open(protheus.Products(fixture.Company, fixture.SharedFilial))
	recs, _ = collect(t, products.FullPass(ctx, "", 7), 7)
	live = byKey(recs)
	notANumber := "is not a number"
	if d.Name() == "postgres" {
		notANumber = "is not a finite number" // NaN in a FLOAT column
	}
	for key, reason := range map[string]string{m.BadPriceProduct: notANumber, m.InfPriceProduct: "is not a finite number"} {
		r, ok := live[key]
		b, bad := r.Bad("B1_PRV1")
		switch {
		case !ok:
			t.Errorf("product %s was not read", key)
		case !bad || b.Reason != reason || r.Fields["B1_PRV1"] != nil || r.KeyError() != nil:
			t.Errorf("product %s: B1_PRV1 = %v, bad values %v; want nil and a bad value that %s", key, r.Fields["B1_PRV1"], r.BadValues, reason)
		}
	}
	if r := live[m.BadDA1Product]; len(r.BadValues) != 0 {
		t.Errorf("product %s: bad values %v, want none (its bad price is in DA1)", m.BadDA1Product, r.BadValues)
	}
	if r, ok := live["|PA0002"]; !ok || len(r.BadValues) != 0 {
		t.Errorf("product PA0002 after a bad one: %+v, want it read as it is", r)
	}

	prices := open(protheus.Prices(fixture.Company, fixture.SharedFilial))
	rows2, err := prices.Find(ctx, protheus.PriceOf(fixture.PriceTable, "MSY0003"), 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(rows2) != 1 {
		t.Fatalf("DA1 rows of MSY0003: %v, want 1", rows2)
	}
	if b, bad := rows2[0].Bad("DA1_PRCVEN"); !bad || b.Reason != notANumber {
		t.Errorf("DA1 row of MSY0003: bad values %v, want DA1_PRCVEN that %s", rows2[0].BadValues, notANumber)
	}
}
