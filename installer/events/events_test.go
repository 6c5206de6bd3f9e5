package events

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
)

// eventLog keeps what a Sink receives, as the Event Log would show it.
type eventLog struct {
	mu     sync.Mutex
	events []event
}

type event struct {
	level string
	id    uint32
	msg   string
}

func (l *eventLog) add(level string, id uint32, msg string) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.events = append(l.events, event{level, id, msg})
	return nil
}

func (l *eventLog) Info(id uint32, msg string) error    { return l.add("info", id, msg) }
func (l *eventLog) Warning(id uint32, msg string) error { return l.add("warning", id, msg) }
func (l *eventLog) Error(id uint32, msg string) error   { return l.add("error", id, msg) }

func TestEventIDs(t *testing.T) {
	tests := []struct {
		level zapcore.Level
		msg   string
		want  uint32
	}{
		{zapcore.InfoLevel, "erpbridge service started", 1},
		{zapcore.InfoLevel, "erpbridge service stopped", 3},
		{zapcore.ErrorLevel, "erpbridge service stopped with an error: x", 212},
		{zapcore.ErrorLevel, "erpbridge service could not start: reading config: open C:\\x", 210},
		{zapcore.ErrorLevel, "erpbridge service failed: another erpbridge is using this data directory", 211},
		{zapcore.WarnLevel, "record rejected", 101},
		{zapcore.WarnLevel, "record deferred", 101},
		{zapcore.WarnLevel, "won deals: a deal failed; it is tried again later", 102},
		{zapcore.ErrorLevel, "won deals: run failed", 202},
		{zapcore.WarnLevel, "reload: [log] changes take effect at the next start", 103},
		{zapcore.ErrorLevel, "reload: the configuration is not valid; going on with the running one", 203},
		{zapcore.ErrorLevel, "run finished", 201},
		{zapcore.DPanicLevel, "run finished", 201}, // above error counts as error
		{zapcore.WarnLevel, "something new", OtherWarning},
		{zapcore.ErrorLevel, "something new", OtherError},
		{zapcore.InfoLevel, "scheduled", OtherInfo},
	}
	for _, tt := range tests {
		if got := ID(tt.level, tt.msg); got != tt.want {
			t.Errorf("ID(%s, %q) = %d, want %d", tt.level, tt.msg, got, tt.want)
		}
	}
	seen := map[uint32]bool{OtherInfo: true, OtherWarning: true, OtherError: true}
	for _, k := range Kinds {
		if seen[k.ID] {
			t.Errorf("event id %d used twice", k.ID)
		}
		seen[k.ID] = true
		if k.ID < 1 || k.ID > 1000 {
			t.Errorf("event id %d: EventCreate.exe describes 1–1000 only", k.ID)
		}
	}
}

