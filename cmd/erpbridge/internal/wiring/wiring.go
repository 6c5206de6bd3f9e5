// Package wiring assembles a running bridge from the configuration and the
// registered components (bridge/component): the checkpoint store, the ERP,
// the target system, every enabled stream, and the engine. It names no
// vendor and no stream: each component opens its own part.
package wiring

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"time"

	"go.uber.org/zap"

	"github.com/erpbridge/erpbridge/bridge"
	"github.com/erpbridge/erpbridge/bridge/clock"
	"github.com/erpbridge/erpbridge/bridge/component"
	"github.com/erpbridge/erpbridge/bridge/health"
	"github.com/erpbridge/erpbridge/bridge/inbound"
	"github.com/erpbridge/erpbridge/bridge/store"
	"github.com/erpbridge/erpbridge/bridge/store/dirlock"
	"github.com/erpbridge/erpbridge/cmd/erpbridge/internal/config"
)

// StoreFile is the checkpoint store's file name inside data_dir.
const StoreFile = "erpbridge.db"

// Options tune Open for tests and tools.
type Options struct {
	Logger     *zap.Logger
	Clock      clock.Clock  // target client and engine retry clock (default real)
	HTTPClient *http.Client // target HTTP client (default the client's own)
	// DryRun: when the checkpoint store does not exist yet, use a throwaway
	// one instead of creating it (a dry run writes nothing anywhere).
	DryRun bool
	// AfterOrderSubmit, when set, runs right after the ERP answered a won
	// deal's order and before the answer is recorded (crash tests).
	AfterOrderSubmit func()
	// Store is the checkpoint store for OpenTarget: a target system keeps
	// an OAuth grant there, and its catalogue (Open passes its own).
	Store *store.Store
	// Observer follows the engine's runs as they go (progress, live
	// metrics, the status page).
	Observer bridge.Observer
	// ObserveRequest is told of every HTTP attempt to the target system
	// (the request latency metrics).
	ObserveRequest func(ctx context.Context, method string, status int, took time.Duration)
}

// Bridge is everything a sync needs, opened.
type Bridge struct {
	Config *config.Config
	Store  *store.Store
	// ERP is the opened ERP; CRM the main target system; Targets every
	// enabled target system by component name (the CRM among them).
	ERP     component.OpenedERP
	CRM     component.TargetSystem
	Targets map[string]component.TargetSystem
	Engine  *bridge.Engine
	// WonDeals moves won CRM deals into the ERP; nil unless won_deals is on.
	WonDeals *inbound.Poller
	// DryRunNotes are said after a dry run's figures.
	DryRunNotes []component.Note
	// Warnings say what the streams go without (logged when opened).
	Warnings []component.Note

	closers []func() error
	// recordBudget: RecordBudget writes to the store (not in a dry run).
	recordBudget bool
}

// Close releases everything Open acquired.
func (b *Bridge) Close() error {
	var errs []error
	for i := len(b.closers) - 1; i >= 0; i-- {
		errs = append(errs, b.closers[i]())
	}
	return errors.Join(errs...)
}

// How long the checkpoint store keeps history: confirmed writes (the
// outbox's done items) and runs (the last run of each stream is always
// kept). Prune runs after every nightly full pass.
const (
	KeepDoneWrites = 7 * 24 * time.Hour
	KeepRuns       = 30 * 24 * time.Hour
)

// Prune deletes confirmed writes and runs older than the given ages, so
// the store does not grow with history; it returns how many of each went.
// Won deals' writebacks are kept: they are what stops a deal being sent
// twice.
func (b *Bridge) Prune(ctx context.Context, keepDone, keepRuns time.Duration) (writes, runs int64, err error) {
	if writes, err = b.Store.PruneDone(ctx, keepDone); err != nil {
		return 0, 0, err
	}
	runs, err = b.Store.PruneRuns(ctx, keepRuns)
	return writes, runs, err
}

