package sqlerp

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/erpbridge/erpbridge/erp"
)

// ServerFacts is what `erpbridge doctor` reads of the database server.
type ServerFacts struct {
	// Settings are (name, value) pairs, "version" first (ServerQuery).
	Settings []Setting
	// BlankEqual: 'A' = 'A ' (trailing blanks ignored); CaseEqual: 'A' = 'a'.
	BlankEqual, CaseEqual bool
	// AssumesBlankEqual is what the dialect's CompareChar assumes.
	AssumesBlankEqual bool
	// Skew is the server's clock minus this machine's, measured halfway
	// through a query that took RoundTrip (the measure's precision).
	Skew, RoundTrip time.Duration
}

// Setting is one named value of the server.
type Setting struct{ Name, Value string }

// Get returns the value of the setting name ("" when absent).
func (f ServerFacts) Get(name string) string {
	for _, s := range f.Settings {
		if strings.EqualFold(s.Name, name) {
			return s.Value
		}
	}
	return ""
}

// ExamineServer reads the server's version and settings, how "=" treats
// trailing blanks and case, and its clock, with read-only queries.
func ExamineServer(ctx context.Context, db *sql.DB, d Dialect) (ServerFacts, error) {
	p, ok := d.(Prober)
	if !ok {
		return ServerFacts{}, fmt.Errorf("examining the %s server: not supported", d.Name())
	}
	f := ServerFacts{AssumesBlankEqual: p.IgnoresTrailingBlanks()}
	st := p.ServerQuery()
	rows, err := db.QueryContext(ctx, st.SQL, st.Args...)
	if err != nil {
		return f, fmt.Errorf("reading the server's version and settings: %w", err)
	}
	for rows.Next() {
		var name, value sql.NullString
		if err := rows.Scan(&name, &value); err != nil {
			rows.Close()
			return f, fmt.Errorf("reading the server's version and settings: %w", err)
		}
		f.Settings = append(f.Settings, Setting{Name: name.String, Value: strings.TrimSpace(value.String)})
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return f, fmt.Errorf("reading the server's version and settings: %w", err)
	}
	st = p.CompareQuery()
	var blank, cas int64
	if err := db.QueryRowContext(ctx, st.SQL, st.Args...).Scan(&blank, &cas); err != nil {
		return f, fmt.Errorf("comparing text on the server: %w", err)
	}
	f.BlankEqual, f.CaseEqual = blank == 1, cas == 1
	if f.Skew, f.RoundTrip, err = serverSkew(ctx, db, p); err != nil {
		return f, err
	}
	return f, nil
}

// serverSkew reads the server's clock and compares it with this
// machine's at the middle of the query.
func serverSkew(ctx context.Context, db *sql.DB, p Prober) (skew, rtt time.Duration, err error) {
	st := p.NowQuery()
	conn, err := db.Conn(ctx)
	if err != nil {
		return 0, 0, fmt.Errorf("reading the server's clock: %w", err)
	}
	defer conn.Close()
	var text string
	if err := conn.QueryRowContext(ctx, st.SQL, st.Args...).Scan(&text); err != nil { // connects first
		return 0, 0, fmt.Errorf("reading the server's clock: %w", err)
	}
	before := time.Now()
	if err := conn.QueryRowContext(ctx, st.SQL, st.Args...).Scan(&text); err != nil {
		return 0, 0, fmt.Errorf("reading the server's clock: %w", err)
	}
	rtt = time.Since(before)
	at, err := time.Parse("2006-01-02T15:04:05.999999999", strings.TrimSpace(text))
	if err != nil {
		return 0, 0, fmt.Errorf("reading the server's clock %q: %w", text, err)
	}
	return at.Sub(before.Add(rtt / 2).UTC().Truncate(0)), rtt, nil
}

// TableFacts is what `erpbridge doctor` reads of one table a Source reads.
type TableFacts struct {
	Table string
	// Rows are the rows the source reads (its filial, deleted ones too);
	// NullStamps those of them whose stamp is NULL.
	Rows, NullStamps int64
	// Incremental: the table has the stamp column.
	Incremental bool
	StampIndex  StampIndexFacts
	// Poll is the source's first page of changes, run as the source runs it.
	Poll PollFacts
	// LockWaits are the lock waits while the poll read (LockFacts).
	LockWaits LockFacts
}

// StampIndexFacts says whether the poll's plan seeks the stamp in an index.
type StampIndexFacts struct {
	// Indexes are the table's indexes that have the stamp column.
	Indexes []Index
	// Serving are those of Indexes that can serve the poll: the stamp is
	// their first column, or follows only the filial column.
	Serving []Index
	// Statement is the poll's first page, whose plan was read; From is
	// where it reads from (the newest stamp minus the overlap).
	Statement Statement
	From      time.Time
	// Plan is the plan's text, Access how it reads the table.
	Plan   []string
	Access PlanAccess
	// Stats: the planner has statistics of the table (true when the
	// database keeps them by itself; StatsKnown false then).
	Stats, StatsKnown bool
	// Analyze gathers the planner's statistics of the table (for the DBA).
	Analyze string
}

