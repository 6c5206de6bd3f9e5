package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"time"

	"github.com/erpbridge/erpbridge/cmd/erpbridge/internal/config"
	"github.com/erpbridge/erpbridge/installer"
	"github.com/erpbridge/erpbridge/installer/events"
	"github.com/erpbridge/erpbridge/installer/layout"
	"github.com/kardianos/service"
	"github.com/spf13/cobra"
	"go.uber.org/zap/zapcore"
)

// serviceStopTimeout bounds Stop under the service manager: the graceful
// stop of "erpbridge run" plus a little for closing the store and logs.
const serviceStopTimeout = stopTimeout + 5*time.Second

// serviceControlTimeout bounds how long service start, stop, restart and
// uninstall wait for the service to run or to stop (Windows).
const serviceControlTimeout = serviceStopTimeout + 15*time.Second

func newServiceCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "service",
		Short: "Install and control erpbridge as a Windows or Linux service",
		Long: `Register erpbridge with the service manager (Windows Service Control Manager,
systemd, or System V init where systemd is absent) and control it.

The service runs what "erpbridge run" runs, with the configuration's absolute
path baked into its command line. See docs/install.md.`,
		Args: cobra.NoArgs,
	}
	cmd.AddCommand(
		newServiceInstallCmd(),
		newServiceControlCmd("uninstall", "Stop and remove the service (config, data and logs are kept)"),
		newServiceControlCmd("start", "Start the installed service"),
		newServiceControlCmd("stop", "Stop the service (the record in flight is finished first)"),
		newServiceControlCmd("restart", "Restart the service (it rereads its configuration)"),
		newServiceStatusCmd(),
		newServiceRunCmd(),
	)
	return cmd
}

// serviceConfigFlag adds --config for the service commands. Its default and
// a relative value resolve as installer.ResolveConfigPath says (from the
// executable's folder on Windows).
func serviceConfigFlag(cmd *cobra.Command, path *string) {
	exeDir, workDir := serviceDirs()
	exists := func(p string) bool {
		return fileExists(installer.ResolveConfigPath(runtime.GOOS, p, exeDir, workDir))
	}
	cmd.Flags().StringVarP(path, "config", "c", defaultConfigPath(os.Getenv, exists, layout.Host()),
		"configuration file (relative paths: from the executable's folder on Windows, else the working folder)")
}

// serviceDirs returns the executable's folder and the working folder ("" if unknown).
func serviceDirs() (exeDir, workDir string) {
	if exe, err := executablePath(); err == nil {
		exeDir = filepath.Dir(exe)
	}
	workDir, _ = os.Getwd()
	return exeDir, workDir
}

// resolveServiceConfig makes --config absolute for the service.
func resolveServiceConfig(path string) string {
	exeDir, workDir := serviceDirs()
	return installer.ResolveConfigPath(runtime.GOOS, path, exeDir, workDir)
}

// executablePath is this binary's absolute path, symlinks resolved.
func executablePath() (string, error) {
	exe, err := os.Executable()
	if err != nil {
		return "", fmt.Errorf("finding the erpbridge executable: %w", err)
	}
	if real, err := filepath.EvalSymlinks(exe); err == nil {
		exe = real
	}
	return exe, nil
}

// loadServiceConfig loads and validates path for the install and status
// commands, tolerating ${NAME} variables this shell does not have and
// ${secret:NAME} secrets not stored yet (or given to the service only, as
// systemd credentials): they are returned in missing.
func loadServiceConfig(path string) (*config.Config, []string, error) {
	seen := map[string]bool{}
	var missing []string
	cfg, err := config.LoadWith(path, os.LookupEnv, func(ref string) (string, bool) {
		if !seen[ref] {
			seen[ref] = true
			missing = append(missing, "${"+ref+"}")
		}
		return "${" + ref + "}", true
	})
	if err != nil {
		return nil, nil, err
	}
	if err := cfg.Validate(); err != nil {
		return nil, nil, fmt.Errorf("%s is not valid:\n%w", cfg.Path(), err)
	}
	sort.Strings(missing)
	return cfg, missing, nil
}

// logDir is the folder of the config's log file ("" when it logs to the
// console only).
func logDir(cfg *config.Config) string {
	if cfg.Log.File == "" {
		return ""
	}
	return filepath.Dir(cfg.Log.File)
}

