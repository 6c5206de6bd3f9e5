package installer

import (
	"fmt"
	"time"

	"github.com/erpbridge/erpbridge/installer/layout"
)

// How the service is registered on Windows. `erpbridge service install`
// (Install) and the MSI (packaging/erpbridge.wxs and msi-tables.sql)
// both follow these; the packaging tests hold the MSI to them.
const (
	WindowsStartType    = 2              // SERVICE_AUTO_START ("auto" in the MSI)
	WindowsErrorControl = 1              // SERVICE_ERROR_NORMAL ("normal" in the MSI): a failed start is logged, boot goes on
	WindowsDelayedStart = true           // start after the boot rush (no 1053 at boot); dropped with a warning where refused
	WindowsRestartDelay = time.Minute    // recovery: restart a minute after a failure…
	WindowsResetPeriod  = 24 * time.Hour // …the failure count reset after a day
	WindowsNonCrash     = true           // recovery also when the process ends with an error code, not only on a crash
	WindowsSidType      = 1              // SERVICE_SID_TYPE_UNRESTRICTED: the service SID is in its token whatever the account, so the folder DACLs (layout.WindowsDACL) reach it
	WindowsVirtualUser  = `NT SERVICE\` + layout.Name
)

// WindowsService is one service registration on Windows: the values the
// Service Control Manager gets at install.
type WindowsService struct {
	Name, DisplayName, Description string
	Executable                     string
	Arguments                      []string
	Account                        string // "" = LocalSystem
	Password                       string
	StartType, ErrorControl        uint32
	DelayedAutoStart               bool
	SidType                        uint32
	RestartDelay, ResetPeriod      time.Duration
	RecoverNonCrash                bool
	// Writable are the folders the service writes (data, logs); Readable
	// the files and folders it only reads (the config, the secrets
	// folder). Install gives them the DACLs of layout.WindowsDACL.
	Writable, Readable []string
	// LockConfigDir is the platform config folder (%ProgramData%\erpbridge)
	// when the config sits in it: it is locked as a whole, as the MSI does.
	LockConfigDir string
}

// WindowsServiceConfig builds the Windows registration for s.
// l is the platform layout of the machine (its %ProgramData%).
func WindowsServiceConfig(s Spec, l layout.Layout) (WindowsService, error) {
	s = s.withDefaults()
	if s.GOOS != "windows" {
		return WindowsService{}, fmt.Errorf("checking the service settings: %s is not Windows", s.GOOS)
	}
	if err := s.check(); err != nil {
		return WindowsService{}, fmt.Errorf("checking the service settings: %w", err)
	}
	ws := WindowsService{
		Name: s.Name, DisplayName: s.DisplayName, Description: s.Description,
		Executable: s.Executable, Arguments: Arguments(s.ConfigFile),
		Account: WindowsAccount(s.User), Password: s.Password,
		StartType: WindowsStartType, ErrorControl: WindowsErrorControl, DelayedAutoStart: WindowsDelayedStart,
		SidType:      WindowsSidType,
		RestartDelay: WindowsRestartDelay, ResetPeriod: WindowsResetPeriod, RecoverNonCrash: WindowsNonCrash,
		Writable: []string{s.DataDir},
		Readable: []string{s.ConfigFile, layout.SecretsDir(s.GOOS, s.ConfigFile)},
	}
	if s.LogDir != "" {
		ws.Writable = append(ws.Writable, s.LogDir)
	}
	if l.GOOS == "windows" && l.InConfigDir(s.ConfigFile) {
		ws.LockConfigDir = l.ConfigDir
	}
	return ws, nil
}