// Index is one index and its key columns, in order.
type Index struct {
	Name    string
	Columns []string
}

func (i Index) String() string { return i.Name + " (" + strings.Join(i.Columns, ", ") + ")" }

// PollFacts is one timed poll.
type PollFacts struct {
	Rows  int
	Took  time.Duration
	Limit int
}

// LockFacts are lock waits: Exposed false when the database (or the
// user's grants) tell nothing, with Err saying why; Cumulative: the poll's
// own waits, else the sessions waiting on the table right after it.
type LockFacts struct {
	Exposed, Cumulative bool
	Waits               int64
	Waited              time.Duration
	Err                 error
}

// ExamineOptions tune Examine.
type ExamineOptions struct {
	// PageSize is the poll's page (the engine's, erp.page_size).
	PageSize int
}

// StampIndex reads whether an index on the stamp serves the source's
// incremental poll: the indexes that have the stamp, and the plan of the
// poll's first page from the newest stamp minus the overlap (the poll a
// bridge that has caught up runs), read with the dialect's EXPLAIN. Only
// reads. A source without a stamp has nothing to serve (zero facts).
func (s *Source) StampIndex(ctx context.Context, pageSize int) (StampIndexFacts, error) {
	conn, err := s.db.Conn(ctx)
	if err != nil {
		return StampIndexFacts{}, fmt.Errorf("examining %s: %w", s.spec.Physical, err)
	}
	defer conn.Close()
	return s.stampIndex(ctx, conn, pageSize)
}

func (s *Source) stampIndex(ctx context.Context, conn *sql.Conn, pageSize int) (StampIndexFacts, error) {
	var f StampIndexFacts
	p, ok := s.d.(Prober)
	if !ok || !s.incremental {
		return f, nil
	}
	fail := func(what string, err error) (StampIndexFacts, error) {
		return f, fmt.Errorf("%s of %s: %w", what, s.spec.Physical, err)
	}
	stamp := strings.ToUpper(s.spec.StampColumn)
	idx, err := readIndexes(ctx, conn, p.IndexQuery(s.spec.Physical))
	if err != nil {
		return fail("reading the indexes", err)
	}
	for _, i := range idx {
		at := -1
		for n, c := range i.Columns {
			if c == stamp {
				at = n
			}
		}
		if at < 0 {
			continue
		}
		f.Indexes = append(f.Indexes, i)
		if at == 0 || at == 1 && s.spec.FilialColumn != "" && i.Columns[0] == strings.ToUpper(s.spec.FilialColumn) {
			f.Serving = append(f.Serving, i)
		}
	}
	f.Stats, f.Analyze = true, p.AnalyzeStatement(s.spec.Physical)
	if st := p.StatsQuery(s.spec.Physical); st.SQL != "" {
		var n int64
		f.StatsKnown = true
		// No statistics table at all (SQLite before its first ANALYZE) is none.
		f.Stats = conn.QueryRowContext(ctx, st.SQL, st.Args...).Scan(&n) == nil && n == 1
	}
	var raw any
	max := maxStampStatement(s.d, s.spec)
	if err := conn.QueryRowContext(ctx, max.SQL, max.Args...).Scan(&raw); err != nil {
		return fail("reading the newest stamp", err)
	}
	newest, err := convertStamp(raw)
	if err != nil {
		return fail("reading the newest stamp", err)
	}
	f.From = erp.PollFrom(newest, s.opts.Overlap, s.now())
	f.Statement = changesStatement(s.d, s.spec, f.From, nil, pageSize)
	if f.Plan, err = explain(ctx, conn, p.Explain(f.Statement)); err != nil {
		return fail("reading the poll's plan", err)
	}
	f.Access = p.ReadPlan(f.Plan, s.spec.Physical, stamp)
	return f, nil
}

