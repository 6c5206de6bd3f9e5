// Package packaging is what the MSI, .deb and .rpm are built from
// (build.sh, erpbridge.wxs, msi-tables.sql, nfpm.yaml and scripts/), and the
// one piece of Go they need: the systemd unit the Linux packages ship,
// rendered by installer.SystemdUnit so that a package and `erpbridge service
// install` never disagree about how the service runs. `go run
// ./installer/packaging/unitgen` prints it.
package packaging

import (
	"fmt"

	"github.com/erpbridge/erpbridge/installer"
	"github.com/erpbridge/erpbridge/installer/layout"
)

// LinuxExecutable is where the .deb and .rpm install the binary.
const LinuxExecutable = "/usr/bin/" + layout.Name

// LinuxSpec is the service the Linux packages install: the packaged binary,
// the packaged config in /etc/erpbridge, and the platform's data and log
// folders, run as the erpbridge system user.
func LinuxSpec() installer.Spec {
	l := layout.For("linux", func(string) string { return "" })
	return installer.Spec{
		GOOS:       "linux",
		Executable: LinuxExecutable,
		ConfigFile: l.ConfigFile(),
		DataDir:    l.DataDir,
		LogDir:     l.LogDir,
		User:       installer.LinuxServiceUser,
	}
}

// LinuxUnit renders the systemd unit the Linux packages ship as
// erpbridge.service.
func LinuxUnit() (string, error) {
	unit, err := installer.SystemdUnit(LinuxSpec())
	if err != nil {
		return "", fmt.Errorf("rendering the packaged systemd unit: %w", err)
	}
	return unit, nil
}
