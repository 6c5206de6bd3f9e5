package bridge

import (
	"strings"
	"testing"
	"time"

	"github.com/erpbridge/erpbridge/bridge/store"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"
)

// Without a terminal, a running pass logs one line every 30 s with N of M,
// the rate and the ETA; a short pass logs none.
func TestLogProgressEveryThirtySeconds(t *testing.T) {
	t0 := time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC)
	pass := func(stream string, run int64, start time.Time, secs, total int64) []Progress {
		var out []Progress
		for s := int64(0); s <= secs; s++ {
			out = append(out, Progress{Stream: stream, RunID: run, Kind: store.RunFull, Total: total,
				Done: s * 2, StartedAt: start, At: start.Add(time.Duration(s) * time.Second)})
		}
		return out
	}
	tests := []struct {
		name   string
		passes [][]Progress
		want   []string
	}{
		{"a long pass", [][]Progress{pass("customers", 7, t0, 95, 200)}, []string{
			"customers: 60 of 200 records done, about 1m10s left",
			"customers: 120 of 200 records done, about 40s left",
			"customers: 180 of 200 records done, about 10s left",
		}},
		{"a short pass", [][]Progress{pass("customers", 7, t0, 29, 200)}, nil},
		{"unknown total", [][]Progress{pass("contacts", 8, t0, 30, -1)}, []string{"contacts: 60 records done"}},
		{"each pass counts from its start", [][]Progress{
			pass("customers", 7, t0, 40, 200), pass("customers", 9, t0.Add(50*time.Second), 40, 200),
		}, []string{
			"customers: 60 of 200 records done, about 1m10s left",
			"customers: 60 of 200 records done, about 1m10s left",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			core, logs := observer.New(zap.InfoLevel)
			o := LogProgress(zap.New(core), ProgressEvery)
			for _, ps := range tt.passes {
				for _, p := range ps {
					o.Progress(p)
				}
			}
			var got []string
			for _, e := range logs.All() {
				got = append(got, e.Message)
				f := e.ContextMap()
				if f["stream"] == nil || f["rate"] == nil || f["run_id"] == nil {
					t.Errorf("line %q lacks stream, rate or run_id: %v", e.Message, f)
				}
			}
			if strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
				t.Fatalf("lines:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
		})
	}
}
