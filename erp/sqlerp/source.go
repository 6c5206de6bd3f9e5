package sqlerp

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"iter"
	"strings"
	"sync"
	"time"

	"github.com/erpbridge/erpbridge/erp"
)

// Why ">= since − overlap", keyset paging and a fingerprint diff are safe:
//
//   - A stamp is taken before its transaction commits (DBAccess's trigger,
//     PostgreSQL's now()), so a row can become visible with a stamp older
//     than rows already read. Each poll therefore starts Overlap before the
//     last committed stamp: any transaction shorter than the overlap is seen.
//   - Stamps are coarse (SQL Server DATETIME ticks every ~3 ms) and many
//     rows share one. ">=" never drops a row that ties the last stamp, and
//     the (stamp, recno) keyset orders rows totally, so pages within one poll
//     neither skip nor repeat rows.
//   - The price is that every poll re-reads the overlap window. The engine
//     fingerprints each mapped record, so a re-read unchanged row costs no
//     API call; and every page is committed only after its rows are done,
//     so a crash replays at most one page.
//   - Rows with a NULL stamp (written before stamps were switched on) never
//     match ">="; they are read by FullPass, which pages on the record
//     number alone and also serves tables without a stamp.

// Options tune a Source.
type Options struct {
	// Overlap is re-read before the last stamp on every poll; zero re-reads
	// nothing (see erp.PollFrom). erpbridge's configuration sets it
	// (erp.overlap, 2 minutes unless changed).
	Overlap time.Duration
	// QueryTimeout bounds each page query; 0 leaves it to ctx.
	QueryTimeout time.Duration
	// Now is the clock a poll is capped by (default time.Now).
	Now func() time.Time
}

// Source reads one table. It implements erp.Source; it does not own db.
type Source struct {
	db          *sql.DB
	d           Dialect
	spec        TableSpec
	cols        []ColumnSpec // Record.Fields columns, in select order
	opts        Options
	incremental bool

	// stmts caches prepared statements by SQL text: per-record lookups
	// (an order's items, its customer) otherwise spend most of their time
	// having the database parse the same query again.
	stmtMu sync.Mutex
	stmts  map[string]*sql.Stmt
}

// maxCachedStmts bounds the statement cache of one Source (Find with many
// different limits or match columns would otherwise grow it).
const maxCachedStmts = 32

var _ erp.Source = (*Source)(nil)

// NewSource checks spec against the catalog and returns a Source for it.
// Character widths come from the catalog; a configured stamp column that the
// table lacks makes the Source full-pass only (Incremental() == false).
func NewSource(ctx context.Context, db *sql.DB, d Dialect, spec TableSpec, opts Options) (*Source, error) {
	rep, err := Check(ctx, db, d, spec)
	if err != nil {
		return nil, fmt.Errorf("opening %s: %w", spec.Physical, err)
	}
	if !rep.Exists {
		return nil, fmt.Errorf("opening %s: table not found", rep.Table)
	}
	if len(rep.Missing) > 0 {
		return nil, fmt.Errorf("opening %s: missing columns %s", rep.Table, strings.Join(rep.Missing, ", "))
	}
	// Widths come from the catalog (sizes grow between releases); key and
	// filial columns not listed get one too, for padded binds.
	cols := make([]ColumnSpec, 0, len(spec.Columns)+len(spec.KeyColumns)+1)
	for _, c := range spec.fieldColumns() {
		if w := rep.Widths[c.Name]; w > 0 {
			c.Width = w
		}
		cols = append(cols, c)
	}
	spec.Columns = cols
	if !rep.HasStamp {
		spec.StampColumn = ""
	}
	return &Source{db: db, d: d, spec: spec, cols: spec.fieldColumns(), opts: opts, incremental: rep.HasStamp}, nil
}

// Spec returns the table spec as resolved against the catalog.
func (s *Source) Spec() TableSpec { return s.spec }

func (s *Source) now() time.Time {
	if s.opts.Now != nil {
		return s.opts.Now()
	}
	return time.Now()
}

// Incremental implements erp.Source.
func (s *Source) Incremental() bool { return s.incremental }

// Close implements erp.Source; the *sql.DB stays open for its owner.
func (s *Source) Close() error {
	s.stmtMu.Lock()
	defer s.stmtMu.Unlock()
	var errs []error
	for _, st := range s.stmts {
		errs = append(errs, st.Close())
	}
	s.stmts = nil
	return errors.Join(errs...)
}

