package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/erpbridge/erpbridge/cmd/erpbridge/internal/components"
	"github.com/erpbridge/erpbridge/erp/protheus/streams"
	"github.com/erpbridge/erpbridge/erp/protheus/streams/contacts"
)

// defaults is Default() as the pointer the settings accessors take.
func defaults() *Config {
	c := Default()
	return &c
}

func env(vars map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) { v, ok := vars[k]; return v, ok }
}

const minimal = `
[crm]
token = "${TOKEN}"
[erp]
driver = "sqlite"
dsn = "erp.db"
`

// parseErrorCase is a file Parse must refuse with an error mentioning want.
type parseErrorCase struct {
	name string
	toml string
	want []string
}

func TestParseErrorsNameKeyAndLine(t *testing.T) {
	checkParseErrors(t, []parseErrorCase{
		{"unknown top-level key", "data_dir = \"x\"\nfrobnicate = 1\n", []string{"line 2", `unknown key "frobnicate"`}},
		{"unknown nested key", "[crm]\ntoken = \"t\"\n\n[streams.customers]\nmod = \"upsert\"\n", []string{"line 5", `"streams.customers.mod"`}},
		{"wrong type", "[erp]\npage_size = \"big\"\n", []string{"line 2", "page_size"}},
		{"bad duration", "[erp]\noverlap = \"two minutes\"\n", []string{"line 2", "overlap"}},
		{"syntax error", "[crm\n", []string{"line 1"}},
	})
}

func checkParseErrors(t *testing.T, tests []parseErrorCase) {
	t.Helper()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse([]byte(tt.toml), env(nil))
			if err == nil {
				t.Fatal("Parse accepted a bad file")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
		})
	}
}

func TestParseKeepsDefaultsAndEmbeddedStreamKeys(t *testing.T) {
	cfg, err := Parse([]byte(minimal+"\n[streams.products]\nmode = \"create_only\"\nprice_table = \"001\"\n"), env(map[string]string{"TOKEN": "secret"}))
	if err != nil {
		t.Fatal(err)
	}
	if components.CRM(cfg).Token != "secret" {
		t.Errorf("token = %q, want the expanded env value", components.CRM(cfg).Token)
	}
	if got := components.Products(cfg).Mode; got != streams.ModeCreateOnly {
		t.Errorf("products mode = %q, want create_only (embedded stream keys must decode)", got)
	}
	if got := components.Products(cfg).PriceTable; got != "001" {
		t.Errorf("price_table = %q", got)
	}
	if got := components.Customers(cfg).Mode; got != streams.ModeUpsert {
		t.Errorf("customers mode = %q, want the default upsert", got)
	}
	if components.CRM(cfg).RequestsPerMinute != 100 || components.ERP(cfg).Overlap.D() != 2*time.Minute {
		t.Errorf("defaults lost: rpm %d overlap %v", components.CRM(cfg).RequestsPerMinute, components.ERP(cfg).Overlap.D())
	}
	if c := components.Contacts(cfg); c.Unlinked != contacts.UnlinkedSkip || c.SharedEmail != contacts.SharedEmailOmit {
		t.Errorf("contacts unlinked = %q, shared_email = %q; want skip and omit_email by default", c.Unlinked, c.SharedEmail)
	}
	if err := cfg.Validate(); err != nil {
		t.Errorf("minimal config does not validate: %v", err)
	}
}

func TestEnvExpansion(t *testing.T) {
	tests := []struct {
		name, value string
		vars        map[string]string
		want        string
		wantErr     string
	}{
		{"plain", "abc", nil, "abc", ""},
		{"one var", "${A}", map[string]string{"A": "1"}, "1", ""},
		{"inside text", "postgres://u:${PW}@h/db", map[string]string{"PW": "p@ss"}, "postgres://u:p@ss@h/db", ""},
		{"escaped", "$${A}", map[string]string{"A": "1"}, "${A}", ""},
		{"empty var is fine", "${E}", map[string]string{"E": ""}, "", ""},
		{"missing var names key and var", "${NOPE}", nil, "", `key "crm.token": environment variable NOPE is not set`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc := "[crm]\ntoken = '" + tt.value + "'\n"
			cfg, err := Parse([]byte(doc), env(tt.vars))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if components.CRM(cfg).Token != tt.want {
				t.Errorf("token = %q, want %q", components.CRM(cfg).Token, tt.want)
			}
		})
	}
}

