//go:build windows

package installer

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"time"
	"unsafe"

	"github.com/erpbridge/erpbridge/installer/events"
	"github.com/erpbridge/erpbridge/installer/layout"
	"github.com/kardianos/service"
	"golang.org/x/sys/windows"
	"golang.org/x/sys/windows/registry"
	"golang.org/x/sys/windows/svc"
	"golang.org/x/sys/windows/svc/eventlog"
	"golang.org/x/sys/windows/svc/mgr"
)

// Windows talks to the Service Control Manager through x/sys/windows/svc/mgr
// directly rather than kardianos/service: kardianos registers with
// ErrorControl 0 and no failure-actions flag, fails (and deletes the
// service) where delayed auto-start is refused, fails uninstall when the
// Event Log source is missing, waits for a stop without bound, and decides
// from the session whether it runs under the service manager (wrong under
// wine). See docs/install.md, "Proven under wine".

// Platform names the service manager.
func Platform() string { return "windows-service" }

// Install registers the service described by s: folders and their DACLs
// first, then the service, its delayed start and recovery (each dropped with
// a warning where the service manager refuses it), then the Event Log
// source. A failure undoes everything done so far.
func Install(_ context.Context, s Spec, l layout.Layout, warn func(string)) (err error) {
	ws, err := WindowsServiceConfig(s, l)
	if err != nil {
		return err
	}
	m, err := mgr.Connect()
	if err != nil {
		return fmt.Errorf("connecting to the service manager: %w", err)
	}
	defer m.Disconnect()
	if old, err := m.OpenService(ws.Name); err == nil {
		old.Close()
		return fmt.Errorf("service %s already exists: uninstall it first", ws.Name)
	}

	var undo []func()
	defer func() {
		if err != nil {
			for i := len(undo) - 1; i >= 0; i-- {
				undo[i]()
			}
		}
	}()
	for _, dir := range ws.Writable {
		created, err := mkdirAllCreated(dir)
		if err != nil {
			return fmt.Errorf("creating %s: %w", dir, err)
		}
		undo = append(undo, func() { removeCreated(created) })
	}
	type lock struct {
		path string
		a    layout.Access
	}
	var locks []lock
	if ws.LockConfigDir != "" {
		locks = append(locks, lock{ws.LockConfigDir, layout.ReadOnly})
	}
	for _, p := range ws.Readable {
		if _, err := os.Stat(p); err == nil { // the secrets folder exists once a secret is set
			locks = append(locks, lock{p, layout.ReadOnly})
		}
	}
	for _, p := range ws.Writable {
		locks = append(locks, lock{p, layout.Writable})
	}
	for _, lk := range locks {
		restore, err := lockPath(lk.path, ws.Name, lk.a)
		if err != nil {
			return fmt.Errorf("setting the permissions of %s: %w", lk.path, err)
		}
		undo = append(undo, restore)
	}

	svcCfg := mgr.Config{
		DisplayName: ws.DisplayName, Description: ws.Description,
		StartType: ws.StartType, ErrorControl: ws.ErrorControl,
		ServiceStartName: ws.Account, Password: ws.Password,
	}
	sv, err := m.CreateService(ws.Name, ws.Executable, svcCfg, ws.Arguments...)
	if err != nil {
		return fmt.Errorf("registering the service: %w", err)
	}
	defer sv.Close()
	undo = append(undo, func() { _ = sv.Delete() })
	if ws.SidType != windows.SERVICE_SID_TYPE_NONE {
		sid := ws.SidType
		if err := windows.ChangeServiceConfig2(sv.Handle, windows.SERVICE_CONFIG_SERVICE_SID_INFO, (*byte)(unsafe.Pointer(&sid))); err != nil {
			warn(fmt.Sprintf("the service manager refused the service SID (%v): an account other than LocalSystem gets no rights from the folder permissions; grant them to the account", err))
		}
	}
	if ws.DelayedAutoStart {
		info := windows.SERVICE_DELAYED_AUTO_START_INFO{IsDelayedAutoStartUp: 1}
		if err := windows.ChangeServiceConfig2(sv.Handle, windows.SERVICE_CONFIG_DELAYED_AUTO_START_INFO, (*byte)(unsafe.Pointer(&info))); err != nil {
			warn(fmt.Sprintf("the service manager refused delayed auto-start (%v): the service starts automatically at boot, without the delay", err))
		}
	}
	actions := []mgr.RecoveryAction{{Type: mgr.ServiceRestart, Delay: ws.RestartDelay}}
	if err := sv.SetRecoveryActions(actions, uint32(ws.ResetPeriod/time.Second)); err != nil {
		warn(fmt.Sprintf("the service manager refused the recovery actions (%v): the service is not restarted after a failure; set them in services.msc → erpbridge → Recovery", err))
	} else if ws.RecoverNonCrash {
		if err := sv.SetRecoveryActionsOnNonCrashFailures(true); err != nil {
			warn(fmt.Sprintf("the service manager refused recovery on errors (%v): only crashes restart the service", err))
		}
	}
	created, err := installEventSource(ws.Name)
	if err != nil {
		return fmt.Errorf("registering the Event Log source %s: %w", ws.Name, err)
	}
	if created {
		undo = append(undo, func() { _ = eventlog.Remove(ws.Name) })
	}
	return nil
}

