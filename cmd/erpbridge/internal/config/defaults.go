package config

import (
	"fmt"

	"github.com/erpbridge/erpbridge/bridge/component"
	"github.com/erpbridge/erpbridge/installer/layout"
)

// Default returns the configuration of an empty file: the core's
// defaults, and each registered component's own (component.NewConfig, the
// one home of its defaults, completed by its Defaulter).
func Default() Config {
	c := base()
	for _, s := range c.components {
		if d, ok := s.(component.Defaulter); ok {
			// Defaults that depend on nothing the file sets cannot fail.
			if err := d.ApplyDefaults(func(...string) bool { return false }); err != nil {
				panic(fmt.Sprintf("applying the defaults: %v", err))
			}
		}
	}
	return c
}

// base is what Parse decodes a file on top of: the components' settings
// before their Defaulter runs (it needs to know what the file set).
func base() Config {
	c := Config{
		DataDir:    "erpbridge-data",
		Log:        Log{Level: "info", MaxSizeMB: 50, MaxAgeDays: 30, MaxBackups: 10},
		Schedule:   Schedule{Incremental: "*/5 * * * *", FullPass: "0 2 * * *"},
		HTTP:       HTTP{Addr: DefaultHTTPAddr},
		Alerts:     defaultAlerts(),
		components: map[string]component.Config{},
	}
	for _, comp := range component.All() {
		c.components[comp.Name()] = comp.NewConfig()
	}
	return c
}

// applyInstalledDefaults gives an installed configuration the platform's
// folders. A file in the platform's config folder (/etc/erpbridge,
// %ProgramData%\erpbridge) is an installed one: unless it sets them,
// data_dir is the platform's data folder (/var/lib/erpbridge,
// %ProgramData%\erpbridge\data) and log.file is erpbridge.log in the
// platform's log folder (/var/log/erpbridge, %ProgramData%\erpbridge\logs).
// Anywhere else data_dir stays erpbridge-data next to the file and logs go to
// the console only. set reports whether the file sets table.key ("" table:
// top level).
func (c *Config) applyInstalledDefaults(set func(table, key string) bool, configFile string, l layout.Layout) {
	if !l.InConfigDir(configFile) {
		return
	}
	if !set("", "data_dir") {
		c.DataDir = l.DataDir
	}
	if !set("log", "file") {
		c.Log.File = l.LogFile()
	}
}
