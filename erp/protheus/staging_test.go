package protheus_test

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/erpbridge/erpbridge/erp/protheus"
	"github.com/erpbridge/erpbridge/erp/protheus/fixture"
	"github.com/erpbridge/erpbridge/erp/sqlerp"
)

var update = flag.Bool("update", false, "rewrite the golden files")

// TestStagingSpecFollowsTheAliases checks the staging spec against the
// layout, for the default aliases and for others: the tables are alias +
// company + "0", every column carries the alias's field prefix at the
// layout's width and decimals, and every layout field is written, read or
// the ERP job's.
func TestStagingSpecFollowsTheAliases(t *testing.T) {
	for _, tc := range []struct {
		aliases                   protheus.StagingAliases
		header, items, hpre, ipre string
	}{
		{protheus.DefaultStagingAliases, "ZB1010", "ZB2010", "ZB1_", "ZB2_"},
		{protheus.StagingAliases{Header: "SZ7", Items: "ZZ8"}, "SZ7010", "ZZ8010", "Z7_", "ZZ8_"},
	} {
		t.Run(tc.aliases.Header, func(t *testing.T) {
			spec := protheus.Staging(fixture.Company, fixture.OrderFilial, tc.aliases)
			if err := spec.Validate(); err != nil {
				t.Fatal(err)
			}
			if spec.Header.Table != tc.header || spec.Items.Table != tc.items {
				t.Errorf("tables %s, %s; want %s, %s", spec.Header.Table, spec.Items.Table, tc.header, tc.items)
			}
			h, it := spec.Header, spec.Items
			written := map[string][]sqlerp.StagingColumn{
				"header": {h.Filial, h.DealID, h.OrderType, h.Customer, h.Store, h.Seller, h.PaymentTerms, h.PriceTable,
					h.Message, h.Status, h.OrderNumber, h.Error, h.CreatedDate, h.CreatedTime},
				"items": {it.Filial, it.DealID, it.Item, it.Product, it.Quantity, it.UnitPrice, it.ListPrice, it.Value,
					it.TES, it.Operation},
			}
			layouts := map[string][]protheus.Field{
				"header": protheus.StagingHeaderFields(tc.aliases.Header), "items": protheus.StagingItemsFields(tc.aliases.Items),
			}
			prefix := map[string]string{"header": tc.hpre, "items": tc.ipre}
			job := map[string]bool{}
			for _, c := range spec.JobColumns {
				job[c.Name] = true
			}
			for table, cols := range written {
				fields := map[string]protheus.Field{}
				for _, f := range layouts[table] {
					if !strings.HasPrefix(f.Name, prefix[table]) {
						t.Errorf("%s field %s lacks the prefix %s", table, f.Name, prefix[table])
					}
					fields[f.Name] = f
				}
				for _, c := range cols {
					f, ok := fields[c.Name]
					if !ok {
						t.Errorf("%s: the spec writes %s, which the layout lacks", table, c.Name)
						continue
					}
					delete(fields, c.Name)
					want := sqlerp.StagingColumn{Name: f.Name, Width: f.Size, Decimals: f.Decimals}
					if f.Type == protheus.Memo {
						want.Width = 0
					}
					if c != want {
						t.Errorf("%s: spec %+v, layout %+v", table, c, want)
					}
				}
				for name := range fields {
					if !job[name] {
						t.Errorf("%s: the layout's %s is neither in the spec nor a job column", table, name)
					}
					delete(job, name)
				}
			}
			if len(job) > 0 {
				t.Errorf("job columns %v are not in the layout", job)
			}
			if code, err := spec.ItemCode(100); err != nil || code != "9A" {
				t.Errorf("ItemCode(100) = %q, %v; want 9A (Soma1)", code, err)
			}
		})
	}
	wantStatus := sqlerp.StagingStatuses{Waiting: fixture.StagingWaiting, Processing: fixture.StagingProcessing,
		Done: fixture.StagingDone, Error: fixture.StagingError}
	if got := protheus.Staging(fixture.Company, "", protheus.DefaultStagingAliases).Statuses; got != wantStatus {
		t.Errorf("statuses %+v, want %+v", got, wantStatus)
	}
}

