package target

import (
	"fmt"
	"strconv"
	"strings"
	"time"
	// Zones for crm.budget.time_zone on machines without a zone database
	// (Windows).
	_ "time/tzdata"

	"github.com/erpbridge/erpbridge/bridge/component"
	"github.com/erpbridge/erpbridge/rdstation/crm"
)

// Budget is [crm.budget]: times of day when the bridge may use another
// share of the account's requests (more at night, when the account's other
// integrations are idle).
type Budget struct {
	// TimeZone is the IANA zone the windows' times are in ("" or "Local":
	// the machine's).
	TimeZone string `toml:"time_zone"`
	// Windows are times of day with their own requests_per_minute; the
	// first that contains the time applies.
	Windows []BudgetWindow `toml:"windows"`
}

// BudgetWindow is one window of [crm.budget]: from and to are "HH:MM"; a
// to at or before from spans midnight.
type BudgetWindow struct {
	From              string `toml:"from"`
	To                string `toml:"to"`
	RequestsPerMinute int    `toml:"requests_per_minute"`
}

// validateBudget checks [crm.budget] (no I/O: the zones are built in).
func (c *Config) validateBudget(v *component.Validation) {
	if _, err := loadZone(c.Budget.TimeZone); err != nil {
		v.Bad("budget.time_zone", "%q is not a time zone (write an IANA name such as \"America/Sao_Paulo\", or leave it out for the machine's)", c.Budget.TimeZone)
	}
	if len(c.Budget.Windows) > 0 && c.RequestsPerMinute == Unlimited {
		v.Bad("budget.windows", "windows need a client-side budget, and requests_per_minute is %d (off)", Unlimited)
		return
	}
	var taken [24 * 60]int // minute of the day → 1 + the window that has it
	for i, w := range c.Budget.Windows {
		name := fmt.Sprintf("window %d (%s-%s)", i+1, w.From, w.To)
		from, ferr := timeOfDay(w.From)
		to, terr := timeOfDay(w.To)
		switch {
		case ferr != nil:
			v.Bad("budget.windows", "%s: from %v", name, ferr)
			continue
		case terr != nil:
			v.Bad("budget.windows", "%s: to %v", name, terr)
			continue
		case from == to%(24*60):
			v.Bad("budget.windows", "%s: from and to are the same time; for a whole day set requests_per_minute instead", name)
			continue
		}
		if w.RequestsPerMinute < 1 || w.RequestsPerMinute >= AccountLimit {
			v.Bad("budget.windows", "%s: requests_per_minute %d is outside 1..%d (RD Station allows %d per account; at least one request of burst must fit)",
				name, w.RequestsPerMinute, AccountLimit-1, AccountLimit)
		}
		for m := from; m != to%(24*60); m = (m + 1) % (24 * 60) {
			if other := taken[m]; other != 0 {
				v.Bad("budget.windows", "%s overlaps window %d at %02d:%02d", name, other, m/60, m%60)
				break
			}
			taken[m] = i + 1
		}
	}
}

// timeOfDay reads "HH:MM" (00:00–24:00) as minutes after midnight.
func timeOfDay(s string) (int, error) {
	h, m, ok := strings.Cut(strings.TrimSpace(s), ":")
	hh, herr := strconv.Atoi(h)
	mm, merr := strconv.Atoi(m)
	if !ok || herr != nil || merr != nil || len(m) != 2 || hh < 0 || mm < 0 || mm > 59 || hh > 24 || (hh == 24 && mm != 0) {
		return 0, fmt.Errorf("%q is not a time of day such as \"20:00\"", s)
	}
	return hh*60 + mm, nil
}

// loadZone returns the zone of crm.budget.time_zone ("" or "Local": the
// machine's).
func loadZone(name string) (*time.Location, error) {
	if name = strings.TrimSpace(name); name == "" || name == "Local" {
		return time.Local, nil
	}
	return time.LoadLocation(name)
}

// budgetWindows converts [crm.budget] for the client (validated settings).
func (c *Config) budgetWindows() []crm.Window {
	loc, err := loadZone(c.Budget.TimeZone)
	if err != nil {
		loc = time.Local
	}
	out := make([]crm.Window, 0, len(c.Budget.Windows))
	for _, w := range c.Budget.Windows {
		from, ferr := timeOfDay(w.From)
		to, terr := timeOfDay(w.To)
		if ferr != nil || terr != nil {
			continue
		}
		out = append(out, crm.Window{From: from, To: to % (24 * 60), Location: loc, RequestsPerMinute: w.RequestsPerMinute})
	}
	return out
}
