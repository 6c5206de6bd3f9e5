// Package priority orders the callers that share a scarce resource — the
// CRM account's requests a minute — by what waits on them: a won deal on
// its way to the ERP goes before an incremental poll, which goes before a
// backfill. The level travels in the context, so the engine and the
// inbound flow set it and the client's request budget reads it, neither
// knowing the other.
package priority

import (
	"context"
	"strconv"
)

// Level is a caller's priority; a higher level is served first.
type Level int

const (
	// Backfill is the default: full passes, first loads, resyncs.
	Backfill Level = iota
	// Incremental is a poll of what changed since the last run.
	Incremental
	// Urgent is a won deal on its way to the ERP, or a person waiting
	// (erpbridge check).
	Urgent
)

// Levels is the number of levels; each is a lane of a shared budget.
const Levels = 3

var names = [Levels]string{"backfill", "incremental", "urgent"}

// String names the level ("backfill", "incremental", "urgent").
func (l Level) String() string {
	if l >= 0 && int(l) < Levels {
		return names[l]
	}
	return "level(" + strconv.Itoa(int(l)) + ")"
}

// Valid reports whether l is one of the levels.
func (l Level) Valid() bool { return l >= 0 && int(l) < Levels }

type key struct{}

// With returns a context whose requests are served at l.
func With(ctx context.Context, l Level) context.Context {
	return context.WithValue(ctx, key{}, l)
}

// From returns the level With set, Backfill when none.
func From(ctx context.Context) Level {
	if l, ok := ctx.Value(key{}).(Level); ok && l.Valid() {
		return l
	}
	return Backfill
}

// Raise returns ctx at level l unless it already runs at a higher one.
func Raise(ctx context.Context, l Level) context.Context {
	if From(ctx) >= l {
		return ctx
	}
	return With(ctx, l)
}
