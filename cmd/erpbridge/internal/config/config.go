package config

import (
	"reflect"

	"github.com/erpbridge/erpbridge/bridge/component"
)

// Config is the whole configuration file.
type Config struct {
	// DataDir holds the checkpoint store and the instance lock. Relative
	// paths resolve from the config file's folder. Default erpbridge-data;
	// the platform data folder for a config in the platform config folder.
	DataDir string `toml:"data_dir"`

	Log      Log      `toml:"log"`
	Schedule Schedule `toml:"schedule"`
	HTTP     HTTP     `toml:"http"`
	Alerts   Alerts   `toml:"alerts"`

	// components are the components' settings, by component name.
	components map[string]component.Config
	// path is the file this config was loaded from ("" for defaults).
	path string
	// lines maps the keys the file sets to their lines (keyLines).
	lines map[string]int
	// secrets are the values the file's ${secret:NAME} references read
	// (SecretValues).
	secrets []string
	// placeholders are the keys left to fill in ("KEY\x00TEXT"), see
	// PlaceholderPrefix.
	placeholders []string
}

// Path returns the file the configuration was loaded from.
func (c *Config) Path() string { return c.path }

// Component returns a component's settings by name.
func (c *Config) Component(name string) (component.Config, bool) {
	v, ok := c.components[name]
	return v, ok
}

// Components gives the components' settings to what asks by name.
func (c *Config) Components() func(name string) (component.Config, bool) { return c.Component }

// Log configures logging.
type Log struct {
	Level      string `toml:"level"`        // debug | info | warn | error
	File       string `toml:"file"`         // JSON log file, rotated; empty = console only
	MaxSizeMB  int    `toml:"max_size_mb"`  // rotate when the file reaches this size
	MaxAgeDays int    `toml:"max_age_days"` // delete rotated files older than this
	MaxBackups int    `toml:"max_backups"`  // keep at most this many rotated files
}

// Schedule sets when streams run in `erpbridge run`. Specs are standard
// five-field cron or @every/@daily descriptors, read in local time unless
// prefixed with CRON_TZ=Area/City.
type Schedule struct {
	Incremental string `toml:"incremental"` // cron spec for incremental polls of every stream
	FullPass    string `toml:"full_pass"`   // cron spec for the full pass (NULL stamps, stamp-less tables, hard deletes)
}

// Duration is a time.Duration written as a string with its unit.
type Duration = component.Duration

// Dur makes a Duration.
var Dur = component.Dur

// CronParser parses schedule specs the way `erpbridge run` does.
var CronParser = component.CronParser

// The shortest @every intervals the schedules take (component.MinInterval).
const (
	MinInterval         = component.MinInterval
	MinFullPassInterval = component.MinFullPassInterval
)

// Output is one stream a component runs: its name, the entity it writes,
// its own schedule.
type Output = component.Output

// Outputs lists the streams the enabled components run, in registration
// order (the engine orders them by dependency).
func (c *Config) Outputs() []Output {
	var out []Output
	for _, o := range c.allOutputs() {
		if !o.Off {
			out = append(out, o)
		}
	}
	return out
}

// allOutputs lists every stream of every component, marking Off those
// that do not run as configured.
func (c *Config) allOutputs() []Output {
	var out []Output
	for _, comp := range component.All() {
		cfg, ok := c.components[comp.Name()]
		if !ok {
			continue
		}
		if o, ok := cfg.(component.Outputs); ok {
			for _, x := range o.Outputs() {
				x.Off = x.Off || !cfg.Enabled()
				out = append(out, x)
			}
		}
	}
	return out
}

// Entity returns the target entity a stream writes, enabled or not (""
// for no stream).
func (c *Config) Entity(stream string) string {
	for _, o := range c.allOutputs() {
		if o.Stream == stream {
			return o.Entity
		}
	}
	return ""
}

// Inbound reports whether a component moving records from the target
// system into the ERP (won deals) is enabled.
func (c *Config) Inbound() bool {
	for _, o := range c.Outputs() {
		if o.Inbound {
			return true
		}
	}
	return false
}

// OwnSchedule returns the schedule a stream overrides schedule.incremental
// with ("" when it follows schedule.incremental).
func (c *Config) OwnSchedule(stream string) string {
	for _, o := range c.allOutputs() {
		if o.Stream == stream {
			return o.Schedule
		}
	}
	return ""
}

// Clone returns a copy whose components' settings can be changed without
// changing c's (maps and slices inside them are still shared).
func (c *Config) Clone() *Config {
	out := *c
	out.components = make(map[string]component.Config, len(c.components))
	for name, s := range c.components {
		v := reflect.ValueOf(s)
		if v.Kind() == reflect.Pointer && !v.IsNil() {
			p := reflect.New(v.Elem().Type())
			p.Elem().Set(v.Elem())
			s = p.Interface().(component.Config)
		}
		out.components[name] = s
	}
	return &out
}
