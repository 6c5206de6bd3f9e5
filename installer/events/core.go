package events

import (
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"go.uber.org/zap/zapcore"
)

// Rate limits of NewCore: at most Burst events of one message per Window;
// the rest are counted and the count is written with the next one let
// through (or by Sync).
const (
	Burst  = 3
	Window = 10 * time.Minute
	// maxKeys bounds the messages tracked; past it the oldest windows are
	// forgotten.
	maxKeys = 256
)

// NewCore returns a zap core writing warnings and errors to sink, each
// with its event id (ID), rate-limited per message. The text is the
// message and its fields; the log file keeps every entry.
func NewCore(sink Sink) zapcore.Core {
	enc := zapcore.NewConsoleEncoder(zapcore.EncoderConfig{
		MessageKey: "msg", ConsoleSeparator: "  ",
		EncodeDuration: zapcore.StringDurationEncoder, EncodeTime: zapcore.ISO8601TimeEncoder,
	})
	return &core{enc: enc, sink: sink, lim: &limiter{seen: map[key]*window{}}}
}

type core struct {
	enc  zapcore.Encoder
	sink Sink
	lim  *limiter
}

func (c *core) Enabled(l zapcore.Level) bool { return l >= zapcore.WarnLevel }

func (c *core) With(fields []zapcore.Field) zapcore.Core {
	enc := c.enc.Clone()
	for _, f := range fields {
		f.AddTo(enc)
	}
	return &core{enc: enc, sink: c.sink, lim: c.lim}
}

func (c *core) Check(e zapcore.Entry, ce *zapcore.CheckedEntry) *zapcore.CheckedEntry {
	if c.Enabled(e.Level) {
		return ce.AddCore(e, c)
	}
	return ce
}

func (c *core) Write(e zapcore.Entry, fields []zapcore.Field) error {
	id := ID(e.Level, e.Message)
	ok, dropped, since := c.lim.allow(key{id, e.Message}, e.Level, e.Time)
	if !ok {
		return nil
	}
	buf, err := c.enc.EncodeEntry(zapcore.Entry{Message: e.Message}, fields)
	if err != nil {
		return fmt.Errorf("encoding an Event Log entry: %w", err)
	}
	msg := strings.TrimSuffix(buf.String(), "\n")
	buf.Free()
	if dropped > 0 {
		msg += fmt.Sprintf("\n(%d more of this message since %s were left out of the Event Log; the log file has every one)",
			dropped, since.Format(time.RFC3339))
	}
	return c.write(e.Level, id, msg)
}

func (c *core) write(level zapcore.Level, id uint32, msg string) error {
	if level >= zapcore.ErrorLevel {
		return c.sink.Error(id, msg)
	}
	return c.sink.Warning(id, msg)
}

// Sync writes the count of every message left out since it was last
// written, so a burst that ended is still accounted for.
func (c *core) Sync() error {
	var first error
	for _, s := range c.lim.drain() {
		msg := fmt.Sprintf("%s\n(%d more of this message since %s were left out of the Event Log; the log file has every one)",
			s.msg, s.dropped, s.since.Format(time.RFC3339))
		if err := c.write(s.level, s.id, msg); err != nil && first == nil {
			first = err
		}
	}
	return first
}

type key struct {
	id  uint32
	msg string
}

type window struct {
	level   zapcore.Level
	start   time.Time
	written int
	dropped int
	since   time.Time // when the first dropped one came
}

type limiter struct {
	mu   sync.Mutex
	seen map[key]*window
}

// allow says whether an event of k at t is written; when it is, dropped is
// how many of k were left out before it, since when.
func (l *limiter) allow(k key, level zapcore.Level, t time.Time) (ok bool, dropped int, since time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	w := l.seen[k]
	if w == nil || t.Sub(w.start) >= Window {
		if w == nil && len(l.seen) >= maxKeys {
			l.forgetOldest()
		}
		if w != nil {
			dropped, since = w.dropped, w.since
		}
		l.seen[k] = &window{level: level, start: t, written: 1}
		return true, dropped, since
	}
	if w.written < Burst {
		w.written++
		return true, 0, time.Time{}
	}
	if w.dropped == 0 {
		w.since = t
	}
	w.dropped++
	return false, 0, time.Time{}
}

// forgetOldest drops the half of the windows that started first.
func (l *limiter) forgetOldest() {
	type kw struct {
		k key
		t time.Time
	}
	all := make([]kw, 0, len(l.seen))
	for k, w := range l.seen {
		all = append(all, kw{k, w.start})
	}
	sort.Slice(all, func(i, j int) bool { return all[i].t.Before(all[j].t) })
	for _, e := range all[:len(all)/2] {
		delete(l.seen, e.k)
	}
}

type summary struct {
	level   zapcore.Level
	id      uint32
	msg     string
	dropped int
	since   time.Time
}

// drain returns and clears the dropped counts, oldest first.
func (l *limiter) drain() []summary {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []summary
	for k, w := range l.seen {
		if w.dropped > 0 {
			out = append(out, summary{w.level, k.id, k.msg, w.dropped, w.since})
			w.dropped = 0
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].since.Before(out[j].since) })
	return out
}
