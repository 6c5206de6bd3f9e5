package bridge

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/erpbridge/erpbridge/bridge/store"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"
)

// TestAStopIsRecordedAsInterrupted: Ctrl-C, SIGTERM or a service stop in
// the middle of a run is not a failure: the run reads as interrupted, is
// logged at INFO (never ERROR), and the next run finishes the work.
func TestAStopIsRecordedAsInterrupted(t *testing.T) {
	v := newEnv(t, DeletesIgnore)
	core, logs := observer.New(zapcore.DebugLevel)
	var err error
	v.e, err = New(v.st, []*Stream{{Name: "customers", Source: v.src, Mapper: v.mapper, Target: v.crm, Mode: ModeUpsert,
		Deletes: DeletesIgnore}}, Options{Now: func() time.Time { return v.now }, Logger: zap.New(core)})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	crm := &stopCRM{fakeCRM: fakeCRM{recs: map[string]string{}}, cancel: cancel}
	v.e.streams["customers"].Target = crm
	for i := range 5 {
		v.src.set(fmt.Sprint("K", i), fmt.Sprint("n", i), false)
	}
	rep, err := v.e.Sync(ctx, "customers", SyncOptions{})
	if err != nil || rep.Err != nil || !rep.Interrupted {
		t.Fatalf("stopped run: err %v, report err %v, interrupted %v; want no error and interrupted", err, rep.Err, rep.Interrupted)
	}
	run, ok, err := v.st.LastRun(context.Background(), "customers")
	if err != nil || !ok {
		t.Fatal(ok, err)
	}
	if run.Status != store.RunInterrupted || run.Stats.Err != "" {
		t.Errorf("stored run: status %s, error %q; want interrupted without an error", run.Status, run.Stats.Err)
	}
	if n := logs.FilterLevelExact(zapcore.ErrorLevel).Len(); n != 0 {
		t.Errorf("%d ERROR lines for a stop request: %v", n, logs.FilterLevelExact(zapcore.ErrorLevel).All())
	}
	if logs.FilterMessageSnippet("interrupted by a stop request").Len() != 1 {
		t.Errorf("no INFO line saying the run was interrupted: %v", logs.All())
	}
	if rep := v.sync(); rep.Interrupted || rep.Err != nil {
		t.Fatalf("the next run: %+v", rep)
	}
	if len(crm.recs) != 5 {
		t.Errorf("after the next run the CRM holds %d records, want 5", len(crm.recs))
	}
	if run, _, _ := v.st.LastRun(context.Background(), "customers"); run.Status != store.RunOK {
		t.Errorf("the next run reads %s, want ok", run.Status)
	}
}
