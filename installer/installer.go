package installer

import (
	"errors"
	"fmt"
	"strings"

	"github.com/erpbridge/erpbridge/installer/layout"
	"github.com/kardianos/service"
)

const (
	LinuxServiceUser       = layout.Name // the dedicated system user on Linux
	defaultDisplayName     = "erpbridge"
	defaultDescriptionText = "Keeps the ERP in step with RD Station CRM (erpbridge)."
)

// Spec describes the service to install. Paths must be absolute for GOOS.
type Spec struct {
	GOOS        string // target platform: "windows", "linux", …
	Name        string // service name; "" = erpbridge
	DisplayName string // "" = erpbridge
	Description string // "" = a one-line description
	Executable  string // the erpbridge binary
	ConfigFile  string // baked into the service's arguments
	DataDir     string // data_dir from the configuration (writable by the service)
	LogDir      string // folder of log.file ("" when the config logs to the console only)
	User        string // account; "" = LocalSystem on Windows, erpbridge on Linux
	Password    string // Windows account password; "" for built-in accounts
}

// withDefaults fills the optional fields.
func (s Spec) withDefaults() Spec {
	if s.Name == "" {
		s.Name = layout.Name
	}
	if s.DisplayName == "" {
		s.DisplayName = defaultDisplayName
	}
	if s.Description == "" {
		s.Description = defaultDescriptionText
	}
	if s.User == "" && s.GOOS != "windows" {
		s.User = LinuxServiceUser
	}
	return s
}

// check refuses a spec the service manager would run badly: relative paths
// start in C:\Windows\System32 or / and lose the files.
func (s Spec) check() error {
	var errs []error
	for _, p := range []struct{ name, path string }{
		{"executable", s.Executable}, {"config file", s.ConfigFile}, {"data directory", s.DataDir},
	} {
		if !layout.IsAbs(s.GOOS, p.path) {
			errs = append(errs, fmt.Errorf("the %s path %q is not absolute", p.name, p.path))
		}
	}
	if s.LogDir != "" && !layout.IsAbs(s.GOOS, s.LogDir) {
		errs = append(errs, fmt.Errorf("the log directory %q is not absolute", s.LogDir))
	}
	if s.GOOS != "windows" && s.Password != "" {
		errs = append(errs, errors.New("--password applies to Windows accounts only"))
	}
	return errors.Join(errs...)
}

// Arguments is the command line the service manager starts erpbridge with:
// the hidden "service run" entry point and the absolute config file.
func Arguments(configFile string) []string {
	return []string{"service", "run", "--config", configFile}
}

// ServiceConfig builds the kardianos/service configuration for s, a
// systemd or System V service (Windows: WindowsServiceConfig).
func ServiceConfig(s Spec) (*service.Config, error) {
	s = s.withDefaults()
	if s.GOOS == "windows" {
		return nil, errors.New("checking the service settings: a Windows service is built by WindowsServiceConfig")
	}
	if err := s.check(); err != nil {
		return nil, fmt.Errorf("checking the service settings: %w", err)
	}
	unit, err := SystemdUnit(s)
	if err != nil {
		return nil, err
	}
	c := &service.Config{
		Name:        s.Name,
		DisplayName: s.DisplayName,
		Description: s.Description,
		Executable:  s.Executable,
		Arguments:   Arguments(s.ConfigFile),
		UserName:    s.User,
		// kardianos renders SystemdScript with its own template engine; the
		// unit is already complete text with no template actions in it.
		Option: service.KeyValue{"SystemdScript": unit, "Restart": "on-failure"},
	}
	return c, nil
}

// WindowsAccount turns --user into the account name the Service Control
// Manager expects: "" and LocalSystem run as LocalSystem; LocalService and
// NetworkService get their NT AUTHORITY prefix; "virtual" is the service's
// virtual account NT SERVICE\erpbridge; a bare local account gets ".\" (the
// SCM refuses "user" without it, kardianos/service#318); DOMAIN\user,
// NT SERVICE\name and user@domain stay as they are.
func WindowsAccount(user string) string {
	switch strings.ToLower(user) {
	case "", "localsystem", `nt authority\system`:
		return ""
	case "localservice", `nt authority\localservice`:
		return `NT AUTHORITY\LocalService`
	case "networkservice", `nt authority\networkservice`:
		return `NT AUTHORITY\NetworkService`
	case "virtual":
		return WindowsVirtualUser
	}
	if strings.ContainsAny(user, `\@`) {
		return user
	}
	return `.\` + user
}

// ResolveConfigPath makes a --config value absolute for the service. On
// Windows a relative path resolves from the executable's folder: an
// administrator's prompt and the service manager both start in
// C:\Windows\System32, where nothing of erpbridge lives. Elsewhere it
// resolves from the working folder, as a shell user expects.
func ResolveConfigPath(goos, p, exeDir, workDir string) string {
	if goos == "windows" {
		return layout.Resolve(goos, exeDir, p)
	}
	return layout.Resolve(goos, workDir, p)
}