// Health is what the health monitor checks and measures of the bridge.
func (b *Bridge) Health() health.Target {
	t := health.Target{Store: b.Store, Streams: b.Engine.Streams(), Entities: map[string]string{}}
	for _, s := range t.Streams {
		t.Entities[s] = b.Config.Entity(s)
	}
	if b.WonDeals != nil {
		t.Inbound = inbound.Stream
	}
	t.NextRuns = func() map[string]time.Time { return nextRuns(b.Config, append(slices.Clone(t.Streams), t.Inbound)) }
	if h, ok := b.CRM.(component.HealthReporter); ok {
		t.CRM = h.Health()
	}
	if db, _ := b.ERP.SQL(); db != nil { // nil when the ERP is read through REST routes
		t.ERP = db
	}
	return t
}

// RecordBudget records the CRM account's request budget (configured,
// reserved, used, the adaptive rate, the time spent waiting) in the
// checkpoint store, for `erpbridge status`. Close records it too; a dry
// run records nothing.
func (b *Bridge) RecordBudget(ctx context.Context) error {
	h, ok := b.CRM.(component.HealthReporter)
	if !ok || !b.recordBudget {
		return nil
	}
	r, ok := h.Health().(health.BudgetReporter)
	if !ok {
		return nil
	}
	return health.KeepBudget(ctx, b.Store, r.Budget())
}

// nextRuns is when `erpbridge run` runs each stream next: the next match
// of its own schedule, else of schedule.incremental (what its cron does).
func nextRuns(cfg *config.Config, streams []string) map[string]time.Time {
	now := time.Now()
	out := make(map[string]time.Time, len(streams))
	for _, s := range streams {
		if s == "" {
			continue
		}
		spec := cmp.Or(cfg.OwnSchedule(s), cfg.Schedule.Incremental)
		if sched, err := config.CronParser.Parse(spec); err == nil {
			out[s] = sched.Next(now)
		}
	}
	return out
}

// OpenStore opens the checkpoint store in cfg.DataDir.
func OpenStore(ctx context.Context, cfg *config.Config) (*store.Store, error) {
	if err := os.MkdirAll(cfg.DataDir, 0o750); err != nil {
		return nil, fmt.Errorf("creating data_dir: %w", err)
	}
	st, err := store.Open(ctx, filepath.Join(cfg.DataDir, StoreFile))
	if err != nil {
		return nil, err
	}
	return st, nil
}

// OpenERP opens the configured ERP (the ERP component's).
func OpenERP(ctx context.Context, cfg *config.Config) (component.OpenedERP, error) {
	for _, c := range component.All() {
		if component.KindOf(c) != component.KindERP {
			continue
		}
		s, _ := cfg.Component(c.Name())
		if o, ok := s.(component.ERPOpener); ok {
			return o.OpenERP(ctx)
		}
	}
	return nil, errors.New("no ERP component is registered")
}

// MigrateStore brings the keys of a store of an earlier version to the
// ERP component's rule (component.StoreMigrator), before any stream opens.
func MigrateStore(ctx context.Context, cfg *config.Config, st *store.Store) error {
	for _, c := range component.All() {
		if component.KindOf(c) != component.KindERP {
			continue
		}
		s, _ := cfg.Component(c.Name())
		if m, ok := s.(component.StoreMigrator); ok {
			if err := m.MigrateStore(ctx, st); err != nil {
				return err
			}
		}
	}
	return nil
}

// OpenTarget opens the main target system (the first registered target
// component's: the CRM).
func OpenTarget(ctx context.Context, cfg *config.Config, o Options) (component.TargetSystem, error) {
	main, _, err := OpenTargets(ctx, cfg, o, nil)
	return main, err
}

