package config

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestCompareHomologacaoWithProducao compares a homologação config with
// its production copy: DSNs and secrets differ by design and are left out
// (whatever they hold: literal, ${NAME}, ${secret:NAME} this machine does
// not have); everything else that differs is listed by key with the lines
// that set it, a default with line 0, and a mapping entry one file lacks;
// a URL's password is masked.
func TestCompareHomologacaoWithProducao(t *testing.T) {
	dir := t.TempDir()
	write := func(name, text string) string {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
		return path
	}
	homolog := write("homolog.toml", `[crm]
token = "homolog-token-literal"
requests_per_minute = 60
[erp]
driver = "sqlserver"
dsn = "sqlserver://erpbridge:homolog-pass@homolog-db:1433?database=P12HOM"
company = "01"
[streams.customers]
cnpj_field = "CNPJ"
[streams.customers.mapping.custom_fields]
"Segmento" = "A1_XSEGMEN"
[won_deals]
enabled = true
sink = "rest"
filial = "01"
[won_deals.rest]
url = "http://erpbridge:homolog-url-pass@homolog-app:8080/rest/orders"
user = "erpbridge"
password = "${ERP_REST_PASSWORD}"
`)
	producao := write("producao.toml", `[crm]
token = "${secret:RDSTATION_CRM_TOKEN}"
[erp]
driver = "sqlserver"
dsn = "sqlserver://erpbridge:${secret:ERP_DB_PASSWORD}@prod-db:1433?database=P12PRD"
company = "01"
[streams.customers]
cnpj_field = "CNPJ"
[won_deals]
enabled = true
sink = "rest"
filial = "02"
[won_deals.rest]
url = "http://erpbridge:prod-url-pass@prod-app:8080/rest/orders"
user = "erpbridge"
password = "${secret:ERP_REST_PASSWORD}"
`)
	got, err := Compare(homolog, producao)
	if err != nil {
		t.Fatal(err)
	}
	want := []Difference{
		{Key: "crm.requests_per_minute", This: "60", Other: "100", ThisLine: 3},
		// homolog's own custom_fields table replaces the default one, CNPJ included.
		{Key: "streams.customers.mapping.custom_fields.CNPJ", Other: `"doc(A1_CGC)"`},
		{Key: "streams.customers.mapping.custom_fields.Segmento", This: `"A1_XSEGMEN"`, ThisLine: 11},
		{Key: "won_deals.filial", This: `"01"`, Other: `"02"`, ThisLine: 15, OtherLine: 12},
		{Key: "won_deals.rest.url", This: `"http://erpbridge:xxxxx@homolog-app:8080/rest/orders"`, Other: `"http://erpbridge:xxxxx@prod-app:8080/rest/orders"`, ThisLine: 17, OtherLine: 14},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Compare (-want +got):\n%s", diff)
	}
	if same, err := Compare(homolog, homolog); err != nil || len(same) != 0 {
		t.Errorf("a file compared with itself: %v, %v", same, err)
	}
	bad := write("bad.toml", "[crm]\ntokn = \"x\"\n")
	if _, err := Compare(homolog, bad); err == nil {
		t.Error("a file with an unknown key compared without an error")
	}
}
