package setup

import (
	"context"
	"net/http/httptest"
	"reflect"
	"slices"
	"strings"
	"testing"

	toml "github.com/pelletier/go-toml/v2"

	"github.com/erpbridge/erpbridge/erp/protheus"
	"github.com/erpbridge/erpbridge/erp/protheus/dictionary"
	"github.com/erpbridge/erpbridge/erp/sqlerp"
	"github.com/erpbridge/erpbridge/rdstation/crm"
	"github.com/erpbridge/erpbridge/rdstation/crm/target"
	"github.com/erpbridge/erpbridge/rdstation/rdsim"
)

// tables gives every alias the standard columns (and S_T_A_M_P_), minus drop.
func tables(drop ...string) map[string]Table {
	out := map[string]Table{}
	for _, a := range Aliases() {
		var cols []sqlerp.CatalogColumn
		for _, f := range protheus.Fields(a) {
			if !contains(drop, a+"."+f.Name) {
				cols = append(cols, sqlerp.CatalogColumn{Name: f.Name, Width: f.Size})
			}
		}
		for _, c := range []string{protheus.StampColumn, protheus.InsDtColumn} {
			if !contains(drop, a+"."+c) {
				cols = append(cols, sqlerp.CatalogColumn{Name: c})
			}
		}
		if !contains(drop, a) {
			out[a] = Table{Alias: a, Columns: cols}
		}
	}
	return out
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func TestProposeStreams(t *testing.T) {
	for _, tc := range []struct {
		name    string
		in      Input
		enabled map[string]bool
		why     map[string]string
		notes   []string
	}{
		{"every table, no dictionary", Input{Tables: tables(), DictErr: dictionary.ErrNoDictionary},
			map[string]bool{"customers": true, "contacts": true, "products": true},
			map[string]string{"customers": "blank (shared tables) assumed without a dictionary"},
			[]string{"no data dictionary", "no user field is offered"}},
		{"no stamp columns", Input{Tables: tables("SA1.S_T_A_M_P_", "SB1.I_N_S_D_T_"), DictErr: dictionary.ErrNoDictionary},
			map[string]bool{"customers": true, "contacts": true, "products": true},
			map[string]string{"customers": "SA1 has no S_T_A_M_P_: read by full passes only", "products": "SB1 has no I_N_S_D_T_"}, nil},
		{"a table missing", Input{Tables: tables("AC8")},
			map[string]bool{"customers": true, "contacts": false, "products": true},
			map[string]string{"contacts": "off: AC8 not found"}, nil},
		{"a column the default mapping reads is missing", Input{Tables: tables("SA1.A1_CEP")},
			map[string]bool{"customers": false, "contacts": true, "products": true},
			map[string]string{"customers": "lacks A1_CEP"}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := Propose(tc.in, nil)
			for _, s := range p.Streams {
				if s.Enabled != tc.enabled[s.Name] {
					t.Errorf("%s enabled = %v (%s)", s.Name, s.Enabled, s.Why)
				}
				if w := tc.why[s.Name]; w != "" && !strings.Contains(s.Why, w) {
					t.Errorf("%s why = %q, want %q", s.Name, s.Why, w)
				}
			}
			for _, n := range tc.notes {
				if !strings.Contains(strings.Join(p.Notes, "\n"), n) {
					t.Errorf("notes %q lack %q", p.Notes, n)
				}
			}
			if len(p.Fields) != 0 {
				t.Errorf("fields %+v without a dictionary", p.Fields)
			}
		})
	}
}

func customisedDict() *dictionary.Dictionary {
	seg, _ := dictionary.ParseCombo("1=Revenda;2=Consumidor final")
	return &dictionary.Dictionary{Company: "01",
		Tables: map[string]dictionary.Table{"SA1": {Alias: "SA1", Branch: dictionary.Shared},
			"SU5": {Alias: "SU5", Branch: dictionary.Exclusive}, "AC8": {Alias: "AC8", Branch: dictionary.Exclusive}},
		Fields: map[string][]dictionary.Field{"SA1": {
			{Table: "SA1", Name: "A1_COD", Type: protheus.Char, Size: 6},
			{Table: "SA1", Name: "A1_XSEGMEN", Type: protheus.Char, Size: 1, Title: "Segmento", Description: "Segmento de mercado", User: true, Options: seg},
			{Table: "SA1", Name: "A1_XLIMITE", Type: protheus.Numeric, Size: 14, Decimals: 2, Title: "Limite \"X\"", User: true},
			{Table: "SA1", Name: "A1_XVISITA", Type: protheus.Date, Size: 8, Description: "Ultima visita", User: true},
			{Table: "SA1", Name: "A1_XVIRT", Type: protheus.Char, Size: 10, Description: "Virtual", User: true, Virtual: true},
			{Table: "SA1", Name: "A1_XNOVO", Type: protheus.Char, Size: 10, Description: "Novo", User: true},
		}}}
}

