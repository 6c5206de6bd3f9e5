// Package installer registers erpbridge with the platform's service manager
// and runs it under that manager: the Windows Service Control Manager
// through golang.org/x/sys/windows/svc (manager_windows.go), systemd or
// System V init through github.com/kardianos/service (manager_other.go).
//
// What it builds is plain data checked by tests on any host: the Windows
// registration (WindowsServiceConfig), the kardianos configuration
// (ServiceConfig), the systemd unit (SystemdUnit) and the command line the
// manager starts (Arguments). Only the cmd/erpbridge "service" command
// touches a real service manager.
package installer
