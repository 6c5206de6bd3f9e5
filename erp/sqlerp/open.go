package sqlerp

import (
	"database/sql"
	"database/sql/driver"
	"fmt"

	_ "github.com/jackc/pgx/v5/stdlib"  // registers "pgx"
	_ "github.com/microsoft/go-mssqldb" // registers "sqlserver"
	_ "github.com/sijms/go-ora/v2"      // registers "oracle"
	_ "modernc.org/sqlite"              // registers "sqlite"
)

// Open opens a database for a dialect name ("postgres", "sqlite",
// "sqlserver", "oracle") with the matching database/sql driver. It does not
// connect; the first query (or db.PingContext) does. The DSN is checked
// first (CheckDSN), so a malformed one fails here without a connection
// attempt, and no error of Open or of the database's connections shows the
// DSN's password.
func Open(dialect, dsn string) (*sql.DB, Dialect, error) {
	d, err := DialectFor(dialect)
	if err != nil {
		return nil, nil, err
	}
	if err := CheckDSN(d.Name(), dsn); err != nil {
		return nil, nil, fmt.Errorf("opening %s database: the DSN %w", d.Name(), err)
	}
	db, err := sql.Open(d.DriverName(), dsn)
	if err != nil {
		return nil, nil, fmt.Errorf("opening %s database: %w", d.Name(), redactError(err, dsn))
	}
	// Reopen through a connector that scrubs connection errors (pgx and
	// go-ora parse the DSN again on every connection).
	drv := db.Driver()
	_ = db.Close() // sql.Open connects to nothing: there is nothing to close
	var conn driver.Connector = dsnConnector{dsn: dsn, drv: drv}
	if dc, ok := drv.(driver.DriverContext); ok {
		if conn, err = dc.OpenConnector(dsn); err != nil {
			return nil, nil, fmt.Errorf("opening %s database: %w", d.Name(), redactError(err, dsn))
		}
	}
	return sql.OpenDB(redactingConnector{Connector: conn, dsn: dsn}), d, nil
}