func TestProposeUserFields(t *testing.T) {
	tb := tables()
	sa1 := tb["SA1"]
	for _, c := range []string{"A1_XSEGMEN", "A1_XLIMITE", "A1_XVISITA"} {
		sa1.Columns = append(sa1.Columns, sqlerp.CatalogColumn{Name: c})
	}
	tb["SA1"] = sa1
	p := Propose(Input{Tables: tb, Dict: customisedDict(), Filial: "01"}, nil)
	var got []string
	for _, f := range p.Fields {
		got = append(got, f.Column+" "+f.Type+" "+f.Label+" ← "+f.Expr)
	}
	want := []string{
		"A1_XSEGMEN option Segmento de mercado ← cbox(A1_XSEGMEN)",
		`A1_XLIMITE text Limite "X" ← A1_XLIMITE`,
		"A1_XVISITA text Ultima visita ← date(A1_XVISITA, '02/01/2006')",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("fields:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	notes := strings.Join(p.Notes, "\n")
	for _, n := range []string{"A1_XVIRT (Virtual) is virtual", "A1_XNOVO is in SX3 but not in SA1"} {
		if !strings.Contains(notes, n) {
			t.Errorf("notes lack %q:\n%s", n, notes)
		}
	}
	for _, s := range p.Streams {
		if s.Name == "contacts" && (s.Filial != "01" || !strings.Contains(s.Why, "exclusive")) {
			t.Errorf("contacts: filial %q (%s), want the exclusive tables' branch", s.Filial, s.Why)
		}
		if s.Name == "customers" && s.Filial != "" {
			t.Errorf("customers: filial %q, want blank for a shared SA1", s.Filial)
		}
	}
	// The written file is TOML that keeps every label and expression.
	text := p.TOML(Options{Driver: "sqlite", DSN: "erp.db", Company: "01", CRMBaseURL: "http://x", TokenRef: "${secret:T}", CNPJLabel: "CNPJ"})
	var doc struct {
		Streams map[string]struct {
			Mapping struct {
				CustomFields map[string]string `toml:"custom_fields"`
			} `toml:"mapping"`
		} `toml:"streams"`
	}
	if err := toml.Unmarshal([]byte(text), &doc); err != nil {
		t.Fatalf("%v\n%s", err, text)
	}
	cf := doc.Streams["customers"].Mapping.CustomFields
	if cf[`Limite "X"`] != "A1_XLIMITE" || cf["CNPJ"] != "doc(A1_CGC)" || cf["Segmento de mercado"] != "cbox(A1_XSEGMEN)" {
		t.Errorf("custom fields read back: %v", cf)
	}
}

// TestMatchAndCreate runs against the RD Station CRM target over the
// simulator: an existing field is found by label (case aside) with the
// combo options it lacks, only the missing field is created, and a refused
// create names the field.
func TestMatchAndCreate(t *testing.T) {
	ctx := context.Background()
	sim := rdsim.New(rdsim.Options{Tokens: []string{"tok"}, RequestsPerMinute: -1})
	if err := sim.Seed(rdsim.SeedData{CustomFields: []rdsim.CustomField{
		{ID: "5f0000000000000000000b01", Label: "segmento de mercado", Type: "option", For: "organization", Opts: []string{"Revenda"}},
		{ID: "5f0000000000000000000b02", Label: "CNPJ", Type: "text", For: "organization"},
	}}); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(sim)
	t.Cleanup(srv.Close)
	c, err := crm.New(crm.Config{BaseURL: srv.URL + "/api/v1", Token: "tok"})
	if err != nil {
		t.Fatal(err)
	}
	sys := target.NewSystem(c)
	fields := []Field{
		{Entity: "organization", Column: "A1_CGC", Label: "CNPJ", Type: "text"},
		{Entity: "organization", Column: "A1_XSEGMEN", Label: "Segmento de mercado", Type: "option", Options: []string{"Revenda", "Consumidor final"}},
		{Entity: "organization", Column: "A1_XCANAL", Label: "Canal", Type: "text"},
	}
	ms, err := Match(ctx, sys, fields)
	if err != nil {
		t.Fatal(err)
	}
	if !ms[0].Exists || !ms[1].Exists || ms[1].CRMName != "segmento de mercado" || ms[2].Exists {
		t.Fatalf("matched %+v", ms)
	}
	if !reflect.DeepEqual(ms[1].MissingOptions, []string{"Consumidor final"}) {
		t.Errorf("missing options %v, want the one the CRM field lacks", ms[1].MissingOptions)
	}
	if err := CreateMissing(ctx, sys, ms); err != nil {
		t.Fatal(err)
	}
	var labels []string
	for _, f := range sim.State().CustomFields {
		labels = append(labels, f.Label)
	}
	if !ms[2].Created || len(labels) != 3 || !slices.Contains(labels, "Canal") {
		t.Errorf("CRM fields after creating %v, want only Canal added", labels)
	}
	// The created field is seen at once (the kept schema was dropped).
	again, err := Match(ctx, sys, fields[2:])
	if err != nil || !again[0].Exists {
		t.Errorf("Canal after creating it: %+v, %v", again, err)
	}
	// A create that fails (the CRM answers 500; a POST is never resent
	// blindly) stops init with an error naming the field.
	sim.SetFaults(rdsim.Faults{Script: []rdsim.FaultKind{rdsim.FaultServerError}, Methods: []string{"POST"}, PathPrefix: "/custom_fields"})
	ms = append(ms, Matched{Field: Field{Entity: "organization", Label: "Regiao", Type: "text"}})
	if err := CreateMissing(ctx, sys, ms); err == nil || !strings.Contains(err.Error(), `creating the organization custom field "Regiao"`) {
		t.Errorf("a failed create: %v", err)
	}
}

func TestQuote(t *testing.T) {
	for in, want := range map[string]string{`a"b\c`: `"a\"b\\c"`, "tab\there": `"tab\u0009here"`, "Observação": `"Observação"`} {
		if got := quote(in); got != want {
			t.Errorf("quote(%q) = %s, want %s", in, got, want)
		}
	}
}
