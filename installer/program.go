package installer

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/kardianos/service"
)

// RunFunc is the long-running part of the service: it runs until ctx is
// done and returns after a graceful stop.
type RunFunc func(ctx context.Context) error

// Program adapts erpbridge to the service manager. Start runs Prepare
// synchronously (reading the config and opening the log file: fast, and an
// error there fails the start visibly instead of crash-looping) and then the
// returned RunFunc in the background, so the manager hears "running" at once
// however long the ERP and the CRM take to answer (no error 1053).
type Program struct {
	// Prepare reads what the service needs and returns what to run.
	Prepare func(ctx context.Context) (RunFunc, error)
	// Log receives lifecycle events and errors (Event Log or system log).
	Log service.Logger
	// StopTimeout bounds how long Stop waits for the run to return.
	StopTimeout time.Duration
	// Exit ends the process when the run fails on its own, so the service
	// manager applies its restart policy (os.Exit in production).
	Exit func(code int)
	// ExitCode maps the run's error to the process exit code.
	ExitCode func(error) int

	mu       sync.Mutex
	cancel   context.CancelFunc
	done     chan struct{}
	stopping bool
}

var _ service.Interface = (*Program)(nil)

// Start prepares the service and starts the run in the background.
func (p *Program) Start(service.Service) error {
	ctx, cancel := context.WithCancel(context.Background())
	run, err := p.Prepare(ctx)
	if err != nil {
		cancel()
		_ = p.Log.Errorf("erpbridge service could not start: %v", err)
		return err
	}
	done := make(chan struct{})
	p.mu.Lock()
	p.cancel, p.done = cancel, done
	p.mu.Unlock()
	go func() {
		defer close(done)
		err := run(ctx)
		p.mu.Lock()
		stopping := p.stopping
		p.mu.Unlock()
		if stopping {
			if err != nil {
				_ = p.Log.Errorf("erpbridge service stopped with an error: %v", err)
			}
			return
		}
		if err == nil {
			err = errors.New("the run ended without being asked to stop")
		}
		_ = p.Log.Errorf("erpbridge service failed: %v", err)
		p.Exit(p.ExitCode(err))
	}()
	_ = p.Log.Info("erpbridge service started")
	return nil
}

// Stop asks the run to stop and waits for it, at most StopTimeout.
func (p *Program) Stop(service.Service) error {
	p.mu.Lock()
	p.stopping = true
	cancel, done := p.cancel, p.done
	p.mu.Unlock()
	if cancel == nil {
		return nil
	}
	_ = p.Log.Info("erpbridge service stopping")
	cancel()
	t := time.NewTimer(p.StopTimeout)
	defer t.Stop()
	select {
	case <-done:
		_ = p.Log.Info("erpbridge service stopped")
		return nil
	case <-t.C:
		err := fmt.Errorf("stopping: the run did not finish within %s", p.StopTimeout)
		_ = p.Log.Error(err)
		return err
	}
}