func newServiceInstallCmd() *cobra.Command {
	var path, user, password, displayName, description string
	cmd := &cobra.Command{
		Use:   "install",
		Short: "Register erpbridge as a service that starts at boot",
		Long: `Register erpbridge with the service manager. The configuration is checked
first; its absolute path is baked into the service's command line, and its
data_dir and log.file (absolute, resolved from the config file's folder) are
created for the service account.

Windows: automatic (delayed) start, restarted a minute after a failure (the
failure count resets daily); the account is LocalSystem unless --user is
given (a local account may be written "name" or ".\name"; --password is its
password). Linux: a systemd unit running as the "erpbridge" system user
(created when missing), restarted on failure, with a read-only file system
except the data and log folders; System V init where systemd is absent.

Run it as root / as Administrator.`,
		Example: `  erpbridge service install --config /etc/erpbridge/erpbridge.toml
  erpbridge.exe service install --config C:\ProgramData\erpbridge\erpbridge.toml --user .\erpbridge --password "…"`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			out := cmd.OutOrStdout()
			exe, err := executablePath()
			if err != nil {
				return err
			}
			cfgPath := resolveServiceConfig(path)
			cfg, missing, err := loadServiceConfig(cfgPath)
			if err != nil {
				return usageError(fmt.Errorf("checking the configuration before installing: %w", err))
			}
			spec := installer.Spec{
				GOOS: runtime.GOOS, DisplayName: displayName, Description: description,
				Executable: exe, ConfigFile: cfg.Path(), DataDir: cfg.DataDir, LogDir: logDir(cfg),
				User: user, Password: password,
			}
			warn := func(msg string) { fmt.Fprintf(cmd.ErrOrStderr(), "warning: %s\n", msg) }
			if err := installer.Install(cmd.Context(), spec, layout.Host(), warn); err != nil {
				return fmt.Errorf("installing the service (run as root / Administrator; to change an installed one, uninstall it first): %w", err)
			}
			fmt.Fprintf(out, "installed service %s (%s)\n", layout.Name, installer.Platform())
			printServicePaths(out, cfg.Path(), "", cfg)
			if len(missing) > 0 {
				fmt.Fprintf(out, "note: the configuration uses %s, not set here: set it for the service (docs/install.md, Secrets)\n",
					strings.Join(missing, ", "))
			}
			fmt.Fprintln(out, "start it with: erpbridge service start")
			return nil
		},
	}
	serviceConfigFlag(cmd, &path)
	cmd.Flags().StringVar(&user, "user", "", `account the service runs as (Windows: default LocalSystem; ".\name", "DOMAIN\name", LocalService, NetworkService; Linux: default erpbridge)`)
	cmd.Flags().StringVar(&password, "password", "", "password of the Windows --user account")
	cmd.Flags().StringVar(&displayName, "display-name", "", "name shown in the services list (default erpbridge)")
	cmd.Flags().StringVar(&description, "description", "", "description shown in the services list")
	return cmd
}

// printServicePaths prints where the service's files are. note says where
// cfgPath comes from when it is not the installed service's command line.
func printServicePaths(w io.Writer, cfgPath, note string, cfg *config.Config) {
	if note != "" {
		note = " (" + note + ")"
	}
	fmt.Fprintf(w, "  config: %s%s\n", cfgPath, note)
	if cfg == nil {
		return
	}
	fmt.Fprintf(w, "  data:   %s\n", cfg.DataDir)
	if cfg.Log.File != "" {
		fmt.Fprintf(w, "  logs:   %s\n", cfg.Log.File)
	} else {
		fmt.Fprintf(w, "  logs:   no log.file: %s only\n", systemLogName())
	}
	if runtime.GOOS == "windows" {
		fmt.Fprintf(w, "  starts, stops, warnings and errors: %s\n", systemLogName())
	} else {
		fmt.Fprintf(w, "  starts, stops and startup errors: %s\n", systemLogName())
	}
}

// systemLogName names where the service's lifecycle events go.
func systemLogName() string {
	if runtime.GOOS == "windows" {
		return `the Windows Event Log (Application, source "erpbridge")`
	}
	return "the system log (journalctl -u erpbridge, or syslog)"
}

func newServiceControlCmd(action, short string) *cobra.Command {
	return &cobra.Command{
		Use:   action,
		Short: short,
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var err error
			if action == "uninstall" {
				warn := func(msg string) { fmt.Fprintf(cmd.ErrOrStderr(), "warning: %s\n", msg) }
				err = installer.Uninstall(layout.Name, serviceControlTimeout, warn)
			} else {
				err = installer.Control(layout.Name, action, serviceControlTimeout)
			}
			if err != nil {
				return fmt.Errorf("running service %s (as root / Administrator?): %w", action, err)
			}
			done := map[string]string{"start": "started", "stop": "stopped", "restart": "restarted", "uninstall": "uninstalled"}[action]
			fmt.Fprintf(cmd.OutOrStdout(), "service %s %s\n", layout.Name, done)
			if action == "uninstall" {
				fmt.Fprintln(cmd.OutOrStdout(), "the configuration, data and logs are kept: delete them by hand if you no longer need them")
			}
			return nil
		},
	}
}

