//go:build !windows

package installer

import (
	"fmt"
	"os"
)

// InstalledCommandLine returns the command line the installed service named
// name is started with, read from its systemd unit or System V script.
func InstalledCommandLine(name string) (string, error) {
	// erpbridge service install writes /etc/systemd/system; the .deb and
	// .rpm ship the unit in /lib/systemd/system and /usr/lib/systemd/system.
	for _, f := range []string{"/etc/systemd/system/" + name + ".service", "/lib/systemd/system/" + name + ".service",
		"/usr/lib/systemd/system/" + name + ".service", "/etc/init.d/" + name} {
		data, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		if line, ok := commandLineInFile(string(data)); ok {
			return line, nil
		}
	}
	return "", fmt.Errorf("reading the installed service definition: no unit or init script for %s", name)
}