func TestExpandedSecretNotInErrors(t *testing.T) {
	// A secret must never be echoed by validation messages.
	cfg, err := Parse([]byte("[crm]\ntoken = \"${T}\"\nbase_url = \"ftp://x\"\n"), env(map[string]string{"T": "s3cr3t-token"}))
	if err != nil {
		t.Fatal(err)
	}
	verr := cfg.Validate()
	if verr == nil {
		t.Fatal("ftp base_url validated")
	}
	if strings.Contains(verr.Error(), "s3cr3t-token") {
		t.Fatalf("validation error leaks the token: %v", verr)
	}
}

func TestValidateNamesEveryBadKey(t *testing.T) {
	tests := []struct {
		name string
		edit func(*Config)
		want string
	}{
		{"log level", func(c *Config) { c.Log.Level = "loud" }, "log.level"},
		{"base url", func(c *Config) { components.CRM(c).BaseURL = "crm.example" }, "crm.base_url"},
		{"token in url", func(c *Config) { components.CRM(c).BaseURL = "https://crm.rdstation.com/api/v1?token=x" }, "crm.base_url"},
		{"no token", func(c *Config) { components.CRM(c).Token = " " }, "crm.token"},
		{"rpm over account limit", func(c *Config) { components.CRM(c).RequestsPerMinute = 150 }, "crm.requests_per_minute"},
		{"burst over account limit", func(c *Config) { components.CRM(c).Burst = 30 }, "crm.burst"},
		{"driver", func(c *Config) { components.ERP(c).Driver = "mysql" }, "erp.driver"},
		{"dsn", func(c *Config) { components.ERP(c).DSN = "" }, "erp.dsn"},
		{"company", func(c *Config) { components.ERP(c).Company = "1" }, "erp.company"},
		{"page size", func(c *Config) { components.ERP(c).PageSize = 0 }, "erp.page_size"},
		{"cron", func(c *Config) { c.Schedule.Incremental = "every five minutes" }, "schedule.incremental"},
		{"stream cron", func(c *Config) { components.Contacts(c).Schedule = "61 * * * *" }, "streams.contacts.schedule"},
		{"mode", func(c *Config) { components.Customers(c).Mode = "merge" }, "streams.customers.mode"},
		{"deletes", func(c *Config) { components.Products(c).Deletes = "purge" }, "streams.products.deletes"},
		{"mark without how", func(c *Config) { components.Products(c).Deletes = streams.DeletesMark }, "streams.products.delete_mark"},
		{"blocked", func(c *Config) { components.Customers(c).Blocked = "hide" }, "streams.customers.blocked"},
		{"filial", func(c *Config) { components.Customers(c).Filial = "01;DROP" }, "streams.customers.filial"},
		{"price table", func(c *Config) { components.Products(c).PriceTable = "0001" }, "streams.products.price_table"},
		{"unlinked contacts", func(c *Config) { components.Contacts(c).Unlinked = "include" }, "streams.contacts.unlinked"},
		{"shared e-mail", func(c *Config) { components.Contacts(c).SharedEmail = "first_owner" }, "streams.contacts.shared_email"},
		{"on_invalid", func(c *Config) { components.Customers(c).Mapping.OnInvalid = map[string]string{"address": "drop"} }, "streams.customers.mapping"},
		{"mapping field", func(c *Config) { components.Customers(c).Mapping.Fields = map[string]string{"Name!": "A1_NOME"} }, "streams.customers.mapping"},
		{"bad expression", func(c *Config) { components.Customers(c).Mapping.Fields = map[string]string{"name": "A1_NOME +"} }, "streams.customers.mapping"},
		{"all disabled", func(c *Config) {
			components.Customers(c).On, components.Contacts(c).On, components.Products(c).On = false, false, false
		}, "streams"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := Default()
			components.CRM(&c).Token, components.ERP(&c).DSN = "t", "erp.db"
			if err := c.Validate(); err != nil {
				t.Fatalf("base config invalid: %v", err)
			}
			tt.edit(&c)
			err := c.Validate()
			if err == nil || !strings.Contains(err.Error(), tt.want+":") {
				t.Fatalf("Validate() = %v, want an error naming %q", err, tt.want)
			}
		})
	}
}

func TestLoadResolvesRelativePaths(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "erpbridge.toml")
	doc := minimal + "\n[log]\nfile = \"logs/erpbridge.log\"\n"
	if err := os.WriteFile(path, []byte(doc), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("TOKEN", "x")
	cfg, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	for name, got := range map[string]string{
		"data_dir": cfg.DataDir, "log.file": cfg.Log.File, "erp.dsn": components.ERP(cfg).DSN,
	} {
		if !strings.HasPrefix(got, dir) {
			t.Errorf("%s = %q, want it under the config's folder %q", name, got, dir)
		}
	}
	if cfg.Path() != path {
		t.Errorf("Path() = %q", cfg.Path())
	}
}

