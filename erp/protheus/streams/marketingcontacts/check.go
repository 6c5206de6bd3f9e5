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
// values the account's fields do not take; countRecords the records it
// maps to count the new contacts a run would create.
const (
	checkRecords = 2000
	countRecords = 100_000
)

// checkRecordsOf maps the selected contacts as a run would, without a
// request: it says how many NEW Marketing contacts the next run creates
// (e-mails no identity in the checkpoint store holds; against
// marketing.max_new_contacts), and warns about every value an option
// custom field does not take (RD Station drops such a value without a
// word; the bridge leaves the field out and lists it).
func (c *Config) checkRecordsOf(ctx context.Context, env *component.Env) []component.Finding {
	finding := func(f component.Finding) component.Finding {
		f.Section, f.System = component.SectionCRM, System
		return f
	}
	warn := func(format string, args ...any) component.Finding {
		return finding(component.Finding{Warn: true, Text: fmt.Sprintf(format, args...)})
	}
	if env.ERP == nil {
		return nil
	}
	got, err := c.Provision(ctx, env)
	if got.Close != nil {
		defer got.Close()
	}
	if err != nil || len(got.Streams) == 0 {
		return []component.Finding{warn("streams.%s: could not read the ERP's contacts: %v", Name, err)}
	}
	type bad struct{ field, value string }
	counts := map[bad]int{}
	read, selected, created, capN, capName, bounded := 0, 0, 0, 0, "", false
	seen := map[string]bool{}
	for _, s := range got.Streams {
		if s.Name != Name && s.Name != CustomerEmails {
			continue // the funnel stage writes no contact
		}
		capN, capName = s.CreateCap, s.CapName
	pages:
		for page, err := range s.Source.FullPass(ctx, "", 500) {
			if err != nil {
				return []component.Finding{warn("streams.%s: reading the contacts: %v", Name, err)}
			}
			for _, rec := range page.Records {
				if rec.Deleted {
					continue
				}
				if read++; read > countRecords {
					bounded = true
					break pages
				}
				m := s.Mapper.Map(ctx, rec, nil)
				if read <= checkRecords {
					for _, w := range m.Warnings {
						var fe mapping.FieldError
						if errors.As(w, &fe) && strings.Contains(fe.Msg, "is not an option") {
							counts[bad{fe.Field, fe.Value}]++
						}
					}
				}
				email, _ := m.Payload["email"].(string)
				email = strings.ToLower(strings.TrimSpace(email))
				if m.Skip || len(m.Errors) > 0 || m.Retry != nil || email == "" || seen[email] {
					continue
				}
				seen[email] = true
				selected++
				if env.Store != nil {
					if _, ok, err := env.Store.IdentityByCRMID(ctx, mapping.EntityMarketingContact, email); err != nil {
						return []component.Finding{warn("streams.%s: reading the checkpoint store: %v", Name, err)}
					} else if ok {
						continue
					}
				}
				created++
			}
		}
	}
	var out []component.Finding
	what := fmt.Sprintf("%d", created)
	if bounded {
		what = fmt.Sprintf("at least %d (of the first %d records)", created, countRecords)
	}
	text := fmt.Sprintf("streams.%s: the next run creates %s new Marketing contacts of the %d it selects; %s = %d",
		Name, what, selected, capName, capN)
	if capName != "" && created > capN {
		out = append(out, warn("%s: that run stops before sending anything; raise the cap or narrow what the stream selects (docs/marketing.md)", text))
	} else {
		out = append(out, finding(component.Finding{Text: text}))
	}
	keys := make([]bad, 0, len(counts))
	for k := range counts {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		return keys[i].field < keys[j].field || keys[i].field == keys[j].field && keys[i].value < keys[j].value
	})
	for _, k := range keys {
		out = append(out, warn("streams.%s: %d of the first %d contacts map %s to %q, which the Marketing field does not take: "+
			"they are sent without it (listed by erpbridge errors list); add the option in RD Station Marketing or fix the ERP value",
			Name, counts[k], min(read, checkRecords), k.field, k.value))
	}
	return out
}
