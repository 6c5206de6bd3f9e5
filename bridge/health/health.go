package health

import (
	"context"
	"database/sql"
	"io"
	"time"

	"github.com/erpbridge/erpbridge/bridge/store"
)

// Store is the part of the checkpoint store the monitor reads.
type Store interface {
	// Count returns the open outbox items per stream and state.
	Count(ctx context.Context) ([]store.OutboxCount, error)
	// LastRun returns the newest run of a stream.
	LastRun(ctx context.Context, stream string) (store.Run, bool, error)
	// Cursors returns every stream's cursor.
	Cursors(ctx context.Context) ([]store.Cursor, error)

	// The status page and the record history read these too.
	LastRuns(ctx context.Context, limit int) ([]store.Run, error)
	Errors(ctx context.Context, f store.OutboxFilter) ([]store.OutboxItem, error)
	Warnings(ctx context.Context, f store.OutboxFilter) ([]store.Warning, error)
	CountIdentities(ctx context.Context, entity string) (total, withCRMID int64, err error)
	CountWritebacks(ctx context.Context) (map[store.WritebackState]int64, error)
	Identity(ctx context.Context, entity, erpKey string) (store.Identity, bool, error)
	IdentityByCRMID(ctx context.Context, entity, crmID string) (store.Identity, bool, error)
	Writes(ctx context.Context, entity, erpKey string, limit int) ([]store.OutboxItem, error)
	Writeback(ctx context.Context, dealID string) (store.Writeback, bool, error)
}

// ERP is the ERP database as the monitor sees it.
type ERP interface {
	PingContext(ctx context.Context) error
}

// CRM is the CRM client as the monitor sees it.
type CRM interface {
	// Stats returns the client's cumulative counters.
	Stats() Stats
	// Ping is the cheap call that proves the CRM answers and accepts the
	// credentials.
	Ping(ctx context.Context) error
}

// Stats are a target system client's cumulative request counters.
type Stats struct {
	// Requests is every HTTP attempt sent, retries included.
	Requests int64
	// ByMethod counts attempts per HTTP method.
	ByMethod map[string]int64
	// RateLimited counts 429 answers.
	RateLimited int64
	// Retries counts attempts repeated after a 5xx or a network failure.
	Retries int64
	// OutcomeUnknown counts writes that were sent but got no answer.
	OutcomeUnknown int64
}

var (
	_ Store = (*store.Store)(nil)
	_ ERP   = (*sql.DB)(nil)
)

// Target is one open bridge: what the monitor checks and measures.
type Target struct {
	Store   Store
	ERP     ERP
	CRM     CRM
	Streams []string // the engine's streams, in order
	// Entities names each stream's target entity (the record lookup and
	// the records-in-the-CRM counts); a stream missing here shows none.
	Entities map[string]string
	// Inbound is the name of the won-deal flow's stream ("" without one):
	// the page shows its deals waiting, staged and ordered.
	Inbound string
	// NextRuns, when set, tells when each stream runs next (the scheduler).
	NextRuns func() map[string]time.Time
	// Map, when set, writes the data-flow map as a standalone HTML page
	// (erpbridge map --format html): the page serves it at /map.
	Map func(w io.Writer) error
}