// installEventSource registers the Event Log source name, as the MSI does;
// created is false when it was there already.
func installEventSource(name string) (created bool, err error) {
	err = eventlog.InstallAsEventCreate(name, eventlog.Error|eventlog.Warning|eventlog.Info)
	if err != nil && strings.Contains(err.Error(), "already exists") {
		return false, nil
	}
	return err == nil, err
}

// mkdirAllCreated creates dir and its parents and returns those it created,
// deepest first.
func mkdirAllCreated(dir string) ([]string, error) {
	var missing []string
	for d := dir; ; {
		if _, err := os.Stat(d); err == nil {
			break
		}
		missing = append(missing, d)
		parent := layout.Dir("windows", d)
		if parent == d {
			break
		}
		d = parent
	}
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, err
	}
	return missing, nil
}

// removeCreated removes folders mkdirAllCreated made, when still empty.
func removeCreated(dirs []string) {
	for _, d := range dirs {
		_ = os.Remove(d)
	}
}

// Uninstall stops the service when it runs, removes it and its Event Log
// source (a source already gone is fine).
func Uninstall(name string, stopTimeout time.Duration, warn func(string)) error {
	m, err := mgr.Connect()
	if err != nil {
		return fmt.Errorf("connecting to the service manager: %w", err)
	}
	defer m.Disconnect()
	sv, err := m.OpenService(name)
	if err != nil {
		if errors.Is(err, windows.ERROR_SERVICE_DOES_NOT_EXIST) {
			return fmt.Errorf("service %s is not installed", name)
		}
		return fmt.Errorf("opening service %s: %w", name, err)
	}
	defer sv.Close()
	if st, err := sv.Query(); err == nil && st.State != svc.Stopped {
		if err := stopAndWait(sv, stopTimeout); err != nil {
			warn(fmt.Sprintf("the service did not stop (%v): it is removed once it has stopped", err))
		}
	}
	if err := sv.Delete(); err != nil {
		return fmt.Errorf("removing service %s: %w", name, err)
	}
	if err := eventlog.Remove(name); err != nil && !errors.Is(err, registry.ErrNotExist) {
		warn(fmt.Sprintf("removing the Event Log source %s: %v", name, err))
	}
	return nil
}

// Control starts, stops or restarts the installed service and waits (at
// most timeout) until it runs or has stopped.
func Control(name, action string, timeout time.Duration) error {
	m, err := lowPrivMgr()
	if err != nil {
		return err
	}
	defer m.Disconnect()
	sv, err := openService(m, name, windows.SERVICE_QUERY_STATUS|windows.SERVICE_START|windows.SERVICE_STOP)
	if err != nil {
		return err
	}
	defer sv.Close()
	switch action {
	case "start":
		return startAndWait(sv, timeout)
	case "stop":
		return stopAndWait(sv, timeout)
	case "restart":
		if st, err := sv.Query(); err == nil && st.State != svc.Stopped {
			if err := stopAndWait(sv, timeout); err != nil {
				return err
			}
		}
		return startAndWait(sv, timeout)
	}
	return fmt.Errorf("unknown service action %q", action)
}

