package dictionary_test

import (
	"context"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/erpbridge/erpbridge/erp/protheus"
	"github.com/erpbridge/erpbridge/erp/protheus/dictionary"
	"github.com/erpbridge/erpbridge/erp/protheus/fixture"
	"github.com/erpbridge/erpbridge/erp/sqlerp"
)

var update = flag.Bool("update", false, "rewrite golden files")

// Regenerate with: go test ./erp/protheus/dictionary -run TestGoldenQueries -update
func TestGoldenQueries(t *testing.T) {
	for _, d := range sqlerp.Dialects() {
		sx2, sx3, six, err := dictionary.Queries(d, "01", []string{"SA1", "sb1"})
		if err != nil {
			t.Fatalf("%s: %v", d.Name(), err)
		}
		var b strings.Builder
		for _, q := range []dictionary.Query{sx2, sx3, six} {
			b.WriteString(q.SQL + "\n")
			for _, a := range q.Args {
				b.WriteString("  arg: " + a.(string) + "\n")
			}
		}
		path := filepath.Join("testdata", "golden", d.Name()+".sql")
		if *update {
			if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		want, err := os.ReadFile(path)
		if err != nil {
			t.Fatalf("reading golden file (run with -update to create it): %v", err)
		}
		if string(want) != b.String() {
			t.Errorf("%s: queries differ from %s:\n%s", d.Name(), path, b.String())
		}
	}
}

func TestReadSQLite(t *testing.T) {
	fx, _ := fixture.NewSQLite(t, fixture.Options{Customers: 12})
	checkRead(t, fx)
}

func TestReadPostgresIntegration(t *testing.T) {
	fx, _ := fixture.NewPostgres(t)
	if _, err := fx.Load(context.Background(), fixture.Options{Customers: 12}); err != nil {
		t.Fatal(err)
	}
	checkRead(t, fx)
}

func dialect(t *testing.T, fx fixture.ERP) sqlerp.Dialect {
	t.Helper()
	d, err := sqlerp.DialectFor(string(fx.Kind))
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func checkRead(t *testing.T, fx fixture.ERP) {
	t.Helper()
	ctx := context.Background()
	d := dialect(t, fx)
	if _, err := dictionary.Read(ctx, fx.DB, d, fixture.Company); !errors.Is(err, dictionary.ErrNoDictionary) {
		t.Fatalf("reading a database without SX tables: %v, want ErrNoDictionary", err)
	}
	if err := fx.AddDictionary(ctx); err != nil {
		t.Fatal(err)
	}
	dict, err := dictionary.Read(ctx, fx.DB, d, fixture.Company, "SA1", "SB1", "SC5")
	if err != nil {
		t.Fatal(err)
	}
	if got := dict.Aliases(); strings.Join(got, ",") != "SA1,SB1,SC5" {
		t.Errorf("aliases = %v, want the three asked for", got)
	}
	sa1 := dict.Tables["SA1"]
	if sa1.Physical != protheus.TableName("SA1", fixture.Company) || sa1.Name != "Clientes" || sa1.Branch != dictionary.Shared {
		t.Errorf("SA1 = %+v, want SA1010, Clientes, shared (padding trimmed)", sa1)
	}
	if dict.Tables["SC5"].Branch != dictionary.Exclusive {
		t.Errorf("SC5 sharing = %v, want exclusive", dict.Tables["SC5"].Branch)
	}
	seg, ok := dict.Field("SA1", fixture.SegmentField)
	if !ok || !seg.User || seg.Virtual || seg.Size != 1 || seg.Label() != "Segmento de mercado" {
		t.Fatalf("A1_XSEGMEN = %+v", seg)
	}
	if got := dict.Choices("SA1")[fixture.SegmentField]; got["2"] != "Consumidor final" || len(got) != 3 {
		t.Errorf("A1_XSEGMEN choices = %v", got)
	}
	if got := dict.Choices("SA1")["A1_PESSOA"]; got["J"] != "Juridica" {
		t.Errorf("A1_PESSOA choices = %v (a standard combo)", got)
	}
	if f, _ := dict.Field("SA1", fixture.RegionField); !errors.Is(f.ComboErr, dictionary.ErrDynamicCombo) {
		t.Errorf("A1_XREGIAO combo error = %v, want ErrDynamicCombo", f.ComboErr)
	}
	if f, _ := dict.Field("SA1", fixture.ObsField); !f.Virtual {
		t.Errorf("A1_XVMOBS = %+v, want virtual", f)
	}
	if _, ok := dict.Field("SA1", "A1_XANTIGO"); ok {
		t.Error("a deleted SX3 row was read")
	}
	if f, _ := dict.Field("SA1", "A1_LC"); f.Type != protheus.Numeric || f.Size != 14 || f.Decimals != 2 {
		t.Errorf("A1_LC = %+v, want N 14,2", f)
	}
	var users []string
	for _, f := range dict.UserFields("SA1") {
		users = append(users, f.Name)
	}
	if strings.Join(users, ",") != "A1_XSEGMEN,A1_XCANAL,A1_XREGIAO" {
		t.Errorf("user fields of SA1 = %v, want the real ones in X3_ORDEM order", users)
	}
	if idx := dict.Indexes["SA1"]; len(idx) != 2 || strings.Join(idx[0].Fields(), "+") != "A1_FILIAL+A1_COD+A1_LOJA" {
		t.Errorf("SA1 indexes = %+v", idx)
	}
	all, err := dictionary.Read(ctx, fx.DB, d, fixture.Company)
	if err != nil {
		t.Fatal(err)
	}
	if len(all.Tables) != 9 {
		t.Errorf("all tables: %v", all.Aliases())
	}
	if _, err := dictionary.Read(ctx, fx.DB, d, "99"); !errors.Is(err, dictionary.ErrNoDictionary) {
		t.Errorf("another company: %v, want ErrNoDictionary", err)
	}
}

// TestAddDictionaryKeepsStamps: the fixture's user fields are filled as if
// they were there before the bridge, so NULL and old stamps stay.
func TestAddDictionaryKeepsStamps(t *testing.T) {
	fx, _ := fixture.NewSQLite(t, fixture.Options{Customers: 40})
	ctx := context.Background()
	stamps := func() map[string]string {
		out := map[string]string{}
		rows, err := fx.DB.QueryContext(ctx, "SELECT R_E_C_N_O_, COALESCE(S_T_A_M_P_, 'NULL') FROM SA1010")
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		for rows.Next() {
			var r, s string
			if err := rows.Scan(&r, &s); err != nil {
				t.Fatal(err)
			}
			out[r] = s
		}
		return out
	}
	before := stamps()
	if err := fx.AddDictionary(ctx); err != nil {
		t.Fatal(err)
	}
	after := stamps()
	nulls := 0
	for r, s := range before {
		if after[r] != s {
			t.Errorf("row %s: stamp %s became %s", r, s, after[r])
		}
		if s == "NULL" {
			nulls++
		}
	}
	if nulls == 0 {
		t.Error("the fixture has no NULL stamp to keep")
	}
	// The trigger is back: an update stamps the row.
	if _, err := fx.DB.ExecContext(ctx, "UPDATE SA1010 SET A1_XCANAL = 'X' WHERE R_E_C_N_O_ = 1"); err != nil {
		t.Fatal(err)
	}
	if s := stamps()["1"]; s == before["1"] {
		t.Error("the stamp trigger was not restored")
	}
}
