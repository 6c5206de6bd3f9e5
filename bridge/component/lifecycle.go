package component

import (
	"context"
	"errors"
	"fmt"

	"github.com/erpbridge/erpbridge/bridge"
	"github.com/erpbridge/erpbridge/bridge/inbound"
	"github.com/erpbridge/erpbridge/bridge/store"
)

// Validator checks settings without any I/O: it never connects to the ERP
// or the CRM (that is Checker).
type Validator interface {
	Validate(v *Validation)
}

// Validation collects the problems of one component's settings, each
// naming its full key and, when the file sets it, its line.
type Validation struct {
	table   string
	lineOf  func(key string) string
	configs func(name string) (Config, bool)
	errs    []error
}

// NewValidation returns a Validation for the settings under table. lineOf
// gives "line N: " for a full key the file sets ("" otherwise); configs
// gives the other components' settings.
func NewValidation(table string, lineOf func(key string) string, configs func(name string) (Config, bool)) *Validation {
	if lineOf == nil {
		lineOf = func(string) string { return "" }
	}
	if configs == nil {
		configs = func(string) (Config, bool) { return nil, false }
	}
	return &Validation{table: table, lineOf: lineOf, configs: configs}
}

// Key is the full key of key in the component's table.
func (v *Validation) Key(key string) string {
	if key == "" {
		return v.table
	}
	return v.table + "." + key
}

// Bad records a problem with key (relative to the component's table).
func (v *Validation) Bad(key, format string, args ...any) {
	full := v.Key(key)
	v.errs = append(v.errs, fmt.Errorf("%s%s: %s", v.lineOf(full), full, fmt.Sprintf(format, args...)))
}

// BadAbs records a problem with a key outside the component's table (a
// setting that conflicts with another component's).
func (v *Validation) BadAbs(key, format string, args ...any) {
	v.errs = append(v.errs, fmt.Errorf("%s%s: %s", v.lineOf(key), key, fmt.Sprintf(format, args...)))
}

// Config returns another component's settings.
func (v *Validation) Config(name string) (Config, bool) { return v.configs(name) }

// Each calls fn with every registered component's settings, in
// registration order.
func (v *Validation) Each(fn func(name string, c Config)) {
	for _, comp := range All() {
		if c, ok := v.configs(comp.Name()); ok {
			fn(comp.Name(), c)
		}
	}
}

// Err returns every problem recorded, joined; nil when there is none.
func (v *Validation) Err() error { return errors.Join(v.errs...) }

// Defaulter is implemented by settings whose defaults depend on what the
// file sets (a mapping the file overrides key by key): called once the
// table is decoded, with set reporting whether the file sets a key under
// the component's table.
type Defaulter interface {
	ApplyDefaults(set func(key ...string) bool) error
}

// PathResolver is implemented by settings holding file paths: relative
// ones are made absolute from the config file's folder.
type PathResolver interface {
	ResolvePaths(abs func(string) string)
}

// Scheduled is implemented by stream settings with their own schedule.
type Scheduled interface {
	// ScheduleSpec is the stream's cron spec ("" follows
	// schedule.incremental).
	ScheduleSpec() string
}

// Output is one stream a stream component runs, known without any I/O:
// status, errors, resync and the schedules need it. (The contacts
// component, with customer e-mails on, runs two.)
type Output struct {
	// Stream is the name runs, cursors and logs use.
	Stream string
	// Entity is the target entity it writes: identities are kept per
	// entity.
	Entity string
	// Schedule overrides schedule.incremental for it ("" follows it).
	Schedule string
	// Inbound: it runs beside the engine (bridge/inbound), moving records
	// from the target system into the ERP.
	Inbound bool
	// Off: the component does not run it as configured (a setting turns
	// it on); it is listed so its name, entity and schedule are known.
	Off bool
}

// Outputs is implemented by stream settings: the streams they run.
type Outputs interface {
	Outputs() []Output
}

// Provisioned is what a stream component opened.
type Provisioned struct {
	// Streams run on the engine.
	Streams []*bridge.Stream
	// Inbound runs beside the engine: won CRM deals becoming ERP orders.
	Inbound *inbound.Poller
	// Close releases what was opened (nil when nothing).
	Close func() error
	// DryRunNotes are said after a dry run's figures (what they mean).
	DryRunNotes []Note
	// Warnings say what the streams go without (a column or table the ERP
	// lacks): logged once when the bridge opens.
	Warnings []Note
}

