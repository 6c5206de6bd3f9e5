package protheus

import (
	"fmt"
	"strings"
)

// StampFunction is the PostgreSQL trigger function the staging tables'
// stamp triggers call (StampFunctionDDL).
const StampFunction = "erpbridge_stamp"

// ObjectPrefix starts the name of every index, constraint, trigger and
// function the staging DDL creates, so none can collide with an object of
// the customer's database (Protheus's own are named after their tables).
const ObjectPrefix = "ERPBRIDGE_"

// StagingDatabases are the databases StagingDDL writes for.
var StagingDatabases = []string{"sqlserver", "oracle", "postgres", "sqlite"}

// StampFunctionDDL creates StampFunction, which the PostgreSQL stamp
// triggers call. CREATE without OR REPLACE: it fails if the function
// exists, and a function of the customer's is never replaced.
func StampFunctionDDL() string {
	return "CREATE FUNCTION " + StampFunction + "() RETURNS trigger AS $$\n" +
		"BEGIN NEW.s_t_a_m_p_ := now() AT TIME ZONE 'UTC'; RETURN NEW; END $$ LANGUAGE plpgsql"
}

// StagingDDL returns the statements (without terminators) that create the
// staging tables of a company on db (one of StagingDatabases): each table
// with the layout's fields, the DBAccess control columns and S_T_A_M_P_,
// its primary key and unique key, its key index and, for the header, the
// job's queue index, a stamp index and the trigger that stamps updates.
// Every statement is a CREATE without OR REPLACE, and every object besides
// the tables is named ObjectPrefix + table + a suffix, so nothing of the
// customer's is replaced and a name in use fails loudly. On PostgreSQL the
// trigger calls StampFunction: create it first (StampFunctionDDL).
func StagingDDL(db, company string, a StagingAliases) ([]string, error) {
	if err := a.Validate(); err != nil {
		return nil, fmt.Errorf("writing staging DDL: %w", err)
	}
	d, ok := ddlDialects[db]
	if !ok {
		return nil, fmt.Errorf("writing staging DDL: unknown database %q (want %s)", db, strings.Join(StagingDatabases, ", "))
	}
	header, items := a.Tables(company)
	out := d.table(header, StagingHeaderFields(a.Header))
	out = append(out,
		d.index(header, "UNQ", true, append(StagingHeaderKey(a.Header), RecDelColumn)),
		d.index(header, "1", false, append(StagingHeaderKey(a.Header), RecnoColumn, DeletedColumn)),
		d.index(header, "2", false, append(StagingHeaderQueue(a.Header), RecnoColumn, DeletedColumn)),
		d.index(header, StampIndexSuffix, false, []string{StampColumn, RecnoColumn}),
		d.trigger(header))
	out = append(out, d.table(items, StagingItemsFields(a.Items))...)
	out = append(out,
		d.index(items, "UNQ", true, append(StagingItemsKey(a.Items), RecDelColumn)),
		d.index(items, "1", false, append(StagingItemsKey(a.Items), RecnoColumn, DeletedColumn)))
	return out, nil
}

// StampIndexSuffix ends the name of the index that serves a table's
// incremental polls: ERPBRIDGE_SA1010_STAMP.
const StampIndexSuffix = "STAMP"

// StampIndexDDL is the statement creating the index that serves the
// incremental polls of table on db (one of StagingDatabases):
// ObjectPrefix + table + "_STAMP" on (S_T_A_M_P_, R_E_C_N_O_), a plain
// index outside the Protheus dictionary (docs/protheus.md), as the staging
// DDL makes for its header table.
func StampIndexDDL(db, table string) (string, error) {
	d, ok := ddlDialects[db]
	if !ok {
		return "", fmt.Errorf("writing the stamp index: unknown database %q (want %s)", db, strings.Join(StagingDatabases, ", "))
	}
	return d.index(strings.ToUpper(table), StampIndexSuffix, false, []string{StampColumn, RecnoColumn}), nil
}

// StagingScript is StagingDDL as a script for db's own tool (sqlcmd or SSMS
// with GO batches, SQL*Plus with / after PL/SQL, psql), starting on
// PostgreSQL with StampFunctionDDL.
func StagingScript(db, company string, a StagingAliases) (string, error) {
	return StagingScripts(db, []string{company}, a)
}

