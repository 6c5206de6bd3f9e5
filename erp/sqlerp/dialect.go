package sqlerp

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	mssql "github.com/microsoft/go-mssqldb"
	go_ora "github.com/sijms/go-ora/v2"
)

// Dialect is what differs between databases. Implementations are stateless.
type Dialect interface {
	// Name is the dialect's config name: "postgres", "sqlite", "sqlserver" or "oracle".
	Name() string
	// DriverName is the database/sql driver registered for the dialect.
	DriverName() string
	// Placeholder returns the bind marker for the n-th argument (1-based).
	Placeholder(n int) string
	// QuoteIdent validates name and returns it as written into SQL:
	// upper case and unquoted.
	QuoteIdent(name string) (string, error)
	// Paginate assembles "SELECT selectList rest" limited to the number of
	// rows bound at limit.
	Paginate(selectList, rest, limit string) string
	// BindTime converts a UTC change stamp into the value to bind against a
	// stamp column.
	BindTime(t time.Time) any
	// CompareChar returns a predicate comparing a blank-padded CHAR column
	// with value bound at placeholder, and the argument to bind. width is the
	// column width, 0 when unknown.
	CompareChar(column, placeholder string, width int, value string) (string, any)
	// CatalogQuery returns the query listing a table's columns as rows of
	// (name, data type, character length or NULL), and its arguments.
	CatalogQuery(table string) (string, []any)
}

var (
	_ Dialect = Postgres{}
	_ Dialect = SQLite{}
	_ Dialect = SQLServer{}
	_ Dialect = Oracle{}
)

