package mapping

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/shopspring/decimal"
)

func TestPhone(t *testing.T) {
	tests := []struct{ ddd, number, want, intl string }{
		{"011", "98765-4321", "11987654321", "+5511987654321"},
		{" 11", "3333-4444", "1133334444", "+551133334444"},
		{"", "(21) 99999-8888", "21999998888", "+5521999998888"},
		{"11", "(21) 99999-8888", "21999998888", "+5521999998888"}, // the number's own DDD wins
		{"", "+55 (31) 3333-4444", "3133334444", "+553133334444"},
		{"", "0 (31) 3333-4444", "3133334444", "+553133334444"}, // trunk prefix
		{"", "3333-4444", "33334444", "33334444"},               // no DDD known: kept as is
		{"0", "3333-4444", "33334444", "33334444"},
		{"11", "", "", ""},
		{"11", "   ", "", ""},
		{"", "0800 727 1234", "08007271234", "08007271234"},
		{"11", "190", "190", "190"},
	}
	for _, tt := range tests {
		if got := Phone(tt.ddd, tt.number); got != tt.want {
			t.Errorf("Phone(%q, %q) = %q, want %q", tt.ddd, tt.number, got, tt.want)
		}
		if got := PhoneIntl(tt.ddd, tt.number); got != tt.intl {
			t.Errorf("PhoneIntl(%q, %q) = %q, want %q", tt.ddd, tt.number, got, tt.intl)
		}
	}
}

func TestEmails(t *testing.T) {
	tests := []struct {
		in      string
		want    []string
		wantErr string
	}{
		{"JOAO@ACME.COM.BR", []string{"joao@acme.com.br"}, ""},
		{"a@x.com;b@y.com.br, c@z.io  d@w.net", []string{"a@x.com", "b@y.com.br", "c@z.io", "d@w.net"}, ""},
		{"a@x.com; A@X.COM", []string{"a@x.com"}, ""},
		{"<vendas@acme.com>", []string{"vendas@acme.com"}, ""},
		{"\"MAILTO:Vendas@Acme.com\"", []string{"vendas@acme.com"}, ""},
		{"", nil, ""},
		{" ; , ", nil, ""},
		{"joao@@x", nil, `"joao@@x" is not a valid e-mail`},
		{"ok@x.com;joao@x", []string{"ok@x.com"}, `"joao@x" is not a valid e-mail`},
		{"a@x..com;@x.com", nil, `"a@x..com", "@x.com" are not valid e-mails`},
		{"jo.ao@x.com.", nil, "not a valid e-mail"},
		{"joão@x.com", nil, "not a valid e-mail"},
	}
	for _, tt := range tests {
		got, err := Emails(tt.in)
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("Emails(%q) (-want +got):\n%s", tt.in, diff)
		}
		if tt.wantErr == "" && err != nil || tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)) {
			t.Errorf("Emails(%q) error = %v, want %q", tt.in, err, tt.wantErr)
		}
	}
	if got := Email("bad@@x; Vendas@Acme.com; c@d.com"); got != "vendas@acme.com" {
		t.Errorf("Email = %q, want the first valid address", got)
	}
	if got := Email("bad <MAILTO:Vendas@Acme.com>"); got != "vendas@acme.com" {
		t.Errorf("Email = %q, want the address cleaned as Emails cleans it", got)
	}
	if got := Email("bad"); got != "" {
		t.Errorf("Email(bad) = %q, want empty", got)
	}
}

