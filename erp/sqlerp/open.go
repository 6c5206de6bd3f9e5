package sqlerp

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"
	"io"

	"github.com/erpbridge/erpbridge/erp/sqlerp/dsn"

	_ "github.com/jackc/pgx/v5/stdlib"  // registers "pgx"
	_ "github.com/microsoft/go-mssqldb" // registers "sqlserver"
	_ "github.com/sijms/go-ora/v2"      // registers "oracle"
	_ "modernc.org/sqlite"              // registers "sqlite"
)

// Open opens a database for a dialect name ("postgres", "sqlite",
// "sqlserver", "oracle") with the matching database/sql driver. It does not
// connect; the first query (or db.PingContext) does. The DSN is checked
// first (dsn.Check), so a malformed one fails here without a connection
// attempt, and no error of Open or of the database's connections shows the
// DSN's password.
func Open(dialect, dataSource string) (*sql.DB, Dialect, error) {
	d, err := DialectFor(dialect)
	if err != nil {
		return nil, nil, err
	}
	if err := dsn.Check(d.Name(), dataSource); err != nil {
		return nil, nil, fmt.Errorf("opening %s database: the DSN %w", d.Name(), err)
	}
	db, err := sql.Open(d.DriverName(), dataSource)
	if err != nil {
		return nil, nil, fmt.Errorf("opening %s database: %w", d.Name(), dsn.RedactError(err, dataSource))
	}
	// Reopen through a connector that scrubs connection errors (pgx and
	// go-ora parse the DSN again on every connection).
	drv := db.Driver()
	_ = db.Close() // sql.Open connects to nothing: there is nothing to close
	var conn driver.Connector = dsnConnector{dsn: dataSource, drv: drv}
	if dc, ok := drv.(driver.DriverContext); ok {
		if conn, err = dc.OpenConnector(dataSource); err != nil {
			return nil, nil, fmt.Errorf("opening %s database: %w", d.Name(), dsn.RedactError(err, dataSource))
		}
	}
	return sql.OpenDB(redactingConnector{Connector: conn, dsn: dataSource}), d, nil
}

// redactingConnector scrubs the DSN's secrets from every connection error.
type redactingConnector struct {
	driver.Connector
	dsn string
}

func (c redactingConnector) Connect(ctx context.Context) (driver.Conn, error) {
	conn, err := c.Connector.Connect(ctx)
	if err != nil {
		return nil, dsn.RedactError(err, c.dsn)
	}
	return conn, nil
}

// Close closes the wrapped connector when it holds resources (sql.DB.Close
// calls it).
func (c redactingConnector) Close() error {
	if cl, ok := c.Connector.(io.Closer); ok {
		return cl.Close()
	}
	return nil
}

// dsnConnector is the connector of a driver without one (database/sql's own
// is not exported).
type dsnConnector struct {
	dsn string
	drv driver.Driver
}

func (c dsnConnector) Connect(context.Context) (driver.Conn, error) { return c.drv.Open(c.dsn) }
func (c dsnConnector) Driver() driver.Driver                        { return c.drv }
