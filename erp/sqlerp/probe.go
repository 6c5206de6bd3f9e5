package sqlerp

import (
	"strings"
)

// Prober is the read-only SQL `erpbridge doctor` runs, per dialect: what
// differs between databases when the bridge examines the server it reads
// and the plan of its own polls. Every statement only reads (Oracle's
// EXPLAIN PLAN writes the plan into the session's own PLAN_TABLE, a
// temporary table, and removes it again).
type Prober interface {
	// ServerQuery lists (name, value) rows: "version" first, then the
	// settings that matter to the bridge (collation, encoding, NLS …).
	ServerQuery() Statement
	// CompareQuery returns one row of two integers: 1 when 'A' = 'A '
	// (trailing blanks ignored) and 1 when 'A' = 'a' (case ignored).
	CompareQuery() Statement
	// IgnoresTrailingBlanks is what CompareChar assumes of "=".
	IgnoresTrailingBlanks() bool
	// NowQuery returns one row, the server's clock in UTC as text
	// (2006-01-02T15:04:05.000).
	NowQuery() Statement
	// IndexQuery lists the indexes of table as rows of (index name,
	// column name, position from 1), in index and position order.
	IndexQuery(table string) Statement
	// StatsQuery returns one row, 1 when the planner has statistics of
	// table and 0 when it has none; a zero Statement when the database
	// keeps them by itself (SQL Server, Oracle).
	StatsQuery(table string) Statement
	// AnalyzeStatement is what gathers the planner's statistics of table
	// (for the DBA: the bridge never runs it).
	AnalyzeStatement(table string) string
	// Explain returns the statements that show st's plan as text lines,
	// run in order on one connection.
	Explain(st Statement) Explain
	// ReadPlan finds, in the plan's lines, how the table is read and
	// whether the stamp column is sought in an index.
	ReadPlan(lines []string, table, stamp string) PlanAccess
	// LockWaitsQuery returns one row of (waits, milliseconds waited) for
	// locks; Cumulative: counted for this session since it began (run it
	// before and after a read, on its connection), else sessions waiting
	// on table right now. A zero Statement when the database exposes none.
	LockWaitsQuery(table string) (st Statement, cumulative bool)
}

var (
	_ Prober = Postgres{}
	_ Prober = SQLite{}
	_ Prober = SQLServer{}
	_ Prober = Oracle{}
)

// Explain is how a dialect shows a statement's plan: Before runs first
// (without arguments), then Query, whose rows' Column-th column (0-based)
// are the plan's lines, across every result set; After always runs last.
type Explain struct {
	Before []string
	Query  Statement
	Column int
	After  []string
}

// PlanAccess is how a plan reads one table.
type PlanAccess struct {
	// Scan is the plan's line reading the table ("Seq Scan on sa1010",
	// "SEARCH SA1010 USING INDEX ERPBRIDGE_SA1010_STAMP (S_T_A_M_P_>?)").
	Scan string
	// Index is the index sought on the stamp ("" when none is).
	Index string
	// StampSeek: the stamp's condition is an index condition (a seek or
	// range scan on it), not a filter applied to every row read.
	StampSeek bool
}

// compareQuery is CompareQuery for a dialect whose text type is typ and
// whose SELECT needs suffix (" FROM DUAL").
func compareQuery(typ, suffix string) Statement {
	a, blank, lower := "CAST('A' AS "+typ+")", "CAST('A ' AS "+typ+")", "CAST('a' AS "+typ+")"
	return Statement{SQL: "SELECT CASE WHEN " + a + " = " + blank + " THEN 1 ELSE 0 END, CASE WHEN " + a + " = " + lower + " THEN 1 ELSE 0 END" + suffix}
}

// ServerQuery implements Prober.
func (Postgres) ServerQuery() Statement {
	return Statement{SQL: "SELECT 'version', version()" +
		" UNION ALL SELECT 'encoding', pg_encoding_to_char(encoding) FROM pg_database WHERE datname = current_database()" +
		" UNION ALL SELECT 'collation', datcollate FROM pg_database WHERE datname = current_database()" +
		" UNION ALL SELECT 'TimeZone', current_setting('TimeZone')"}
}

// CompareQuery implements Prober.
func (Postgres) CompareQuery() Statement { return compareQuery("VARCHAR(2)", "") }

// IgnoresTrailingBlanks implements Prober: VARCHAR "=" sees them.
func (Postgres) IgnoresTrailingBlanks() bool { return false }

