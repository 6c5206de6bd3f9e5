package main

import (
	"fmt"
	"io"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/erpbridge/erpbridge/bridge"
	"github.com/vbauerster/mpb/v8"
	"github.com/vbauerster/mpb/v8/decor"
	"go.uber.org/zap"
	"golang.org/x/term"
)

// syncProgress is how `sync` shows its passes: a live bar per stream on a
// terminal, otherwise (a service, CI, a pipe) one log line per stream every
// 30 s. done stops the bars; call it before printing the report.
func syncProgress(console io.Writer, log *zap.Logger) (obs bridge.Observer, done func()) {
	if f, ok := console.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		b := newBars(console)
		return b, b.stop
	}
	return bridge.LogProgress(log, bridge.ProgressEvery), func() {}
}

// bars draws one progress bar per stream: N of M, the rate and the ETA, the
// same figures the progress log lines carry.
type bars struct {
	p    *mpb.Progress
	mu   sync.Mutex
	bars map[string]*streamBar
}

type streamBar struct {
	bar *mpb.Bar
	p   bridge.Progress // guarded by bars.mu
	// shown is what the label draws; an atomic, not bars.mu: mpb calls the
	// label while a bar call made under bars.mu waits for it.
	shown atomic.Pointer[bridge.Progress]
}

func newBars(out io.Writer, opts ...mpb.ContainerOption) *bars {
	opts = append([]mpb.ContainerOption{mpb.WithOutput(out), mpb.WithWidth(40), mpb.WithRefreshRate(150 * time.Millisecond)}, opts...)
	return &bars{p: mpb.New(opts...), bars: map[string]*streamBar{}}
}

// Progress implements bridge.Observer.
func (b *bars) Progress(p bridge.Progress) {
	b.mu.Lock()
	defer b.mu.Unlock()
	sb := b.bars[p.Stream]
	if sb == nil || sb.p.RunID != p.RunID || !sb.p.StartedAt.Equal(p.StartedAt) {
		if sb != nil && !sb.bar.Completed() {
			sb.bar.Abort(false)
		}
		sb = &streamBar{p: p}
		sb.shown.Store(&p)
		sb.bar = b.p.AddBar(max(p.Total, 0),
			mpb.PrependDecorators(decor.Name(p.Stream, decor.WCSyncSpaceR)),
			mpb.AppendDecorators(decor.Any(func(decor.Statistics) string { return label(*sb.shown.Load()) })))
		b.bars[p.Stream] = sb
	}
	sb.p = p
	sb.shown.Store(&p)
	if p.Total < 0 {
		sb.bar.SetTotal(p.Done+1, false) // unknown: the bar stays short of full until the end
	} else if p.Done > p.Total {
		sb.bar.SetTotal(p.Done, false) // rows added since the count
	}
	sb.bar.SetCurrent(p.Done)
}

// label is the text after a bar: "N of M · R/s · ETA".
func label(p bridge.Progress) string {
	s := fmt.Sprintf("%d", p.Done)
	if p.Total >= 0 {
		s = fmt.Sprintf("%d of %d", p.Done, max(p.Total, p.Done))
	}
	s += fmt.Sprintf(" · %.1f/s", p.Rate())
	if eta, ok := p.ETA(); ok {
		s += " · ETA " + eta.String()
	}
	return s
}

// Finished implements bridge.Observer: the stream's bar is complete.
func (b *bars) Finished(rep bridge.Report) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if sb := b.bars[rep.Stream]; sb != nil && !sb.bar.Completed() {
		sb.bar.SetTotal(-1, true)
	}
}

// Wrote implements bridge.Observer: the bars show counts, not lead times.
func (b *bars) Wrote(bridge.Write) {}

// stop completes any bar left (a stop request) and waits for the last
// drawing.
func (b *bars) stop() {
	b.mu.Lock()
	for _, sb := range b.bars {
		if !sb.bar.Completed() && !sb.bar.Aborted() {
			sb.bar.Abort(false)
		}
	}
	b.mu.Unlock()
	b.p.Wait()
}