// TestEveryKindIsLoggedSomewhere: each prefix is the start of a message
// erpbridge logs (a renamed message would silently fall to a generic id).
func TestEveryKindIsLoggedSomewhere(t *testing.T) {
	var code strings.Builder
	root := filepath.Join("..", "..")
	err := filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && p != root && (d.Name() == "testdata" || strings.HasPrefix(d.Name(), ".")) {
			return filepath.SkipDir
		}
		if strings.HasSuffix(p, ".go") && !strings.HasSuffix(p, "_test.go") && !strings.Contains(p, filepath.Join("installer", "events")) {
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			code.Write(b)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range Kinds {
		for _, p := range k.Prefixes {
			if !regexp.MustCompile(`"` + regexp.QuoteMeta(p)).MatchString(code.String()) {
				t.Errorf("event %d: no message starting %q in the code", k.ID, p)
			}
		}
	}
}

// TestEventIDsAreDocumented: docs/install.md lists every id.
func TestEventIDsAreDocumented(t *testing.T) {
	doc, err := os.ReadFile(filepath.Join("..", "..", "docs", "install.md"))
	if err != nil {
		t.Fatal(err)
	}
	ids := []uint32{OtherInfo, OtherWarning, OtherError}
	for _, k := range Kinds {
		ids = append(ids, k.ID)
	}
	for _, id := range ids {
		if !regexp.MustCompile(fmt.Sprintf(`(?m)^\| %d \|`, id)).Match(doc) {
			t.Errorf("docs/install.md has no row for event id %d", id)
		}
	}
}

func TestCoreWritesWarningsAndErrorsWithTheirIDsAndFields(t *testing.T) {
	el := &eventLog{}
	log := zap.New(NewCore(el)).With(zap.String("run_id", "7"))
	log.Info("scheduled")
	log.Warn("record rejected", zap.String("stream", "customers"), zap.String("erp_key", "|000033|01"))
	log.Error("run finished", zap.String("stream", "contacts"), zap.Error(fmt.Errorf("reading SU5: connection refused")))
	want := []event{
		{"warning", 101, `record rejected  {"run_id": "7", "stream": "customers", "erp_key": "|000033|01"}`},
		{"error", 201, `run finished  {"run_id": "7", "stream": "contacts", "error": "reading SU5: connection refused"}`},
	}
	if fmt.Sprint(el.events) != fmt.Sprint(want) {
		t.Errorf("events:\n%v\nwant\n%v", el.events, want)
	}
}

func TestRepeatsAreRateLimitedAndCounted(t *testing.T) {
	el := &eventLog{}
	c := NewCore(el)
	t0 := time.Date(2026, 11, 3, 8, 0, 0, 0, time.UTC)
	write := func(at time.Duration, msg string) {
		e := zapcore.Entry{Level: zapcore.WarnLevel, Message: msg, Time: t0.Add(at)}
		if ce := c.Check(e, nil); ce != nil {
			ce.Write()
		}
	}
	for i := range 10 { // a burst of one message: Burst of them get through
		write(time.Duration(i)*time.Second, "record rejected")
	}
	write(11*time.Second, "record deferred") // another message has its own budget
	if len(el.events) != Burst+1 {
		t.Fatalf("%d events after a burst of 10, want %d:\n%v", len(el.events), Burst+1, el.events)
	}
	write(Window+time.Minute, "record rejected") // next window: written, with the count
	last := el.events[len(el.events)-1]
	if last.id != 101 || !strings.Contains(last.msg, "(7 more of this message since 2026-11-03T08:00:03Z were left out of the Event Log") {
		t.Errorf("first event of the next window: %+v", last)
	}
	for i := range 5 {
		write(Window+time.Minute+time.Duration(i+1)*time.Second, "record rejected")
	}
	n := len(el.events)
	if err := c.Sync(); err != nil { // a burst that ended is still counted
		t.Fatal(err)
	}
	if len(el.events) != n+1 || !strings.Contains(el.events[n].msg, "(3 more of this message") || el.events[n].level != "warning" {
		t.Errorf("Sync wrote %v, want the count of the 3 left out", el.events[n:])
	}
	if err := c.Sync(); err != nil || len(el.events) != n+1 {
		t.Errorf("a second Sync wrote again: %v (%v)", el.events[n+1:], err)
	}
}

func TestLoggerGivesLifecycleEventsTheirIDs(t *testing.T) {
	el := &eventLog{}
	l := Logger{Sink: el}
	_ = l.Info("erpbridge service started")
	_ = l.Errorf("erpbridge service could not start: %s", "reading config: open C:\\x: not found")
	_ = l.Warning("log.file is not set: only starts, stops and errors are logged, here")
	want := []event{
		{"info", 1, "erpbridge service started"},
		{"error", 210, "erpbridge service could not start: reading config: open C:\\x: not found"},
		{"warning", 104, "log.file is not set: only starts, stops and errors are logged, here"},
	}
	if fmt.Sprint(el.events) != fmt.Sprint(want) {
		t.Errorf("events:\n%v\nwant\n%v", el.events, want)
	}
}