// NowQuery implements Prober.
func (Postgres) NowQuery() Statement {
	return Statement{SQL: `SELECT to_char(clock_timestamp() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS')`}
}

// IndexQuery implements Prober (the current schema's table, named in lower case).
func (d Postgres) IndexQuery(table string) Statement {
	return Statement{SQL: "SELECT UPPER(i.relname), UPPER(a.attname), k.n FROM pg_index x" +
		" JOIN pg_class t ON t.oid = x.indrelid JOIN pg_class i ON i.oid = x.indexrelid" +
		" CROSS JOIN LATERAL unnest(x.indkey) WITH ORDINALITY AS k(attnum, n)" +
		" JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = k.attnum" +
		" WHERE t.relname = " + d.Placeholder(1) + " AND t.relnamespace = to_regnamespace(current_schema())" +
		" ORDER BY 1, 3", Args: []any{strings.ToLower(table)}}
}

// StatsQuery implements Prober: analysed by ANALYZE or autovacuum.
func (d Postgres) StatsQuery(table string) Statement {
	return Statement{SQL: "SELECT CASE WHEN COALESCE(last_analyze, last_autoanalyze) IS NULL THEN 0 ELSE 1 END" +
		" FROM pg_stat_user_tables WHERE relname = " + d.Placeholder(1) + " AND schemaname = current_schema()",
		Args: []any{strings.ToLower(table)}}
}

// AnalyzeStatement implements Prober.
func (Postgres) AnalyzeStatement(table string) string { return "ANALYZE " + strings.ToLower(table) }

// Explain implements Prober: EXPLAIN without costs, with the statement's
// arguments (the plan is made for their values).
func (Postgres) Explain(st Statement) Explain {
	return Explain{Query: Statement{SQL: "EXPLAIN (COSTS OFF) " + st.SQL, Args: st.Args}}
}

// ReadPlan implements Prober over EXPLAIN's text: a node line ("->  Index
// Scan using erpbridge_sa1010_stamp on sa1010") followed by its
// conditions ("Index Cond: (s_t_a_m_p_ >= …)", "Filter: …").
func (Postgres) ReadPlan(lines []string, table, stamp string) PlanAccess {
	var out PlanAccess
	tbl, col := " on "+strings.ToLower(table), strings.ToLower(stamp)
	node, index := "", ""
	for _, l := range lines {
		s := strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(l), "->"))
		switch {
		case strings.Contains(s, "Scan") && !strings.Contains(s, ":"):
			node, index = s, ""
			if _, after, ok := strings.Cut(s, " using "); ok {
				index, _, _ = strings.Cut(after, " ")
			} else if strings.HasPrefix(s, "Bitmap Index Scan on ") {
				index, _, _ = strings.Cut(strings.TrimPrefix(s, "Bitmap Index Scan on "), " ")
			}
			if out.Scan == "" && (strings.HasSuffix(s, tbl) || strings.Contains(s, tbl+" ")) {
				out.Scan = s
			}
		case strings.HasPrefix(s, "Index Cond:") && index != "" && strings.Contains(strings.ToLower(s), col):
			out.StampSeek, out.Index = true, strings.ToUpper(index)
			if out.Scan == "" {
				out.Scan = node
			}
		}
	}
	return out
}

// LockWaitsQuery implements Prober: a read never waits for a row lock
// (MVCC); the sessions waiting for a lock on the table now.
func (d Postgres) LockWaitsQuery(table string) (Statement, bool) {
	return Statement{SQL: "SELECT COUNT(*), 0 FROM pg_locks WHERE relation = to_regclass(" + d.Placeholder(1) + ") AND NOT granted",
		Args: []any{strings.ToLower(table)}}, false
}

// ServerQuery implements Prober.
func (SQLite) ServerQuery() Statement {
	return Statement{SQL: "SELECT 'version', 'SQLite ' || sqlite_version()" +
		" UNION ALL SELECT 'encoding', encoding FROM pragma_encoding" +
		" UNION ALL SELECT 'journal_mode', journal_mode FROM pragma_journal_mode"}
}

// CompareQuery implements Prober.
func (SQLite) CompareQuery() Statement { return compareQuery("VARCHAR(2)", "") }

// IgnoresTrailingBlanks implements Prober: BINARY collation sees them.
func (SQLite) IgnoresTrailingBlanks() bool { return false }

// NowQuery implements Prober.
func (SQLite) NowQuery() Statement {
	return Statement{SQL: "SELECT strftime('%Y-%m-%dT%H:%M:%f', 'now')"}
}

