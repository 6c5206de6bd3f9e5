package main

import (
	"encoding/xml"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// `erpbridge map` is generated from the live config: a mapping and a
// schedule the file overrides show as set, with every table read, and the
// HTML form is a standalone page with its diagram.
func TestMapFollowsTheConfig(t *testing.T) {
	dir := t.TempDir()
	cfg := writeConfig(t, dir, "sqlite", filepath.Join(dir, "erp.db"), standaloneSim{baseURL: "http://127.0.0.1:1/api/v1"}, `schedule = "*/15 * * * *"
[streams.customers.mapping.fields]
name = "A1_NREDUZ"
`)
	md, err := runCLI(t, "map", "-c", cfg)
	if err != nil {
		t.Fatalf("map: %v\n%s", err, md)
	}
	for _, want := range []string{
		"```mermaid", "erp_SA1010 -->|customers| crm_organization", "erp_AC8010 -->|contacts| crm_contact",
		"## customers: organization (ERP → CRM)", "| name | `A1_NREDUZ` | A1_NREDUZ |",
		"## products: product (ERP → CRM)\n\n- Schedule: `*/15 * * * *`", "Deletes: ignore",
		"### prices `DA1010`", "Key: `A1_FILIAL + A1_COD + A1_LOJA`; changes read by `S_T_A_M_P_`",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("the map lacks %q:\n%s", want, md)
		}
	}
	if strings.Contains(md, "| name | `A1_NOME`") {
		t.Error("the map shows the default name mapping the config replaced")
	}

	out := filepath.Join(dir, "map.html")
	if msg, err := runCLI(t, "map", "--format", "html", "-o", out, "-c", cfg); err != nil {
		t.Fatalf("map --format html: %v\n%s", err, msg)
	}
	page, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	svg := string(page[strings.Index(string(page), "<svg"):])
	svg = svg[:strings.Index(svg, "</svg>")+len("</svg>")]
	if err := xml.Unmarshal([]byte(svg), new(struct{})); err != nil {
		t.Errorf("the map's SVG is not well-formed: %v", err)
	}
	for _, want := range []string{"SA1010 (customers)", "CRM organization", "<code>A1_NREDUZ</code>"} {
		if !strings.Contains(string(page), want) {
			t.Errorf("the HTML map lacks %q", want)
		}
	}
	if strings.Contains(string(page), "<script") || strings.Contains(string(page), "http://") && strings.Contains(string(page), "src=") {
		t.Error("the HTML map loads something: it must open offline")
	}
	if _, err := runCLI(t, "map", "--format", "pdf", "-c", cfg); err == nil {
		t.Error("--format pdf: no error")
	}
}
