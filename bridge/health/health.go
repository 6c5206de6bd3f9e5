package health

import (
	"context"
	"database/sql"

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
}