func TestStagingAliasesValidate(t *testing.T) {
	for _, tc := range []struct {
		header, items string
		want          string // substring of the error; "" = valid
	}{
		{"ZB1", "ZB2", ""},
		{"SZ7", "SZ8", ""},
		{"Z01", "Z02", ""},
		{"zb1", "ZB2", `header alias "zb1"`},
		{"ZB", "ZB2", `header alias "ZB"`},
		{"ZB1", "1ZB", `items alias "1ZB"`},
		{"ZB1;", "ZB2", `header alias "ZB1;"`},
		{"ZB1", "ZB1", `both "ZB1"`},
		{"SC5", "ZB2", `"SC5" is a standard Protheus table`},
		{"ZB1", "SA1", `"SA1" is a standard Protheus table`},
		{"", "", "header alias"},
	} {
		err := protheus.StagingAliases{Header: tc.header, Items: tc.items}.Validate()
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%s/%s: %v, want valid", tc.header, tc.items, err)
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("%s/%s: %v, want an error containing %q", tc.header, tc.items, err, tc.want)
		}
	}
}

// TestGoldenStagingDDL pins the staging DDL of every database, for the
// default aliases and for SZ7/SZ8 (fields Z7_…, Z8_…). Regenerate with:
// go test ./erp/protheus -run TestGoldenStagingDDL -update
func TestGoldenStagingDDL(t *testing.T) {
	for _, a := range []protheus.StagingAliases{protheus.DefaultStagingAliases, {Header: "SZ7", Items: "SZ8"}} {
		for _, db := range protheus.StagingDatabases {
			t.Run(a.Header+"/"+db, func(t *testing.T) {
				got, err := protheus.StagingScript(db, fixture.Company, a)
				if err != nil {
					t.Fatal(err)
				}
				for _, line := range strings.Split(got, "\n") {
					if strings.Contains(line, "OR REPLACE") || strings.Contains(line, "DROP ") {
						t.Errorf("the DDL replaces or drops: %s", line)
					}
					for _, w := range strings.Fields(line) {
						if k := strings.ToUpper(w); strings.HasSuffix(k, "_PK") || strings.HasSuffix(k, "_TR") || strings.HasSuffix(k, "_UNQ") {
							if !strings.HasPrefix(k, protheus.ObjectPrefix) && !strings.HasPrefix(k, "DBO."+protheus.ObjectPrefix) {
								t.Errorf("object %s is not named %s…: %s", w, protheus.ObjectPrefix, line)
							}
						}
					}
				}
				path := filepath.Join("testdata", "stagingddl", strings.ToLower(a.Header)+"_"+db+".sql")
				if *update {
					if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
						t.Fatal(err)
					}
					if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
						t.Fatal(err)
					}
				}
				want, err := os.ReadFile(path)
				if err != nil {
					t.Fatalf("%v (run with -update to create it)", err)
				}
				if got != string(want) {
					t.Errorf("%s differs from the DDL written now:\n%s", path, got)
				}
			})
		}
	}
	if _, err := protheus.StagingDDL("db2", fixture.Company, protheus.DefaultStagingAliases); err == nil || !strings.Contains(err.Error(), `unknown database "db2"`) {
		t.Errorf("StagingDDL for db2: %v, want an unknown database error", err)
	}
	if _, err := protheus.StagingDDL("postgres", fixture.Company, protheus.StagingAliases{Header: "SC5", Items: "ZB2"}); err == nil {
		t.Error("StagingDDL for SC5 succeeded, want the alias refused")
	}
}

// TestDocsGiveTheStagingDDL: docs/protheus.md gives the ERP team the DDL
// StagingScript writes for the default aliases (what the fixture creates
// and Check compares with), for SQL Server, Oracle and PostgreSQL; and no
// statement in the Protheus docs replaces an object.
func TestDocsGiveTheStagingDDL(t *testing.T) {
	doc, err := os.ReadFile(filepath.Join("..", "..", "docs", "protheus.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, db := range []string{"sqlserver", "oracle", "postgres"} {
		script, err := protheus.StagingScript(db, fixture.Company, protheus.DefaultStagingAliases)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(doc), script) {
			t.Errorf("docs/protheus.md lacks the %s staging DDL; paste this:\n%s", db, script)
		}
	}
	for _, name := range []string{"protheus.md", "erp-schemas.md"} {
		text, err := os.ReadFile(filepath.Join("..", "..", "docs", name))
		if err != nil {
			t.Fatal(err)
		}
		for i, line := range strings.Split(string(text), "\n") {
			if strings.Contains(strings.ToUpper(line), "OR REPLACE") {
				t.Errorf("docs/%s:%d replaces an object: %s", name, i+1, line)
			}
		}
	}
}
