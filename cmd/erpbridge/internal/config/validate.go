package config

import (
	"errors"
	"fmt"
	"strings"

	"github.com/erpbridge/erpbridge/bridge/component"
)

// Validate checks the configuration without any I/O: it never connects to
// the ERP or the CRM. Every problem is reported, each naming its key, and
// the key's line when the file sets it: the core's, then each component's
// (component.Validator).
func (c *Config) Validate() error {
	var errs []error
	bad := func(key, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s%s: %s", at(c.lines, key), key, fmt.Sprintf(format, args...)))
	}
	// A template's placeholders first, and alone: the rest would only
	// repeat that the values are missing.
	for _, p := range c.placeholders {
		key, text, _ := strings.Cut(p, "\x00")
		what := strings.TrimSuffix(strings.TrimPrefix(strings.TrimPrefix(text, PlaceholderPrefix), ":"), ">")
		bad(key, "fill in %s: %s", key, strings.TrimSpace(what))
	}
	if len(errs) > 0 {
		return errors.Join(errs...)
	}

	if strings.TrimSpace(c.DataDir) == "" {
		bad("data_dir", "must not be empty")
	}
	switch c.Log.Level {
	case "debug", "info", "warn", "error":
	default:
		bad("log.level", "%q is not one of debug, info, warn, error", c.Log.Level)
	}
	if c.Log.MaxSizeMB < 1 {
		bad("log.max_size_mb", "must be at least 1")
	}
	if c.Log.MaxAgeDays < 0 {
		bad("log.max_age_days", "must not be negative")
	}
	if c.Log.MaxBackups < 0 {
		bad("log.max_backups", "must not be negative")
	}
	if err := component.CheckSchedule(c.Schedule.Incremental, MinInterval); err != nil {
		bad("schedule.incremental", "%v", err)
	}
	if err := component.CheckSchedule(c.Schedule.FullPass, MinFullPassInterval); err != nil {
		bad("schedule.full_pass", "%v", err)
	}
	validateHTTP(c.HTTP, bad)
	validateAlerts(c.Alerts, bad)

	anyStream := false
	for _, comp := range component.All() {
		s := c.components[comp.Name()]
		if component.KindOf(comp) == component.KindStream && s.Enabled() {
			anyStream = true
		}
		v, ok := s.(component.Validator)
		if !ok {
			continue
		}
		val := component.NewValidation(comp.Table(), func(key string) string { return at(c.lines, key) }, c.Component)
		v.Validate(val)
		if err := val.Err(); err != nil {
			errs = append(errs, err)
		}
	}
	if !anyStream {
		bad("streams", "every stream is disabled; enable at least one")
	}
	return errors.Join(errs...)
}