// IndexQuery implements Prober with pragma_index_list and pragma_index_info.
func (SQLite) IndexQuery(table string) Statement {
	return Statement{SQL: "SELECT UPPER(il.name), UPPER(ii.name), ii.seqno + 1 FROM pragma_index_list(?) AS il, pragma_index_info(il.name) AS ii" +
		" ORDER BY 1, 3", Args: []any{table}}
}

// StatsQuery implements Prober: rows in sqlite_stat1, which ANALYZE
// writes (the query fails, meaning none, when it never ran).
func (SQLite) StatsQuery(table string) Statement {
	return Statement{SQL: "SELECT CASE WHEN COUNT(*) > 0 THEN 1 ELSE 0 END FROM sqlite_stat1 WHERE tbl = ? COLLATE NOCASE", Args: []any{table}}
}

// AnalyzeStatement implements Prober.
func (SQLite) AnalyzeStatement(table string) string { return "ANALYZE " + table }

// Explain implements Prober with EXPLAIN QUERY PLAN (id, parent, notused,
// detail).
func (SQLite) Explain(st Statement) Explain {
	return Explain{Query: Statement{SQL: "EXPLAIN QUERY PLAN " + st.SQL, Args: st.Args}, Column: 3}
}

// ReadPlan implements Prober over EXPLAIN QUERY PLAN's details: "SEARCH
// SA1010 USING INDEX ERPBRIDGE_SA1010_STAMP (S_T_A_M_P_>?)", "SCAN SA1010".
func (SQLite) ReadPlan(lines []string, table, stamp string) PlanAccess {
	var out PlanAccess
	up, col := strings.ToUpper(table), strings.ToUpper(stamp)
	for _, l := range lines {
		s := strings.TrimSpace(l)
		f := strings.Fields(strings.ToUpper(s))
		if len(f) < 2 || (f[0] != "SEARCH" && f[0] != "SCAN") || f[1] != up {
			continue
		}
		if out.Scan == "" {
			out.Scan = s
		}
		_, after, ok := strings.Cut(strings.ToUpper(s), " INDEX ")
		if !ok {
			continue
		}
		name, cond, _ := strings.Cut(after, " ")
		if f[0] == "SEARCH" && strings.Contains(cond, col) {
			out.Scan, out.StampSeek, out.Index = s, true, name
		}
	}
	return out
}

// LockWaitsQuery implements Prober: SQLite exposes none.
func (SQLite) LockWaitsQuery(string) (Statement, bool) { return Statement{}, false }

// ServerQuery implements Prober: the first line of @@VERSION, the
// database's collation, and whether reads use row versions
// (READ_COMMITTED_SNAPSHOT) instead of shared locks.
func (SQLServer) ServerQuery() Statement {
	return Statement{SQL: "SELECT 'version', LEFT(@@VERSION, CHARINDEX(CHAR(10), @@VERSION + CHAR(10)) - 1)" +
		" UNION ALL SELECT 'collation', CAST(DATABASEPROPERTYEX(DB_NAME(), 'Collation') AS NVARCHAR(128))" +
		" UNION ALL SELECT 'read_committed_snapshot', CAST(is_read_committed_snapshot_on AS NVARCHAR(1)) FROM sys.databases WHERE name = DB_NAME()"}
}

// CompareQuery implements Prober.
func (SQLServer) CompareQuery() Statement { return compareQuery("VARCHAR(2)", "") }

// IgnoresTrailingBlanks implements Prober: "=" pads the shorter value (ANSI).
func (SQLServer) IgnoresTrailingBlanks() bool { return true }

// NowQuery implements Prober.
func (SQLServer) NowQuery() Statement {
	return Statement{SQL: "SELECT CONVERT(VARCHAR(23), SYSUTCDATETIME(), 126)"}
}

// IndexQuery implements Prober with sys.indexes (key columns only).
func (d SQLServer) IndexQuery(table string) Statement {
	return Statement{SQL: "SELECT UPPER(i.name), UPPER(c.name), ic.key_ordinal FROM sys.indexes i" +
		" JOIN sys.index_columns ic ON ic.object_id = i.object_id AND ic.index_id = i.index_id" +
		" JOIN sys.columns c ON c.object_id = ic.object_id AND c.column_id = ic.column_id" +
		" WHERE i.object_id = OBJECT_ID(" + d.Placeholder(1) + ") AND ic.key_ordinal > 0 AND i.name IS NOT NULL" +
		" ORDER BY 1, 3", Args: []any{strings.ToUpper(table)}}
}

