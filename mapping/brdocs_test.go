package mapping

import (
	"errors"
	"strings"
	"testing"
)

func TestDocuments(t *testing.T) {
	tests := []struct {
		name    string
		fn      func(string) (string, error)
		in      string
		want    string
		wantErr string // substring of the error; "" means no error
	}{
		{"cnpj digits", CNPJ, "11222333000181", "11.222.333/0001-81", ""},
		{"cnpj masked", CNPJ, "11.444.777/0001-61", "11.444.777/0001-61", ""},
		// A remainder of 2 gives check digit 9; below 2, digit 0.
		{"cnpj check digits 9 (remainder 2)", CNPJ, "11222333006899", "11.222.333/0068-99", ""},
		{"cnpj check digits 0 and 9", CNPJ, "11222333000009", "11.222.333/0000-09", ""},
		{"cnpj padded", CNPJ, " 45997418000153   ", "45.997.418/0001-53", ""},
		{"cnpj alphanumeric (Receita example)", CNPJ, "12ABC34501DE35", "12.ABC.345/01DE-35", ""},
		{"cnpj alphanumeric lower-case", CNPJ, "12.abc.345/01de-35", "12.ABC.345/01DE-35", ""},
		{"cnpj empty", CNPJ, "   ", "", ""},
		{"cnpj wrong check digit", CNPJ, "11222333000182", "", `"11222333000182" is not a valid CNPJ (wrong check digits)`},
		{"cnpj short", CNPJ, "1122233300018", "", "13 characters, want 14"},
		{"cnpj letters in check digits", CNPJ, "12ABC34501DEAB", "", "last 2 characters must be digits"},
		{"cnpj all zeros", CNPJ, "00000000000000", "", "all characters equal"},
		{"cpf digits", CPF, "52998224725", "529.982.247-25", ""},
		{"cpf padded as in SA1", CPF, "52998224725   ", "529.982.247-25", ""},
		{"cpf masked", CPF, "529.982.247-25", "529.982.247-25", ""},
		{"cpf wrong check digit", CPF, "52998224726", "", `"52998224726" is not a valid CPF (wrong check digits)`},
		{"cpf all equal", CPF, "11111111111", "", "all digits equal"},
		{"cpf with letters", CPF, "5299822472A", "", "want 11 digits"},
		{"doc picks cpf", Document, "52998224725   ", "529.982.247-25", ""},
		{"doc picks cnpj", Document, "11222333000181", "11.222.333/0001-81", ""},
		{"doc empty", Document, "", "", ""},
		{"doc bad length", Document, "123", "", `"123" is neither a CPF (11 digits) nor a CNPJ (14 characters)`},
		{"doc bad cnpj", Document, "11222333000180", "", "not a valid CNPJ"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.fn(tt.in)
			if tt.wantErr == "" {
				if err != nil || got != tt.want {
					t.Fatalf("(%q) = %q, %v; want %q, nil", tt.in, got, err, tt.want)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("(%q) error = %v; want it to contain %q", tt.in, err, tt.wantErr)
			}
			var ve *ValueError
			if !errors.As(err, &ve) || ve.Value != tt.in {
				t.Fatalf("(%q) error %v is not a *ValueError naming the input", tt.in, err)
			}
		})
	}
}

func TestDigitsAndCEP(t *testing.T) {
	tests := []struct {
		fn       func(string) string
		in, want string
	}{
		{Digits, "(11) 98765-4321", "11987654321"},
		{Digits, "abc", ""},
		{Digits, "１２3", "3"}, // full-width digits are not ASCII digits
		{CEP, "01310100", "01310-100"},
		{CEP, "01310-100", "01310-100"},
		{CEP, "1310100", "1310100"},
		{CEP, "", ""},
	}
	for _, tt := range tests {
		if got := tt.fn(tt.in); got != tt.want {
			t.Errorf("(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
