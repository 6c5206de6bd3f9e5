package installer

import (
	"fmt"
	"strings"

	"github.com/erpbridge/erpbridge/installer/layout"
)

// SystemdUnit renders the systemd unit for s: started once the network is
// online, restarted on failure (but not for an invalid configuration, exit
// code 2, which a restart cannot fix), run as the dedicated user, and
// sandboxed: the file system is read-only except the data and log folders.
// Secrets referenced as ${NAME} in the config can be set in
// /etc/default/erpbridge or /etc/sysconfig/erpbridge (NAME=value lines).
func SystemdUnit(s Spec) (string, error) {
	s = s.withDefaults()
	if err := s.check(); err != nil {
		return "", fmt.Errorf("checking the service settings: %w", err)
	}
	writable := []string{s.DataDir}
	if s.LogDir != "" && !layout.Within(s.GOOS, s.LogDir, s.DataDir) {
		writable = append(writable, s.LogDir)
	}
	protectHome := "yes"
	for _, p := range append([]string{s.ConfigFile, s.Executable}, writable...) {
		for _, home := range []string{"/home", "/root", "/run/user"} {
			if layout.Within(s.GOOS, p, home) {
				// yes would hide the folder entirely; read-only lets
				// ReadWritePaths open the data and log folders again.
				protectHome = "read-only"
			}
		}
	}
	args := []string{systemdQuote(s.Executable)}
	for _, a := range Arguments(s.ConfigFile) {
		args = append(args, systemdQuote(a))
	}
	quoted := make([]string, len(writable))
	for i, w := range writable {
		quoted[i] = systemdQuote(w)
	}

	var b strings.Builder
	line := func(format string, a ...any) { fmt.Fprintf(&b, format+"\n", a...) }
	line("[Unit]")
	line("Description=%s", oneLine(s.Description))
	line("Documentation=https://github.com/erpbridge/erpbridge/blob/main/docs/install.md")
	line("After=network-online.target")
	line("Wants=network-online.target")
	line("")
	line("[Service]")
	line("Type=simple")
	if s.User != "root" {
		line("User=%s", s.User)
		line("Group=%s", s.User)
	}
	line("ExecStart=%s", strings.Join(args, " "))
	line("ExecReload=/bin/kill -HUP $MAINPID") // erpbridge rereads its config on SIGHUP
	line("EnvironmentFile=-/etc/default/%s", s.Name)
	line("EnvironmentFile=-/etc/sysconfig/%s", s.Name)
	line("Restart=on-failure")
	line("RestartSec=60")
	line("RestartPreventExitStatus=2")
	line("TimeoutStopSec=30")
	line("UMask=0027")
	line("NoNewPrivileges=yes")
	line("ProtectSystem=strict")
	line("ReadWritePaths=%s", strings.Join(quoted, " "))
	line("ProtectHome=%s", protectHome)
	line("PrivateTmp=yes")
	line("PrivateDevices=yes")
	line("ProtectKernelTunables=yes")
	line("ProtectKernelModules=yes")
	line("ProtectKernelLogs=yes")
	line("ProtectControlGroups=yes")
	line("ProtectClock=yes")
	line("ProtectHostname=yes")
	line("RestrictNamespaces=yes")
	line("RestrictRealtime=yes")
	line("RestrictSUIDSGID=yes")
	line("LockPersonality=yes")
	line("MemoryDenyWriteExecute=yes")
	line("RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6")
	line("SystemCallArchitectures=native")
	line("CapabilityBoundingSet=")
	line("")
	line("[Install]")
	line("WantedBy=multi-user.target")
	unit := b.String()
	if strings.Contains(unit, "{{") {
		// kardianos would read it as a template action.
		return "", fmt.Errorf("rendering the systemd unit: a path contains %q", "{{")
	}
	return unit, nil
}

// systemdQuote quotes a word for a systemd unit: specifiers (%) and
// variable references ($) are escaped, and a word with spaces, quotes or
// backslashes is double-quoted.
func systemdQuote(w string) string {
	w = strings.ReplaceAll(w, "%", "%%")
	w = strings.ReplaceAll(w, "$", "$$")
	if w != "" && !strings.ContainsAny(w, " \t\"'\\;") {
		return w
	}
	w = strings.ReplaceAll(w, `\`, `\\`)
	w = strings.ReplaceAll(w, `"`, `\"`)
	return `"` + w + `"`
}

// oneLine keeps a free-text value on one line of the unit.
func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}