// Examine reads what `erpbridge doctor` shows of the source's table: its
// rows and NULL stamps, whether an index on the stamp serves the poll
// (StampIndex), and the poll's first page run as the source runs it,
// timed, with the lock waits around it. Only reads.
func (s *Source) Examine(ctx context.Context, o ExamineOptions) (TableFacts, error) {
	f := TableFacts{Table: s.spec.Physical, Incremental: s.incremental}
	p, ok := s.d.(Prober)
	if !ok {
		return f, fmt.Errorf("examining %s: not supported on %s", s.spec.Physical, s.d.Name())
	}
	if o.PageSize <= 0 {
		return f, fmt.Errorf("examining %s: page size must be positive", s.spec.Physical)
	}
	conn, err := s.db.Conn(ctx)
	if err != nil {
		return f, fmt.Errorf("examining %s: %w", s.spec.Physical, err)
	}
	defer conn.Close()
	count := countStatement(s.d, s.spec)
	if err := conn.QueryRowContext(ctx, count.SQL, count.Args...).Scan(&f.Rows, &f.NullStamps); err != nil {
		return f, fmt.Errorf("counting the rows of %s: %w", s.spec.Physical, err)
	}
	if !s.incremental {
		return f, nil
	}
	if f.StampIndex, err = s.stampIndex(ctx, conn, o.PageSize); err != nil {
		return f, err
	}
	locks, cumulative := p.LockWaitsQuery(s.spec.Physical)
	var before LockFacts
	if cumulative {
		before = lockWaits(ctx, conn, locks, true)
	}
	st := f.StampIndex.Statement
	start := time.Now()
	rows, err := conn.QueryContext(ctx, st.SQL, st.Args...)
	if err != nil {
		return f, fmt.Errorf("polling %s: %w", s.spec.Physical, err)
	}
	for rows.Next() {
		f.Poll.Rows++
	}
	rows.Close()
	f.Poll.Took, f.Poll.Limit = time.Since(start), o.PageSize
	if err := rows.Err(); err != nil {
		return f, fmt.Errorf("polling %s: %w", s.spec.Physical, err)
	}
	f.LockWaits = lockWaits(ctx, conn, locks, cumulative)
	if cumulative && f.LockWaits.Exposed && before.Exposed {
		f.LockWaits.Waits -= before.Waits
		f.LockWaits.Waited -= before.Waited
	}
	return f, nil
}

// lockWaits runs a LockWaitsQuery; a zero statement, or one the user may
// not run, leaves the facts unexposed.
func lockWaits(ctx context.Context, conn *sql.Conn, st Statement, cumulative bool) LockFacts {
	f := LockFacts{Cumulative: cumulative}
	if st.SQL == "" {
		return f
	}
	var waits, ms float64
	if err := conn.QueryRowContext(ctx, st.SQL, st.Args...).Scan(&waits, &ms); err != nil {
		f.Err = err
		return f
	}
	f.Exposed, f.Waits, f.Waited = true, int64(waits), time.Duration(ms*float64(time.Millisecond))
	return f
}

// readIndexes reads an IndexQuery's rows into indexes, in order.
func readIndexes(ctx context.Context, conn *sql.Conn, st Statement) ([]Index, error) {
	rows, err := conn.QueryContext(ctx, st.SQL, st.Args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Index
	for rows.Next() {
		var name, col string
		var pos int64
		if err := rows.Scan(&name, &col, &pos); err != nil {
			return nil, err
		}
		name, col = strings.ToUpper(strings.TrimSpace(name)), strings.ToUpper(strings.TrimSpace(col))
		if len(out) == 0 || out[len(out)-1].Name != name {
			out = append(out, Index{Name: name})
		}
		out[len(out)-1].Columns = append(out[len(out)-1].Columns, col)
	}
	return out, rows.Err()
}

// explain runs an Explain on conn and returns the plan's lines; After runs
// whatever happened (SHOWPLAN must not stay on for the connection's next
// user).
func explain(ctx context.Context, conn *sql.Conn, e Explain) (lines []string, err error) {
	defer func() {
		for _, s := range e.After {
			if _, aerr := conn.ExecContext(context.WithoutCancel(ctx), s); aerr != nil && err == nil {
				err = aerr
			}
		}
	}()
	for _, s := range e.Before {
		if _, err := conn.ExecContext(ctx, s); err != nil {
			return nil, err
		}
	}
	rows, err := conn.QueryContext(ctx, e.Query.SQL, e.Query.Args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for {
		cols, err := rows.Columns()
		if err != nil {
			return nil, err
		}
		raw := make([]any, len(cols))
		dest := make([]any, len(cols))
		for i := range raw {
			dest[i] = &raw[i]
		}
		for rows.Next() {
			if err := rows.Scan(dest...); err != nil {
				return nil, err
			}
			if e.Column < len(raw) && raw[e.Column] != nil {
				s, err := text(raw[e.Column])
				if err != nil {
					return nil, err
				}
				lines = append(lines, strings.Split(strings.TrimRight(s, "\n"), "\n")...)
			}
		}
		if !rows.NextResultSet() {
			break
		}
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if len(lines) == 0 {
		return nil, errors.New("the database answered no plan")
	}
	return lines, nil
}

// countStatement counts the rows a source reads (its filial, deleted
// ones too) and those whose stamp is NULL.
func countStatement(d Dialect, spec TableSpec) Statement {
	b := &builder{d: d, spec: spec}
	nulls := "0"
	if spec.StampColumn != "" {
		stamp := b.ident(spec.StampColumn)
		nulls = "COUNT(*) - COUNT(" + stamp + ")"
	}
	q := "SELECT COUNT(*), " + nulls + " " + b.from()
	if conds := b.where(); len(conds) > 0 {
		q += " WHERE " + strings.Join(conds, " AND ")
	}
	return Statement{SQL: q, Args: b.args}
}
