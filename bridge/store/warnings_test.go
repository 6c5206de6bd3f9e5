package store

import (
	"context"
	"testing"
	"time"
)

func TestWarningsAreOnePerRecordAndKind(t *testing.T) {
	s, clk := openTest(t)
	ctx := context.Background()
	set := func(w Warning) {
		t.Helper()
		if err := s.Update(ctx, func(tx *Tx) error { return tx.SetWarning(w) }); err != nil {
			t.Fatal(err)
		}
	}
	list := func(f OutboxFilter) []Warning {
		t.Helper()
		ws, err := s.Warnings(ctx, f)
		if err != nil {
			t.Fatal(err)
		}
		return ws
	}
	cnpj := Warning{Stream: "customers", Entity: "organization", ERPKey: "|000032|01", Kind: WarningFields, Text: "CNPJ left out"}
	set(cnpj)
	created := clk.Now()
	clk.Advance(time.Hour)
	set(cnpj) // the same warning again: listed once, its time kept
	set(Warning{Stream: "contacts", Entity: "contact", ERPKey: "01|000002", Kind: WarningKey, Text: "e-mail left out"})
	set(Warning{Stream: "contacts", Entity: "contact", ERPKey: "01|000002", Kind: WarningFields, Text: "phone left out"})

	all := list(OutboxFilter{})
	if len(all) != 3 {
		t.Fatalf("warnings = %+v, want 3 (one per record and kind)", all)
	}
	if all[0].ERPKey != "|000032|01" || !all[0].UpdatedAt.Equal(created) || !all[0].CreatedAt.Equal(created) {
		t.Errorf("first warning %+v: an unchanged text must keep its times (%v)", all[0], created)
	}
	if ws := list(OutboxFilter{Stream: "contacts"}); len(ws) != 2 {
		t.Errorf("contacts warnings = %+v, want 2", ws)
	}
	if ws := list(OutboxFilter{Level: LevelError}); len(ws) != 0 {
		t.Errorf("level error lists %+v: warnings are level skip", ws)
	}
	if ws := list(OutboxFilter{Since: created.Add(time.Minute)}); len(ws) != 2 {
		t.Errorf("since: %+v, want the 2 newer", ws)
	}
	texts, err := s.WarningTexts(ctx, "contact", []string{"01|000002", "01|000003"})
	if err != nil || len(texts) != 1 || texts["01|000002"][WarningFields] != "phone left out" || texts["01|000002"][WarningKey] != "e-mail left out" {
		t.Fatalf("WarningTexts = %v, %v", texts, err)
	}

	clk.Advance(time.Hour)
	cnpj.Text = "CNPJ and e-mail left out"
	set(cnpj)
	set(Warning{Entity: "contact", ERPKey: "01|000002", Kind: WarningKey}) // cleared
	all = list(OutboxFilter{})
	if len(all) != 2 || all[1].Text != cnpj.Text || !all[1].UpdatedAt.Equal(clk.Now()) || !all[1].CreatedAt.Equal(created) {
		t.Fatalf("after a change and a clear: %+v", all)
	}
	if err := s.Update(ctx, func(tx *Tx) error {
		return tx.SetWarning(Warning{Entity: "contact", ERPKey: "k", Kind: "other", Text: "x"})
	}); err == nil {
		t.Error("a warning of an unknown kind was recorded")
	}
}
