//go:build !unix && !windows

package bundle

import "runtime"

// OS names the operating system.
func OS() string { return runtime.GOOS + " (" + runtime.GOARCH + ")" }
