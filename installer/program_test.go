package installer

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"
)

// recordLog is a service.Logger that keeps what it is given.
type recordLog struct {
	mu    sync.Mutex
	lines []string
}

func (r *recordLog) add(level, msg string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.lines = append(r.lines, level+": "+msg)
	return nil
}

func (r *recordLog) text() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return strings.Join(r.lines, "\n")
}

func (r *recordLog) Error(v ...any) error              { return r.add("error", fmt.Sprint(v...)) }
func (r *recordLog) Warning(v ...any) error            { return r.add("warning", fmt.Sprint(v...)) }
func (r *recordLog) Info(v ...any) error               { return r.add("info", fmt.Sprint(v...)) }
func (r *recordLog) Errorf(f string, a ...any) error   { return r.add("error", fmt.Sprintf(f, a...)) }
func (r *recordLog) Warningf(f string, a ...any) error { return r.add("warning", fmt.Sprintf(f, a...)) }
func (r *recordLog) Infof(f string, a ...any) error    { return r.add("info", fmt.Sprintf(f, a...)) }

// newProgram returns a Program whose Exit records the code.
func newProgram(prepare func(context.Context) (RunFunc, error)) (*Program, *recordLog, chan int) {
	log := &recordLog{}
	exits := make(chan int, 1)
	return &Program{
		Prepare: prepare, Log: log, StopTimeout: 2 * time.Second,
		Exit:     func(code int) { exits <- code },
		ExitCode: func(error) int { return 7 },
	}, log, exits
}

func TestStartReturnsAtOnceWhileTheRunConnects(t *testing.T) {
	connecting := make(chan struct{})
	stopped := make(chan struct{})
	p, log, exits := newProgram(func(context.Context) (RunFunc, error) {
		return func(ctx context.Context) error {
			close(connecting)
			<-ctx.Done() // a slow ERP and CRM: still connecting when Stop comes
			time.Sleep(50 * time.Millisecond)
			close(stopped)
			return nil
		}, nil
	})
	start := time.Now()
	if err := p.Start(nil); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d > time.Second {
		t.Fatalf("Start took %s: the service manager would report error 1053", d)
	}
	<-connecting
	if err := p.Stop(nil); err != nil {
		t.Fatal(err)
	}
	select {
	case <-stopped:
	default:
		t.Fatal("Stop returned before the run finished")
	}
	select {
	case code := <-exits:
		t.Fatalf("a requested stop exited the process with %d", code)
	default:
	}
	for _, want := range []string{"info: erpbridge service started", "info: erpbridge service stopping", "info: erpbridge service stopped"} {
		if !strings.Contains(log.text(), want) {
			t.Errorf("system log lacks %q:\n%s", want, log.text())
		}
	}
}

func TestStartReportsAConfigurationErrorToTheSystemLog(t *testing.T) {
	p, log, _ := newProgram(func(context.Context) (RunFunc, error) {
		return nil, errors.New("reading config: open C:\\Windows\\System32\\erpbridge.toml: not found")
	})
	err := p.Start(nil)
	if err == nil {
		t.Fatal("Start succeeded with a bad config")
	}
	if !strings.Contains(log.text(), `error: erpbridge service could not start: reading config: open C:\Windows\System32\erpbridge.toml`) {
		t.Errorf("system log:\n%s", log.text())
	}
	if err := p.Stop(nil); err != nil {
		t.Errorf("Stop after a failed start: %v", err)
	}
}

func TestARunThatFailsOnItsOwnExitsForTheRestartPolicy(t *testing.T) {
	p, log, exits := newProgram(func(context.Context) (RunFunc, error) {
		return func(context.Context) error { return errors.New("another erpbridge is using this data directory") }, nil
	})
	if err := p.Start(nil); err != nil {
		t.Fatal(err)
	}
	select {
	case code := <-exits:
		if code != 7 {
			t.Errorf("exit code %d, want ExitCode's 7", code)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the process did not exit after the run failed")
	}
	if !strings.Contains(log.text(), "error: erpbridge service failed: another erpbridge is using this data directory") {
		t.Errorf("system log:\n%s", log.text())
	}
}

func TestStopGivesUpAfterStopTimeout(t *testing.T) {
	release := make(chan struct{})
	defer close(release)
	p, log, _ := newProgram(func(context.Context) (RunFunc, error) {
		return func(context.Context) error { <-release; return nil }, nil // ignores ctx
	})
	p.StopTimeout = 100 * time.Millisecond
	if err := p.Start(nil); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	err := p.Stop(nil)
	if err == nil || !strings.Contains(err.Error(), "did not finish within 100ms") {
		t.Fatalf("Stop = %v", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("Stop took %s", d)
	}
	if !strings.Contains(log.text(), "did not finish") {
		t.Errorf("system log:\n%s", log.text())
	}
}