// StatsQuery implements Prober: SQL Server creates and updates them itself.
func (SQLServer) StatsQuery(string) Statement { return Statement{} }

// AnalyzeStatement implements Prober.
func (SQLServer) AnalyzeStatement(table string) string {
	return "UPDATE STATISTICS " + strings.ToUpper(table) + " WITH FULLSCAN"
}

// Explain implements Prober with SHOWPLAN_TEXT: while it is on, the
// statement is not run and its estimated plan comes back instead.
func (SQLServer) Explain(st Statement) Explain {
	return Explain{Before: []string{"SET SHOWPLAN_TEXT ON"}, Query: st, After: []string{"SET SHOWPLAN_TEXT OFF"}}
}

// ReadPlan implements Prober over SHOWPLAN_TEXT's operators:
// "|--Index Seek(OBJECT:([db].[dbo].[SA1010].[ERPBRIDGE_SA1010_STAMP]),
// SEEK:([db].[dbo].[SA1010].[S_T_A_M_P_] >= [@p2]) ORDERED FORWARD)",
// "|--Clustered Index Scan(OBJECT:(…[SA1010].[SA1010_PK]), WHERE:(…))".
func (SQLServer) ReadPlan(lines []string, table, stamp string) PlanAccess {
	var out PlanAccess
	tbl, col := "["+strings.ToUpper(table)+"]", "["+strings.ToUpper(stamp)+"]"
	for _, l := range lines {
		s := strings.TrimSpace(l)
		s = strings.TrimSpace(strings.TrimLeft(s, "|-"))
		op, rest, ok := strings.Cut(s, "(OBJECT:(")
		if !ok || !strings.Contains(strings.ToUpper(rest), tbl+".") && !strings.Contains(strings.ToUpper(rest), tbl+")") {
			continue
		}
		object, _, _ := strings.Cut(rest, ")")
		index := ""
		if i := strings.Index(strings.ToUpper(object), tbl+".["); i >= 0 {
			index = strings.TrimSuffix(object[i+len(tbl)+2:], "]")
		}
		scan := strings.TrimSpace(op) + " " + strings.ToUpper(table)
		if index != "" {
			scan += "." + index
		}
		if out.Scan == "" {
			out.Scan = scan
		}
		if _, seek, ok := strings.Cut(strings.ToUpper(rest), "SEEK:("); ok && strings.Contains(op, "Seek") {
			seek, _, _ = strings.Cut(seek, "WHERE:(") // the residual predicate is no seek
			if strings.Contains(seek, col) {
				out.Scan, out.StampSeek, out.Index = scan, true, strings.ToUpper(index)
			}
		}
	}
	return out
}

// LockWaitsQuery implements Prober with this session's waits for locks
// (sys.dm_exec_session_wait_stats, SQL Server 2016 and later).
func (SQLServer) LockWaitsQuery(string) (Statement, bool) {
	return Statement{SQL: "SELECT COALESCE(SUM(waiting_tasks_count), 0), COALESCE(SUM(wait_time_ms), 0)" +
		" FROM sys.dm_exec_session_wait_stats WHERE session_id = @@SPID AND wait_type LIKE 'LCK[_]%'"}, true
}

// ServerQuery implements Prober: the version and the NLS settings of the
// database and of the session.
func (Oracle) ServerQuery() Statement {
	return Statement{SQL: "SELECT 'version', product || ' ' || version FROM product_component_version WHERE product LIKE 'Oracle%' AND ROWNUM = 1" +
		" UNION ALL SELECT 'database ' || parameter, value FROM nls_database_parameters" +
		" WHERE parameter IN ('NLS_CHARACTERSET', 'NLS_NCHAR_CHARACTERSET', 'NLS_COMP', 'NLS_SORT')" +
		" UNION ALL SELECT 'session ' || parameter, value FROM nls_session_parameters" +
		" WHERE parameter IN ('NLS_COMP', 'NLS_SORT', 'NLS_LANGUAGE', 'NLS_TERRITORY')"}
}

// CompareQuery implements Prober.
func (Oracle) CompareQuery() Statement { return compareQuery("VARCHAR2(2)", " FROM DUAL") }

// IgnoresTrailingBlanks implements Prober: VARCHAR2 "=" sees them.
func (Oracle) IgnoresTrailingBlanks() bool { return false }

