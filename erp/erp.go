package erp

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"strconv"
	"strings"
	"time"
)

// Value is one field value of a Record. It is always one of: nil, string
// (right-trimmed), decimal.Decimal (rounded to the field's decimals), int64,
// time.Time (a date at UTC midnight) or bool. A value the source could not
// convert is nil, and listed in Record.BadValues.
type Value = any

// Record is one row of an ERP table, converted to plain Go values.
type Record struct {
	// Key is the stable natural key: the key columns right-trimmed and
	// joined with "|" (see JoinKey), e.g. "01|000001|01" for filial|cod|loja.
	Key string
	// Recno is the row's record number (Protheus R_E_C_N_O_).
	Recno int64
	// Deleted is true for soft-deleted rows (Protheus D_E_L_E_T_ = '*').
	Deleted bool
	// Stamp is the row's last-change time in UTC, nil when the row has none.
	Stamp *time.Time
	// Fields maps each configured upper-case column name to its value.
	Fields map[string]Value
	// BadValues lists the columns whose stored value could not be read (a
	// NaN or text in a numeric column, a date that is not one, a NULL or
	// blank key column): their Fields entry is nil. The record is still
	// read, so one bad row never stops a page; what to make of it is the
	// reader's call (a mapper reports it naming the key and the column).
	BadValues []BadValue
}

// BadValue is one column of a record whose stored value could not be read.
type BadValue struct {
	Column string // upper-case column name
	Value  string // the stored value as text, for messages; "" for NULL
	Null   bool   // the value is NULL
	Reason string // what is wrong with it, e.g. "is not a number"
	// Key reports a key column: the record cannot be identified, so it can
	// be neither synced nor looked up again (see Record.KeyError).
	Key bool
}

// Error reads like: column A1_COD: NULL in a key column.
func (b BadValue) Error() string {
	if b.Null {
		return "column " + b.Column + ": " + b.Reason
	}
	return fmt.Sprintf("column %s: %q %s", b.Column, b.Value, b.Reason)
}

// Bad returns the BadValue of column, if the record has one.
func (r Record) Bad(column string) (BadValue, bool) {
	for _, b := range r.BadValues {
		if b.Column == column {
			return b, true
		}
	}
	return BadValue{}, false
}

// KeyError reports a record whose key columns are NULL or blank (nil when
// its key is usable). Such a record must never become an identity: its
// Key only tells it apart from others in messages (see SetKey).
func (r Record) KeyError() error {
	var bad []string
	for _, b := range r.BadValues {
		if b.Key {
			bad = append(bad, b.Error())
		}
	}
	if len(bad) == 0 {
		return nil
	}
	return fmt.Errorf("record number %d has no usable key: %s", r.Recno, strings.Join(bad, "; "))
}

// SetKey builds r.Key from the values of the key columns (strings, or nil
// for NULL), in order, once r.Recno is set. filial names the key column
// that is blank (or NULL) in shared tables ("" for none). A record whose
// key cannot identify it — a key column other than the filial that is
// NULL, or every key column but the filial blank — gets a BadValue per such column, and its unusable parts
// read "#" and the record number, so two such rows never share a key and
// no real record has it.
func (r *Record) SetKey(columns []string, values []Value, filial string) {
	parts := make([]string, len(columns))
	blank := true
	for i, col := range columns {
		switch v := values[i].(type) {
		case nil:
		case string:
			parts[i] = v
		default:
			parts[i] = keyText(v)
		}
		if !strings.EqualFold(col, filial) && strings.TrimSpace(parts[i]) != "" {
			blank = false
		}
	}
	for i, col := range columns {
		switch {
		case r.markKey(col):
			// Unreadable: its BadValue now says it is a key column.
		case strings.EqualFold(col, filial):
			continue // blank (or NULL, as some routes send it) means shared
		case values[i] == nil:
			r.BadValues = append(r.BadValues, BadValue{Column: col, Null: true, Reason: "NULL in a key column", Key: true})
		case blank:
			r.BadValues = append(r.BadValues, BadValue{Column: col, Value: parts[i], Reason: "is a blank key", Key: true})
		default:
			continue
		}
		parts[i] = "#" + strconv.FormatInt(r.Recno, 10)
	}
	r.Key = JoinKey(parts...)
}

// markKey marks the BadValue of column, if any, as a key column's.
func (r *Record) markKey(column string) bool {
	for i := range r.BadValues {
		if r.BadValues[i].Column == column {
			r.BadValues[i].Key = true
			return true
		}
	}
	return false
}

// keyText renders a key value that is not text: dates as YYYYMMDD,
// numbers and booleans as they print.
func keyText(v Value) string {
	if t, ok := v.(time.Time); ok {
		return t.Format("20060102")
	}
	return fmt.Sprint(v)
}

// Position is an opaque cursor the engine persists and hands back later.
// The empty Position means "from the beginning".
type Position string

