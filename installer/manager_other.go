//go:build !windows

package installer

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/erpbridge/erpbridge/installer/events"
	"github.com/erpbridge/erpbridge/installer/layout"
	"github.com/kardianos/service"
)

// Outside Windows the service manager is reached through kardianos/service:
// systemd, or System V init where systemd is absent.

// Platform names the service manager.
func Platform() string { return service.ChosenSystem().String() }

// nop is the service.Interface of the control commands, which never run it.
type nop struct{}

func (nop) Start(service.Service) error { return nil }
func (nop) Stop(service.Service) error  { return nil }

func control(name string) (service.Service, error) {
	s, err := service.New(nop{}, &service.Config{Name: name})
	if err != nil {
		return nil, fmt.Errorf("connecting to the service manager: %w", err)
	}
	return s, nil
}

// Install prepares the service account (the system user, its folders, read
// access to the config) and registers the service described by s.
func Install(ctx context.Context, s Spec, _ layout.Layout, _ func(string)) error {
	cfg, err := ServiceConfig(s)
	if err != nil {
		return err
	}
	if _, err := Status(cfg.Name); !errors.Is(err, service.ErrNotInstalled) {
		return fmt.Errorf("service %s already exists: uninstall it first", cfg.Name)
	}
	if err := PrepareLinux(ctx, SystemHost{}, s); err != nil {
		return fmt.Errorf("preparing the service account (run as root): %w", err)
	}
	sv, err := service.New(nop{}, cfg)
	if err != nil {
		return fmt.Errorf("connecting to the service manager: %w", err)
	}
	if err := sv.Install(); err != nil {
		return fmt.Errorf("registering the service: %w", err)
	}
	return nil
}

// Uninstall stops the service when it runs and removes it.
func Uninstall(name string, _ time.Duration, _ func(string)) error {
	sv, err := control(name)
	if err != nil {
		return err
	}
	if st, err := sv.Status(); err == nil && st == service.StatusRunning {
		if err := sv.Stop(); err != nil {
			return fmt.Errorf("stopping the service before uninstalling: %w", err)
		}
	}
	return sv.Uninstall()
}

// Control starts, stops or restarts the installed service.
func Control(name, action string, _ time.Duration) error {
	sv, err := control(name)
	if err != nil {
		return err
	}
	switch action {
	case "start":
		return sv.Start()
	case "stop":
		return sv.Stop()
	case "restart":
		return sv.Restart()
	}
	return fmt.Errorf("unknown service action %q", action)
}

// Status says whether the service runs.
func Status(name string) (service.Status, error) {
	sv, err := control(name)
	if err != nil {
		return service.StatusUnknown, err
	}
	return sv.Status()
}

// SystemLogger opens the system log (syslog, which journald collects).
func SystemLogger(name string) (service.Logger, error) {
	sv, err := control(name)
	if err != nil {
		return nil, err
	}
	return sv.SystemLogger(nil)
}

// RunService runs prg under the service manager (or from a shell, until
// SIGINT or SIGTERM). setup is called once, before prg starts, with whether
// it runs from a terminal.
func RunService(name string, prg *Program, setup func(interactive bool)) error {
	sv, err := service.New(prg, &service.Config{Name: name})
	if err != nil {
		return fmt.Errorf("connecting to the service manager: %w", err)
	}
	setup(service.Interactive())
	return sv.Run()
}

// EventLogSink is nil: outside Windows, warnings and errors reach the
// system log through the console (the journal) and the log file.
func EventLogSink(string) (events.Sink, error) { return nil, nil }