// Note is something said about one stream's figures.
type Note struct {
	Stream, Text string
}

// Provisioner is implemented by stream settings: it opens what runs.
type Provisioner interface {
	Provision(ctx context.Context, env *Env) (Provisioned, error)
}

// Finding is one thing `erpbridge check` says about a component.
type Finding struct {
	// Problem: the bridge cannot run as configured (check exits 1); Warn:
	// it runs, without something; Detail: a line that goes on the one
	// before. Otherwise it is a check passed.
	Problem, Warn, Detail bool
	Text                  string
	// Fix says what to do about a problem or a warning ("" none): shown
	// on the line after it.
	Fix string
	// Personal: the text names a person (a CRM user, the token's owner);
	// a support bundle leaves it out.
	Personal bool
	// Section is where `erpbridge check` shows it (the ERP's, unless set).
	Section Section
	// System, for SectionCRM, names the target system whose part it goes
	// in ("" the main one, the CRM; "marketing").
	System string
}

// Section is a part of `erpbridge check`'s report.
type Section int

// Sections.
const (
	SectionERP Section = iota
	SectionCRM
)

func (f Finding) String() string {
	fix := ""
	if f.Fix != "" {
		fix = "\n       fix: " + f.Fix
	}
	switch {
	case f.Problem:
		return "  FAIL " + f.Text + fix
	case f.Warn:
		return "  WARN " + f.Text + fix
	case f.Detail:
		return "       " + f.Text + fix
	}
	return "  ok   " + f.Text + fix
}

// Describer is implemented by the settings of the ERP and the target
// systems: the heading of their part of `erpbridge check`.
type Describer interface {
	Describe() string
}

// Checker is implemented by settings whose component can say, with I/O,
// whether it can run (`erpbridge check`).
type Checker interface {
	Check(ctx context.Context, env *Env) []Finding
}

// Diagnosis is what `erpbridge doctor` finds about one part of a system
// (the database server, one table), each finding with its verdict: ok,
// Warn or Problem (fail), the fix on the ones that need one.
type Diagnosis struct {
	Subject  string
	Findings []Finding
}

// Doctor is implemented by the ERP component's settings: `erpbridge
// doctor`, a read-only examination of the ERP for its team (before
// go-live, and when the bridge is slow): the server, and every table the
// enabled streams read. It writes nothing anywhere.
type Doctor interface {
	Doctor(ctx context.Context, env *Env) []Diagnosis
}

// StampIndexVerifier is implemented by the ERP component's settings: are
// the incremental polls of the enabled streams' tables served by an index
// on their change stamp? (An ERP upgrade that rebuilds a table drops an
// index made outside its dictionary, and every poll reads the table
// whole.) It returns only the tables that lack one, each a warning with
// its fix: `erpbridge check` shows them, `erpbridge run` logs them once a
// day.
type StampIndexVerifier interface {
	VerifyStampIndexes(ctx context.Context, env *Env) []Finding
}

// PageSizer is implemented by the ERP component's settings: how many rows
// a page of the ERP has (the engine's page size).
type PageSizer interface {
	PageRows() int
}

// Scripter is implemented by settings whose component needs tables the
// ERP team creates (won deals' staging tables): `erpbridge staging-ddl`
// prints the script, connecting to nothing.
type Scripter interface {
	// DDL returns the script for database ("" for the configured ERP's),
	// its first line a comment naming the tables. configs gives the other
	// components' settings.
	DDL(database string, configs func(name string) (Config, bool)) (string, error)
}

// StoreMigrator is implemented by the ERP component's settings when the
// keys it gives records changed between versions: it rewrites a
// checkpoint store of an earlier version once (recording that it did),
// before any stream is opened on it, so nothing is sent again. Like the
// store's schema it is the store's format, not a sync: a dry run migrates
// too.
type StoreMigrator interface {
	MigrateStore(ctx context.Context, st *store.Store) error
}

// DeletePolicy is implemented by stream settings: what a record deleted in
// the ERP does in the target system (`erpbridge map`).
type DeletePolicy interface {
	// DeletesPolicy is the configured policy ("ignore", "mark").
	DeletesPolicy() string
}

// CompanyCoder is implemented by the ERP component's settings: the
// company code its tables carry (`erpbridge map` lists the physical
// tables).
type CompanyCoder interface {
	CompanyCode() string
}