// NowQuery implements Prober.
func (Oracle) NowQuery() Statement {
	return Statement{SQL: `SELECT TO_CHAR(SYS_EXTRACT_UTC(SYSTIMESTAMP), 'YYYY-MM-DD"T"HH24:MI:SS.FF3') FROM DUAL`}
}

// IndexQuery implements Prober with ALL_IND_COLUMNS.
func (d Oracle) IndexQuery(table string) Statement {
	return Statement{SQL: "SELECT INDEX_NAME, COLUMN_NAME, COLUMN_POSITION FROM ALL_IND_COLUMNS WHERE TABLE_NAME = " + d.Placeholder(1) +
		" ORDER BY INDEX_OWNER, INDEX_NAME, COLUMN_POSITION", Args: []any{strings.ToUpper(table)}}
}

// StatsQuery implements Prober: Oracle's maintenance window gathers them.
func (Oracle) StatsQuery(string) Statement { return Statement{} }

// AnalyzeStatement implements Prober.
func (Oracle) AnalyzeStatement(table string) string {
	return "EXEC DBMS_STATS.GATHER_TABLE_STATS(USER, '" + strings.ToUpper(table) + "')"
}

// explainID names the plan erpbridge doctor writes into PLAN_TABLE.
const explainID = "ERPBRIDGE_DOCTOR"

// Explain implements Prober with EXPLAIN PLAN (its bind markers stay
// unbound: the plan is the one for any value) and DBMS_XPLAN.DISPLAY; the
// plan is deleted from the session's PLAN_TABLE afterwards.
func (Oracle) Explain(st Statement) Explain {
	return Explain{
		Before: []string{"DELETE FROM PLAN_TABLE WHERE STATEMENT_ID = '" + explainID + "'",
			"EXPLAIN PLAN SET STATEMENT_ID = '" + explainID + "' FOR " + st.SQL},
		Query: Statement{SQL: "SELECT PLAN_TABLE_OUTPUT FROM TABLE(DBMS_XPLAN.DISPLAY('PLAN_TABLE', '" + explainID + "', 'BASIC PREDICATE'))"},
		After: []string{"DELETE FROM PLAN_TABLE WHERE STATEMENT_ID = '" + explainID + "'"},
	}
}

// ReadPlan implements Prober over DBMS_XPLAN's table ("|   2 |   INDEX
// RANGE SCAN | ERPBRIDGE_SA1010_STAMP |") and its predicates ("   2 -
// access(\"S_T_A_M_P_\">=:2)").
func (Oracle) ReadPlan(lines []string, table, stamp string) PlanAccess {
	var out PlanAccess
	up, col := strings.ToUpper(table), `"`+strings.ToUpper(stamp)+`"`
	indexOf := map[string]string{} // operation id → index name
	for _, l := range lines {
		cells := strings.Split(l, "|")
		if len(cells) < 4 {
			continue
		}
		id := strings.TrimSpace(strings.TrimLeft(strings.TrimSpace(cells[1]), "*"))
		op, name := strings.TrimSpace(cells[2]), strings.ToUpper(strings.TrimSpace(cells[3]))
		switch {
		case strings.HasPrefix(op, "INDEX "):
			indexOf[id] = name
			if out.Scan == "" && strings.Contains(op, "FULL") {
				out.Scan = op + " " + name
			}
		case strings.HasPrefix(op, "TABLE ACCESS") && name == up:
			if out.Scan == "" || strings.Contains(op, "FULL") {
				out.Scan = op + " " + name
			}
		}
	}
	for _, l := range lines {
		s := strings.TrimSpace(l)
		id, pred, ok := strings.Cut(s, " - ")
		if !ok || !strings.HasPrefix(strings.TrimSpace(pred), "access(") || !strings.Contains(strings.ToUpper(pred), col) {
			continue
		}
		if index, ok := indexOf[strings.TrimLeft(strings.TrimSpace(id), "*")]; ok {
			out.StampSeek, out.Index, out.Scan = true, index, "INDEX RANGE SCAN "+index
		}
	}
	return out
}

// LockWaitsQuery implements Prober with this session's enqueue waits
// (V$SESSION_EVENT: the user needs SELECT on it, e.g. SELECT_CATALOG_ROLE).
func (Oracle) LockWaitsQuery(string) (Statement, bool) {
	return Statement{SQL: "SELECT NVL(SUM(total_waits), 0), NVL(ROUND(SUM(time_waited_micro) / 1000), 0) FROM v$session_event" +
		" WHERE sid = SYS_CONTEXT('USERENV', 'SID') AND event LIKE 'enq:%'"}, true
}
