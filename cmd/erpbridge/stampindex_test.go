package main

import (
	"context"
	"strings"
	"testing"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"github.com/erpbridge/erpbridge/cmd/erpbridge/internal/wiring"
	"github.com/erpbridge/erpbridge/erp/protheus/fixture"
)

// TestNightlyWarnsOfADroppedStampIndex: the nightly pass of `erpbridge
// run` logs nothing while every table has its stamp index, and one
// warning, with the CREATE INDEX that fixes it, for the table whose index
// an ERP upgrade dropped.
func TestNightlyWarnsOfADroppedStampIndex(t *testing.T) {
	dir := t.TempDir()
	fx, _, dsn := createFixture(t, fixture.SQLite, dir)
	cfg, err := loadConfig(doctorConfig(t, dir, "sqlite", dsn))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	erp, err := wiring.OpenERP(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer erp.Close()
	b := &wiring.Bridge{Config: cfg, ERP: erp}
	warnings := func() []observer.LoggedEntry {
		core, logs := observer.New(zapcore.InfoLevel)
		warnStampIndexes(ctx, b, zap.New(core))
		return logs.All()
	}
	if got := warnings(); len(got) != 0 {
		t.Errorf("warnings with every stamp index in place: %v", got)
	}
	if _, err := fx.DB.Exec("DROP INDEX ERPBRIDGE_SC6010_STAMP"); err != nil {
		t.Fatal(err)
	}
	got := warnings()
	if len(got) != 1 {
		t.Fatalf("%d warnings after SC6010's stamp index was dropped, want 1: %v", len(got), got)
	}
	w := got[0]
	if w.Level != zapcore.WarnLevel || !strings.HasPrefix(w.Message, "SC6010: no index on S_T_A_M_P_ serves the incremental poll: its plan reads ") ||
		!strings.HasPrefix(w.ContextMap()["fix"].(string), "CREATE INDEX ERPBRIDGE_SC6010_STAMP ON SC6010 (S_T_A_M_P_, R_E_C_N_O_)") {
		t.Errorf("warning %s %q %v", w.Level, w.Message, w.ContextMap())
	}
}
