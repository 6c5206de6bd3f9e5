package access

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/erpbridge/erpbridge/bridge/component"
	"github.com/erpbridge/erpbridge/erp/protheus"
	"github.com/erpbridge/erpbridge/erp/sqlerp"
	"github.com/erpbridge/erpbridge/mapping"
)

var (
	_ component.Doctor             = (*Config)(nil)
	_ component.StampIndexVerifier = (*Config)(nil)
)

// Thresholds of the doctor's verdicts.
const (
	// skewOK is the clock difference with the database that is no concern.
	skewOK = 5 * time.Second
	// slowPoll is a poll page that takes long enough to look into.
	slowPoll = time.Second
	// smallTable is a table a planner may rightly read whole rather than
	// through an index: a few milliseconds either way.
	smallTable = 10000
)

// enableStamps is where docs/protheus.md says how to have DBAccess stamp a table.
const enableStamps = "docs/protheus.md, \"Enable S_T_A_M_P_\""

// Doctor implements component.Doctor: the database server (version,
// settings, how text compares, its clock), then every table the enabled
// streams read, opened as its stream reads it (rows, NULL stamps, whether
// an index on S_T_A_M_P_ serves the poll by the poll's plan, the poll
// timed, lock waits). Read-only.
func (c *Config) Doctor(ctx context.Context, env *component.Env) []component.Diagnosis {
	a, ok := env.ERP.(*Access)
	if !ok {
		return []component.Diagnosis{{Subject: c.Describe(), Findings: []component.Finding{{Problem: true, Text: "the ERP is not opened"}}}}
	}
	if a.rest != nil {
		return []component.Diagnosis{{Subject: c.Describe(), Findings: []component.Finding{{
			Text: "read through REST routes: there is no database to examine here (`erpbridge check` reads each route; the ERP team examines the AppServer's database)"}}}}
	}
	server, diag := a.doctorServer(ctx)
	out := []component.Diagnosis{diag}
	ts, err := tables(env, c.Company)
	if err != nil {
		return append(out, component.Diagnosis{Subject: "tables", Findings: []component.Finding{{Problem: true, Text: err.Error()}}})
	}
	for _, t := range uniqueTables(ts) {
		out = append(out, a.doctorTable(ctx, t, server))
	}
	return out
}

// uniqueTables drops the tables read twice (the customers' SA1 is also the
// orders'): the same table and branch is examined once, under its first role.
func uniqueTables(ts []component.Table) []component.Table {
	var out []component.Table
	seen := map[string]bool{}
	for _, t := range ts {
		k := strings.ToUpper(t.Spec.Physical) + "|" + t.Spec.FilialColumn + "|" + t.Spec.Filial
		if !seen[k] {
			seen[k] = true
			out = append(out, t)
		}
	}
	return out
}

// doctorServer examines the database server.
func (a *Access) doctorServer(ctx context.Context) (sqlerp.ServerFacts, component.Diagnosis) {
	d := component.Diagnosis{Subject: "database server (" + a.cfg.Driver + ")"}
	add := func(f component.Finding) { d.Findings = append(d.Findings, f) }
	f, err := sqlerp.ExamineServer(ctx, a.db, a.dialect)
	if err != nil {
		add(component.Finding{Problem: true, Text: err.Error(), Fix: "`erpbridge check` must pass first: the connection and the grants (docs/protheus.md)"})
		return f, d
	}
	add(component.Finding{Text: f.Get("version")})
	for _, s := range f.Settings[1:] {
		add(component.Finding{Detail: true, Text: s.Name + ": " + s.Value})
	}
	add(textComparison(a.cfg.Driver, f))
	if a.cfg.Driver == "oracle" {
		add(oracleNLS(f))
	}
	add(clockSkew(f, a.cfg.Overlap.D()))
	return f, d
}

// textComparison judges how the server compares text: trailing blanks as
// the dialect assumes (keys are blank-padded CHARs), and case.
func textComparison(driver string, f sqlerp.ServerFacts) component.Finding {
	blanks := "seen ('A' <> 'A ')"
	if f.BlankEqual {
		blanks = "ignored ('A' = 'A ')"
	}
	if f.BlankEqual != f.AssumesBlankEqual {
		return component.Finding{Problem: true,
			Text: fmt.Sprintf("text comparison: trailing blanks are %s, unlike what erpbridge assumes of %s: lookups by key (blank-padded CHARs) would miss rows", blanks, driver),
			Fix:  "check erp.driver: it must be the database's own"}
	}
	collation := ""
	if c := f.Get("collation"); c != "" {
		collation = ", collation " + c
	}
	if f.CaseEqual || driver == "sqlserver" && !strings.Contains(strings.ToUpper(f.Get("collation")), "_BIN") {
		return component.Finding{Warn: true,
			Text: fmt.Sprintf("text comparison: trailing blanks %s, case ignored ('A' = 'a')%s: codes that differ only in case are the same key here", blanks, collation),
			Fix:  "TOTVS installs Protheus with a binary collation (SQL Server: Latin1_General_BIN); a database's collation is changed with TOTVS's support, not by erpbridge. Protheus writes codes in upper case, so the bridge's lookups still find them"}
	}
	return component.Finding{Text: fmt.Sprintf("text comparison: trailing blanks %s, case seen%s: keys compare as erpbridge expects", blanks, collation)}
}