func newServiceStatusCmd() *cobra.Command {
	var path string
	cmd := &cobra.Command{
		Use:   "status",
		Short: "Say whether the service is installed and running, and where its files are",
		Long: `Say whether the service is installed and running, and where its config, data
and logs are. The config is the one in the installed service's command line
(--config when the service is not installed). Exits 0 when running, 1 when
stopped or not installed.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			out := cmd.OutOrStdout()
			st, stErr := installer.Status(layout.Name)
			line, lineErr := installer.InstalledCommandLine(layout.Name)
			installed := !errors.Is(stErr, service.ErrNotInstalled) && (lineErr == nil || runtime.GOOS == "windows")
			state := "stopped"
			switch {
			case !installed:
				state = "not installed"
			case stErr != nil:
				state = "unknown: " + stErr.Error()
			case st == service.StatusRunning:
				state = "running"
			}
			fmt.Fprintf(out, "service %s (%s): %s\n", layout.Name, installer.Platform(), state)
			cfgPath, note := installedConfig(installed, line, lineErr, resolveServiceConfig(path))
			cfg, _, err := loadServiceConfig(cfgPath)
			printServicePaths(out, cfgPath, note, cfg)
			if err != nil {
				fmt.Fprintf(out, "  the configuration cannot be used: %v\n", err)
			}
			if state != "running" {
				return fmt.Errorf("the service is %s", state)
			}
			return nil
		},
	}
	serviceConfigFlag(cmd, &path)
	return cmd
}

// installedConfig is the config the status reports: the one in the
// installed service's command line, else flagPath with a note saying why.
func installedConfig(installed bool, line string, lineErr error, flagPath string) (path, note string) {
	switch {
	case !installed:
		return flagPath, "--config: no service is installed"
	case lineErr != nil:
		return flagPath, fmt.Sprintf("--config: the installed service's command line could not be read: %v", lineErr)
	}
	if p, ok := installer.ConfigFromCommandLine(runtime.GOOS, line); ok {
		return p, ""
	}
	return flagPath, fmt.Sprintf("--config: the installed command line has no --config: %s", line)
}

// newServiceRunCmd is the entry point the service manager starts. It runs
// what "erpbridge run" runs: Start returns at once and the bridge connects
// in the background. Under the Windows service manager, warnings and errors
// also go to the Event Log (installer/events).
func newServiceRunCmd() *cobra.Command {
	var path string
	cmd := &cobra.Command{
		Use:    "run",
		Short:  "Run as the service (started by the service manager)",
		Hidden: true,
		Args:   cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			prg := &installer.Program{StopTimeout: serviceStopTimeout, Exit: os.Exit, ExitCode: exitCode}
			var interactive bool
			setup := func(i bool) {
				interactive = i
				prg.Log = installer.OpenStartupLog(func() (service.Logger, error) { return installer.SystemLogger(layout.Name) },
					interactive, cmd.ErrOrStderr())
			}
			prg.Prepare = func(context.Context) (installer.RunFunc, error) {
				cfg, err := loadConfig(resolveServiceConfig(path))
				if err != nil {
					return nil, err
				}
				console := cmd.ErrOrStderr()
				if !interactive && runtime.GOOS == "windows" {
					console = io.Discard // a Windows service has no console
				}
				var system zapcore.Core
				if !interactive {
					sink, err := installer.EventLogSink(layout.Name)
					if err != nil {
						_ = prg.Log.Warningf("cannot write to the system log (%v): warnings and errors go to the log file only", err)
					} else if sink != nil {
						system = events.NewCore(sink)
					}
				}
				log, closeLog, err := newLoggerWith(cfg, console, system)
				if err != nil {
					return nil, usageError(fmt.Errorf("opening the log: %w", err))
				}
				_ = prg.Log.Infof("erpbridge service configuration: version %s, config %s, data %s, log file %q", version, cfg.Path(), cfg.DataDir, cfg.Log.File)
				if cfg.Log.File == "" && !interactive {
					_ = prg.Log.Warning("log.file is not set: only starts, stops and errors are logged, here")
				}
				return func(ctx context.Context) error {
					defer closeLog()
					return runBridge(ctx, cfg, log)
				}, nil
			}
			return installer.RunService(layout.Name, prg, setup)
		},
	}
	serviceConfigFlag(cmd, &path)
	return cmd
}
