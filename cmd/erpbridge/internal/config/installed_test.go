package config

import (
	"testing"

	"github.com/erpbridge/erpbridge/installer/layout"
)

// TestInstalledConfigGetsThePlatformFolders: a config in the platform's
// config folder keeps its data and logs in the platform's folders unless it
// says otherwise; a config anywhere else keeps erpbridge-data next to it.
func TestInstalledConfigGetsThePlatformFolders(t *testing.T) {
	linux := layout.For("linux", func(string) string { return "" })
	windows := layout.For("windows", func(string) string { return `C:\ProgramData` })
	tests := []struct {
		name          string
		l             layout.Layout
		file, toml    string
		data, logFile string
	}{
		{"linux installed", linux, "/etc/erpbridge/erpbridge.toml", "",
			"/var/lib/erpbridge", "/var/log/erpbridge/erpbridge.log"},
		{"linux installed, file sets both", linux, "/etc/erpbridge/erpbridge.toml", "data_dir = \"/srv/erp\"\n[log]\nfile = \"\"\n",
			"/srv/erp", ""},
		{"linux elsewhere", linux, "/opt/erpbridge/erpbridge.toml", "",
			"erpbridge-data", ""},
		{"windows installed", windows, `C:\ProgramData\erpbridge\erpbridge.toml`, "[log]\nlevel = \"debug\"\n",
			`C:\ProgramData\erpbridge\data`, `C:\ProgramData\erpbridge\logs\erpbridge.log`},
		{"windows installed, file sets the log", windows, `c:\programdata\erpbridge\erpbridge.toml`, "[log]\nfile = 'D:\\logs\\erp.log'\n",
			`C:\ProgramData\erpbridge\data`, `D:\logs\erp.log`},
		{"windows elsewhere", windows, `C:\erpbridge\erpbridge.toml`, "",
			"erpbridge-data", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := Parse([]byte(tt.toml), func(string) (string, bool) { return "", false })
			if err != nil {
				t.Fatal(err)
			}
			cfg.applyInstalledDefaults(keySetIn([]byte(tt.toml)), tt.file, tt.l)
			if cfg.DataDir != tt.data {
				t.Errorf("data_dir = %q, want %q", cfg.DataDir, tt.data)
			}
			if cfg.Log.File != tt.logFile {
				t.Errorf("log.file = %q, want %q", cfg.Log.File, tt.logFile)
			}
		})
	}
}
