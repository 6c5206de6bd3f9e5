package marketingcontacts

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/erpbridge/erpbridge/bridge/component"
	"github.com/erpbridge/erpbridge/mapping"
)

// checkRecords bounds the contacts `erpbridge check` maps to find option
// values the account's fields do not take.
const checkRecords = 2000

// checkOptions maps the first contacts as a run would and warns about
// every value an option custom field does not take: RD Station drops such
// a value without a word (the pain of its own integration); the bridge
// leaves the field out and lists it, and `check` says it before the run.
func (c *Config) checkOptions(ctx context.Context, env *component.Env) []component.Finding {
	warn := func(format string, args ...any) component.Finding {
		return component.Finding{Warn: true, Section: component.SectionCRM, System: System, Text: fmt.Sprintf(format, args...)}
	}
	if env.ERP == nil || len(c.Mapping.CustomFields) == 0 {
		return nil
	}
	got, err := c.Provision(ctx, env)
	if got.Close != nil {
		defer got.Close()
	}
	if err != nil || len(got.Streams) == 0 {
		return []component.Finding{warn("streams.%s: could not read the ERP's values of the mapped fields: %v", Name, err)}
	}
	s := got.Streams[0]
	type bad struct{ field, value string }
	counts := map[bad]int{}
	read := 0
	for page, err := range s.Source.FullPass(ctx, "", 500) {
		if err != nil {
			return []component.Finding{warn("streams.%s: reading the contacts: %v", Name, err)}
		}
		for _, rec := range page.Records {
			if rec.Deleted {
				continue
			}
			read++
			for _, w := range s.Mapper.Map(ctx, rec, nil).Warnings {
				var fe mapping.FieldError
				if errors.As(w, &fe) && strings.Contains(fe.Msg, "is not an option") {
					counts[bad{fe.Field, fe.Value}]++
				}
			}
		}
		if read >= checkRecords {
			break
		}
	}
	keys := make([]bad, 0, len(counts))
	for k := range counts {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		return keys[i].field < keys[j].field || keys[i].field == keys[j].field && keys[i].value < keys[j].value
	})
	var out []component.Finding
	for _, k := range keys {
		out = append(out, warn("streams.%s: %d of the first %d contacts map %s to %q, which the Marketing field does not take: "+
			"they are sent without it (listed by erpbridge errors list); add the option in RD Station Marketing or fix the ERP value",
			Name, counts[k], read, k.field, k.value))
	}
	return out
}
