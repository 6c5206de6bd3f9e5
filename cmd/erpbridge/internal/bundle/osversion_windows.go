package bundle

import (
	"fmt"
	"runtime"

	"golang.org/x/sys/windows"
)

// OS describes the operating system: Windows with its version and build.
func OS() string {
	v := windows.RtlGetVersion()
	return fmt.Sprintf("Windows %d.%d build %d (%s)", v.MajorVersion, v.MinorVersion, v.BuildNumber, runtime.GOARCH)
}
