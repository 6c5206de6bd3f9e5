//go:build windows

package installer

import (
	"fmt"

	"github.com/erpbridge/erpbridge/installer/layout"
	"golang.org/x/sys/windows"
)

// lockPath gives path the DACL of layout.WindowsDACL and returns what puts
// the previous one back.
func lockPath(path, service string, a layout.Access) (restore func(), err error) {
	old, err := windows.GetNamedSecurityInfo(path, windows.SE_FILE_OBJECT, windows.DACL_SECURITY_INFORMATION)
	if err != nil {
		return nil, fmt.Errorf("reading the permissions: %w", err)
	}
	if err := ApplyDACL(path, service, a); err != nil {
		return nil, err
	}
	return func() {
		dacl, _, err := old.DACL()
		if err != nil {
			return
		}
		info := windows.SECURITY_INFORMATION(windows.DACL_SECURITY_INFORMATION | windows.UNPROTECTED_DACL_SECURITY_INFORMATION)
		if ctl, _, err := old.Control(); err == nil && ctl&windows.SE_DACL_PROTECTED != 0 {
			info = windows.DACL_SECURITY_INFORMATION | windows.PROTECTED_DACL_SECURITY_INFORMATION
		}
		_ = windows.SetNamedSecurityInfo(path, windows.SE_FILE_OBJECT, info, nil, nil, dacl, nil)
	}, nil
}

// ApplyDACL sets the DACL of layout.WindowsDACL for service on path.
func ApplyDACL(path, service string, a layout.Access) error {
	sd, err := windows.SecurityDescriptorFromString(layout.WindowsDACL(service, a))
	if err != nil {
		return fmt.Errorf("building the permissions: %w", err)
	}
	dacl, _, err := sd.DACL()
	if err != nil {
		return fmt.Errorf("building the permissions: %w", err)
	}
	err = windows.SetNamedSecurityInfo(path, windows.SE_FILE_OBJECT,
		windows.DACL_SECURITY_INFORMATION|windows.PROTECTED_DACL_SECURITY_INFORMATION, nil, nil, dacl, nil)
	if err != nil {
		return fmt.Errorf("setting the permissions of %s: %w", path, err)
	}
	return nil
}