// Status says whether the service runs.
func Status(name string) (service.Status, error) {
	m, err := lowPrivMgr()
	if err != nil {
		return service.StatusUnknown, err
	}
	defer m.Disconnect()
	sv, err := openService(m, name, windows.SERVICE_QUERY_STATUS)
	if err != nil {
		if errors.Is(err, service.ErrNotInstalled) {
			return service.StatusUnknown, service.ErrNotInstalled
		}
		return service.StatusUnknown, err
	}
	defer sv.Close()
	st, err := sv.Query()
	if err != nil {
		return service.StatusUnknown, fmt.Errorf("querying service %s: %w", name, err)
	}
	switch st.State {
	case svc.Running, svc.StartPending:
		return service.StatusRunning, nil
	default:
		return service.StatusStopped, nil
	}
}

// InstalledCommandLine returns the command line (ImagePath) the installed
// service named name is started with. It asks QueryServiceConfig alone: the
// level-2 and level-3 queries mgr.Service.Config adds are missing on wine.
func InstalledCommandLine(name string) (string, error) {
	m, err := lowPrivMgr()
	if err != nil {
		return "", err
	}
	defer m.Disconnect()
	sv, err := openService(m, name, windows.SERVICE_QUERY_CONFIG)
	if err != nil {
		return "", err
	}
	defer sv.Close()
	n := uint32(1024)
	for {
		b := make([]byte, n)
		p := (*windows.QUERY_SERVICE_CONFIG)(unsafe.Pointer(&b[0]))
		err := windows.QueryServiceConfig(sv.Handle, p, n, &n)
		if err == nil {
			return windows.UTF16PtrToString(p.BinaryPathName), nil
		}
		if !errors.Is(err, windows.ERROR_INSUFFICIENT_BUFFER) || n <= uint32(len(b)) {
			return "", fmt.Errorf("reading service %s configuration: %w", name, err)
		}
	}
}

func lowPrivMgr() (*mgr.Mgr, error) {
	h, err := windows.OpenSCManager(nil, nil, windows.SC_MANAGER_CONNECT)
	if err != nil {
		return nil, fmt.Errorf("connecting to the service manager: %w", err)
	}
	return &mgr.Mgr{Handle: h}, nil
}

// openService opens name with access; a missing service is
// service.ErrNotInstalled.
func openService(m *mgr.Mgr, name string, access uint32) (*mgr.Service, error) {
	p, err := windows.UTF16PtrFromString(name)
	if err != nil {
		return nil, fmt.Errorf("opening service %s: %w", name, err)
	}
	h, err := windows.OpenService(m.Handle, p, access)
	if errors.Is(err, windows.ERROR_SERVICE_DOES_NOT_EXIST) {
		return nil, service.ErrNotInstalled
	}
	if err != nil {
		return nil, fmt.Errorf("opening service %s: %w", name, err)
	}
	return &mgr.Service{Name: name, Handle: h}, nil
}

// pollEvery is how often a start or stop is checked on.
const pollEvery = 100 * time.Millisecond

func startAndWait(sv *mgr.Service, timeout time.Duration) error {
	if err := sv.Start(); err != nil && !errors.Is(err, windows.ERROR_SERVICE_ALREADY_RUNNING) {
		return fmt.Errorf("starting: %w", err)
	}
	deadline := time.Now().Add(timeout)
	for {
		st, err := sv.Query()
		if err != nil {
			return fmt.Errorf("querying: %w", err)
		}
		switch st.State {
		case svc.Running:
			return nil
		case svc.Stopped:
			return fmt.Errorf("the service stopped during its start (%s): the Event Log (Application, source %s) says why", exitCodes(st), sv.Name)
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("the service is not running after %s (state %d)", timeout, st.State)
		}
		time.Sleep(pollEvery)
	}
}

