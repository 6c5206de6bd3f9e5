package main

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/erpbridge/erpbridge/bridge"
	"github.com/erpbridge/erpbridge/bridge/store"
	"github.com/vbauerster/mpb/v8"
)

// The text after a stream's bar: N of M, the rate and the ETA.
func TestBarLabel(t *testing.T) {
	t0 := time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC)
	tests := []struct {
		p    bridge.Progress
		want string
	}{
		{bridge.Progress{Total: 3000, Done: 0, StartedAt: t0, At: t0}, "0 of 3000 · 0.0/s"},
		{bridge.Progress{Total: 3000, Done: 150, StartedAt: t0, At: t0.Add(90 * time.Second)}, "150 of 3000 · 1.7/s · ETA 28m30s"},
		{bridge.Progress{Total: -1, Done: 40, StartedAt: t0, At: t0.Add(20 * time.Second)}, "40 · 2.0/s"},
		{bridge.Progress{Total: 10, Done: 12, StartedAt: t0, At: t0.Add(2 * time.Second)}, "12 of 12 · 6.0/s · ETA 0s"},
	}
	for _, tt := range tests {
		if got := label(tt.p); got != tt.want {
			t.Errorf("label(%d of %d) = %q, want %q", tt.p.Done, tt.p.Total, got, tt.want)
		}
	}
}

// A sync's passes draw one bar per stream that ends full, named, with its
// counts; a second pass of a stream gets a new bar.
func TestBarsDrawEachPass(t *testing.T) {
	var out bytes.Buffer
	b := newBars(&out, mpb.WithAutoRefresh())
	t0 := time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC)
	for _, s := range []struct {
		stream string
		run    int64
		total  int64
	}{{"customers", 1, 120}, {"contacts", 2, -1}, {"customers", 3, 4}} {
		for i := int64(0); i <= 120 && (s.total < 0 || i <= s.total); i++ {
			b.Progress(bridge.Progress{Stream: s.stream, RunID: s.run, Kind: store.RunFull, Total: s.total, Done: i,
				StartedAt: t0.Add(time.Duration(s.run) * time.Hour), At: t0.Add(time.Duration(s.run)*time.Hour + time.Duration(i)*time.Second)})
		}
		b.Finished(bridge.Report{Stream: s.stream, RunID: s.run})
	}
	b.stop()
	got := out.String()
	for _, want := range []string{"customers", "120 of 120", "contacts", "120 · 1.0/s", "4 of 4"} {
		if !strings.Contains(got, want) {
			t.Errorf("the bars lack %q:\n%s", want, got)
		}
	}
}