// Page is one bounded batch of records plus the Position to commit once
// every record of the page has been handled.
type Page struct {
	Records []Record
	Next    Position
}

// Match is one equality condition on a column, used to find related rows
// (e.g. the AC8 links of one contact). With Values set, the column equals
// any of them (an IN list: the items of a whole page of orders at once)
// and Value is ignored.
type Match struct {
	Column string
	Value  string
	Values []string
}

// AnyOf matches column against any of values.
func AnyOf(column string, values []string) Match { return Match{Column: column, Values: values} }

// ErrNotIncremental is returned by Changes on a table that has no change
// stamp; such a table is synced by periodic full passes instead.
var ErrNotIncremental = errors.New("table has no change stamp")

// Source reads one configured ERP table. Reads stream in pages: a table is
// never held in memory. Iteration stops at the first error, which is
// yielded with an empty Page.
type Source interface {
	// Incremental reports whether Changes works for this table (it has a
	// change stamp). Otherwise sync it with FullPass and a fingerprint diff.
	Incremental() bool
	// Checkpoint returns the Position to start Changes from after a full
	// pass that begins now (the current high-water mark of the stamps).
	Checkpoint(ctx context.Context) (Position, error)
	// Changes yields the rows changed since the Position, including an
	// overlap window before it, oldest first.
	Changes(ctx context.Context, since Position, pageSize int) iter.Seq2[Page, error]
	// FullPass yields every row of the table (including rows without a
	// stamp and deleted rows) after the given full-pass Position, in record
	// order. Pass "" to start at the beginning.
	FullPass(ctx context.Context, after Position, pageSize int) iter.Seq2[Page, error]
	// Lookup reads one row by its Key (as built by JoinKey). When a key
	// exists both deleted and live, the live row wins.
	Lookup(ctx context.Context, key string) (Record, bool, error)
	// Find reads at most limit rows matching every condition, in record order.
	Find(ctx context.Context, match []Match, limit int) ([]Record, error)
	// Close releases what the Source holds (not a shared database handle).
	Close() error
}

// MatchPager is a Source that reads every row matching conditions page by
// page, in record order, however many there are (a customer's orders):
// Find reads at most a limit. Match.Values lists are not paged.
type MatchPager interface {
	FindPages(ctx context.Context, match []Match, pageSize int) iter.Seq2[[]Record, error]
}

// Counter is a Source that counts cheaply (one COUNT query) how many rows
// a read will yield, so a pass can show "N of M" and an ETA. The count is
// taken before the read starts: rows changed meanwhile make it approximate.
type Counter interface {
	// CountChanges counts the rows Changes(since) yields.
	CountChanges(ctx context.Context, since Position) (int64, error)
	// CountFullPass counts the rows FullPass(after) yields.
	CountFullPass(ctx context.Context, after Position) (int64, error)
}

// KeySeparator joins the parts of a Record.Key.
const KeySeparator = "|"

// JoinKey builds a Record.Key from key column values, right-trimming each.
func JoinKey(parts ...string) string {
	trimmed := make([]string, len(parts))
	for i, p := range parts {
		trimmed[i] = strings.TrimRight(p, " ")
	}
	return strings.Join(trimmed, KeySeparator)
}

// SplitKey splits a Record.Key back into its parts.
func SplitKey(key string) []string {
	return strings.Split(key, KeySeparator)
}

// StampFloor is where a read of changes from the beginning starts.
var StampFloor = time.Date(1900, 1, 1, 0, 0, 0, 0, time.UTC)

// PollFrom is the stamp a poll of changes starts from, given the last
// stamp the cursor holds (nil: from the beginning). It re-reads overlap
// behind the cursor — stamps are taken before commit and are coarse — and
// never starts later than now (a cursor recorded in the future before
// SeenUpTo capped it). Erring low only re-reads rows, which cost nothing
// when unchanged. A zero overlap re-reads nothing (a negative one counts as
// zero): a row committed after a poll with a stamp older than the cursor's
// is then missed; rows sharing the cursor's stamp are read again.
func PollFrom(last *time.Time, overlap time.Duration, now time.Time) time.Time {
	if last == nil {
		return StampFloor
	}
	stamp := *last
	if now = now.UTC(); stamp.After(now) {
		stamp = now
	}
	return stamp.Add(-max(overlap, 0))
}

// SeenUpTo is the stamp a poll (or a checkpoint) that began at now records
// for the newest row it read: the row's stamp, but never later than now. A
// row stamped in the future (a skewed clock, a manual UPDATE) would
// otherwise carry the cursor past every change written after the poll, and
// the next poll — which starts at most its overlap before now — would miss
// the changes written between the two. Rows stamped in the future are then
// read again by every poll; they cost nothing while unchanged.
func SeenUpTo(stamp, now time.Time) time.Time {
	if now = now.UTC(); stamp.After(now) {
		return now
	}
	return stamp
}
