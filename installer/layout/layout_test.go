package layout

import "testing"

func TestForGivesEachPlatformItsFolders(t *testing.T) {
	env := func(vals map[string]string) func(string) string {
		return func(k string) string { return vals[k] }
	}
	tests := []struct {
		name                      string
		goos                      string
		env                       map[string]string
		config, data, logs, logFi string
	}{
		{"linux", "linux", nil, "/etc/erpbridge/erpbridge.toml", "/var/lib/erpbridge", "/var/log/erpbridge", "/var/log/erpbridge/erpbridge.log"},
		{"freebsd like linux", "freebsd", nil, "/etc/erpbridge/erpbridge.toml", "/var/lib/erpbridge", "/var/log/erpbridge", "/var/log/erpbridge/erpbridge.log"},
		{"windows ProgramData", "windows", map[string]string{"ProgramData": `D:\ProgramData`},
			`D:\ProgramData\erpbridge\erpbridge.toml`, `D:\ProgramData\erpbridge\data`, `D:\ProgramData\erpbridge\logs`, `D:\ProgramData\erpbridge\logs\erpbridge.log`},
		{"windows without ProgramData", "windows", nil,
			`C:\ProgramData\erpbridge\erpbridge.toml`, `C:\ProgramData\erpbridge\data`, `C:\ProgramData\erpbridge\logs`, `C:\ProgramData\erpbridge\logs\erpbridge.log`},
		{"windows relative ProgramData ignored", "windows", map[string]string{"ProgramData": `ProgramData`},
			`C:\ProgramData\erpbridge\erpbridge.toml`, `C:\ProgramData\erpbridge\data`, `C:\ProgramData\erpbridge\logs`, `C:\ProgramData\erpbridge\logs\erpbridge.log`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := For(tt.goos, env(tt.env))
			if got := l.ConfigFile(); got != tt.config {
				t.Errorf("config = %q, want %q", got, tt.config)
			}
			if l.DataDir != tt.data {
				t.Errorf("data = %q, want %q", l.DataDir, tt.data)
			}
			if l.LogDir != tt.logs {
				t.Errorf("logs = %q, want %q", l.LogDir, tt.logs)
			}
			if got := l.LogFile(); got != tt.logFi {
				t.Errorf("log file = %q, want %q", got, tt.logFi)
			}
		})
	}
}

func TestResolveFollowsTheTargetPlatform(t *testing.T) {
	tests := []struct {
		goos, base, p, want string
	}{
		{"linux", "/etc/erpbridge", "erpbridge-data", "/etc/erpbridge/erpbridge-data"},
		{"linux", "/etc/erpbridge", "../x/./y", "/etc/x/y"},
		{"linux", "/etc/erpbridge", "/var/lib/erpbridge/", "/var/lib/erpbridge"},
		{"linux", "/etc/erpbridge", "", ""},
		{"linux", "/opt", `C:\data`, `/opt/C:\data`}, // not absolute on Linux
		{"windows", `C:\Program Files\erpbridge`, "erpbridge.toml", `C:\Program Files\erpbridge\erpbridge.toml`},
		{"windows", `C:\Program Files\erpbridge`, `conf/erpbridge.toml`, `C:\Program Files\erpbridge\conf\erpbridge.toml`},
		{"windows", `C:\Program Files\erpbridge`, `..\data`, `C:\Program Files\data`},
		{"windows", `C:\Program Files\erpbridge`, `d:/erp/erpbridge.toml`, `D:\erp\erpbridge.toml`},
		{"windows", `C:\Program Files\erpbridge`, `\\fileserver\share\erpbridge.toml`, `\\fileserver\share\erpbridge.toml`},
		{"windows", `C:\erpbridge`, `/etc/erpbridge.toml`, `C:\erpbridge\etc\erpbridge.toml`}, // rooted, no drive: not absolute
		{"windows", `C:\erpbridge`, `C:relative.toml`, `C:\erpbridge\C:relative.toml`},
	}
	for _, tt := range tests {
		if got := Resolve(tt.goos, tt.base, tt.p); got != tt.want {
			t.Errorf("Resolve(%s, %q, %q) = %q, want %q", tt.goos, tt.base, tt.p, got, tt.want)
		}
	}
}

func TestInConfigDirRecognisesTheInstalledConfig(t *testing.T) {
	linux := For("linux", func(string) string { return "" })
	win := For("windows", func(string) string { return `C:\ProgramData` })
	tests := []struct {
		l    Layout
		file string
		want bool
	}{
		{linux, "/etc/erpbridge/erpbridge.toml", true},
		{linux, "/etc/erpbridge/other.toml", true},
		{linux, "/etc/erpbridge/sub/erpbridge.toml", false},
		{linux, "/opt/erpbridge/erpbridge.toml", false},
		{linux, "/etc/erpbridge2/erpbridge.toml", false},
		{win, `C:\ProgramData\erpbridge\erpbridge.toml`, true},
		{win, `c:\programdata\ERPBRIDGE\erpbridge.toml`, true},
		{win, `C:\erpbridge\erpbridge.toml`, false},
	}
	for _, tt := range tests {
		if got := tt.l.InConfigDir(tt.file); got != tt.want {
			t.Errorf("%s InConfigDir(%q) = %v, want %v", tt.l.GOOS, tt.file, got, tt.want)
		}
	}
}

func TestWithin(t *testing.T) {
	tests := []struct {
		goos, p, dir string
		want         bool
	}{
		{"linux", "/home/erp/data", "/home", true},
		{"linux", "/home", "/home", true},
		{"linux", "/homework/data", "/home", false},
		{"windows", `C:\ProgramData\erpbridge\logs`, `c:\programdata\erpbridge`, true},
		{"windows", `C:\ProgramData\erpbridge2`, `C:\ProgramData\erpbridge`, false},
	}
	for _, tt := range tests {
		if got := Within(tt.goos, tt.p, tt.dir); got != tt.want {
			t.Errorf("Within(%s, %q, %q) = %v, want %v", tt.goos, tt.p, tt.dir, got, tt.want)
		}
	}
}