// StagingScripts is StagingScript for the staging tables of several
// companies, the database's shared objects (PostgreSQL's stamp function)
// created once.
func StagingScripts(db string, companies []string, a StagingAliases) (string, error) {
	var stmts []string
	for _, company := range companies {
		s, err := StagingDDL(db, company, a)
		if err != nil {
			return "", err
		}
		stmts = append(stmts, s...)
	}
	if db == "postgres" {
		stmts = append([]string{StampFunctionDDL()}, stmts...)
	}
	var b strings.Builder
	for i, s := range stmts {
		trigger := strings.HasPrefix(s, "CREATE TRIGGER")
		if i > 0 && strings.HasPrefix(s, "CREATE TABLE") {
			b.WriteString("\n")
		}
		switch {
		case db == "sqlserver" && trigger: // CREATE TRIGGER must start its batch
			b.WriteString("GO\n" + s + "\nGO\n")
		case db == "oracle" && trigger: // a PL/SQL block ends with /
			b.WriteString(s + "\n/\n")
		default:
			b.WriteString(s + ";\n")
		}
	}
	return b.String(), nil
}

// ddlDialect spells the staging DDL for one database.
type ddlDialect struct {
	table   func(name string, fields []Field) []string
	index   func(table, suffix string, unique bool, cols []string) string
	trigger func(table string) string
}

var ddlDialects = map[string]ddlDialect{
	"sqlserver": {
		table: func(name string, fields []Field) []string {
			return []string{createTable("dbo."+name, name, fields, columnTypes{
				char: func(n int) string { return fmt.Sprintf("VARCHAR(%d)", n) }, charDefault: blanksOr("SPACE(%d)"),
				number: "FLOAT", memo: "VARBINARY(MAX)", memoNote: "memo, as DBAccess stores it", integer: "INT",
				stamp: "DATETIME", stampDefault: "GETUTCDATE()", defaultFirst: true,
			})}
		},
		index: func(table, suffix string, unique bool, cols []string) string {
			return createIndex(ObjectPrefix+table+"_"+suffix, "dbo."+table, unique, cols)
		},
		trigger: func(table string) string {
			return "CREATE TRIGGER dbo." + ObjectPrefix + table + "_TR ON dbo." + table + " AFTER UPDATE AS\n" +
				"BEGIN\n" +
				"  SET NOCOUNT ON;\n" +
				"  UPDATE t SET " + StampColumn + " = GETUTCDATE() FROM dbo." + table + " t JOIN inserted i ON i." + RecnoColumn + " = t." + RecnoColumn + ";\n" +
				"END"
		},
	},
	"oracle": {
		table: func(name string, fields []Field) []string {
			return []string{createTable(name, name, fields, columnTypes{
				char: func(n int) string { return fmt.Sprintf("VARCHAR2(%d)", n) }, charDefault: blanksOr("RPAD(' ', %d)"),
				number: "FLOAT", memo: "BLOB", memoNote: "memo, as DBAccess stores it", integer: "NUMBER",
				stamp: "TIMESTAMP", stampDefault: "SYS_EXTRACT_UTC(SYSTIMESTAMP)",
			})}
		},
		index: func(table, suffix string, unique bool, cols []string) string {
			return createIndex(ObjectPrefix+table+"_"+suffix, table, unique, cols)
		},
		trigger: func(table string) string {
			return "CREATE TRIGGER " + ObjectPrefix + table + "_TR BEFORE UPDATE ON " + table + " FOR EACH ROW\n" +
				"BEGIN :NEW." + StampColumn + " := SYS_EXTRACT_UTC(SYSTIMESTAMP); END;"
		},
	},
	"postgres": {
		table: func(name string, fields []Field) []string {
			return []string{createTable(name, name, fields, columnTypes{
				char: func(n int) string { return fmt.Sprintf("varchar(%d)", n) }, charDefault: blanksOr("repeat(' ', %d)"),
				number: "double precision", memo: "text", integer: "integer",
				stamp: "timestamp", stampDefault: "(now() AT TIME ZONE 'UTC')", defaultFirst: true, ident: strings.ToLower,
			})}
		},
		index: func(table, suffix string, unique bool, cols []string) string {
			return createIndex(strings.ToLower(ObjectPrefix+table+"_"+suffix), strings.ToLower(table), unique, lower(cols))
		},
		trigger: func(table string) string {
			return "CREATE TRIGGER " + strings.ToLower(ObjectPrefix+table+"_TR") + " BEFORE UPDATE ON " + strings.ToLower(table) +
				" FOR EACH ROW EXECUTE FUNCTION " + StampFunction + "()"
		},
	},
	"sqlite": {
		table: func(name string, fields []Field) []string {
			return []string{createTable(name, name, fields, columnTypes{
				char: func(n int) string { return fmt.Sprintf("VARCHAR(%d)", n) }, charDefault: blanksOr(""),
				number: "DOUBLE PRECISION", memo: "TEXT", integer: "INTEGER",
				stamp: "TIMESTAMP", stampDefault: "(strftime('%Y-%m-%d %H:%M:%f','now'))", defaultFirst: true,
			})}
		},
		index: func(table, suffix string, unique bool, cols []string) string {
			return createIndex(ObjectPrefix+table+"_"+suffix, table, unique, cols)
		},
		trigger: func(table string) string {
			return "CREATE TRIGGER " + ObjectPrefix + table + "_TR AFTER UPDATE ON " + table +
				" FOR EACH ROW WHEN NEW." + StampColumn + " IS OLD." + StampColumn + "\n" +
				"BEGIN UPDATE " + table + " SET " + StampColumn + " = strftime('%Y-%m-%d %H:%M:%f','now') WHERE " +
				RecnoColumn + " = NEW." + RecnoColumn + "; END"
		},
	},
}