// query runs st, prepared once per Source and SQL text. PostgreSQL's
// driver already prepares and caches statements per connection (and
// recovers when a table changes under them, which an explicitly prepared
// statement does not), so it is left to it; one-off texts are not cached.
// A cached statement that fails is dropped and the query run plainly.
func (s *Source) query(ctx context.Context, st Statement) (*sql.Rows, error) {
	if _, pg := s.d.(Postgres); pg || st.OneOff {
		return s.db.QueryContext(ctx, st.SQL, st.Args...)
	}
	s.stmtMu.Lock()
	ps, ok := s.stmts[st.SQL]
	full := len(s.stmts) >= maxCachedStmts
	s.stmtMu.Unlock()
	if !ok {
		if full {
			return s.db.QueryContext(ctx, st.SQL, st.Args...)
		}
		var err error
		if ps, err = s.db.PrepareContext(ctx, st.SQL); err != nil {
			return nil, err
		}
		s.stmtMu.Lock()
		if prev, raced := s.stmts[st.SQL]; raced {
			_ = ps.Close()
			ps = prev
		} else {
			if s.stmts == nil {
				s.stmts = map[string]*sql.Stmt{}
			}
			s.stmts[st.SQL] = ps
		}
		s.stmtMu.Unlock()
	}
	rows, err := ps.QueryContext(ctx, st.Args...)
	if err != nil && ctx.Err() == nil {
		s.stmtMu.Lock()
		if s.stmts[st.SQL] == ps {
			delete(s.stmts, st.SQL)
			_ = ps.Close()
		}
		s.stmtMu.Unlock()
		return s.db.QueryContext(ctx, st.SQL, st.Args...)
	}
	return rows, err
}

// Checkpoint implements erp.Source: the newest stamp now in the table.
func (s *Source) Checkpoint(ctx context.Context) (erp.Position, error) {
	if !s.incremental {
		return "", fmt.Errorf("reading %s checkpoint: %w", s.spec.Physical, erp.ErrNotIncremental)
	}
	ctx, cancel := s.queryCtx(ctx)
	defer cancel()
	now := s.now()
	st := maxStampStatement(s.d, s.spec)
	var raw any
	if err := s.db.QueryRowContext(ctx, st.SQL, st.Args...).Scan(&raw); err != nil {
		return "", fmt.Errorf("reading %s checkpoint: %w", s.spec.Physical, err)
	}
	stamp, err := convertStamp(raw)
	if err != nil {
		return "", fmt.Errorf("reading %s checkpoint: %w", s.spec.Physical, err)
	}
	if stamp == nil {
		return "", nil
	}
	seen := erp.SeenUpTo(*stamp, now)
	return position{Stamp: &seen}.encode(), nil
}

// Changes implements erp.Source.
func (s *Source) Changes(ctx context.Context, since erp.Position, pageSize int) iter.Seq2[erp.Page, error] {
	return func(yield func(erp.Page, error) bool) {
		fail := func(err error) { yield(erp.Page{}, fmt.Errorf("reading %s changes: %w", s.spec.Physical, err)) }
		if !s.incremental {
			fail(erp.ErrNotIncremental)
			return
		}
		if pageSize <= 0 {
			fail(errors.New("page size must be positive"))
			return
		}
		pos, err := decodePosition(since)
		if err != nil {
			fail(err)
			return
		}
		now := s.now()
		from := erp.PollFrom(pos.Stamp, s.opts.Overlap, now)
		var after *stampCursor
		for {
			recs, err := s.readPage(ctx, changesStatement(s.d, s.spec, from, after, pageSize), pageSize)
			if err != nil {
				fail(err)
				return
			}
			if len(recs) == 0 {
				return
			}
			last := recs[len(recs)-1]
			if last.Stamp == nil { // ">=" never matches NULL
				fail(errors.New("row without stamp in a stamp-ordered read"))
				return
			}
			seen := erp.SeenUpTo(*last.Stamp, now)
			if !yield(erp.Page{Records: recs, Next: position{Stamp: &seen, Recno: last.Recno}.encode()}, nil) {
				return
			}
			if len(recs) < pageSize {
				return
			}
			after = &stampCursor{Stamp: *last.Stamp, Recno: last.Recno}
		}
	}
}

// FullPass implements erp.Source.
func (s *Source) FullPass(ctx context.Context, after erp.Position, pageSize int) iter.Seq2[erp.Page, error] {
	return func(yield func(erp.Page, error) bool) {
		fail := func(err error) { yield(erp.Page{}, fmt.Errorf("reading %s full pass: %w", s.spec.Physical, err)) }
		if pageSize <= 0 {
			fail(errors.New("page size must be positive"))
			return
		}
		pos, err := decodePosition(after)
		if err != nil {
			fail(err)
			return
		}
		recno := pos.Recno
		for {
			recs, err := s.readPage(ctx, fullPassStatement(s.d, s.spec, recno, pageSize), pageSize)
			if err != nil {
				fail(err)
				return
			}
			if len(recs) == 0 {
				return
			}
			recno = recs[len(recs)-1].Recno
			if !yield(erp.Page{Records: recs, Next: position{Recno: recno}.encode()}, nil) {
				return
			}
			if len(recs) < pageSize {
				return
			}
		}
	}
}

var _ erp.Counter = (*Source)(nil)

// CountChanges implements erp.Counter.
func (s *Source) CountChanges(ctx context.Context, since erp.Position) (int64, error) {
	if !s.incremental {
		return 0, fmt.Errorf("counting %s changes: %w", s.spec.Physical, erp.ErrNotIncremental)
	}
	pos, err := decodePosition(since)
	if err != nil {
		return 0, fmt.Errorf("counting %s changes: %w", s.spec.Physical, err)
	}
	return s.count(ctx, "changes", countChangesStatement(s.d, s.spec, erp.PollFrom(pos.Stamp, s.opts.Overlap, s.now())))
}

