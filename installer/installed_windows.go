//go:build windows

package installer

import (
	"fmt"

	"golang.org/x/sys/windows"
	"golang.org/x/sys/windows/svc/mgr"
)

// InstalledCommandLine returns the command line (ImagePath) the installed
// service named name is started with.
func InstalledCommandLine(name string) (string, error) {
	h, err := windows.OpenSCManager(nil, nil, windows.SC_MANAGER_CONNECT)
	if err != nil {
		return "", fmt.Errorf("connecting to the service manager: %w", err)
	}
	m := &mgr.Mgr{Handle: h}
	defer m.Disconnect()
	p, err := windows.UTF16PtrFromString(name)
	if err != nil {
		return "", fmt.Errorf("reading service %s: %w", name, err)
	}
	sh, err := windows.OpenService(h, p, windows.SERVICE_QUERY_CONFIG)
	if err != nil {
		return "", fmt.Errorf("opening service %s: %w", name, err)
	}
	s := &mgr.Service{Name: name, Handle: sh}
	defer s.Close()
	c, err := s.Config()
	if err != nil {
		return "", fmt.Errorf("reading service %s configuration: %w", name, err)
	}
	return c.BinaryPathName, nil
}
