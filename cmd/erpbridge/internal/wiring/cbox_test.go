package wiring

import (
	"fmt"
	"strings"
	"testing"

	"github.com/erpbridge/erpbridge/bridge/store"
	"github.com/erpbridge/erpbridge/erp/protheus/fixture"
	"github.com/erpbridge/erpbridge/rdstation/crm"
)

// TestComboCodesReachTheCRMAsTheirDescriptions: a user field whose SX3
// combo is "1=Revenda;2=Consumidor final;3=Distribuidor", mapped with
// cbox(), reaches the CRM's option field as the description; a code the
// combo lacks leaves the field out (the organization still synced) with a
// warning naming the customer, the column and the options.
func TestComboCodesReachTheCRMAsTheirDescriptions(t *testing.T) {
	testCombo(t, sqliteBackend)
}

func TestComboCodesReachTheCRMPostgresIntegration(t *testing.T) {
	testCombo(t, postgresBackend)
}

func testCombo(t *testing.T, be erpBackend) {
	h := newHarness(t, be, harnessOptions{
		prepare: func(h *harness) {
			if err := h.erp.AddDictionary(h.ctx); err != nil {
				t.Fatal(err)
			}
		},
		fields: []crm.CustomFieldInput{{Label: "Segmento", Type: "option", For: "organization",
			Options: []string{"Revenda", "Consumidor final", "Distribuidor"}}},
		extraConfig: "\n[streams.customers.mapping.custom_fields]\nSegmento = \"cbox(A1_XSEGMEN)\"\n",
	})
	h.mustSync("first sync")

	// What each organization should hold, from the ERP rows and the combo
	// as the ERP team wrote it, not through the bridge's code.
	combo := map[string]string{"1": "Revenda", "2": "Consumidor final", "3": "Distribuidor"}
	want := map[string]string{}
	outside := ""
	for _, row := range queryRows(h.ctx, t, h.erp.DB, "SELECT A1_COD, A1_LOJA, A1_NOME, A1_XSEGMEN FROM SA1010 WHERE D_E_L_E_T_ = ' ' ORDER BY R_E_C_N_O_") {
		name := latin1(strings.TrimSpace(row[2])) + " (" + row[0] + "/" + row[1] + ")"
		code := strings.TrimSpace(row[3])
		want[name] = combo[code]
		if code == fixture.OutOfOptionsSegment {
			outside = customerKey(row[0], row[1])
		}
	}
	fieldID := ""
	fields, err := h.crm.ListCustomFields(h.ctx, "organization")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range fields {
		if f.Label == "Segmento" {
			fieldID = f.ID
		}
	}
	checked, described := 0, 0
	for _, o := range h.sim.State().Organizations {
		w, ok := want[o.Name]
		if !ok {
			continue // a customer kept by another rule of the fixture
		}
		got := ""
		for _, v := range o.CustomFields {
			if v.CustomFieldID == fieldID {
				got = fmt.Sprint(v.Value)
			}
		}
		if got != w {
			t.Errorf("organization %q: Segmento = %q, want %q", o.Name, got, w)
		}
		checked++
		if w != "" {
			described++
		}
	}
	if checked < 10 || described < 6 {
		t.Fatalf("checked %d organizations, %d with a segment: the fixture should give more", checked, described)
	}
	if outside == "" {
		t.Fatal("no customer holds the out-of-options segment")
	}
	ws, err := h.bridge.Store.Warnings(h.ctx, store.OutboxFilter{})
	if err != nil {
		t.Fatal(err)
	}
	warned := false
	for _, w := range ws {
		if w.ERPKey == outside && strings.Contains(w.Text, outside) && strings.Contains(w.Text, `"9" is none of the options of A1_XSEGMEN`) {
			warned = true
		}
	}
	if !warned {
		t.Errorf("no warning names customer %s and its out-of-options segment", outside)
	}
}
