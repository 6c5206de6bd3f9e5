package bridge

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/erpbridge/erpbridge/bridge/store"
	"github.com/erpbridge/erpbridge/erp"
	"go.uber.org/zap"
)

// Progress is where one stream's running pass is: what a progress bar, a
// progress log line, the live metrics and the status page show.
type Progress struct {
	Stream string
	RunID  int64 // 0 for a dry run
	Kind   store.RunKind
	// Total is how many ERP records the pass reads, counted cheaply before
	// it starts (erp.Counter); -1 when the source cannot tell.
	Total int64
	// Done is how many records are handled: read, and their writes (if
	// any) sent. Records read whose writes still wait to be sent in their
	// page are not done yet: at the CRM's pace that is where time goes.
	Done int64
	// Stats are the run's counters so far (cumulative).
	Stats     store.RunStats
	StartedAt time.Time
	At        time.Time // when these figures were taken
}

// Rate is the records done per second since the pass started (0 before
// the first second or record).
func (p Progress) Rate() float64 {
	secs := p.At.Sub(p.StartedAt).Seconds()
	if secs < 1 || p.Done <= 0 {
		return 0
	}
	return float64(p.Done) / secs
}

// ETA is the time left at the pass's rate so far; false when the total or
// the rate is not known yet.
func (p Progress) ETA() (time.Duration, bool) {
	rate := p.Rate()
	if p.Total < 0 || rate <= 0 {
		return 0, false
	}
	left := max(p.Total-p.Done, 0)
	return time.Duration(float64(left) / rate * float64(time.Second)).Round(time.Second), true
}

// Observer follows runs as they go. Calls come from the syncing goroutine,
// one run at a time per engine; an observer must return quickly.
type Observer interface {
	// Progress is called when a run starts (Done 0), after every record
	// and every write sent, and once more when the run ends.
	Progress(p Progress)
	// Finished is called with the report of every run.
	Finished(rep Report)
	// Wrote is called for every write the target system confirmed of a
	// record read with its ERP change time (its stamp).
	Wrote(w Write)
}

// Write is one confirmed write of a record: how long after its ERP change
// the target system had it (the freshness lead time).
type Write struct {
	Stream, ERPKey, CRMID string
	Op                    store.Op
	Created               bool
	// ERPChangedAt is the record's stamp (Protheus S_T_A_M_P_, UTC); At
	// is when the target system confirmed the write (the engine's clock).
	ERPChangedAt, At time.Time
}

// Lag is At − ERPChangedAt (0 when the clocks disagree the other way).
func (w Write) Lag() time.Duration { return max(w.At.Sub(w.ERPChangedAt), 0) }

// Observers fans the calls out to every non-nil observer, in order.
func Observers(obs ...Observer) Observer {
	var out multiObserver
	for _, o := range obs {
		if o != nil {
			out = append(out, o)
		}
	}
	return out
}

type multiObserver []Observer

func (m multiObserver) Progress(p Progress) {
	for _, o := range m {
		o.Progress(p)
	}
}

func (m multiObserver) Finished(rep Report) {
	for _, o := range m {
		o.Finished(rep)
	}
}

func (m multiObserver) Wrote(w Write) {
	for _, o := range m {
		o.Wrote(w)
	}
}

type nopObserver struct{}

func (nopObserver) Progress(Progress) {}
func (nopObserver) Finished(Report)   {}
func (nopObserver) Wrote(Write)       {}

// countPass counts what the pass will read, when the source can tell
// cheaply (-1 otherwise, or when counting fails: progress is no reason to
// fail a run).
func (r *run) countPass(ctx context.Context, full bool, pos erp.Position) int64 {
	c, ok := r.s.Source.(erp.Counter)
	if !ok {
		return -1
	}
	var n int64
	var err error
	if full {
		n, err = c.CountFullPass(ctx, pos)
	} else {
		n, err = c.CountChanges(ctx, pos)
	}
	if err != nil {
		r.log.Debug("counting what the pass reads, for its progress", zap.Error(err))
		return -1
	}
	return n
}

// tick tells the observer where the run is.
func (r *run) tick() {
	if r.depth > 0 || r.prog.StartedAt.IsZero() {
		return // an on-demand dependency counts in its own stream's runs
	}
	p := r.prog
	p.Stats, p.At = r.stats, r.e.opts.Now()
	p.Done = max(r.stats.Read-int64(len(r.planned))-r.unsent, 0)
	r.e.opts.Observer.Progress(p)
}

// ProgressEvery is how often LogProgress writes a running pass's line.
const ProgressEvery = 30 * time.Second

// LogProgress returns an observer that logs, per stream, one INFO line
// every `every` of a running pass (by the run's clock): N of M, the rate
// and the ETA. It is the progress of a service or a CI job, where no bar
// is drawn; a pass shorter than `every` logs none.
func LogProgress(log *zap.Logger, every time.Duration) Observer {
	return &progressLogger{log: log, every: every, last: map[string]time.Time{}}
}

type progressLogger struct {
	log   *zap.Logger
	every time.Duration
	mu    sync.Mutex
	last  map[string]time.Time // per stream: when its last line was due
}

func (l *progressLogger) Progress(p Progress) {
	l.mu.Lock()
	defer l.mu.Unlock()
	last, ok := l.last[p.Stream]
	if !ok || last.Before(p.StartedAt) {
		last = p.StartedAt // a new pass
	}
	if p.At.Sub(last) < l.every {
		l.last[p.Stream] = last
		return
	}
	l.last[p.Stream] = p.At
	fields := []zap.Field{zap.String("stream", p.Stream), zap.Int64("done", p.Done),
		zap.String("rate", fmt.Sprintf("%.1f/s", p.Rate())), zap.Int64("created", p.Stats.Created),
		zap.Int64("updated", p.Stats.Updated), zap.Int64("failed", p.Stats.Failed)}
	if p.RunID != 0 {
		fields = append(fields, zap.Int64("run_id", p.RunID))
	}
	msg := fmt.Sprintf("%s: %d records done", p.Stream, p.Done)
	if p.Total >= 0 {
		fields = append(fields, zap.Int64("total", p.Total))
		msg = fmt.Sprintf("%s: %d of %d records done", p.Stream, p.Done, p.Total)
	}
	if eta, ok := p.ETA(); ok {
		fields = append(fields, zap.Duration("eta", eta))
		msg += ", about " + eta.String() + " left"
	}
	l.log.Info(msg, fields...)
}

func (l *progressLogger) Finished(Report) {}

func (l *progressLogger) Wrote(Write) {}

type streamKey struct{}

// WithStream returns ctx naming the stream whose work it carries: the
// target system's requests made with it are counted under that stream.
func WithStream(ctx context.Context, stream string) context.Context {
	return context.WithValue(ctx, streamKey{}, stream)
}

// StreamOf returns the stream WithStream put in ctx ("" none).
func StreamOf(ctx context.Context) string {
	s, _ := ctx.Value(streamKey{}).(string)
	return s
}
