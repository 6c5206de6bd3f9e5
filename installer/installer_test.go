package installer

import (
	"strings"
	"testing"
	"time"

	"github.com/erpbridge/erpbridge/installer/layout"
	"github.com/google/go-cmp/cmp"
)

func linuxSpec() Spec {
	return Spec{
		GOOS: "linux", Executable: "/usr/bin/erpbridge", ConfigFile: "/etc/erpbridge/erpbridge.toml",
		DataDir: "/var/lib/erpbridge", LogDir: "/var/log/erpbridge",
	}
}

func windowsSpec() Spec {
	return Spec{
		GOOS: "windows", Executable: `C:\Program Files\erpbridge\erpbridge.exe`,
		ConfigFile: `C:\ProgramData\erpbridge\erpbridge.toml`,
		DataDir:    `C:\ProgramData\erpbridge\data`, LogDir: `C:\ProgramData\erpbridge\logs`,
	}
}

func TestResolveConfigPathPerPlatform(t *testing.T) {
	tests := []struct {
		name, goos, p, exeDir, workDir, want string
	}{
		{"windows relative from the executable, not System32", "windows", "erpbridge.toml",
			`C:\Program Files\erpbridge`, `C:\Windows\System32`, `C:\Program Files\erpbridge\erpbridge.toml`},
		{"windows subfolder", "windows", `conf\erpbridge.toml`,
			`C:\erpbridge`, `C:\Windows\System32`, `C:\erpbridge\conf\erpbridge.toml`},
		{"windows absolute kept", "windows", `D:\erp\erpbridge.toml`,
			`C:\erpbridge`, `C:\Windows\System32`, `D:\erp\erpbridge.toml`},
		{"windows default", "windows", `C:\ProgramData\erpbridge\erpbridge.toml`,
			`C:\erpbridge`, `C:\Windows\System32`, `C:\ProgramData\erpbridge\erpbridge.toml`},
		{"linux relative from the working folder", "linux", "erpbridge.toml",
			"/usr/local/bin", "/home/admin", "/home/admin/erpbridge.toml"},
		{"linux absolute kept", "linux", "/etc/erpbridge/erpbridge.toml",
			"/usr/local/bin", "/", "/etc/erpbridge/erpbridge.toml"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := ResolveConfigPath(tt.goos, tt.p, tt.exeDir, tt.workDir); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestWindowsServiceConfigRegistersLikeTheMSI(t *testing.T) {
	programData := layout.For("windows", func(string) string { return `C:\ProgramData` })
	s := windowsSpec()
	s.User, s.Password = "svc-erpbridge", "s3cret"
	got, err := WindowsServiceConfig(s, programData)
	if err != nil {
		t.Fatal(err)
	}
	want := WindowsService{
		Name: "erpbridge", DisplayName: "erpbridge", Description: defaultDescriptionText,
		Executable: s.Executable,
		Arguments:  []string{"service", "run", "--config", `C:\ProgramData\erpbridge\erpbridge.toml`},
		Account:    `.\svc-erpbridge`, Password: "s3cret",
		StartType: 2, ErrorControl: 1, DelayedAutoStart: true, SidType: 1,
		RestartDelay: time.Minute, ResetPeriod: 24 * time.Hour, RecoverNonCrash: true,
		Writable:      []string{`C:\ProgramData\erpbridge\data`, `C:\ProgramData\erpbridge\logs`},
		Readable:      []string{`C:\ProgramData\erpbridge\erpbridge.toml`, `C:\ProgramData\erpbridge\secrets`},
		LockConfigDir: `C:\ProgramData\erpbridge`,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("registration (-want +got):\n%s", diff)
	}

	// A config elsewhere: its own files are locked, never its folder (a
	// desktop or a shared folder would lose its grants).
	s.ConfigFile, s.DataDir, s.LogDir = `D:\erp\erpbridge.toml`, `D:\erp\data`, ""
	got, err = WindowsServiceConfig(s, programData)
	if err != nil {
		t.Fatal(err)
	}
	if got.LockConfigDir != "" || !cmp.Equal(got.Writable, []string{`D:\erp\data`}) ||
		!cmp.Equal(got.Readable, []string{`D:\erp\erpbridge.toml`, `D:\erp\secrets`}) {
		t.Errorf("config in D:\\erp: locks folder %q, writable %q, readable %q", got.LockConfigDir, got.Writable, got.Readable)
	}
}

func TestLinuxServiceConfigUsesTheHardenedUnitAndTheDedicatedUser(t *testing.T) {
	c, err := ServiceConfig(linuxSpec())
	if err != nil {
		t.Fatal(err)
	}
	if c.UserName != "erpbridge" {
		t.Errorf("user = %q, want erpbridge", c.UserName)
	}
	for _, a := range c.Arguments[3:] {
		if !strings.HasPrefix(a, "/") {
			t.Errorf("argument %q is not absolute", a)
		}
	}
	unit, _ := c.Option["SystemdScript"].(string)
	want, err := SystemdUnit(linuxSpec())
	if err != nil {
		t.Fatal(err)
	}
	if unit != want {
		t.Errorf("SystemdScript is not the rendered unit:\n%s", unit)
	}
	if _, err := ServiceConfig(windowsSpec()); err == nil {
		t.Error("ServiceConfig built a Windows service: WindowsServiceConfig does")
	}
}

func TestServiceConfigRefusesPathsThatDependOnTheWorkingFolder(t *testing.T) {
	tests := []struct {
		name   string
		modify func(*Spec)
		want   string
	}{
		{"relative config", func(s *Spec) { s.ConfigFile = "erpbridge.toml" }, "config file"},
		{"relative data", func(s *Spec) { s.DataDir = "erpbridge-data" }, "data directory"},
		{"relative logs", func(s *Spec) { s.LogDir = "logs" }, "log directory"},
		{"linux path on windows", func(s *Spec) { s.GOOS = "windows" }, "not absolute"},
		{"password on linux", func(s *Spec) { s.Password = "x" }, "--password"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := linuxSpec()
			tt.modify(&s)
			var err error
			if s.GOOS == "windows" {
				_, err = WindowsServiceConfig(s, layout.For("windows", func(string) string { return "" }))
			} else {
				_, err = ServiceConfig(s)
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want one mentioning %q", err, tt.want)
			}
		})
	}
}

func TestWindowsAccount(t *testing.T) {
	tests := map[string]string{
		"":                            "",
		"LocalSystem":                 "",
		"localservice":                `NT AUTHORITY\LocalService`,
		"NetworkService":              `NT AUTHORITY\NetworkService`,
		`NT AUTHORITY\NetworkService`: `NT AUTHORITY\NetworkService`,
		"erpbridge":                   `.\erpbridge`,
		`.\erpbridge`:                 `.\erpbridge`,
		`CORP\svc-erp`:                `CORP\svc-erp`,
		"virtual":                     `NT SERVICE\erpbridge`,
		`NT SERVICE\erpbridge`:        `NT SERVICE\erpbridge`,
		"svc-erp@corp.example":        "svc-erp@corp.example",
	}
	for in, want := range tests {
		if got := WindowsAccount(in); got != want {
			t.Errorf("WindowsAccount(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestConfigFromCommandLine(t *testing.T) {
	tests := []struct {
		name, goos, line, want string
		ok                     bool
	}{
		{"windows image path with spaces", "windows",
			`"C:\Program Files\erpbridge\erpbridge.exe" service run --config "C:\ProgramData\erp bridge\erpbridge.toml"`,
			`C:\ProgramData\erp bridge\erpbridge.toml`, true},
		{"windows unquoted", "windows", `C:\erpbridge\erpbridge.exe service run --config C:\erpbridge\erpbridge.toml`,
			`C:\erpbridge\erpbridge.toml`, true},
		{"windows UNC", "windows", `C:\e.exe service run -c \\srv\share\erpbridge.toml`, `\\srv\share\erpbridge.toml`, true},
		{"systemd quoted", "linux", `/usr/bin/erpbridge service run --config "/etc/erp bridge/erpbridge.toml"`,
			"/etc/erp bridge/erpbridge.toml", true},
		{"equals form", "linux", `/usr/bin/erpbridge service run --config=/etc/erpbridge/erpbridge.toml`,
			"/etc/erpbridge/erpbridge.toml", true},
		{"none", "linux", `/usr/bin/erpbridge run`, "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := ConfigFromCommandLine(tt.goos, tt.line)
			if got != tt.want || ok != tt.ok {
				t.Errorf("got %q %v, want %q %v", got, ok, tt.want, tt.ok)
			}
		})
	}
}

func TestCommandLineInInstalledFiles(t *testing.T) {
	unit, err := SystemdUnit(Spec{GOOS: "linux", Executable: "/opt/erp bridge/erpbridge",
		ConfigFile: "/etc/erp bridge/erp%bridge.toml", DataDir: "/var/lib/erpbridge"})
	if err != nil {
		t.Fatal(err)
	}
	sysv := "#!/bin/sh\ncmd=\"/usr/bin/erpbridge \"service\" \"run\" \"--config\" \"/etc/erpbridge/erpbridge.toml\"\"\n"
	tests := []struct{ name, file, want string }{
		{"systemd unit", unit, "/etc/erp bridge/erp%bridge.toml"},
		{"sysv script", sysv, "/etc/erpbridge/erpbridge.toml"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			line, ok := commandLineInFile(tt.file)
			if !ok {
				t.Fatal("no command line found")
			}
			if got, _ := ConfigFromCommandLine("linux", line); got != tt.want {
				t.Errorf("config = %q, want %q", got, tt.want)
			}
		})
	}
}
