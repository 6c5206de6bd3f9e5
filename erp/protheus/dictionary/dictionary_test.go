package dictionary

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

func TestParseCombo(t *testing.T) {
	for _, tc := range []struct {
		in      string
		want    []Option
		wantErr string
		dynamic bool
	}{
		{in: "", want: nil},
		{in: "   ", want: nil},
		{in: "1=Sim;2=Nao", want: []Option{{"1", "Sim"}, {"2", "Nao"}}},
		{in: "1=Revenda;2=Consumidor final;3=Distribuidor  ", want: []Option{{"1", "Revenda"}, {"2", "Consumidor final"}, {"3", "Distribuidor"}}},
		{in: "F=Fisica;J=Juridica;", want: []Option{{"F", "Fisica"}, {"J", "Juridica"}}},
		{in: " 01 = Linha Industrial ; 02=Linha Varejo", want: []Option{{"01", "Linha Industrial"}, {"02", "Linha Varejo"}}},
		{in: "S=", want: []Option{{"S", "S"}}},
		{in: "1=a=b", want: []Option{{"1", "a=b"}}},
		{in: "#U_CBOXREG()", dynamic: true, wantErr: "computed by an ADVPL function"},
		{in: "1=Sim;Nao", wantErr: `combo item "Nao" has no '='`},
		{in: "=Sim", wantErr: `combo item "=Sim" has no code`},
		{in: "1=Sim;1=Nao", wantErr: `combo code "1" is given twice`},
	} {
		got, err := ParseCombo(tc.in)
		if tc.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("ParseCombo(%q) error = %v, want %q", tc.in, err, tc.wantErr)
			}
			if errors.Is(err, ErrDynamicCombo) != tc.dynamic {
				t.Errorf("ParseCombo(%q): errors.Is(ErrDynamicCombo) = %v", tc.in, !tc.dynamic)
			}
			continue
		}
		if err != nil {
			t.Errorf("ParseCombo(%q): %v", tc.in, err)
		}
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("ParseCombo(%q) = %v, want %v", tc.in, got, tc.want)
		}
	}
}

func FuzzParseCombo(f *testing.F) {
	for _, s := range []string{"1=Sim;2=Nao", "#X()", ";;", "a=b=c;", " = ", "1=Sim;1=Nao"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		opts, err := ParseCombo(s)
		if err != nil {
			if opts != nil {
				t.Fatalf("ParseCombo(%q) gave options with an error", s)
			}
			return
		}
		seen := map[string]bool{}
		for _, o := range opts {
			if o.Code == "" || o.Label == "" || strings.TrimSpace(o.Code) != o.Code || seen[o.Code] {
				t.Fatalf("ParseCombo(%q) gave option %+v", s, o)
			}
			seen[o.Code] = true
			if !strings.Contains(s, o.Code) {
				t.Fatalf("ParseCombo(%q) invented code %q", s, o.Code)
			}
		}
	})
}

func TestIndexFields(t *testing.T) {
	for key, want := range map[string][]string{
		"A1_FILIAL+A1_COD+A1_LOJA":                {"A1_FILIAL", "A1_COD", "A1_LOJA"},
		"C5_FILIAL+DTOS(C5_EMISSAO)+C5_NUM":       {"C5_FILIAL", "C5_EMISSAO", "C5_NUM"},
		"A1_FILIAL+STR(A1_LC,14,2)":               {"A1_FILIAL", "A1_LC"},
		"b1_filial + b1_cod ":                     {"B1_FILIAL", "B1_COD"},
		"E1_FILIAL+E1_CLIENTE+E1_LOJA+E1_PREFIXO": {"E1_FILIAL", "E1_CLIENTE", "E1_LOJA", "E1_PREFIXO"},
	} {
		if got := (Index{Key: key}).Fields(); !reflect.DeepEqual(got, want) {
			t.Errorf("Index{%q}.Fields() = %v, want %v", key, got, want)
		}
	}
}

func TestFieldLabelPrefersTheDescription(t *testing.T) {
	for _, tc := range []struct {
		f    Field
		want string
	}{
		{Field{Name: "A1_XSEGMEN", Title: "Segmento", Description: "Segmento de mercado"}, "Segmento de mercado"},
		{Field{Name: "A1_XSEGMEN", Title: "Segmento", Description: "  "}, "Segmento"},
		{Field{Name: "A1_XSEGMEN"}, "A1_XSEGMEN"},
	} {
		if got := tc.f.Label(); got != tc.want {
			t.Errorf("%+v.Label() = %q, want %q", tc.f, got, tc.want)
		}
	}
}