// OpenTargets opens every enabled target system, by component name, and
// returns the main one (the first registered: the CRM) too. st is the
// checkpoint store a target keeps its OAuth grant in (nil: none open).
func OpenTargets(ctx context.Context, cfg *config.Config, o Options, st *store.Store) (component.TargetSystem, map[string]component.TargetSystem, error) {
	clk := o.Clock
	if clk == nil {
		clk = clock.Real{}
	}
	var main component.TargetSystem
	all := map[string]component.TargetSystem{}
	for _, c := range component.All() {
		if component.KindOf(c) != component.KindTarget {
			continue
		}
		s, _ := cfg.Component(c.Name())
		t, ok := s.(component.TargetOpener)
		if !ok || !s.Enabled() {
			continue
		}
		sys, err := t.OpenTarget(ctx, component.OpenOptions{Clock: clk, HTTPClient: o.HTTPClient, Logger: o.Logger, Store: st, DryRun: o.DryRun, ObserveRequest: o.ObserveRequest})
		if err != nil {
			return nil, nil, err
		}
		all[c.Name()] = sys
		if main == nil {
			main = sys
		}
	}
	if main == nil {
		return nil, nil, errors.New("no target system is registered")
	}
	return main, all, nil
}

// Open builds the bridge: the store, the ERP, the target system, then
// every enabled stream component's streams (which read the ERP's catalog
// and the target's schemas), and the engine.
func Open(ctx context.Context, cfg *config.Config, o Options) (_ *Bridge, err error) {
	log := o.Logger
	if log == nil {
		log = zap.NewNop()
	}
	clk := o.Clock
	if clk == nil {
		clk = clock.Real{}
	}
	b := &Bridge{Config: cfg}
	defer func() {
		if err != nil {
			_ = b.Close()
		}
	}()
	if !o.DryRun {
		// One syncing process per data directory: two would send the same
		// outbox items. A dry run writes nothing and needs no lock.
		lock, err := dirlock.Acquire(cfg.DataDir)
		if err != nil {
			return nil, err
		}
		b.closers = append(b.closers, lock.Release)
	}
	storeCfg := cfg
	if _, serr := os.Stat(filepath.Join(cfg.DataDir, StoreFile)); o.DryRun && errors.Is(serr, os.ErrNotExist) {
		tmp, err := os.MkdirTemp("", "erpbridge-dry-run-")
		if err != nil {
			return nil, fmt.Errorf("creating a throwaway store: %w", err)
		}
		b.closers = append(b.closers, func() error { return os.RemoveAll(tmp) })
		c := *cfg
		c.DataDir = tmp
		storeCfg = &c
	}
	if b.Store, err = OpenStore(ctx, storeCfg); err != nil {
		return nil, err
	}
	b.closers = append(b.closers, b.Store.Close)
	if _, err := b.Store.RecoverRuns(ctx); err != nil {
		return nil, fmt.Errorf("recovering interrupted runs: %w", err)
	}
	if b.CRM, b.Targets, err = OpenTargets(ctx, cfg, Options{Clock: clk, HTTPClient: o.HTTPClient, Logger: log, DryRun: o.DryRun, ObserveRequest: o.ObserveRequest}, b.Store); err != nil {
		return nil, err
	}
	if !o.DryRun {
		// Runs before the store closes (closers run last first).
		b.closers = append(b.closers, func() error { return b.RecordBudget(context.WithoutCancel(ctx)) })
		b.recordBudget = true
	}
	// The store's CRM ids must be this CRM's: another account (or an
	// emptied CRM) would make every sync a silent no-op.
	if a, ok := b.CRM.(component.AccountReporter); ok {
		if err := bridge.CheckAccount(ctx, b.Store, a.Account()); err != nil {
			return nil, err
		}
	}
	if b.ERP, err = OpenERP(ctx, cfg); err != nil {
		return nil, err
	}
	b.closers = append(b.closers, b.ERP.Close)
	if err := MigrateStore(ctx, cfg, b.Store); err != nil {
		return nil, err
	}

	env := &component.Env{ERP: b.ERP, CRM: b.CRM, Targets: b.Targets, Store: b.Store, Log: log, Clock: clk, DryRun: o.DryRun,
		AfterOrderSubmit: o.AfterOrderSubmit, Configs: cfg.Components()}
	got, err := Provision(ctx, cfg, env)
	if err != nil {
		// A name the streams look for (a custom field, a stage, a user)
		// may be missing from a kept copy of the CRM's catalogue that is
		// older than the change: read it again, once.
		if c, ok := b.CRM.(component.CatalogCacher); ok {
			if stale, ferr := c.Refresh(ctx); ferr == nil && stale {
				log.Info("the streams name something the kept copy of the CRM's catalogue lacks: reading it again", zap.Error(err))
				if got.Close != nil {
					_ = got.Close()
				}
				got, err = Provision(ctx, cfg, env)
			}
		}
	}
	if got.Close != nil {
		b.closers = append(b.closers, got.Close)
	}
	if err != nil {
		return nil, err
	}
	b.WonDeals, b.DryRunNotes, b.Warnings = got.Inbound, got.DryRunNotes, got.Warnings
	for _, w := range got.Warnings {
		log.Warn(w.Stream+": "+w.Text, zap.String("stream", w.Stream))
	}
	eo := bridge.Options{PageSize: pageSize(cfg), Logger: log, Now: clk.Now, Observer: o.Observer}
	if n, ok := b.CRM.(component.CallCounter); ok {
		eo.APICalls = n.APICalls
	}
	if b.Engine, err = bridge.New(b.Store, got.Streams, eo); err != nil {
		return nil, err
	}
	return b, nil
}

