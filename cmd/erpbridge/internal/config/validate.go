package config

import (
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"strings"

	crmtarget "github.com/erpbridge/erpbridge/rdstation/crm/target"

	"github.com/erpbridge/erpbridge/erp/sqlerp/dsn"
	"github.com/erpbridge/erpbridge/mapping"
	"github.com/robfig/cron/v3"
)

// accountLimit is RD Station CRM's documented limit per account.
const accountLimit = 120

// Unlimited as crm.requests_per_minute turns the client-side budget off: for
// the simulator and benchmarks only (RD Station would answer 429s).
const Unlimited = -1

// CronParser parses schedule specs the way `erpbridge run` does.
var CronParser = cron.NewParser(cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow | cron.Descriptor)

var (
	companyPattern = regexp.MustCompile(`^[0-9A-Z]{2}$`)
	filialPattern  = regexp.MustCompile(`^[0-9A-Za-z ]{0,12}$`)
)

// Validate checks the configuration without any I/O: it never connects to
// the ERP or the CRM. Every problem is reported, each naming its key, and
// the key's line when the file sets it.
func (c *Config) Validate() error {
	var errs []error
	bad := func(key, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s%s: %s", at(c.lines, key), key, fmt.Sprintf(format, args...)))
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

	if u, err := url.Parse(c.CRM.BaseURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		bad("crm.base_url", "%q is not an http(s) URL", dsn.Redact(c.CRM.BaseURL))
	} else if u.RawQuery != "" {
		bad("crm.base_url", "must not carry a query string; put the token in crm.token")
	}
	if strings.TrimSpace(c.CRM.Token) == "" {
		bad("crm.token", "is required (write token = \"${RDSTATION_CRM_TOKEN}\" and set the variable)")
	}
	if c.CRM.RequestsPerMinute != Unlimited && (c.CRM.RequestsPerMinute < 1 || c.CRM.RequestsPerMinute > accountLimit) {
		bad("crm.requests_per_minute", "%d is outside 1..%d (RD Station allows %d per account, shared with its other integrations)", c.CRM.RequestsPerMinute, accountLimit, accountLimit)
	}
	if c.CRM.Burst < 1 {
		bad("crm.burst", "must be at least 1")
	} else if c.CRM.RequestsPerMinute != Unlimited && c.CRM.RequestsPerMinute+c.CRM.Burst > accountLimit {
		bad("crm.burst", "requests_per_minute + burst = %d exceeds the account's %d per minute; lower one of them", c.CRM.RequestsPerMinute+c.CRM.Burst, accountLimit)
	}
	if c.CRM.Timeout.D() <= 0 {
		bad("crm.timeout", "must be positive")
	}
	if c.CRM.MaxRetries < 0 || c.CRM.MaxRetries > 20 {
		bad("crm.max_retries", "%d is outside 0..20", c.CRM.MaxRetries)
	}

	if c.ERP.Source != SourceREST { // REST routes need no database
		knownDriver := true
		switch c.ERP.Driver {
		case "postgres", "sqlserver", "oracle", "sqlite":
		default:
			knownDriver = false
			bad("erp.driver", "%q is not one of postgres, sqlserver, oracle, sqlite", c.ERP.Driver)
		}
		if strings.TrimSpace(c.ERP.DSN) == "" {
			bad("erp.dsn", "is required")
		} else if err := dsn.Check(c.ERP.Driver, c.ERP.DSN); err != nil && knownDriver {
			bad("erp.dsn", "%v", err) // never repeats the DSN
		}
	}
	validateERPSource(c, bad)
	if !companyPattern.MatchString(c.ERP.Company) {
		bad("erp.company", "%q is not a two-character Protheus company code such as \"01\"", c.ERP.Company)
	}
	if c.ERP.PageSize < 1 || c.ERP.PageSize > 10000 {
		bad("erp.page_size", "%d is outside 1..10000", c.ERP.PageSize)
	}
	if c.ERP.Overlap.D() < 0 {
		bad("erp.overlap", "must not be negative")
	}
	if c.ERP.QueryTimeout.D() <= 0 {
		bad("erp.query_timeout", "must be positive")
	}

	checkCron := func(key, spec string) {
		if err := checkSchedule(spec, MinInterval); err != nil {
			bad(key, "%v", err)
		}
	}
	checkCron("schedule.incremental", c.Schedule.Incremental)
	if err := checkSchedule(c.Schedule.FullPass, MinFullPassInterval); err != nil {
		bad("schedule.full_pass", "%v", err)
	}

	checkBase := func(key string, s *StreamBase) {
		if !filialPattern.MatchString(s.Filial) {
			bad(key+".filial", "%q is not a Protheus branch code (letters, digits and blanks, at most 12)", s.Filial)
		}
		switch s.Mode {
		case ModeUpsert, ModeCreateOnly, ModeUpdateOnly:
		default:
			bad(key+".mode", "%q is not one of upsert, create_only, update_only", s.Mode)
		}
		if s.Deletes != DeletesIgnore && s.Deletes != DeletesMark {
			bad(key+".deletes", "%q is not one of ignore, mark", s.Deletes)
		}
		if s.Schedule != "" {
			checkCron(key+".schedule", s.Schedule)
		}
	}
	checkStream := func(name string, s *Stream) {
		key := "streams." + name
		checkBase(key, &s.StreamBase)
		if s.Deletes == DeletesMark {
			if err := s.DeleteMark.check(); err != nil {
				bad(key+".delete_mark", "%v (needed by deletes = \"mark\")", err)
			}
		}
		if err := checkMapping(s.Mapping); err != nil {
			bad(key+".mapping", "%v", err)
		}
	}
	checkStream("customers", &c.Streams.Customers.Stream)
	checkStream("contacts", &c.Streams.Contacts.Stream)
	checkStream("products", &c.Streams.Products.Stream)
	if c.Streams.Orders.Enabled {
		checkBase("streams.orders", &c.Streams.Orders.StreamBase)
	}
	validateOrders(c, bad)

	switch c.Streams.Customers.Blocked {
	case BlockedSkip:
	case BlockedMark:
		if err := c.Streams.Customers.BlockedMark.check(); err != nil {
			bad("streams.customers.blocked_mark", "%v (needed by blocked = \"mark\")", err)
		}
	default:
		bad("streams.customers.blocked", "%q is not one of skip, mark", c.Streams.Customers.Blocked)
	}
	if u := c.Streams.Contacts.Unlinked; u != UnlinkedSkip && u != UnlinkedSync {
		bad("streams.contacts.unlinked", "%q is not one of skip, sync", u)
	}
	if e := c.Streams.Contacts.SharedEmail; e != SharedEmailOmit && e != SharedEmailSkip {
		bad("streams.contacts.shared_email", "%q is not one of omit_email, skip", e)
	}
	if p := c.Streams.Products.PriceTable; p != "" && !regexp.MustCompile(`^[0-9A-Za-z]{1,3}$`).MatchString(p) {
		bad("streams.products.price_table", "%q is not a DA0 price table code (up to 3 letters or digits)", p)
	}
	if !c.Streams.Customers.Enabled && !c.Streams.Contacts.Enabled && !c.Streams.Products.Enabled && !c.Streams.Orders.Enabled {
		bad("streams", "every stream is disabled; enable at least one")
	}
	validateHTTP(c.HTTP, bad)
	return errors.Join(errs...)
}

func (m DeleteMark) check() error {
	switch {
	case m.NamePrefix == "" && m.CustomField == "":
		return errors.New("set name_prefix, or custom_field and value")
	case m.NamePrefix != "" && m.CustomField != "":
		return errors.New("set name_prefix or custom_field, not both")
	case m.CustomField != "" && m.Value == "":
		return errors.New("custom_field needs a value")
	}
	return nil
}

// checkMapping compiles a mapping without the CRM: custom field labels are
// taken as text fields, so expressions, field names and templates are checked
// now and labels and options later by `erpbridge check` and at start.
func checkMapping(spec mapping.Spec) error {
	catalog := mapping.CustomFieldCatalog{}
	for label := range spec.CustomFields {
		catalog[label] = mapping.CustomField{ID: "check", Type: mapping.TypeText}
	}
	schema := crmtarget.StaticSchema(spec.Entity)
	schema.Custom = catalog
	_, err := mapping.Compile(spec, schema)
	return err
}