func TestTitle(t *testing.T) {
	tests := []struct{ in, want string }{
		{"MARIA DA SILVA E SOUZA", "Maria da Silva e Souza"},
		{"JOSE DOS SANTOS", "Jose dos Santos"},
		{"DE SOUZA COMERCIO", "De Souza Comercio"},
		{"ACME INDÚSTRIA S/A", "Acme Indústria S/A"},
		{"  AUTO-PEÇAS   SÃO JOÃO ", "Auto-Peças São João"},
		{"", ""},
	}
	for _, tt := range tests {
		if got := Title(tt.in); got != tt.want {
			t.Errorf("Title(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestTruncate(t *testing.T) {
	tests := []struct {
		in   string
		n    int
		want string
	}{
		{"ABCDEF", 3, "ABC"},
		{"SÃO PAULO", 3, "SÃO"},
		{"SÃO PAULO", 4, "SÃO"}, // the cut leaves no trailing blank
		{"AB", 5, "AB"},
		{"AB", 0, ""},
		{"AB", -1, ""},
	}
	for _, tt := range tests {
		if got := Truncate(tt.in, tt.n); got != tt.want {
			t.Errorf("Truncate(%q, %d) = %q, want %q", tt.in, tt.n, got, tt.want)
		}
	}
}

func TestMoney(t *testing.T) {
	tests := []struct {
		in      any
		want    string
		wantErr bool
	}{
		{decimal.RequireFromString("1500.1"), "1500.10", false},
		{decimal.RequireFromString("0.125"), "0.13", false},
		{decimal.RequireFromString("-0.125"), "-0.13", false},
		// 0.1+0.2 as a float would be 0.30000000000000004; the driver hands out the decimal.
		{decimal.RequireFromString("0.1").Add(decimal.RequireFromString("0.2")), "0.30", false},
		{int64(15), "15.00", false},
		{"15,5", "15.50", false},
		{nil, "", false},
		{"", "", false},
		{"abc", "", true},
		{true, "", true},
	}
	for _, tt := range tests {
		got, err := Money(tt.in)
		if got != tt.want || (err != nil) != tt.wantErr {
			t.Errorf("Money(%v) = %q, %v; want %q, error %v", tt.in, got, err, tt.want, tt.wantErr)
		}
	}
}

func TestDates(t *testing.T) {
	day := time.Date(2024, 1, 15, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		in      any
		layout  string
		want    string
		wantErr bool
	}{
		{day, "DD/MM/YYYY", "15/01/2024", false},
		{day, "02/01/2006", "15/01/2024", false},
		{day, "", "2024-01-15", false},
		{"20240115", "DD/MM/YYYY", "15/01/2024", false},
		{"2024-01-15", "YYYYMMDD", "20240115", false},
		{"15/01/2024", "YYYY-MM-DD", "2024-01-15", false},
		{"        ", "DD/MM/YYYY", "", false},
		{nil, "DD/MM/YYYY", "", false},
		{time.Time{}, "DD/MM/YYYY", "", false},
		{"20241315", "DD/MM/YYYY", "", true},
		{int64(3), "DD/MM/YYYY", "", true},
	}
	for _, tt := range tests {
		got, err := FormatDate(tt.in, tt.layout)
		if got != tt.want || (err != nil) != tt.wantErr {
			t.Errorf("FormatDate(%v, %q) = %q, %v; want %q, error %v", tt.in, tt.layout, got, err, tt.want, tt.wantErr)
		}
	}
}

func TestEnsureUTF8(t *testing.T) {
	tests := []struct {
		in      string
		want    string
		changed bool
	}{
		{"SÃO PAULO", "SÃO PAULO", false},
		{"S\xc3O PAULO", "SÃO PAULO", true},                // ISO-8859-1 Ã
		{"JO\xc3O \x96 A\xc7\xd5ES", "JOÃO – AÇÕES", true}, // 0x96 is Windows-1252's en dash
		{"\x80 10", "€ 10", true},
		{"", "", false},
	}
	for _, tt := range tests {
		got, changed := EnsureUTF8(tt.in)
		if got != tt.want || changed != tt.changed {
			t.Errorf("EnsureUTF8(%q) = %q, %v; want %q, %v", tt.in, got, changed, tt.want, tt.changed)
		}
	}
}

// TestExpressionFunctions runs each transform as expressions call it, with record values of
// every type the ERP drivers hand out.
func TestExpressionFunctions(t *testing.T) {
	rec := map[string]any{
		"S":    " Maria ",
		"NIL":  nil,
		"EMP":  "",
		"D":    decimal.RequireFromString("1234.5"),
		"I":    int64(7),
		"T":    time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC),
		"B":    true,
		"CGC":  "11222333000181",
		"MAIL": "A@X.COM; b@y.com",
	}
	tests := []struct {
		src     string
		want    any
		wantErr string
	}{
		{"digits('(11) 3333-4444')", "1133334444", ""},
		{"cnpj(CGC)", "11.222.333/0001-81", ""},
		{"cpf('52998224725')", "529.982.247-25", ""},
		{"doc(CGC)", "11.222.333/0001-81", ""},
		{"doc(NIL)", "", ""},
		{"cnpj('11222333000182')", nil, "not a valid CNPJ"},
		{"cep('01310100')", "01310-100", ""},
		{"phone('11', '98765-4321')", "11987654321", ""},
		{"phoneintl('11', '98765-4321')", "+5511987654321", ""},
		{"emails(MAIL)", []string{"a@x.com", "b@y.com"}, ""},
		{"emails(NIL)", []string{}, ""},
		{"email(MAIL)", "a@x.com", ""},
		{"upper(S)", " MARIA ", ""},
		{"upper(NIL)", "", ""},
		{"lower('ÁB')", "áb", ""},
		{"title('JOSE DA SILVA')", "Jose da Silva", ""},
		{"trim(S)", "Maria", ""},
		{"truncate('abcdef', 3)", "abc", ""},
		{"truncate('abcdef', I)", "abcdef", ""},
		{"truncate('abcdef', -1)", nil, "not a length"},
		{"join(' - ', 'A', NIL, EMP, '  ', 'B', D, I)", "A - B - 1234.5 - 7", ""},
		{"join(', ', ['x', 'y'], 'z')", "x, y, z", ""},
		{"coalesce(NIL, EMP, S)", " Maria ", ""},
		{"coalesce(NIL, EMP)", nil, ""},
		{"ifempty(EMP, 'x')", "x", ""},
		{"ifempty(S, 'x')", " Maria ", ""},
		{"date(T, 'DD/MM/YYYY')", "01/03/2024", ""},
		{"date('20240301', 'YYYY-MM-DD')", "2024-03-01", ""},
		{"date(NIL, 'DD/MM/YYYY')", "", ""},
		{"money(D)", "1234.50", ""},
		{"money(I)", "7.00", ""},
		{"money(NIL)", "", ""},
		{"money(B)", nil, "not a number"},
		{"money('1e999999999')", nil, "not a number"}, // would take minutes to round
		{"money('NaN')", nil, "not a number"},
		{"B ? 'yes' : 'no'", "yes", ""},
	}
	for _, tt := range tests {
		t.Run(tt.src, func(t *testing.T) {
			prog, _, err := compileExpr(tt.src, false)
			if err != nil {
				t.Fatal(err)
			}
			got, err := run(prog, rec)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("= %v, %v; want an error containing %q", got, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Fatalf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestNowIsNotAvailable(t *testing.T) {
	// A payload that depends on the clock would change its fingerprint on every poll.
	if _, _, err := compileExpr("now()", false); err == nil {
		t.Fatal("now() compiled; want it disabled")
	}
}

func TestCleanText(t *testing.T) {
	tests := []struct {
		in, want string
		cleaned  bool
	}{
		{"ACME LTDA", "ACME LTDA", false},
		{"AÇOUGUE SÃO JOÃO", "AÇOUGUE SÃO JOÃO", false},
		{"linha 1\r\nlinha 2\tfim", "linha 1\r\nlinha 2\tfim", false}, // line breaks are the field's call (OneLine)
		{"ACME\x00 LTDA\x00\x00", "ACME LTDA", true},
		{"\x01\x02\x1bACME\x7f", "ACME", true},
		{"ACME\u0085\u009f LTDA", "ACME LTDA", true},                          // C1 controls
		{"LOJA \u202eAMEC\u202c LTDA", "LOJA AMEC LTDA", true},                // a right-to-left override
		{"\u202a\u202b\u202d\u2066\u2067\u2068\u2069X", "X", true},            // every embedding and isolate
		{"Ação \u200dé ok \u00a0ainda", "Ação \u200dé ok \u00a0ainda", false}, // not controls: kept
	}
	for _, tt := range tests {
		got, cleaned := CleanText(tt.in)
		if got != tt.want || cleaned != tt.cleaned {
			t.Errorf("CleanText(%q) = %q, %v; want %q, %v", tt.in, got, cleaned, tt.want, tt.cleaned)
		}
	}
}

func TestOneLine(t *testing.T) {
	for in, want := range map[string]string{
		"ACME":               "ACME",
		"RUA A\r\nSALA 2":    "RUA A SALA 2",
		"SAO\tPAULO\n\n\tSP": "SAO PAULO SP",
		"\nfim\n":            " fim ",
	} {
		if got := OneLine(in); got != want {
			t.Errorf("OneLine(%q) = %q, want %q", in, got, want)
		}
	}
}
