package component

import (
	"fmt"
	"strings"
	"time"

	"github.com/robfig/cron/v3"
)

// CronParser parses schedule specs the way `erpbridge run` does: five
// fields or @every/@daily descriptors, with an optional CRON_TZ= prefix.
var CronParser = cron.NewParser(cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow | cron.Descriptor)

// The shortest @every intervals the schedules take. Cron runs in whole
// seconds and rounds anything shorter, zero and negative intervals included,
// up to one second: "@every 0s" would poll every second. A full pass reads
// every configured ERP table, so it runs at most once a minute (cron specs
// never run more often than that).
const (
	// MinInterval bounds schedule.incremental, streams.*.schedule and
	// won_deals.schedule.
	MinInterval = time.Second
	// MinFullPassInterval bounds schedule.full_pass.
	MinFullPassInterval = time.Minute
)

// CheckSchedule checks a cron spec as `erpbridge run` reads it: it must
// parse, and an @every interval must be whole seconds and at least min.
func CheckSchedule(spec string, min time.Duration) error {
	rest := spec
	if strings.HasPrefix(rest, "TZ=") || strings.HasPrefix(rest, "CRON_TZ=") {
		_, after, ok := strings.Cut(rest, " ")
		if !ok {
			return fmt.Errorf("%q has a time zone but no schedule after it, e.g. \"CRON_TZ=America/Sao_Paulo 0 2 * * *\"", spec)
		}
		rest = strings.TrimSpace(after)
	}
	if _, err := CronParser.Parse(spec); err != nil {
		return fmt.Errorf("%q is not a cron spec: %v", spec, err)
	}
	text, ok := strings.CutPrefix(rest, "@every ")
	if !ok {
		return nil
	}
	every, err := time.ParseDuration(strings.TrimSpace(text))
	switch {
	case err != nil:
		return fmt.Errorf("%q is not a cron spec: %v", spec, err)
	case every <= 0:
		return fmt.Errorf("%q: the interval must be positive; the shortest is @every %s", spec, shortDuration(min))
	case every < min:
		return fmt.Errorf("%q is shorter than the shortest this schedule takes, @every %s", spec, shortDuration(min))
	case every%time.Second != 0:
		return fmt.Errorf("%q: cron runs in whole seconds; write e.g. @every %s", spec, shortDuration(every.Truncate(time.Second)))
	}
	return nil
}

// shortDuration writes d as a user would: "1m", not "1m0s".
func shortDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}
