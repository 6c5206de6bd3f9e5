package component

import (
	"fmt"
	"time"
)

// Duration is a time.Duration written in TOML as a string with its unit
// ("30s", "5m", "1h30m"). A bare number is an error: `timeout = 30` would
// otherwise mean 30 nanoseconds.
type Duration struct{ d time.Duration }

// Dur makes a Duration.
func Dur(d time.Duration) Duration { return Duration{d} }

// D returns the duration.
func (d Duration) D() time.Duration { return d.d }

// UnmarshalText parses "30s", "2m", "1h30m".
func (d *Duration) UnmarshalText(b []byte) error {
	v, err := time.ParseDuration(string(b))
	if err != nil {
		return fmt.Errorf("%q is not a duration with its unit, such as \"30s\" or \"2m\"", string(b))
	}
	d.d = v
	return nil
}

// MarshalText writes the duration as Go does ("30s").
func (d Duration) MarshalText() ([]byte, error) { return []byte(d.d.String()), nil }
