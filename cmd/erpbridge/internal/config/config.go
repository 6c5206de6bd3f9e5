// Package config loads, defaults and validates erpbridge's TOML configuration.
//
// Loading is strict: an unknown key or a value of the wrong type is an error
// that names the key and its line. `${NAME}` in any string value is replaced
// by the environment variable NAME (write `$${` for a literal `${`), so
// secrets stay out of the file; an unclosed `${`, and a shell's `$NAME` or
// cmd.exe's `%NAME%` in a token, password or DSN, are errors. The file is
// UTF-8, with or without a byte order mark. Validate does no I/O: it never
// connects to the ERP or the CRM (that is `erpbridge check`); its errors name
// the key, and its line when the file sets it.
package config

import (
	"fmt"
	"time"

	"github.com/erpbridge/erpbridge/mapping"
)

// Config is the whole configuration file.
type Config struct {
	// DataDir holds the checkpoint store and the instance lock. Relative
	// paths resolve from the config file's folder. Default erpbridge-data;
	// the platform data folder for a config in the platform config folder.
	DataDir string `toml:"data_dir"`

	Log      Log      `toml:"log"`
	CRM      CRM      `toml:"crm"`
	ERP      ERP      `toml:"erp"`
	Schedule Schedule `toml:"schedule"`
	Streams  Streams  `toml:"streams"`
	WonDeals WonDeals `toml:"won_deals"`
	HTTP     HTTP     `toml:"http"`

	// path is the file this config was loaded from ("" for defaults).
	path string
	// lines maps the dotted keys the file sets to their lines (keyLines),
	// so validation errors can name the line.
	lines map[string]int
}

// Path returns the file the configuration was loaded from.
func (c *Config) Path() string { return c.path }

// Log configures logging.
type Log struct {
	Level      string `toml:"level"`        // debug | info | warn | error
	File       string `toml:"file"`         // JSON log file, rotated; empty = console only
	MaxSizeMB  int    `toml:"max_size_mb"`  // rotate when the file reaches this size
	MaxAgeDays int    `toml:"max_age_days"` // delete rotated files older than this
	MaxBackups int    `toml:"max_backups"`  // keep at most this many rotated files
}

// CRM configures the RD Station CRM account.
type CRM struct {
	BaseURL           string   `toml:"base_url"`
	Token             string   `toml:"token"`
	RequestsPerMinute int      `toml:"requests_per_minute"`
	Burst             int      `toml:"burst"`
	Timeout           Duration `toml:"timeout"`
	MaxRetries        int      `toml:"max_retries"`
}

// ERP configures the ERP: its database, or its custom REST routes.
type ERP struct {
	// Source is how streams read the ERP: "sql" (its database: driver and
	// dsn) or "rest" (its custom REST routes: [erp.rest]).
	Source       string   `toml:"source"`
	Driver       string   `toml:"driver"`  // postgres | sqlserver | oracle | sqlite
	DSN          string   `toml:"dsn"`     // connection string; use ${ENV} for the password
	Company      string   `toml:"company"` // Protheus company code: SA1 + 01 + 0 = SA1010
	PageSize     int      `toml:"page_size"`
	Overlap      Duration `toml:"overlap"`       // re-read window behind the stamp cursor
	QueryTimeout Duration `toml:"query_timeout"` // per page
	// REST configures the routes read when Source is "rest".
	REST ERPREST `toml:"rest"`
}

// Schedule sets when streams run in `erpbridge run`. Specs are standard
// five-field cron or @every/@daily descriptors, read in local time unless
// prefixed with CRON_TZ=Area/City.
type Schedule struct {
	Incremental string `toml:"incremental"` // cron spec for incremental polls of every stream
	FullPass    string `toml:"full_pass"`   // cron spec for the full pass (NULL stamps, stamp-less tables, hard deletes)
}

// Streams holds the per-stream settings.
type Streams struct {
	Customers Customers `toml:"customers"`
	Contacts  Contacts  `toml:"contacts"`
	Products  Products  `toml:"products"`
	Orders    Orders    `toml:"orders"`
}

// StreamBase holds what every stream has.
type StreamBase struct {
	Enabled bool   `toml:"enabled"`
	Filial  string `toml:"filial"` // branch code; blank (spaces) for shared tables
	Mode    string `toml:"mode"`   // upsert | create_only | update_only
	Deletes string `toml:"deletes"`
	// Schedule overrides schedule.incremental for this stream.
	Schedule string `toml:"schedule"`
}

// Stream is a stream mapped declaratively: customers, contacts, products.
type Stream struct {
	StreamBase
	// DeleteMark says how `deletes = "mark"` marks a record in the CRM.
	DeleteMark DeleteMark `toml:"delete_mark"`
	// Mapping declares CRM field ← ERP expression. A [streams.X.mapping]
	// table replaces the stream's default mapping as a whole.
	Mapping mapping.Spec `toml:"mapping"`
}

// DeleteMark configures how deleted ERP rows are marked in the CRM.
type DeleteMark struct {
	NamePrefix  string `toml:"name_prefix"`  // e.g. "[EXCLUÍDO] "
	CustomField string `toml:"custom_field"` // label of a CRM custom field …
	Value       string `toml:"value"`        // … set to this value
}

// Customers is the SA1 → organizations stream.
type Customers struct {
	Stream
	// Blocked says what to do with blocked customers (A1_MSBLQL = '1'):
	// skip (default) or mark.
	Blocked string `toml:"blocked"`
	// BlockedMark says how a blocked customer is marked when blocked = "mark".
	BlockedMark DeleteMark `toml:"blocked_mark"`
	// CNPJField is the label of the organization custom field holding the
	// CNPJ/CPF; when set, the default mapping fills it and existing
	// organizations are adopted by it.
	CNPJField string `toml:"cnpj_field"`
}

// Contacts is the SU5 (linked through AC8) → contacts stream.
type Contacts struct {
	Stream
	// CustomerEmail also sends each customer's own A1_EMAIL / phone as a contact.
	CustomerEmail bool `toml:"customer_email"`
	// Unlinked says what becomes of a contact with no AC8 link to a
	// customer the CRM has (streams.customers on): skip (default) or sync
	// (without organization).
	Unlinked string `toml:"unlinked"`
	// SharedEmail says what becomes of a contact (SU5, or a customer's own
	// with customer_email) whose e-mail another ERP record's contact already
	// has in the CRM: omit_email (default: sent without it, listed as a
	// warning) or skip (not sent, listed once).
	SharedEmail string `toml:"shared_email"`
}

// Products is the SB1 → products stream.
type Products struct {
	Stream
	// PriceTable is the DA0/DA1 price table code (DA1_CODTAB); empty = B1_PRV1.
	PriceTable string `toml:"price_table"`
	// PriceFilial is the DA1 branch (blank for a shared table).
	PriceFilial string `toml:"price_filial"`
}

// Duration is a time.Duration written as a string with its unit in TOML
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