// oracleNLS judges the session's NLS_COMP and NLS_SORT: linguistic
// comparisons make key lookups follow NLS_SORT and skip binary indexes.
func oracleNLS(f sqlerp.ServerFacts) component.Finding {
	comp, sort := f.Get("session NLS_COMP"), f.Get("session NLS_SORT")
	if strings.EqualFold(comp, "LINGUISTIC") && !strings.EqualFold(sort, "BINARY") {
		return component.Finding{Warn: true,
			Text: fmt.Sprintf("NLS_COMP %s, NLS_SORT %s: key comparisons follow the linguistic sort (case, accents) and cannot use Protheus's binary indexes", comp, sort),
			Fix:  "have the DBA set NLS_COMP = BINARY for erpbridge's user (a logon trigger: ALTER SESSION SET NLS_COMP = BINARY), as DBAccess's own sessions use"}
	}
	return component.Finding{Text: fmt.Sprintf("NLS_COMP %s, NLS_SORT %s: binary comparisons, as DBAccess uses", orDash(comp), orDash(sort))}
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// clockSkew judges the database's clock against this machine's: the stamps
// are the database's time, while the bridge's clock caps the poll's cursor
// and decides today's date (overdue titles, the orders' history window).
func clockSkew(f sqlerp.ServerFacts, overlap time.Duration) component.Finding {
	way := "ahead of"
	if f.Skew < 0 {
		way = "behind"
	}
	text := fmt.Sprintf("clock: the database's is %s %s this machine's (measured to ±%s)", duration(f.Skew.Abs()), way, duration(f.RoundTrip/2))
	fix := "synchronise both machines' clocks (NTP; on Windows the w32time service)"
	switch off := f.Skew.Abs() - f.RoundTrip/2; {
	case off <= skewOK:
		return component.Finding{Text: text}
	case off <= overlap:
		return component.Finding{Warn: true, Text: text + ": dates the bridge works out (today's, for overdue titles and the orders' window) may be the database's yesterday or tomorrow", Fix: fix}
	default:
		return component.Finding{Problem: true, Text: fmt.Sprintf("%s, more than erp.overlap (%s): the poll's window behind its cursor no longer covers the difference", text, overlap), Fix: fix}
	}
}

// duration prints d rounded for reading: 1.2ms, 340µs, 2.5s.
func duration(d time.Duration) string {
	switch {
	case d >= time.Second:
		return d.Round(100 * time.Millisecond).String()
	case d >= time.Millisecond:
		return d.Round(100 * time.Microsecond).String()
	}
	return d.Round(time.Microsecond).String()
}

// errTableMissing: the table is not in the catalog (or the user cannot read it).
var errTableMissing = errors.New("does not exist (or the user cannot read it)")

// openExamined opens t as its stream reads it: its spec without the
// optional columns the table lacks, with the columns its mapping reads.
func (a *Access) openExamined(ctx context.Context, t component.Table) (*sqlerp.Source, error) {
	cat, err := sqlerp.ReadCatalog(ctx, a.db, a.dialect, t.Spec.Physical)
	if err != nil {
		return nil, err
	}
	if len(cat) == 0 {
		return nil, errTableMissing
	}
	optional := optionalColumns(t)
	t.Spec.Columns = slices.DeleteFunc(slices.Clone(t.Spec.Columns), func(col sqlerp.ColumnSpec) bool {
		return slices.Contains(optional, col.Name) && !slices.ContainsFunc(cat, func(c sqlerp.CatalogColumn) bool { return c.Name == strings.ToUpper(col.Name) })
	})
	var m *mapping.Mapping
	if t.Mapping != nil {
		if m, err = compileForColumns(*t.Mapping); err != nil {
			return nil, fmt.Errorf("streams.%s.mapping: %w", t.Role, err)
		}
	}
	src, err := a.Open(ctx, t, m)
	if err != nil {
		return nil, err
	}
	s, ok := src.(*sqlerp.Source)
	if !ok {
		return nil, fmt.Errorf("%s (%s): not read over SQL", t.Role, t.Spec.Physical)
	}
	return s, nil
}

// subject names a table and the branch its stream reads.
func subject(t component.Table) string {
	s := fmt.Sprintf("%s table %s", t.Role, strings.ToUpper(t.Spec.Physical))
	switch {
	case t.Spec.FilialColumn == "":
	case strings.TrimSpace(t.Spec.Filial) == "":
		s += " (shared: " + t.Spec.FilialColumn + " blank)"
	default:
		s += fmt.Sprintf(" (%s %q)", t.Spec.FilialColumn, strings.TrimSpace(t.Spec.Filial))
	}
	return s
}

// doctorTable examines one table.
func (a *Access) doctorTable(ctx context.Context, t component.Table, server sqlerp.ServerFacts) component.Diagnosis {
	d := component.Diagnosis{Subject: subject(t)}
	add := func(f component.Finding) { d.Findings = append(d.Findings, f) }
	src, err := a.openExamined(ctx, t)
	if err != nil {
		if t.Without != "" {
			add(component.Finding{Detail: true, Text: fmt.Sprintf("not examined: %v; %s", err, t.Without)})
		} else {
			add(component.Finding{Problem: true, Text: err.Error(), Fix: "`erpbridge check` says what the table lacks; grants: docs/protheus.md"})
		}
		return d
	}
	defer src.Close()
	f, err := src.Examine(ctx, sqlerp.ExamineOptions{PageSize: a.cfg.PageSize})
	if err != nil {
		add(component.Finding{Problem: true, Text: "examining: " + err.Error()})
		return d
	}
	table := strings.ToUpper(t.Spec.Physical)
	switch {
	case !f.Incremental:
		add(component.Finding{Warn: true, Text: fmt.Sprintf("%d rows, no S_T_A_M_P_: every run reads the whole table", f.Rows),
			Fix: "have DBAccess stamp the table (" + enableStamps + ")"})
		return d
	case f.Rows > 0 && f.NullStamps == f.Rows:
		add(component.Finding{Warn: true, Text: fmt.Sprintf("%d rows, every one with a NULL S_T_A_M_P_: polls read none of them; only the nightly full pass reads the table", f.Rows),
			Fix: "have DBAccess stamp the table (" + enableStamps + "): rows are stamped as they are next written"})
	case f.NullStamps > 0:
		add(component.Finding{Text: fmt.Sprintf("%d rows, %d with a NULL S_T_A_M_P_ (written before stamps were on: the nightly full pass reads them)", f.Rows, f.NullStamps)})
	default:
		add(component.Finding{Text: fmt.Sprintf("%d rows, every one stamped", f.Rows)})
	}
	add(stampIndexFinding(a.cfg.Driver, table, f.StampIndex, f.Rows, true))
	add(component.Finding{Detail: true, Text: fmt.Sprintf("plan of the poll from %s (the newest stamp − erp.overlap), a page of %d:",
		f.StampIndex.From.Format("2006-01-02 15:04:05.000"), f.Poll.Limit)})
	for _, l := range f.StampIndex.Plan {
		add(component.Finding{Detail: true, Text: "  " + strings.TrimRight(l, " ")})
	}
	poll := fmt.Sprintf("poll: %d rows in %s", f.Poll.Rows, duration(f.Poll.Took))
	if f.Poll.Took >= slowPoll {
		add(component.Finding{Warn: true, Text: poll + ": slow for one page", Fix: "the plan above: a poll served by the stamp index reads a page in milliseconds"})
	} else {
		add(component.Finding{Text: poll})
	}
	add(lockFinding(a.cfg.Driver, table, f.LockWaits, server))
	return d
}

// stampIndexFinding judges whether an index on S_T_A_M_P_ serves the
// poll, by its plan: sought in an index is ok; not sought and no index
// that could serve it is missing (a fail for the doctor, a warning for
// check and run, whose bridge still runs); an index the plan does not
// use is a warning about the planner's statistics, unless the planner
// has them and the table (rows, -1 when not counted) is small enough to
// read whole.
func stampIndexFinding(driver, table string, f sqlerp.StampIndexFacts, rows int64, doctor bool) component.Finding {
	if f.Access.StampSeek {
		return component.Finding{Text: fmt.Sprintf("the poll's plan seeks S_T_A_M_P_ in index %s: %s", f.Access.Index, f.Access.Scan)}
	}
	scan := f.Access.Scan
	if scan == "" {
		scan = "(the plan does not name the table)"
	}
	if len(f.Serving) == 0 {
		ddl, err := protheus.StampIndexDDL(driver, table)
		if err != nil {
			ddl = err.Error()
		}
		text := fmt.Sprintf("%s: no index on S_T_A_M_P_ serves the incremental poll: its plan reads %s, so every poll reads the whole table", table, scan)
		if len(f.Indexes) > 0 {
			text += fmt.Sprintf(" (%s has S_T_A_M_P_, not as its first column)", f.Indexes[0])
		}
		return component.Finding{Problem: doctor, Warn: !doctor, Text: text,
			Fix: ddl + " (a plain index outside the Protheus dictionary: an ERP upgrade that rebuilds the table drops it, create it again)"}
	}
	stats := ""
	if f.StatsKnown && !f.Stats {
		stats = "; the planner has no statistics of the table"
	} else if rows >= 0 && rows < smallTable {
		return component.Finding{Text: fmt.Sprintf("index %s serves the poll once the table grows; with %d rows the planner reads it whole (%s), which costs less", f.Serving[0], rows, scan)}
	}
	return component.Finding{Warn: true,
		Text: fmt.Sprintf("index %s could serve the poll, but its plan reads %s%s", f.Serving[0], scan, stats),
		Fix:  fmt.Sprintf("gather the planner's statistics (%s) and run erpbridge doctor again; a table of a few hundred rows may be read whole whatever its indexes, at no cost", f.Analyze)}
}

// lockFinding judges the lock waits around the poll.
func lockFinding(driver, table string, f sqlerp.LockFacts, server sqlerp.ServerFacts) component.Finding {
	switch {
	case !f.Exposed && f.Err != nil:
		return component.Finding{Detail: true, Text: fmt.Sprintf("lock waits: not shown to this user (%v)", f.Err)}
	case !f.Exposed:
		return component.Finding{Detail: true, Text: "lock waits: " + driver + " does not expose them"}
	case !f.Cumulative && f.Waits == 0:
		return component.Finding{Text: fmt.Sprintf("no session waits for a lock on %s (reads here never wait for row locks)", table)}
	case !f.Cumulative:
		return component.Finding{Warn: true, Text: fmt.Sprintf("%d session(s) wait for a lock on %s right now: a DDL or an explicit LOCK TABLE holds it", f.Waits, table),
			Fix: "pg_stat_activity and pg_locks show which session holds it"}
	case f.Waits == 0:
		return component.Finding{Text: "no lock waits while the poll read"}
	}
	fix := "keep erp.page_size small, so each read is short"
	if driver == "sqlserver" && server.Get("read_committed_snapshot") == "0" {
		fix = "reads take shared locks and wait behind Protheus's writes: with READ_COMMITTED_SNAPSHOT ON they read row versions instead (ALTER DATABASE … SET READ_COMMITTED_SNAPSHOT ON: the DBA's and TOTVS's decision)"
	}
	return component.Finding{Warn: true, Text: fmt.Sprintf("the poll waited %s for locks (%d waits)", duration(f.Waited), f.Waits), Fix: fix}
}

// VerifyStampIndexes implements component.StampIndexVerifier: the tables
// whose poll no index on S_T_A_M_P_ serves, by the poll's plan. A table
// that cannot be opened, or has no stamp, is left to `erpbridge check`.
func (c *Config) VerifyStampIndexes(ctx context.Context, env *component.Env) []component.Finding {
	a, ok := env.ERP.(*Access)
	if !ok || a.rest != nil {
		return nil
	}
	ts, err := tables(env, c.Company)
	if err != nil {
		return nil
	}
	return a.verifyStampIndexes(ctx, ts)
}

func (a *Access) verifyStampIndexes(ctx context.Context, ts []component.Table) []component.Finding {
	var out []component.Finding
	for _, t := range uniqueTables(ts) {
		src, err := a.openExamined(ctx, t)
		if err != nil {
			continue
		}
		f, err := src.StampIndex(ctx, a.cfg.PageSize)
		_ = src.Close()
		switch {
		case err != nil:
			out = append(out, component.Finding{Warn: true, Text: fmt.Sprintf("%s table %s: verifying its stamp index: %v", t.Role, strings.ToUpper(t.Spec.Physical), err)})
		case f.Statement.SQL != "" && !f.Access.StampSeek && len(f.Serving) == 0:
			out = append(out, stampIndexFinding(a.cfg.Driver, strings.ToUpper(t.Spec.Physical), f, -1, false))
		}
	}
	return out
}
