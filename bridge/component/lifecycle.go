package component

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/erpbridge/erpbridge/bridge"
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

// Err returns every problem recorded, joined; nil when there is none.
func (v *Validation) Err() error { return errors.Join(v.errs...) }

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
}

// Outputs is implemented by stream settings: the streams they run.
type Outputs interface {
	Outputs() []Output
}

// Provisioned is what a stream component opened.
type Provisioned struct {
	// Streams run on the engine.
	Streams []*bridge.Stream
	// Flows run beside the engine (won deals → ERP orders).
	Flows []Flow
	// Close releases what was opened (nil when nothing).
	Close func() error
}

// Flow runs beside the engine: its source is not the ERP (won CRM deals
// becoming ERP orders).
type Flow interface {
	// Name is the name runs, logs and errors use ("won_deals").
	Name() string
	// Run does one poll; Sweep looks back further (with the full pass).
	Run(ctx context.Context) (bridge.Report, error)
	Sweep(ctx context.Context) (bridge.Report, error)
}

// Provisioner is implemented by stream settings: it opens what runs.
type Provisioner interface {
	Provision(ctx context.Context, env *Env) (Provisioned, error)
}

// Finding is one thing `erpbridge check` says about a component.
type Finding struct {
	// Key is the setting it is about ("" for the component as a whole).
	Key string
	// Problem: the bridge cannot run as configured (check exits 1).
	// Otherwise it is information, or a warning when Warn is set.
	Problem, Warn bool
	Text          string
}

func (f Finding) String() string {
	var b strings.Builder
	switch {
	case f.Problem:
		b.WriteString("PROBLEM ")
	case f.Warn:
		b.WriteString("warning ")
	}
	if f.Key != "" {
		b.WriteString(f.Key + ": ")
	}
	b.WriteString(f.Text)
	return b.String()
}

// Checker is implemented by settings whose component can say, with I/O,
// whether it can run (`erpbridge check`).
type Checker interface {
	Check(ctx context.Context, env *Env) []Finding
}
