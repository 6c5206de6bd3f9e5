package sqlerp

import (
	"database/sql"
	"fmt"

	_ "github.com/jackc/pgx/v5/stdlib"  // registers "pgx"
	_ "github.com/microsoft/go-mssqldb" // registers "sqlserver"
	_ "github.com/sijms/go-ora/v2"      // registers "oracle"
	_ "modernc.org/sqlite"              // registers "sqlite"
)

// Open opens a database for a dialect name ("postgres", "sqlite",
// "sqlserver", "oracle") with the matching database/sql driver. It does not
// connect; the first query (or db.PingContext) does.
func Open(dialect, dsn string) (*sql.DB, Dialect, error) {
	d, err := DialectFor(dialect)
	if err != nil {
		return nil, nil, err
	}
	db, err := sql.Open(d.DriverName(), dsn)
	if err != nil {
		return nil, nil, fmt.Errorf("opening %s database: %w", d.Name(), err)
	}
	return db, d, nil
}