func stopAndWait(sv *mgr.Service, timeout time.Duration) error {
	st, err := sv.Control(svc.Stop)
	if err != nil && !errors.Is(err, windows.ERROR_SERVICE_NOT_ACTIVE) {
		return fmt.Errorf("stopping: %w", err)
	}
	deadline := time.Now().Add(timeout)
	for st.State != svc.Stopped {
		if time.Now().After(deadline) {
			return fmt.Errorf("the service has not stopped after %s (state %d)", timeout, st.State)
		}
		time.Sleep(pollEvery)
		if st, err = sv.Query(); err != nil {
			return fmt.Errorf("querying: %w", err)
		}
	}
	if st.Win32ExitCode != 0 {
		return fmt.Errorf("the service stopped with an error (%s)", exitCodes(st))
	}
	return nil
}

func exitCodes(st svc.Status) string {
	if st.Win32ExitCode == uint32(windows.ERROR_SERVICE_SPECIFIC_ERROR) {
		return fmt.Sprintf("exit code %d", st.ServiceSpecificExitCode)
	}
	return fmt.Sprintf("Win32 exit code %d", st.Win32ExitCode)
}

// SystemLogger opens the Event Log source name.
func SystemLogger(name string) (service.Logger, error) {
	el, err := eventlog.Open(name)
	if err != nil {
		return nil, fmt.Errorf("opening the Event Log source %s: %w", name, err)
	}
	return events.Logger{Sink: el}, nil
}

// RunService runs prg under the service manager: svc.Run directly, whatever
// the session (wine runs services in session 1, where svc.IsWindowsService
// and kardianos say "not a service"). Started from a console instead,
// svc.Run fails with ERROR_FAILED_SERVICE_CONTROLLER_CONNECT and prg runs
// until Ctrl+C. setup is called once, before prg starts, with whether it
// runs from a console.
func RunService(name string, prg *Program, setup func(interactive bool)) error {
	h := &handler{prg: prg, setup: setup}
	err := svc.Run(name, h)
	if errors.Is(err, windows.ERROR_FAILED_SERVICE_CONTROLLER_CONNECT) {
		setup(true)
		if err := prg.Start(nil); err != nil {
			return err
		}
		sig := make(chan os.Signal, 1)
		signal.Notify(sig, os.Interrupt)
		defer signal.Stop(sig)
		<-sig
		return prg.Stop(nil)
	}
	if err != nil {
		return fmt.Errorf("running under the service manager: %w", err)
	}
	return h.err
}

// handler is the svc.Handler of the service: "running" as soon as prg has
// started (its run connects in the background), a graceful stop on Stop and
// Shutdown.
type handler struct {
	prg   *Program
	setup func(bool)
	err   error
}

func (h *handler) Execute(_ []string, req <-chan svc.ChangeRequest, status chan<- svc.Status) (bool, uint32) {
	status <- svc.Status{State: svc.StartPending}
	h.setup(false)
	if err := h.prg.Start(nil); err != nil {
		h.err = err
		return true, uint32(h.prg.ExitCode(err))
	}
	status <- svc.Status{State: svc.Running, Accepts: svc.AcceptStop | svc.AcceptShutdown}
	for c := range req {
		switch c.Cmd {
		case svc.Interrogate:
			status <- c.CurrentStatus
		case svc.Stop, svc.Shutdown:
			status <- svc.Status{State: svc.StopPending, WaitHint: uint32(h.prg.StopTimeout / time.Millisecond)}
			if err := h.prg.Stop(nil); err != nil {
				h.err = err
				return true, uint32(h.prg.ExitCode(err))
			}
			return false, 0
		}
	}
	return false, 0
}

// EventLogSink opens the Event Log source name for the service's warnings
// and errors (events.NewCore).
func EventLogSink(name string) (events.Sink, error) {
	el, err := eventlog.Open(name)
	if err != nil {
		return nil, fmt.Errorf("opening the Event Log source %s: %w", name, err)
	}
	return el, nil
}
