package config

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"unicode/utf16"

	"github.com/erpbridge/erpbridge/cmd/erpbridge/internal/components"
)

// utf16LE encodes s as UTF-16 little-endian, as Notepad's "Unicode" and
// PowerShell 5's Out-File write it.
func utf16LE(s string, bom bool) []byte {
	var out []byte
	if bom {
		out = append(out, 0xFF, 0xFE)
	}
	for _, u := range utf16.Encode([]rune(s)) {
		out = append(out, byte(u), byte(u>>8))
	}
	return out
}

func utf16BE(s string) []byte {
	out := []byte{0xFE, 0xFF}
	for _, u := range utf16.Encode([]rune(s)) {
		out = append(out, byte(u>>8), byte(u))
	}
	return out
}

// TestConfigFileEncodings: a UTF-8 file with the byte order mark Notepad and
// PowerShell 5 write loads like one without; UTF-16 and ANSI files are
// refused with a message that says to save them as UTF-8.
func TestConfigFileEncodings(t *testing.T) {
	const doc = "data_dir = \"dados\"\n[crm]\ntoken = \"${TOKEN}\"\n[erp]\ndriver = \"sqlite\"\ndsn = \"erp.db\"\n[streams.customers]\nfilial = \"01\"\n"
	tests := []struct {
		name string
		data []byte
		want []string // substrings of the error; none = loads
	}{
		{"UTF-8", []byte(doc), nil},
		{"UTF-8 with BOM", append([]byte{0xEF, 0xBB, 0xBF}, doc...), nil},
		{"UTF-8 with BOM and CRLF", append([]byte{0xEF, 0xBB, 0xBF}, strings.ReplaceAll(doc, "\n", "\r\n")...), nil},
		{"UTF-16LE with BOM", utf16LE(doc, true), []string{"UTF-16", "save it as UTF-8"}},
		{"UTF-16LE without BOM", utf16LE(doc, false), []string{"UTF-16", "save it as UTF-8"}},
		{"UTF-16BE with BOM", utf16BE(doc), []string{"UTF-16", "save it as UTF-8"}},
		{"Windows-1252", []byte("[crm]\ntoken = \"${TOKEN}\"\n[streams.orders]\nname = \"Pedido {num} \xb7 {customer}\"\n"), []string{"line 4", "not UTF-8", "save it as UTF-8"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "erpbridge.toml")
			if err := os.WriteFile(path, tt.data, 0o600); err != nil {
				t.Fatal(err)
			}
			cfg, err := LoadWithEnv(path, env(map[string]string{"TOKEN": "t"}))
			if len(tt.want) == 0 {
				if err != nil {
					t.Fatalf("Load: %v", err)
				}
				if cfg.DataDir != filepath.Join(dir, "dados") || components.Customers(cfg).Filial != "01" || components.CRM(cfg).Token != "t" {
					t.Errorf("loaded data_dir %q, filial %q, token %q: the file was misread", cfg.DataDir, components.Customers(cfg).Filial, components.CRM(cfg).Token)
				}
				if err := cfg.Validate(); err != nil {
					t.Errorf("Validate: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatal("Load accepted it")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
			if _, perr := Parse(tt.data, env(map[string]string{"TOKEN": "t"})); perr == nil || perr.Error() != strings.TrimPrefix(err.Error(), path+": ") {
				t.Errorf("Parse: %v, want the error Load gives", perr)
			}
		})
	}
}

// TestEnvironmentReferences: ${NAME} is expanded and $${ is a literal ${;
// an unclosed or malformed ${, and a shell's $NAME or cmd.exe's %NAME% in a
// secret, are errors naming the key and its line that never repeat the value.
func TestEnvironmentReferences(t *testing.T) {
	vars := env(map[string]string{"RDSTATION_CRM_TOKEN": "tok", "ERP_DB_PASSWORD": "pw"})
	tests := []struct {
		name, key, value string
		want             string   // the expanded value when it loads
		wantErr          []string // substrings of the error
	}{
		{"braced", "crm.token", "${RDSTATION_CRM_TOKEN}", "tok", nil},
		{"literal escape", "crm.token", "$${RDSTATION_CRM_TOKEN}", "${RDSTATION_CRM_TOKEN}", nil},
		{"literal escape, unclosed", "crm.token", "abc$${def", "abc${def", nil},
		{"url-encoded password", "erp.dsn", "postgres://erp:Sm%C3%A9%40x%25y@db:5432/p", "postgres://erp:Sm%C3%A9%40x%25y@db:5432/p", nil},
		{"percent-encoded bytes around letters", "erp.dsn", "postgres://erp:a%C3%BCab%21@db/p", "postgres://erp:a%C3%BCab%21@db/p", nil},
		{"dollar in a non-secret", "streams.orders.name", "Pedido {num} $US", "Pedido {num} $US", nil},
		{"percent names in a non-secret", "streams.orders.name", "Pedido {num} %TOTAL%", "Pedido {num} %TOTAL%", nil},
		{"unset", "crm.token", "${NOPE}", "", []string{"line 2", `key "crm.token"`, "environment variable NOPE is not set"}},
		{"unclosed", "crm.token", "${NOPE", "", []string{"line 2", `key "crm.token"`, `without its closing "}"`, "$${"}},
		{"unclosed in a non-secret", "streams.orders.name", "Pedido {num} ${X", "", []string{"line 2", `key "streams.orders.name"`, `without its closing "}"`}},
		{"not a name", "erp.dsn", "postgres://erp:${1PASS}@db/p", "", []string{"line 2", `key "erp.dsn"`, "not an environment variable name"}},
		{"shell reference", "crm.token", "$RDSTATION_CRM_TOKEN", "", []string{"line 2", `key "crm.token"`, "$NAME", "write ${NAME}"}},
		{"shell reference in a dsn", "erp.dsn", "sqlserver://erp:$ERP_DB_PASSWORD@db:1433", "", []string{"line 2", `key "erp.dsn"`, "$NAME", "write ${NAME}"}},
		{"cmd.exe reference", "crm.token", "%RDSTATION_CRM_TOKEN%", "", []string{"line 2", `key "crm.token"`, "%NAME%", "write ${NAME}"}},
		{"cmd.exe reference in a dsn", "erp.dsn", "sqlserver://erp:%ERP_DB_PASSWORD%@db:1433", "", []string{"line 2", `key "erp.dsn"`, "%NAME%"}},
		{"cmd.exe reference in a REST password", "won_deals.rest.password", "%ERP_REST_PASSWORD%", "", []string{"line 2", `key "won_deals.rest.password"`, "%NAME%"}},
		{"shell reference in the http token", "http.token", "$ERPBRIDGE_HTTP_TOKEN", "", []string{"line 2", `key "http.token"`, "$NAME"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			i := strings.LastIndex(tt.key, ".")
			table, key := tt.key[:i], tt.key[i+1:]
			doc := "[" + table + "]\n" + key + " = '" + tt.value + "'\n"
			cfg, err := Parse([]byte(doc), vars)
			if tt.wantErr == nil {
				if err != nil {
					t.Fatal(err)
				}
				got := map[string]string{"crm.token": components.CRM(cfg).Token, "erp.dsn": components.ERP(cfg).DSN, "streams.orders.name": components.Orders(cfg).Name}[tt.key]
				if got != tt.want {
					t.Errorf("%s = %q, want %q", tt.key, got, tt.want)
				}
				return
			}
			if err == nil {
				t.Fatal("Parse accepted it")
			}
			for _, w := range tt.wantErr {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
			if strings.Contains(err.Error(), tt.value) {
				t.Errorf("error %q repeats the value", err)
			}
		})
	}
}

// TestSchedulesTakeAPositiveInterval: @every 0s and @every -1s ran every
// second (cron rounds them up); every schedule key refuses intervals below
// its minimum with its key and line.
func TestSchedulesTakeAPositiveInterval(t *testing.T) {
	wonDeals := "[streams.orders]\norder_number_field = \"Pedido ERP\"\n[won_deals]\nenabled = true\n"
	tests := []struct {
		name, toml string
		key        string // "" when it validates
		want       string
	}{
		{"incremental 1s", "[schedule]\nincremental = \"@every 1s\"\n", "", ""},
		{"incremental cron", "[schedule]\nincremental = \"*/5 * * * *\"\n", "", ""},
		{"incremental with a zone", "[schedule]\nincremental = \"CRON_TZ=America/Sao_Paulo @every 5m\"\n", "", ""},
		{"full pass every minute", "[schedule]\nfull_pass = \"* * * * *\"\n", "", ""},
		{"full pass @every 1m", "[schedule]\nfull_pass = \"@every 1m\"\n", "", ""},
		{"stream 1s", "[streams.products]\nschedule = \"@every 1s\"\n", "", ""},
		{"won deals 30s", wonDeals + "schedule = \"@every 30s\"\n", "", ""},

		{"incremental 0s", "[schedule]\nincremental = \"@every 0s\"\n", "schedule.incremental", "must be positive"},
		{"incremental 500ms", "[schedule]\nincremental = \"@every 500ms\"\n", "schedule.incremental", "@every 1s"},
		{"incremental 1.5s", "[schedule]\nincremental = \"@every 1.5s\"\n", "schedule.incremental", "whole seconds"},
		{"incremental 0s with a zone", "[schedule]\nincremental = \"CRON_TZ=America/Sao_Paulo @every 0s\"\n", "schedule.incremental", "must be positive"},
		{"a zone without a schedule", "[schedule]\nincremental = \"CRON_TZ=America/Sao_Paulo\"\n", "schedule.incremental", "no schedule after it"},
		{"full pass -1s", "[schedule]\nfull_pass = \"@every -1s\"\n", "schedule.full_pass", "must be positive"},
		{"full pass 1s", "[schedule]\nfull_pass = \"@every 1s\"\n", "schedule.full_pass", "@every 1m"},
		{"full pass 59s", "[schedule]\nfull_pass = \"@every 59s\"\n", "schedule.full_pass", "@every 1m"},
		{"customers 0s", "[streams.customers]\nschedule = \"@every 0s\"\n", "streams.customers.schedule", "must be positive"},
		{"contacts -5m", "[streams.contacts]\nschedule = \"@every -5m\"\n", "streams.contacts.schedule", "must be positive"},
		{"products 100ms", "[streams.products]\nschedule = \"@every 100ms\"\n", "streams.products.schedule", "@every 1s"},
		{"orders 0s", "[streams.orders]\nenabled = true\nschedule = \"@every 0s\"\n", "streams.orders.schedule", "must be positive"},
		{"won deals 0s", wonDeals + "schedule = \"@every 0s\"\n", "won_deals.schedule", "must be positive"},
		{"not a spec", "[schedule]\nincremental = \"every five minutes\"\n", "schedule.incremental", "not a cron spec"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc := minimal + tt.toml
			cfg, err := Parse([]byte(doc), env(map[string]string{"TOKEN": "t"}))
			if err != nil {
				t.Fatal(err)
			}
			err = cfg.Validate()
			if tt.key == "" {
				if err != nil {
					t.Fatalf("Validate: %v", err)
				}
				return
			}
			line := keyLines([]byte(doc))[tt.key]
			if line == 0 {
				t.Fatalf("test bug: %s is not in the file", tt.key)
			}
			prefix := "line " + strconv.Itoa(line) + ": " + tt.key + ": "
			if err == nil || !strings.Contains(err.Error(), prefix) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Validate() = %v, want an error starting %q and mentioning %q", err, prefix, tt.want)
			}
		})
	}
}

// TestKeyLines: the line of every key, however the TOML spells it.
func TestKeyLines(t *testing.T) {
	doc := `data_dir = "x"
[crm]
token = "t"   # comment
  [ streams.customers ]
schedule = "@every 1m"
mapping.fields.name = "A1_NOME"
[streams.orders]
stages = { open = "Novo",
  invoiced = "Ganho" }
"quoted.key" = 1
[won_deals.rest]
url = "http://x"
`
	got := keyLines([]byte(doc))
	for key, want := range map[string]int{
		"data_dir": 1, "crm": 2, "crm.token": 3, "streams.customers": 4, "streams.customers.schedule": 5,
		"streams.customers.mapping.fields.name": 6, "streams.orders.stages": 8, "streams.orders.stages.open": 8,
		"streams.orders.stages.invoiced": 9, "streams.orders.quoted.key": 10, "won_deals.rest.url": 12,
	} {
		if got[key] != want {
			t.Errorf("line of %s = %d, want %d", key, got[key], want)
		}
	}
}

// TestValidationErrorsNameTheLine: a validation error names the line of the
// key when the file sets it, and only the key when it does not.
func TestValidationErrorsNameTheLine(t *testing.T) {
	cfg, err := Parse([]byte("[crm]\ntoken = \"\"\nrequests_per_minute = 500\n[log]\nlevel = \"loud\"\n[http]\naddr = \"0.0.0.0:9000\"\n"), env(nil))
	if err != nil {
		t.Fatal(err)
	}
	err = cfg.Validate()
	for _, want := range []string{"line 2: crm.token: is required", "line 3: crm.requests_per_minute:", "line 5: log.level:", "\nhttp.token: is required"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Validate() = %v, want it to mention %q", err, want)
		}
	}
	def := Default()
	if err := def.Validate(); err == nil || !strings.Contains(err.Error(), "\ncrm.token: is required") && !strings.HasPrefix(err.Error(), "crm.token: is required") {
		t.Errorf("Validate() of the defaults = %v, want crm.token named without a line", err)
	}
}