var identPattern = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]{0,29}$`)

// ValidateIdent reports whether name may be used as a table or column name.
func ValidateIdent(name string) error {
	if !identPattern.MatchString(name) {
		return fmt.Errorf("invalid identifier %q: want letters, digits and _ (max 30, not starting with a digit)", name)
	}
	return nil
}

func quoteUpper(name string) (string, error) {
	if err := ValidateIdent(name); err != nil {
		return "", err
	}
	return strings.ToUpper(name), nil
}

// Dialects lists every supported dialect.
func Dialects() []Dialect { return []Dialect{Postgres{}, SQLite{}, SQLServer{}, Oracle{}} }

// DialectFor returns the dialect for a config name or driver name.
func DialectFor(name string) (Dialect, error) {
	switch strings.ToLower(name) {
	case "postgres", "postgresql", "pgx":
		return Postgres{}, nil
	case "sqlite", "sqlite3":
		return SQLite{}, nil
	case "sqlserver", "mssql":
		return SQLServer{}, nil
	case "oracle", "go-ora":
		return Oracle{}, nil
	}
	return nil, fmt.Errorf("unknown ERP database dialect %q (want postgres, sqlite, sqlserver or oracle)", name)
}

// padRight pads s with spaces to width characters (runes).
func padRight(s string, width int) string {
	n := len([]rune(s))
	if n >= width {
		return s
	}
	return s + strings.Repeat(" ", width-n)
}

func trimBlanks(s string) string { return strings.TrimRight(s, " ") }

// comparePaddedOrTrimmed is the strict-comparison strategy shared by
// PostgreSQL and SQLite: their VARCHAR "=" sees trailing blanks.
func comparePaddedOrTrimmed(column, ph string, width int, value string) (string, any) {
	if width > 0 {
		return column + " = " + ph, padRight(value, width)
	}
	return "RTRIM(" + column + ") = " + ph, trimBlanks(value)
}

// Postgres is the PostgreSQL dialect (driver pgx). Unquoted upper-case
// identifiers fold to lower case, as PostgreSQL-hosted Protheus tables are named.
type Postgres struct{}

// Name implements Dialect.
func (Postgres) Name() string { return "postgres" }

// DriverName implements Dialect.
func (Postgres) DriverName() string { return "pgx" }

// Placeholder implements Dialect: $1, $2, …
func (Postgres) Placeholder(n int) string { return "$" + strconv.Itoa(n) }

// QuoteIdent implements Dialect.
func (Postgres) QuoteIdent(name string) (string, error) { return quoteUpper(name) }

// Paginate implements Dialect with LIMIT.
func (Postgres) Paginate(sel, rest, limit string) string {
	return "SELECT " + sel + " " + rest + " LIMIT " + limit
}

// BindTime implements Dialect: stamps are TIMESTAMP WITHOUT TIME ZONE in
// UTC; pgx writes a UTC time's wall clock.
func (Postgres) BindTime(t time.Time) any { return t.UTC() }

// CompareChar implements Dialect: VARCHAR "=" sees trailing blanks.
func (Postgres) CompareChar(column, ph string, width int, value string) (string, any) {
	return comparePaddedOrTrimmed(column, ph, width, value)
}

// CatalogQuery implements Dialect with INFORMATION_SCHEMA.COLUMNS of the
// current schema; table names are stored in lower case.
func (d Postgres) CatalogQuery(table string) (string, []any) {
	return "SELECT UPPER(COLUMN_NAME), UPPER(DATA_TYPE), CHARACTER_MAXIMUM_LENGTH FROM INFORMATION_SCHEMA.COLUMNS" +
		" WHERE TABLE_SCHEMA = CURRENT_SCHEMA() AND TABLE_NAME = " + d.Placeholder(1) +
		" ORDER BY ORDINAL_POSITION", []any{strings.ToLower(table)}
}

// SQLite is the SQLite dialect (driver modernc.org/sqlite), used by the demo
// and fast tests. Stamps are stored as text "YYYY-MM-DD HH:MM:SS.SSS" (UTC).
type SQLite struct{}

// SQLiteStampLayout is the text layout of SQLite change stamps; it sorts
// lexically in time order.
const SQLiteStampLayout = "2006-01-02 15:04:05.000"

// Name implements Dialect.
func (SQLite) Name() string { return "sqlite" }

// DriverName implements Dialect.
func (SQLite) DriverName() string { return "sqlite" }

// Placeholder implements Dialect: ?
func (SQLite) Placeholder(int) string { return "?" }

// QuoteIdent implements Dialect.
func (SQLite) QuoteIdent(name string) (string, error) { return quoteUpper(name) }

// Paginate implements Dialect with LIMIT.
func (SQLite) Paginate(sel, rest, limit string) string {
	return "SELECT " + sel + " " + rest + " LIMIT " + limit
}

// BindTime implements Dialect: the stamp's text form.
func (SQLite) BindTime(t time.Time) any { return t.UTC().Format(SQLiteStampLayout) }

// CompareChar implements Dialect: "=" with BINARY collation sees trailing blanks.
func (SQLite) CompareChar(column, ph string, width int, value string) (string, any) {
	return comparePaddedOrTrimmed(column, ph, width, value)
}

// CatalogQuery implements Dialect with pragma_table_info; widths are parsed
// from the declared type (VARCHAR(6)).
func (SQLite) CatalogQuery(table string) (string, []any) {
	return "SELECT UPPER(name), UPPER(type), NULL FROM pragma_table_info(?) ORDER BY cid", []any{table}
}

// SQLServer is the Microsoft SQL Server dialect (driver go-mssqldb).
type SQLServer struct{}

// Name implements Dialect.
func (SQLServer) Name() string { return "sqlserver" }

// DriverName implements Dialect.
func (SQLServer) DriverName() string { return "sqlserver" }

// Placeholder implements Dialect: @p1, @p2, …
func (SQLServer) Placeholder(n int) string { return "@p" + strconv.Itoa(n) }

// QuoteIdent implements Dialect. Upper case matters: Protheus databases often
// use a binary (case-sensitive) collation.
func (SQLServer) QuoteIdent(name string) (string, error) { return quoteUpper(name) }

// Paginate implements Dialect with SELECT TOP (@pN).
func (SQLServer) Paginate(sel, rest, limit string) string {
	return "SELECT TOP (" + limit + ") " + sel + " " + rest
}

// BindTime implements Dialect: S_T_A_M_P_ is DATETIME (no zone, ~3 ms
// ticks). A time.Time would bind as DATETIMEOFFSET and force a conversion
// of the column.
func (SQLServer) BindTime(t time.Time) any { return mssql.DateTime1(t.UTC()) }

// CompareChar implements Dialect: SQL Server's "=" ignores trailing blanks,
// so the plain column is compared (keeping index seeks). Values bind as
// VARCHAR, not NVARCHAR, for the same reason.
func (SQLServer) CompareChar(column, ph string, width int, value string) (string, any) {
	if width > 0 {
		return column + " = " + ph, mssql.VarChar(padRight(value, width))
	}
	return column + " = " + ph, mssql.VarChar(trimBlanks(value))
}

// CatalogQuery implements Dialect with INFORMATION_SCHEMA.COLUMNS.
func (d SQLServer) CatalogQuery(table string) (string, []any) {
	return "SELECT UPPER(COLUMN_NAME), UPPER(DATA_TYPE), CHARACTER_MAXIMUM_LENGTH FROM INFORMATION_SCHEMA.COLUMNS" +
		" WHERE TABLE_NAME = " + d.Placeholder(1) + " ORDER BY ORDINAL_POSITION", []any{strings.ToUpper(table)}
}

// Oracle is the Oracle dialect (driver go-ora v2, pure Go; Oracle 12c+ for
// FETCH FIRST).
type Oracle struct{}

// Name implements Dialect.
func (Oracle) Name() string { return "oracle" }

// DriverName implements Dialect.
func (Oracle) DriverName() string { return "oracle" }

// Placeholder implements Dialect: :1, :2, …
func (Oracle) Placeholder(n int) string { return ":" + strconv.Itoa(n) }

// QuoteIdent implements Dialect (Oracle folds unquoted names to upper case).
func (Oracle) QuoteIdent(name string) (string, error) { return quoteUpper(name) }

// Paginate implements Dialect with FETCH FIRST :N ROWS ONLY.
func (Oracle) Paginate(sel, rest, limit string) string {
	return "SELECT " + sel + " " + rest + " FETCH FIRST " + limit + " ROWS ONLY"
}

// BindTime implements Dialect: S_T_A_M_P_ is TIMESTAMP (no zone).
func (Oracle) BindTime(t time.Time) any { return go_ora.TimeStamp(t.UTC()) }

// CompareChar implements Dialect: VARCHAR2 "=" sees trailing blanks and the
// empty string is NULL, so an all-blank value without a known width is
// compared as a single blank.
func (Oracle) CompareChar(column, ph string, width int, value string) (string, any) {
	if width > 0 {
		return column + " = " + ph, padRight(value, width)
	}
	v := trimBlanks(value)
	if v == "" {
		v = " "
	}
	return "NVL(RTRIM(" + column + "), ' ') = " + ph, v
}

// CatalogQuery implements Dialect with ALL_TAB_COLUMNS.
func (d Oracle) CatalogQuery(table string) (string, []any) {
	return "SELECT COLUMN_NAME, DATA_TYPE, CHAR_LENGTH FROM ALL_TAB_COLUMNS WHERE TABLE_NAME = " + d.Placeholder(1) +
		" ORDER BY OWNER, COLUMN_ID", []any{strings.ToUpper(table)}
}
