package wiring

import (
	"sync"
	"testing"

	"github.com/erpbridge/erpbridge/bridge"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"
)

// progressLog records what an observer is told.
type progressLog struct {
	mu     sync.Mutex
	seen   []bridge.Progress
	final  []bridge.Report
	writes []bridge.Write
}

func (l *progressLog) Progress(p bridge.Progress) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.seen = append(l.seen, p)
}

func (l *progressLog) Finished(rep bridge.Report) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.final = append(l.final, rep)
}

func (l *progressLog) Wrote(w bridge.Write) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.writes = append(l.writes, w)
}

func (l *progressLog) reset() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.seen, l.final, l.writes = nil, nil, nil
}

// A pass says ahead how many ERP rows it reads (N of M), and its counters
// move record by record: a backfill shows its creates while it runs, not
// only at its end.
func TestProgressCountsThePassAheadAndMovesPerWrite(t *testing.T) {
	e := newEngineEnv(t, nil)
	obs := &progressLog{}
	e.b.Close()
	b, err := Open(e.ctx, e.cfg, Options{Clock: e.clk, Observer: obs})
	if err != nil {
		t.Fatal(err)
	}
	e.b = b
	t.Cleanup(func() { b.Close() })

	rep := e.sync("customers", bridge.SyncOptions{})
	if rep.Stats.Created == 0 {
		t.Fatalf("the first sync created nothing: %+v", rep.Stats)
	}
	if len(obs.final) != 1 || obs.final[0].RunID != rep.RunID {
		t.Fatalf("Finished calls = %+v, want the one run %d", obs.final, rep.RunID)
	}
	first, last := obs.seen[0], obs.seen[len(obs.seen)-1]
	if first.Done != 0 || first.Total != rep.Stats.Read || first.Stream != "customers" || first.RunID != rep.RunID {
		t.Fatalf("first progress = %+v, want Done 0 of Total %d (every row the pass reads)", first, rep.Stats.Read)
	}
	if last.Done != last.Total || last.Stats.Created != rep.Stats.Created {
		t.Fatalf("last progress = Done %d of %d, created %d; want all done and %d created", last.Done, last.Total, last.Stats.Created, rep.Stats.Created)
	}
	var midway, waiting bool
	for i, p := range obs.seen {
		if i > 0 && p.Done < obs.seen[i-1].Done {
			t.Fatalf("progress went back: %d after %d", p.Done, obs.seen[i-1].Done)
		}
		midway = midway || (p.Stats.Created > 0 && p.Stats.Created < rep.Stats.Created)
		waiting = waiting || p.Done < p.Stats.Read
	}
	if !midway {
		t.Error("no progress showed some but not all of the creates: the counters moved only at the end")
	}
	if !waiting {
		t.Error("no progress showed records read whose writes had not left yet as not done")
	}

	// Every confirmed create of a row with a stamp is told with its ERP
	// change time (the fixture has rows with a NULL stamp: no lead time).
	if n := int64(len(obs.writes)); n == 0 || n > rep.Stats.Created || n < rep.Stats.Created-5 {
		t.Fatalf("%d writes told, want the %d creates but the few rows without a stamp", n, rep.Stats.Created)
	}
	for _, w := range obs.writes {
		if w.Stream != "customers" || w.ERPKey == "" || w.CRMID == "" || !w.Created || w.ERPChangedAt.IsZero() || w.At.IsZero() {
			t.Fatalf("write told = %+v, want the stream, keys, the create, its ERP change time and when", w)
		}
	}

	// An incremental poll counts its changes (the overlap window's) ahead too.
	obs.reset()
	e.clk.Advance(10 * 60e9)
	rep = e.sync("customers", bridge.SyncOptions{})
	if got := obs.seen[0].Total; got != rep.Stats.Read {
		t.Fatalf("poll: Total %d ahead, read %d", got, rep.Stats.Read)
	}
}

// Successful writes are logged at DEBUG with the fields every record line
// carries: stream, erp_key, crm_id and run_id.
func TestSuccessfulWritesLoggedAtDebug(t *testing.T) {
	e := newEngineEnv(t, nil)
	core, logs := observer.New(zap.DebugLevel)
	e.b.Close()
	b, err := Open(e.ctx, e.cfg, Options{Clock: e.clk, Logger: zap.New(core)})
	if err != nil {
		t.Fatal(err)
	}
	e.b = b
	t.Cleanup(func() { b.Close() })
	rep := e.sync("customers", bridge.SyncOptions{})
	created := logs.FilterMessage("record created").All()
	if int64(len(created)) != rep.Stats.Created {
		t.Fatalf("%d \"record created\" lines, want one per create (%d)", len(created), rep.Stats.Created)
	}
	for _, l := range created {
		f := l.ContextMap()
		if l.Level != zap.DebugLevel || f["stream"] != "customers" || f["erp_key"] == "" || f["crm_id"] == "" || f["run_id"] != rep.RunID {
			t.Fatalf("line %v %v, want DEBUG with stream, erp_key, crm_id and run_id %d", l.Level, f, rep.RunID)
		}
	}
}