// TestTokenRefusedSaysWhatToCheck: the hint a 401 carries names crm.token,
// says when the token looks unexpanded or padded, says how to check it, and
// never shows it.
// TestValidateNeverShowsAPassword: a DSN its driver would misread is an
// error naming erp.dsn and its line, and no validation error shows a
// password, of the DSN or of a URL.
func TestValidateNeverShowsAPassword(t *testing.T) {
	const pw = "Kq9vXw%Ht7Rb#Zp4Ns@Jr2Tm:Mb8Qd/Lc5Wy"
	vars := env(map[string]string{"TOKEN": "t", "PW": pw})
	for _, tc := range []struct{ name, crm, erp, key, want string }{
		{"oracle, raw password", "", "driver = \"oracle\"\ndsn = \"oracle://erp:${PW}@db:1521/ORCL\"\n", "erp.dsn", `has a "#"`},
		{"sqlserver, raw password", "", "driver = \"sqlserver\"\ndsn = \"sqlserver://erp:${PW}@db:1433?database=P\"\n", "erp.dsn", `has a "#"`},
		{"postgres, unclosed quote", "", "driver = \"postgres\"\ndsn = \"host=db password='${PW} dbname=p\"\n", "erp.dsn", "has a single-quoted value without its closing '"},
		{"sqlserver ADO, unquoted ;", "", "driver = \"sqlserver\"\ndsn = \"server=db;password=Kq9vXw;Zp4Ns;database=P\"\n", "erp.dsn", `has a part without "="`},
		{"crm base URL with a password", "base_url = \"ftp://u:${PW}@crm.example\"\n", "", "crm.base_url", "is not an http(s) URL"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			doc := "[crm]\ntoken = \"${TOKEN}\"\n" + tc.crm + "[erp]\n" + tc.erp
			cfg, err := Parse([]byte(doc), vars)
			if err != nil {
				t.Fatal(err)
			}
			verr := cfg.Validate()
			want := "line " + strconv.Itoa(keyLines([]byte(doc))[tc.key]) + ": " + tc.key + ": "
			if verr == nil || !strings.Contains(verr.Error(), want) || !strings.Contains(verr.Error(), tc.want) {
				t.Fatalf("Validate() = %v, want it to mention %q and %q", verr, want, tc.want)
			}
			for _, piece := range []string{"Kq9vXw", "Ht7Rb", "Zp4Ns", "Jr2Tm", "Mb8Qd", "Lc5Wy"} {
				if strings.Contains(verr.Error(), piece) {
					t.Errorf("Validate() = %v: shows %q of the password", verr, piece)
				}
			}
		})
	}
}