// columnTypes are a database's column types for the staging layout.
type columnTypes struct {
	char         func(n int) string
	charDefault  func(n int) string
	number, memo string
	memoNote     string // a comment on the memo column
	integer      string
	stamp        string
	stampDefault string
	// defaultFirst writes NOT NULL before DEFAULT (SQL Server, PostgreSQL,
	// SQLite); Oracle's order is DEFAULT … NOT NULL.
	defaultFirst bool
	// ident spells a name (PostgreSQL's are lower case); nil keeps it.
	ident func(string) string
}

func lower(names []string) []string {
	out := make([]string, len(names))
	for i, n := range names {
		out[i] = strings.ToLower(n)
	}
	return out
}

// blanksOr is a character column's default: its width in spaces, quoted,
// up to 8; wider ones with format (e.g. "SPACE(%d)"), when given.
func blanksOr(format string) func(n int) string {
	return func(n int) string {
		if n <= 8 || format == "" {
			return "'" + strings.Repeat(" ", n) + "'"
		}
		return fmt.Sprintf(format, n)
	}
}

// createTable writes CREATE TABLE with aligned columns.
func createTable(qualified, name string, fields []Field, t columnTypes) string {
	type column struct{ name, typ, rest, note string }
	var cols []column
	notNull := func(def string) string {
		if t.defaultFirst {
			return "NOT NULL DEFAULT " + def
		}
		return "DEFAULT " + def + " NOT NULL"
	}
	for _, f := range fields {
		switch f.Type {
		case Numeric:
			cols = append(cols, column{f.Name, t.number, notNull("0"), ""})
		case Memo:
			cols = append(cols, column{f.Name, t.memo, "NULL", t.memoNote})
		default: // C, and D as YYYYMMDD
			cols = append(cols, column{f.Name, t.char(f.Size), notNull(t.charDefault(f.Size)), ""})
		}
	}
	stampNull := "NULL DEFAULT " + t.stampDefault
	if !t.defaultFirst {
		stampNull = "DEFAULT " + t.stampDefault + " NULL"
	}
	cols = append(cols,
		column{DeletedColumn, t.char(1), notNull("' '"), ""},
		column{RecnoColumn, t.integer, notNull("0"), ""},
		column{RecDelColumn, t.integer, notNull("0"), ""},
		column{StampColumn, t.stamp, stampNull, ""})
	ident := t.ident
	if ident == nil {
		ident = func(s string) string { return s }
	}
	nameW, typW := 0, 0
	for i := range cols {
		cols[i].name = ident(cols[i].name)
	}
	for _, c := range cols {
		nameW, typW = max(nameW, len(c.name)), max(typW, len(c.typ))
	}
	var b strings.Builder
	b.WriteString("CREATE TABLE " + ident(qualified) + " (\n")
	for _, c := range cols {
		line := fmt.Sprintf("  %-*s %-*s %s,", nameW, c.name, typW, c.typ, c.rest)
		if c.note != "" {
			line += " -- " + c.note
		}
		b.WriteString(line + "\n")
	}
	b.WriteString("  CONSTRAINT " + ident(ObjectPrefix+name+"_PK") + " PRIMARY KEY (" + ident(RecnoColumn) + "))")
	return b.String()
}

func createIndex(name, table string, unique bool, cols []string) string {
	kind := "INDEX"
	if unique {
		kind = "UNIQUE INDEX"
	}
	return "CREATE " + kind + " " + name + " ON " + table + " (" + strings.Join(cols, ", ") + ")"
}