func TestExampleConfigLoadsAndValidates(t *testing.T) {
	t.Setenv("RDSTATION_CRM_TOKEN", "demo-token")
	cfg, err := Load(filepath.Join("..", "..", "..", "..", "config.example.toml"))
	if err != nil {
		t.Fatal(err)
	}
	if err := cfg.Validate(); err != nil {
		t.Fatalf("config.example.toml does not validate: %v", err)
	}
}

func TestMappingTableOverridesKeyByKey(t *testing.T) {
	base := minimal + "\n[streams.customers]\ncnpj_field = \"CNPJ\"\n"
	tests := []struct {
		name  string
		toml  string
		check func(t *testing.T, c *Config)
	}{
		{"no table: the default", "", func(t *testing.T, c *Config) {
			m := components.Customers(c).Mapping
			if m.Fields["name"] != "A1_NOME" || m.CustomFields["CNPJ"] == "" || m.UniqueName.Suffix == "" {
				t.Fatalf("default mapping not applied: %+v", m)
			}
		}},
		{"invalid_utf8 alone keeps the default fields", "[streams.customers.mapping]\ninvalid_utf8 = \"reject\"\n", func(t *testing.T, c *Config) {
			m := components.Customers(c).Mapping
			if m.InvalidUTF8 != "reject" || m.Fields["name"] != "A1_NOME" {
				t.Fatalf("got %+v", m)
			}
		}},
		{"unique_name.when alone keeps the default suffix", "[streams.customers.mapping.unique_name]\nwhen = \"A1_LOJA != '01'\"\n", func(t *testing.T, c *Config) {
			u := components.Customers(c).Mapping.UniqueName
			if u.When != "A1_LOJA != '01'" || u.Suffix == "" {
				t.Fatalf("got %+v", u)
			}
		}},
		{"fields replace the default fields as a whole", "[streams.customers.mapping.fields]\nname = \"A1_NREDUZ\"\n", func(t *testing.T, c *Config) {
			m := components.Customers(c).Mapping
			if len(m.Fields) != 1 || m.Fields["name"] != "A1_NREDUZ" || m.CustomFields["CNPJ"] == "" {
				t.Fatalf("got %+v", m)
			}
		}},
		{"on_invalid alone keeps the default fields", "[streams.customers.mapping.on_invalid]\nCNPJ = \"skip_record\"\n", func(t *testing.T, c *Config) {
			m := components.Customers(c).Mapping
			if m.OnInvalid["CNPJ"] != "skip_record" || m.Fields["name"] != "A1_NOME" || m.CustomFields["CNPJ"] == "" {
				t.Fatalf("got %+v", m)
			}
		}},
		{"an empty suffix turns the suffix off", "[streams.customers.mapping.unique_name]\nsuffix = \"\"\n", func(t *testing.T, c *Config) {
			if s := components.Customers(c).Mapping.UniqueName.Suffix; s != "" {
				t.Fatalf("suffix %q", s)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Parse([]byte(base+tt.toml), env(map[string]string{"TOKEN": "t"}))
			if err != nil {
				t.Fatal(err)
			}
			if err := c.Validate(); err != nil {
				t.Fatal(err)
			}
			tt.check(t, c)
		})
	}
	if _, err := Parse([]byte(base+"[streams.customers.mapping]\nentity = \"contact\"\n"), env(map[string]string{"TOKEN": "t"})); err == nil ||
		!strings.Contains(err.Error(), "streams.customers.mapping") {
		t.Fatalf("setting entity: err = %v, want an error naming the mapping", err)
	}
}

func TestDurationsNeedAUnit(t *testing.T) {
	for _, tc := range []struct{ text, key, line string }{
		{"[crm]\ntimeout = 30\n", `"crm.timeout"`, "line 2"},
		{"[won_deals]\noverlap = 600\n", `"won_deals.overlap"`, "line 2"},
		{"[won_deals]\nenabled = false\n[won_deals.rest]\ntimeout = 30\n", `"won_deals.rest.timeout"`, "line 4"},
		{"[erp.rest]\ntimeout = 30\n", `"erp.rest.timeout"`, "line 2"},
	} {
		_, err := Parse([]byte(tc.text), env(nil))
		if err == nil || !strings.Contains(err.Error(), tc.line) || !strings.Contains(err.Error(), tc.key) {
			t.Errorf("%q: err = %v, want an error naming %s and %s", tc.text, err, tc.line, tc.key)
		}
	}
}
