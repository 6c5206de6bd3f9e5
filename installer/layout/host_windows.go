//go:build windows

package layout

import (
	"os"
	"strings"

	"golang.org/x/sys/windows"
)

// hostGetenv is os.Getenv, but %ProgramData% comes from the known folder
// (FOLDERID_ProgramData), which every process sees alike: the environment
// variable is a copy its parent may have set otherwise (wine gives services
// C:\users\Public), and the service must find the files the installer put
// in C:\ProgramData.
func hostGetenv(key string) string {
	if strings.EqualFold(key, "ProgramData") {
		if p, err := windows.KnownFolderPath(windows.FOLDERID_ProgramData, 0); err == nil && p != "" {
			return p
		}
	}
	return os.Getenv(key)
}