// CountFullPass implements erp.Counter.
func (s *Source) CountFullPass(ctx context.Context, after erp.Position) (int64, error) {
	pos, err := decodePosition(after)
	if err != nil {
		return 0, fmt.Errorf("counting %s rows: %w", s.spec.Physical, err)
	}
	return s.count(ctx, "rows", countFullPassStatement(s.d, s.spec, pos.Recno))
}

func (s *Source) count(ctx context.Context, what string, st Statement) (int64, error) {
	ctx, cancel := s.queryCtx(ctx)
	defer cancel()
	var n int64
	if err := s.db.QueryRowContext(ctx, st.SQL, st.Args...).Scan(&n); err != nil {
		return 0, fmt.Errorf("counting %s %s: %w", s.spec.Physical, what, err)
	}
	return n, nil
}

// Lookup implements erp.Source.
func (s *Source) Lookup(ctx context.Context, key string) (erp.Record, bool, error) {
	st, err := lookupStatement(s.d, s.spec, erp.SplitKey(key))
	if err != nil {
		return erp.Record{}, false, fmt.Errorf("looking up %s %q: %w", s.spec.Physical, key, err)
	}
	recs, err := s.readPage(ctx, st, 1)
	if err != nil {
		return erp.Record{}, false, fmt.Errorf("looking up %s %q: %w", s.spec.Physical, key, err)
	}
	if len(recs) == 0 {
		return erp.Record{}, false, nil
	}
	return recs[0], true, nil
}

// Find implements erp.Source.
func (s *Source) Find(ctx context.Context, match []erp.Match, limit int) ([]erp.Record, error) {
	if limit <= 0 {
		return nil, fmt.Errorf("finding rows in %s: limit must be positive", s.spec.Physical)
	}
	st, err := findStatement(s.d, s.spec, match, limit)
	if err != nil {
		return nil, err
	}
	recs, err := s.readPage(ctx, st, limit)
	if err != nil {
		return nil, fmt.Errorf("finding rows in %s: %w", s.spec.Physical, err)
	}
	return recs, nil
}

func (s *Source) queryCtx(ctx context.Context) (context.Context, context.CancelFunc) {
	if s.opts.QueryTimeout > 0 {
		return context.WithTimeout(ctx, s.opts.QueryTimeout)
	}
	return context.WithCancel(ctx)
}

// readPage runs one bounded query and converts its rows; memory is bounded
// by capacity records.
func (s *Source) readPage(ctx context.Context, st Statement, capacity int) ([]erp.Record, error) {
	ctx, cancel := s.queryCtx(ctx)
	defer cancel()
	rows, err := s.query(ctx, st)
	if err != nil {
		return nil, fmt.Errorf("querying: %w", err)
	}
	defer rows.Close()

	n := len(s.cols)
	recnoAt, deletedAt, stampAt := n, -1, -1
	width := n + 1
	if s.spec.DeletedColumn != "" {
		deletedAt = width
		width++
	}
	if s.spec.StampColumn != "" {
		stampAt = width
		width++
	}
	raw := make([]any, width)
	dest := make([]any, width)
	for i := range raw {
		dest[i] = &raw[i]
	}
	keyAt := make([]int, len(s.spec.KeyColumns))
	keyCols := make([]string, len(s.spec.KeyColumns))
	for i, k := range s.spec.KeyColumns {
		keyCols[i] = strings.ToUpper(k)
		for j, c := range s.cols {
			if c.Name == keyCols[i] {
				keyAt[i] = j
			}
		}
	}

	recs := make([]erp.Record, 0, min(capacity, 1024))
	for rows.Next() {
		clear(raw)
		if err := rows.Scan(dest...); err != nil {
			return nil, fmt.Errorf("scanning row: %w", err)
		}
		rec := erp.Record{Fields: make(map[string]erp.Value, n)}
		var err error
		if rec.Recno, err = convertRecno(raw[recnoAt]); err != nil {
			return nil, err
		}
		for i, c := range s.cols {
			v, err := Convert(c, raw[i])
			if err != nil {
				// One bad value is its record's problem, not the page's.
				rec.BadValues = append(rec.BadValues, BadValue(c, raw[i], err))
			}
			rec.Fields[c.Name] = v
		}
		keys := make([]erp.Value, len(keyAt))
		for i, j := range keyAt {
			keys[i] = rec.Fields[s.cols[j].Name]
		}
		rec.SetKey(keyCols, keys, s.spec.FilialColumn)
		if deletedAt >= 0 {
			d, err := text(orEmpty(raw[deletedAt]))
			if err != nil {
				return nil, fmt.Errorf("reading deleted flag: %w", err)
			}
			rec.Deleted = strings.TrimSpace(d) == "*"
		}
		if stampAt >= 0 {
			if rec.Stamp, err = convertStamp(raw[stampAt]); err != nil {
				return nil, err
			}
		}
		recs = append(recs, rec)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("reading rows: %w", err)
	}
	return recs, nil
}

func orEmpty(v any) any {
	if v == nil {
		return ""
	}
	return v
}
