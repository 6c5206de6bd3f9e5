package store

import (
	"context"
	"database/sql"
	"sync"
)

// maxCachedStmts bounds the statement cache. The store's statements are
// constants or built from a filter's few shapes, so the bound is never
// reached in practice; past it, statements are prepared per use.
const maxCachedStmts = 128

// stmtCache holds statements prepared once on the store's pool and reused
// by every query and transaction: SQLite parses each statement once per
// connection instead of once per call (parsing was a third of the cost of a
// write).
type stmtCache struct {
	mu sync.Mutex
	m  map[string]*sql.Stmt
}

// get returns the cached statement for query, preparing it on first use.
// cached is false when the cache is full: the caller must close st.
func (c *stmtCache) get(ctx context.Context, db *sql.DB, query string) (st *sql.Stmt, cached bool, err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if st, ok := c.m[query]; ok {
		return st, true, nil
	}
	st, err = db.PrepareContext(ctx, query)
	if err != nil {
		return nil, false, err
	}
	if len(c.m) >= maxCachedStmts {
		return st, false, nil
	}
	if c.m == nil {
		c.m = map[string]*sql.Stmt{}
	}
	c.m[query] = st
	return st, true, nil
}

// close closes every cached statement.
func (c *stmtCache) close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, st := range c.m {
		st.Close()
	}
	c.m = nil
}

// query runs a read through the statement cache.
func (s *Store) query(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	st, cached, err := s.stmts.get(ctx, s.db, query)
	if err != nil {
		return nil, err
	}
	if !cached {
		// Rows keep working after their statement is closed only in some
		// drivers: run this rare one without a prepared statement.
		st.Close()
		return s.db.QueryContext(ctx, query, args...)
	}
	return st.QueryContext(ctx, args...)
}

// queryRow runs a one-row read through the statement cache.
func (s *Store) queryRow(ctx context.Context, query string, args ...any) *sql.Row {
	st, cached, err := s.stmts.get(ctx, s.db, query)
	if err != nil || !cached {
		if st != nil {
			st.Close()
		}
		return s.db.QueryRowContext(ctx, query, args...)
	}
	return st.QueryRowContext(ctx, args...)
}
