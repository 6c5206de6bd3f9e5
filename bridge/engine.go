package bridge

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/erpbridge/erpbridge/bridge/store"
	"go.uber.org/zap"
)

// Options tune the engine. Zero values take the defaults in withDefaults.
type Options struct {
	// PageSize is the number of ERP rows read per page (default 500).
	PageSize int
	// CompleteBatch is how many confirmed writes are recorded per store
	// transaction (default 64; always before the cursor moves).
	CompleteBatch int
	// MaxAttempts parks an item with level "error" after this many failed
	// attempts (default 10). Rate-limited attempts do not count.
	MaxAttempts int
	// Backoff is the wait before attempt n+1 after n failures (default
	// 1m·2^(n-1), at most 6h).
	Backoff func(failures int) time.Duration
	// RateLimitDelay is how long a rate-limited item waits (default 1m).
	RateLimitDelay time.Duration
	// Grace is how long an in-flight CRM call may go on after a stop
	// request, so the record finishes and is persisted (default 8s).
	Grace time.Duration
	// Samples is how many sample payloads a dry run keeps per action (default 3).
	Samples int
	// Now is the clock (default time.Now).
	Now func() time.Time
	// APICalls reads the CRM client's cumulative request count, for the
	// per-run "API calls" figure. Optional.
	APICalls func() int64
	// Logger receives one line per failed record and per run (default nop).
	Logger *zap.Logger
	// Observer follows every run as it goes: progress bars, live metrics,
	// the status page (default none).
	Observer Observer
}

