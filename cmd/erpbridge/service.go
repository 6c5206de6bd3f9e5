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
	"github.com/erpbridge/erpbridge/installer/layout"
	"github.com/kardianos/service"
	"github.com/spf13/cobra"
)

// serviceStopTimeout bounds Stop under the service manager: the graceful
// stop of "erpbridge run" plus a little for closing the store and logs.
const serviceStopTimeout = stopTimeout + 5*time.Second

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

// newService binds prg to the platform's service manager under cfg.
func newService(prg service.Interface, cfg *service.Config) (service.Service, error) {
	s, err := service.New(prg, cfg)
	if err != nil {
		return nil, fmt.Errorf("connecting to the service manager: %w", err)
	}
	return s, nil
}

// controlOnly is the service configuration the control commands need: the
// service manager finds the installed service by name.
func controlOnly() *service.Config { return &service.Config{Name: layout.Name} }

// lenientEnv looks ${NAME} up in the environment; an unset one keeps its
// reference and is recorded in missing (the service may have it when this
// shell does not).
func lenientEnv(missing map[string]bool) func(string) (string, bool) {
	return func(name string) (string, bool) {
		if v, ok := os.LookupEnv(name); ok {
			return v, true
		}
		missing[name] = true
		return "${" + name + "}", true
	}
}

// loadServiceConfig loads and validates path for the install and status
// commands, tolerating ${NAME} variables this shell does not have.
func loadServiceConfig(path string) (*config.Config, []string, error) {
	missing := map[string]bool{}
	cfg, err := config.LoadWithEnv(path, lenientEnv(missing))
	if err != nil {
		return nil, nil, err
	}
	if err := cfg.Validate(); err != nil {
		return nil, nil, fmt.Errorf("%s is not valid:\n%w", cfg.Path(), err)
	}
	names := make([]string, 0, len(missing))
	for n := range missing {
		names = append(names, n)
	}
	sort.Strings(names)
	return cfg, names, nil
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
			svcCfg, err := installer.ServiceConfig(spec)
			if err != nil {
				return usageError(err)
			}
			if err := prepareHost(cmd.Context(), spec); err != nil {
				return err
			}
			s, err := newService(&installer.Program{}, svcCfg)
			if err != nil {
				return err
			}
			if err := s.Install(); err != nil {
				return fmt.Errorf("installing the service (run as root / Administrator; to change an installed one, uninstall it first): %w", err)
			}
			fmt.Fprintf(out, "installed service %s (%s)\n", svcCfg.Name, s.Platform())
			printServicePaths(out, cfg.Path(), cfg)
			if len(missing) > 0 {
				fmt.Fprintf(out, "note: the configuration uses %s, not set here: set it in the service's environment (docs/install.md)\n",
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

// prepareHost creates what the service account needs before the service
// is registered: on Linux the system user and its folders, on Windows the
// data and log folders.
func prepareHost(ctx context.Context, spec installer.Spec) error {
	if spec.GOOS != "windows" {
		if err := installer.PrepareLinux(ctx, installer.SystemHost{}, spec); err != nil {
			return fmt.Errorf("preparing the service account (run as root): %w", err)
		}
		return nil
	}
	for _, dir := range []string{spec.DataDir, spec.LogDir} {
		if dir == "" {
			continue
		}
		if err := os.MkdirAll(dir, 0o750); err != nil {
			return fmt.Errorf("creating %s: %w", dir, err)
		}
	}
	return nil
}

// printServicePaths prints where the service's files are.
func printServicePaths(w io.Writer, cfgPath string, cfg *config.Config) {
	fmt.Fprintf(w, "  config: %s\n", cfgPath)
	if cfg == nil {
		return
	}
	fmt.Fprintf(w, "  data:   %s\n", cfg.DataDir)
	if cfg.Log.File != "" {
		fmt.Fprintf(w, "  logs:   %s\n", cfg.Log.File)
	} else {
		fmt.Fprintf(w, "  logs:   no log.file: %s only\n", systemLogName())
	}
	fmt.Fprintf(w, "  starts, stops and startup errors: %s\n", systemLogName())
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
			s, err := newService(&installer.Program{}, controlOnly())
			if err != nil {
				return err
			}
			switch action {
			case "start":
				err = s.Start()
			case "stop":
				err = s.Stop()
			case "restart":
				err = s.Restart()
			case "uninstall":
				if st, serr := s.Status(); serr == nil && st == service.StatusRunning {
					if err := s.Stop(); err != nil {
						return fmt.Errorf("stopping the service before uninstalling: %w", err)
					}
				}
				err = s.Uninstall()
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
			s, err := newService(&installer.Program{}, controlOnly())
			if err != nil {
				return err
			}
			st, stErr := s.Status()
			line, lineErr := installer.InstalledCommandLine(layout.Name)
			state := "stopped"
			switch {
			case errors.Is(stErr, service.ErrNotInstalled), lineErr != nil && runtime.GOOS != "windows":
				state = "not installed"
			case stErr != nil:
				state = "unknown: " + stErr.Error()
			case st == service.StatusRunning:
				state = "running"
			}
			fmt.Fprintf(out, "service %s (%s): %s\n", layout.Name, s.Platform(), state)
			cfgPath := resolveServiceConfig(path)
			if lineErr == nil {
				if p, ok := installer.ConfigFromCommandLine(runtime.GOOS, line); ok {
					cfgPath = p
				}
			}
			cfg, _, err := loadServiceConfig(cfgPath)
			printServicePaths(out, cfgPath, cfg)
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

// newServiceRunCmd is the entry point the service manager starts. It runs
// what "erpbridge run" runs, under kardianos/service: Start returns at once
// and the bridge connects in the background.
func newServiceRunCmd() *cobra.Command {
	var path string
	cmd := &cobra.Command{
		Use:    "run",
		Short:  "Run as the service (started by the service manager)",
		Hidden: true,
		Args:   cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			prg := &installer.Program{StopTimeout: serviceStopTimeout, Exit: os.Exit, ExitCode: exitCode}
			s, err := newService(prg, controlOnly())
			if err != nil {
				return err
			}
			interactive := service.Interactive()
			sysLog := installer.OpenStartupLog(s, interactive, cmd.ErrOrStderr())
			prg.Log = sysLog
			prg.Prepare = func(context.Context) (installer.RunFunc, error) {
				cfg, err := loadConfig(resolveServiceConfig(path))
				if err != nil {
					return nil, err
				}
				console := cmd.ErrOrStderr()
				if !interactive && runtime.GOOS == "windows" {
					console = io.Discard // a Windows service has no console
				}
				log, closeLog, err := newLogger(cfg, console)
				if err != nil {
					return nil, usageError(fmt.Errorf("opening the log: %w", err))
				}
				_ = sysLog.Infof("erpbridge %s: config %s, data %s, log file %q", version, cfg.Path(), cfg.DataDir, cfg.Log.File)
				if cfg.Log.File == "" && !interactive {
					_ = sysLog.Warning("log.file is not set: only starts, stops and errors are logged, here")
				}
				return func(ctx context.Context) error {
					defer closeLog()
					return runBridge(ctx, cfg, log)
				}, nil
			}
			return s.Run()
		},
	}
	serviceConfigFlag(cmd, &path)
	return cmd
}