// Provision opens, on env, what every enabled stream component runs, all
// together; Close releases it (set even with an error, for what was
// opened before it).
func Provision(ctx context.Context, cfg *config.Config, env *component.Env) (component.Provisioned, error) {
	var all component.Provisioned
	var closers []func() error
	all.Close = func() error {
		var errs []error
		for i := len(closers) - 1; i >= 0; i-- {
			errs = append(errs, closers[i]())
		}
		return errors.Join(errs...)
	}
	for _, c := range component.Streams() {
		s, _ := cfg.Component(c.Name())
		p, ok := s.(component.Provisioner)
		if !ok || !s.Enabled() {
			continue
		}
		got, err := p.Provision(ctx, env)
		if got.Close != nil {
			closers = append(closers, got.Close)
		}
		if err != nil {
			return all, err
		}
		all.Streams = append(all.Streams, got.Streams...)
		all.DryRunNotes = append(all.DryRunNotes, got.DryRunNotes...)
		all.Warnings = append(all.Warnings, got.Warnings...)
		if got.Inbound != nil {
			if all.Inbound != nil {
				return all, fmt.Errorf("%s: a second inbound flow (one runs per bridge)", c.Name())
			}
			all.Inbound = got.Inbound
		}
	}
	return all, nil
}

// pageSize is the ERP component's page size (default the engine's).
func pageSize(cfg *config.Config) int {
	for _, c := range component.All() {
		if component.KindOf(c) != component.KindERP {
			continue
		}
		s, _ := cfg.Component(c.Name())
		if p, ok := s.(component.PageSizer); ok {
			return p.PageRows()
		}
	}
	return 0
}

// StreamNames lists the engine's streams of the enabled components, in
// registration order (the engine orders them by dependency); inbound ones
// (won deals) are not among them.
func StreamNames(cfg *config.Config) []string {
	var out []string
	for _, o := range cfg.Outputs() {
		if !o.Inbound {
			out = append(out, o.Stream)
		}
	}
	return out
}

// Tables lists every ERP table the enabled streams read.
func Tables(cfg *config.Config, company string) ([]component.Table, error) {
	var out []component.Table
	for _, c := range component.Streams() {
		s, _ := cfg.Component(c.Name())
		tr, ok := s.(component.TableReader)
		if !ok || !s.Enabled() {
			continue
		}
		ts, err := tr.Tables(company, cfg.Component)
		if err != nil {
			return nil, err
		}
		out = append(out, ts...)
	}
	return out, nil
}