func (o Options) withDefaults() Options {
	if o.PageSize <= 0 {
		o.PageSize = 500
	}
	if o.CompleteBatch <= 0 {
		o.CompleteBatch = 64
	}
	if o.MaxAttempts <= 0 {
		o.MaxAttempts = 10
	}
	if o.Backoff == nil {
		o.Backoff = func(n int) time.Duration {
			if n < 1 {
				n = 1
			}
			if n > 10 {
				return 6 * time.Hour
			}
			d := time.Minute << (n - 1)
			return min(d, 6*time.Hour)
		}
	}
	if o.RateLimitDelay <= 0 {
		o.RateLimitDelay = time.Minute
	}
	if o.Grace <= 0 {
		o.Grace = 8 * time.Second
	}
	if o.Samples <= 0 {
		o.Samples = 3
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.APICalls == nil {
		o.APICalls = func() int64 { return 0 }
	}
	if o.Logger == nil {
		o.Logger = zap.NewNop()
	}
	if o.Observer == nil {
		o.Observer = nopObserver{}
	}
	return o
}

// Engine runs streams against the checkpoint store.
type Engine struct {
	store   *store.Store
	streams map[string]*Stream
	order   []string
	opts    Options

	mu sync.Mutex // one sync at a time
}

// New checks the streams and orders them by their dependencies.
func New(st *store.Store, streams []*Stream, opts Options) (*Engine, error) {
	e := &Engine{store: st, streams: make(map[string]*Stream, len(streams)), opts: opts.withDefaults()}
	for _, s := range streams {
		if err := s.validate(); err != nil {
			return nil, err
		}
		if _, dup := e.streams[s.Name]; dup {
			return nil, fmt.Errorf("stream %s is defined twice", s.Name)
		}
		e.streams[s.Name] = s
	}
	order, err := topoOrder(streams)
	if err != nil {
		return nil, err
	}
	e.order = order
	return e, nil
}

// Streams returns the stream names in dependency order.
func (e *Engine) Streams() []string { return append([]string(nil), e.order...) }

// topoOrder sorts streams so each comes after the streams it depends on,
// keeping the given order otherwise.
func topoOrder(streams []*Stream) ([]string, error) {
	byName := make(map[string]*Stream, len(streams))
	for _, s := range streams {
		byName[s.Name] = s
	}
	const (
		unseen = iota
		visiting
		done
	)
	state := make(map[string]int, len(streams))
	var order []string
	var visit func(name string, from string) error
	visit = func(name, from string) error {
		s, ok := byName[name]
		if !ok {
			return fmt.Errorf("stream %s depends on unknown stream %s", from, name)
		}
		switch state[name] {
		case done:
			return nil
		case visiting:
			return fmt.Errorf("streams %s and %s depend on each other", from, name)
		}
		state[name] = visiting
		for _, d := range s.DependsOn {
			if err := visit(d, name); err != nil {
				return err
			}
		}
		state[name] = done
		order = append(order, name)
		return nil
	}
	for _, s := range streams {
		if err := visit(s.Name, s.Name); err != nil {
			return nil, err
		}
	}
	return order, nil
}

// SyncOptions select what one sync does.
type SyncOptions struct {
	// Full reads every row instead of the changes since the cursor.
	Full bool
	// DryRun computes what would be created, updated, skipped or fail,
	// with sample payloads, and writes nothing anywhere.
	DryRun bool

	// dry is what the streams of one dry run would have created so far.
	dry *dryState
}

// Sample is one example record of a dry run.
type Sample struct {
	Action  string // create | update | skip | fail | mark
	ERPKey  string
	CRMID   string
	Payload Payload
	Reason  string
}

// Report is the outcome of one stream's sync.
type Report struct {
	Stream   string
	RunID    int64
	Kind     store.RunKind
	Stats    store.RunStats
	Duration time.Duration
	// Samples are kept by dry runs only.
	Samples []Sample
	Err     error
	// Interrupted: a stop request (the context cancelled) cut the run
	// short. It is not a failure: Err is nil, and the next run goes on
	// from where this one stopped.
	Interrupted bool
	// Warned counts the records written (or, in a dry run, to be written)
	// without some of what they map to: fields with invalid ERP values, or
	// a natural key another ERP record owns. They are listed by errors
	// list as warnings; they are not failures.
	Warned int64
}

// SyncAll syncs every stream in dependency order. A stream that fails does
// not stop the others; the joined error names each failed stream.
func (e *Engine) SyncAll(ctx context.Context, so SyncOptions) ([]Report, error) {
	if so.DryRun && so.dry == nil {
		so.dry = &dryState{}
		defer so.dry.forget(e)
	}
	var reps []Report
	var errs []error
	for _, name := range e.order {
		if ctx.Err() != nil {
			break
		}
		rep, err := e.Sync(ctx, name, so)
		reps = append(reps, rep)
		if err != nil {
			errs = append(errs, err)
		}
	}
	if err := ctx.Err(); err != nil {
		errs = append(errs, err)
	}
	return reps, errors.Join(errs...)
}

// Sync syncs one stream.
func (e *Engine) Sync(ctx context.Context, name string, so SyncOptions) (Report, error) {
	s, ok := e.streams[name]
	if !ok {
		return Report{Stream: name}, fmt.Errorf("unknown stream %q", name)
	}
	if so.DryRun && so.dry == nil {
		so.dry = &dryState{}
		defer so.dry.forget(e)
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if !so.DryRun && s.CapName != "" {
		if rep, err := e.checkCap(ctx, s, so.Full); err != nil {
			return rep, fmt.Errorf("syncing %s: %w", name, err)
		}
	}
	r := newRun(e, s, so.DryRun)
	r.drySt = so.dry
	rep := r.execute(ctx, so.Full)
	e.opts.Observer.Finished(rep)
	if rep.Err != nil {
		return rep, fmt.Errorf("syncing %s: %w", name, rep.Err)
	}
	return rep, nil
}

// Resync forgets the fingerprints of a stream's records so its next sync
// sends every record again (CRM ids are kept: nothing is duplicated).
func (e *Engine) Resync(ctx context.Context, name string) (int64, error) {
	s, ok := e.streams[name]
	if !ok {
		return 0, fmt.Errorf("unknown stream %q", name)
	}
	n, err := e.store.ForgetFingerprints(ctx, s.Target.Entity())
	if err != nil {
		return 0, fmt.Errorf("forgetting fingerprints of %s: %w", name, err)
	}
	return n, nil
}

// ErrCapExceeded: a run would create more records than its stream's
// CreateCap; nothing was sent.
var ErrCapExceeded = errors.New("the run would create more records than allowed")

// checkCap runs the stream's dry pass (what the run would read, mapped,
// nothing written) and refuses the run when it would create more records
// than s.CreateCap. It costs no write and, for a target that finds records
// without asking (or by an index), no request.
func (e *Engine) checkCap(ctx context.Context, s *Stream, full bool) (Report, error) {
	d := &dryState{}
	defer d.forget(e)
	dry := newRun(e, s, true)
	dry.drySt = d
	rep := dry.execute(ctx, full)
	if rep.Err != nil {
		return Report{Stream: s.Name, Err: rep.Err}, fmt.Errorf("counting what the run would create: %w", rep.Err)
	}
	if n := rep.Stats.Created; n > int64(s.CreateCap) {
		err := fmt.Errorf("%w: it would create %d new records, above %s = %d; nothing was sent. Raise it, or narrow what "+
			"the stream selects (`erpbridge sync --dry-run --stream %s` shows what it would create)", ErrCapExceeded, n, s.CapName, s.CreateCap, s.Name)
		e.opts.Logger.Error("run refused before sending: too many new records", zap.String("stream", s.Name),
			zap.Int64("would_create", n), zap.Int("cap", s.CreateCap))
		return Report{Stream: s.Name, Err: err, Stats: store.RunStats{Err: err.Error()}}, err
	}
	return Report{}, nil
}
