package protheus_test

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"net/url"
	"testing"

	"github.com/erpbridge/erpbridge/erp/protheus/fixture"
	"github.com/erpbridge/erpbridge/erp/sqlerp"
)

// hookedDB opens a second pool on fx's database whose connections call
// begin before each transaction and before(query) before each statement
// they run: a test sees where a writer is and can hold it there, instead
// of sleeping and hoping it got that far.
func hookedDB(t *testing.T, fx fixture.ERP, begin func(), before func(query string)) *sql.DB {
	t.Helper()
	ctx := context.Background()
	var dsn string
	switch fx.Kind {
	case fixture.SQLite:
		var path string
		if err := fx.DB.QueryRowContext(ctx, "SELECT file FROM pragma_database_list WHERE name = 'main'").Scan(&path); err != nil {
			t.Fatal(err)
		}
		dsn = "file:" + path + "?_pragma=busy_timeout(5000)&_pragma=journal_mode(WAL)"
	case fixture.Postgres:
		var name string
		if err := fx.DB.QueryRowContext(ctx, "SELECT current_database()").Scan(&name); err != nil {
			t.Fatal(err)
		}
		u, err := url.Parse(fixture.PostgresAdminDSN(t))
		if err != nil {
			t.Fatal(err)
		}
		u.Path = "/" + name
		dsn = u.String()
	default:
		t.Fatalf("no DSN for a %s fixture", fx.Kind)
	}
	d, err := sqlerp.DialectFor(string(fx.Kind))
	if err != nil {
		t.Fatal(err)
	}
	plain, err := sql.Open(d.DriverName(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	drv := plain.Driver()
	_ = plain.Close()
	db := sql.OpenDB(hookConnector{drv: drv, dsn: dsn, begin: begin, before: before})
	t.Cleanup(func() { db.Close() })
	return db
}

type hookConnector struct {
	drv    driver.Driver
	dsn    string
	begin  func()
	before func(string)
}

func (c hookConnector) Connect(context.Context) (driver.Conn, error) {
	conn, err := c.drv.Open(c.dsn)
	if err != nil {
		return nil, err
	}
	return hookConn{Conn: conn, begin: c.begin, before: c.before}, nil
}

func (c hookConnector) Driver() driver.Driver { return c.drv }

// hookConn passes everything on to the driver's connection, calling the
// hooks first.
type hookConn struct {
	driver.Conn
	begin  func()
	before func(string)
}

func (c hookConn) BeginTx(ctx context.Context, opts driver.TxOptions) (driver.Tx, error) {
	c.begin()
	b, ok := c.Conn.(driver.ConnBeginTx)
	if !ok { // pgx and modernc's sqlite both begin with options
		return nil, errors.New("hookConn: the driver's connection cannot BeginTx")
	}
	return b.BeginTx(ctx, opts)
}

func (c hookConn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	c.before(query)
	if e, ok := c.Conn.(driver.ExecerContext); ok {
		return e.ExecContext(ctx, query, args)
	}
	return nil, driver.ErrSkip
}

func (c hookConn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	c.before(query)
	if q, ok := c.Conn.(driver.QueryerContext); ok {
		return q.QueryContext(ctx, query, args)
	}
	return nil, driver.ErrSkip
}

func (c hookConn) PrepareContext(ctx context.Context, query string) (driver.Stmt, error) {
	if p, ok := c.Conn.(driver.ConnPrepareContext); ok {
		return p.PrepareContext(ctx, query)
	}
	return c.Conn.Prepare(query)
}

func (c hookConn) CheckNamedValue(nv *driver.NamedValue) error {
	if n, ok := c.Conn.(driver.NamedValueChecker); ok {
		return n.CheckNamedValue(nv)
	}
	return driver.ErrSkip
}

func (c hookConn) ResetSession(ctx context.Context) error {
	if r, ok := c.Conn.(driver.SessionResetter); ok {
		return r.ResetSession(ctx)
	}
	return nil
}

func (c hookConn) IsValid() bool {
	if v, ok := c.Conn.(driver.Validator); ok {
		return v.IsValid()
	}
	return true
}
