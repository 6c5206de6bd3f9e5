package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"time"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// Store is an open checkpoint store. It is safe for concurrent use.
type Store struct {
	db   *sql.DB
	path string
	now  func() time.Time
	// wlock serialises write transactions in this process (SQLite has one
	// writer); a channel so waiting honours ctx.
	wlock chan struct{}
	// stmts are the prepared statements shared by reads and transactions.
	stmts stmtCache
	// id is the store's identity (meta store_id); marked is set once its
	// marker exists beside the file (see marker.go).
	id     string
	marked atomic.Bool
}

type options struct {
	now         func() time.Time
	syncFull    bool
	busyTimeout time.Duration
	maxConns    int
}

// Option configures Open.
type Option func(*options)

// WithNow sets the clock used for every timestamp the store writes (tests).
func WithNow(now func() time.Time) Option { return func(o *options) { o.now = now } }

// WithSynchronousFull makes every commit durable across power loss
// (synchronous=FULL) at the cost of an fsync per transaction.
func WithSynchronousFull() Option { return func(o *options) { o.syncFull = true } }

// WithBusyTimeout sets how long a statement waits for another process's
// lock before failing (default 10s).
func WithBusyTimeout(d time.Duration) Option { return func(o *options) { o.busyTimeout = d } }

// sqliteHeader starts every SQLite 3 database file.
const sqliteHeader = "SQLite format 3\x00"

// applicationID marks a SQLite file as an erpbridge store ("ERBS").
const applicationID = 0x45524253

// whatToDoCorrupt is appended to every ErrCorrupt message.
const whatToDoCorrupt = "restore a backup, or move it aside to rebuild the identity map by natural-key adoption; erpbridge never resets it itself"

// Open opens the store at path, creating the file and its directory if
// missing, and brings the schema up to date. An existing file is checked
// first, without writing to it: a file that is not a SQLite database or
// fails PRAGMA quick_check yields an error wrapping ErrCorrupt; one whose
// schema is newer than SchemaVersion yields ErrTooNew. Both name the path
// and what to do, and leave the file untouched.
func Open(ctx context.Context, path string, opts ...Option) (*Store, error) {
	o := options{now: time.Now, busyTimeout: 10 * time.Second, maxConns: 4}
	for _, opt := range opts {
		opt(&o)
	}
	if path == "" {
		return nil, errors.New("opening checkpoint store: empty path")
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("opening checkpoint store %s: %w", path, err)
	}
	exists, err := inspectFile(abs)
	if err != nil {
		return nil, err
	}
	if exists {
		if err := checkExisting(ctx, abs, o.busyTimeout); err != nil {
			return nil, err
		}
	} else if err := os.MkdirAll(filepath.Dir(abs), 0o750); err != nil {
		return nil, fmt.Errorf("creating checkpoint store directory: %w", err)
	}

	sync := "NORMAL"
	if o.syncFull {
		sync = "FULL"
	}
	q := url.Values{}
	q.Add("_pragma", fmt.Sprintf("busy_timeout(%d)", o.busyTimeout.Milliseconds()))
	q.Add("_pragma", "foreign_keys(1)")
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "synchronous("+sync+")")
	q.Set("_txlock", "immediate") // writers take the lock at BEGIN: no deadlocked upgrades
	db, err := sql.Open("sqlite", fileURI(abs, q))
	if err != nil {
		return nil, fmt.Errorf("opening checkpoint store %s: %w", abs, err)
	}
	db.SetMaxOpenConns(o.maxConns)
	db.SetMaxIdleConns(o.maxConns)
	s := &Store{db: db, path: abs, now: o.now, wlock: make(chan struct{}, 1)}
	if err := s.init(ctx); err != nil {
		db.Close()
		return nil, err
	}
	return s, nil
}

func (s *Store) init(ctx context.Context) error {
	var mode string
	if err := s.db.QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&mode); err != nil {
		return checkErr("opening", s.path, err)
	}
	if !strings.EqualFold(mode, "wal") {
		return fmt.Errorf("opening checkpoint store %s: journal mode is %q, not WAL (is data_dir on a network share? use a local disk)", s.path, mode)
	}
	if err := s.lockWrite(ctx); err != nil {
		return err
	}
	err := migrate(ctx, s.db, s.path)
	s.unlockWrite()
	if err != nil {
		return err
	}
	if _, _, err := s.stmts.get(ctx, s.db, identitiesQuery); err != nil {
		return fmt.Errorf("preparing identity lookup: %w", err)
	}
	return s.checkIdentity(ctx)
}

// Close closes the store. Pending reads fail; call it after the engine stops.
func (s *Store) Close() error {
	s.stmts.close()
	return s.db.Close()
}

// Path is the absolute path of the store file.
func (s *Store) Path() string { return s.path }

// Backup writes a consistent copy of the store to dest (which must not
// exist) while the store stays in use.
func (s *Store) Backup(ctx context.Context, dest string) error {
	if _, err := os.Stat(dest); err == nil {
		return fmt.Errorf("backing up checkpoint store: %s already exists", dest)
	}
	if _, err := s.db.ExecContext(ctx, "VACUUM INTO ?", dest); err != nil {
		return fmt.Errorf("backing up checkpoint store to %s: %w", dest, err)
	}
	return nil
}

func (s *Store) lockWrite(ctx context.Context) error {
	select {
	case s.wlock <- struct{}{}:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("waiting for the store's write lock: %w", ctx.Err())
	}
}

func (s *Store) unlockWrite() { <-s.wlock }

// inspectFile reports whether path exists and, if it does, checks by plain
// reads that it looks like a SQLite database.
func inspectFile(path string) (bool, error) {
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("opening checkpoint store %s: %w", path, err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return false, fmt.Errorf("opening checkpoint store %s: %w", path, err)
	}
	if fi.IsDir() {
		return false, fmt.Errorf("opening checkpoint store %s: it is a directory, not a file", path)
	}
	if fi.Size() == 0 {
		// A process killed while creating the store, before SQLite wrote
		// its first page, leaves an empty file and nothing else: with no
		// marker (nothing was ever synced) and no -wal holding pages, it is
		// a new store. With a marker, or a -wal SQLite would need, an empty
		// file means lost data (a full disk, a failed copy): say so.
		_, marked, err := readMarker(path)
		if err != nil {
			return false, err
		}
		wal, werr := os.Stat(path + "-wal")
		if !marked && (errors.Is(werr, os.ErrNotExist) || werr == nil && wal.Size() == 0) {
			return false, nil
		}
		return false, corrupt(path, errors.New("the file is empty (0 bytes)"))
	}
	head := make([]byte, len(sqliteHeader))
	if _, err := io.ReadFull(f, head); err != nil || string(head) != sqliteHeader {
		return false, corrupt(path, errors.New("the file is not a SQLite database"))
	}
	return true, nil
}

// checkExisting opens path read-only (so nothing, not even a WAL
// checkpoint, writes to it) and checks its schema version and integrity.
func checkExisting(ctx context.Context, path string, busy time.Duration) error {
	q := url.Values{}
	q.Set("mode", "ro")
	q.Add("_pragma", fmt.Sprintf("busy_timeout(%d)", busy.Milliseconds()))
	db, err := sql.Open("sqlite", fileURI(path, q))
	if err != nil {
		return fmt.Errorf("opening checkpoint store %s: %w", path, err)
	}
	defer db.Close()
	db.SetMaxOpenConns(1)

	var version int
	if err := db.QueryRowContext(ctx, "PRAGMA user_version").Scan(&version); err != nil {
		return checkErr("checking", path, err)
	}
	var appID, objects int
	if err := db.QueryRowContext(ctx, "SELECT (SELECT application_id FROM pragma_application_id), (SELECT count(*) FROM sqlite_schema)").
		Scan(&appID, &objects); err != nil {
		return checkErr("checking", path, err)
	}
	if appID != applicationID && (appID != 0 || objects > 0) {
		return fmt.Errorf("%w: %s holds another application's data; point data_dir elsewhere", ErrNotStore, path)
	}
	if version > len(migrations) {
		return tooNew(path, version)
	}
	rows, err := db.QueryContext(ctx, "PRAGMA quick_check(5)")
	if err != nil {
		return checkErr("checking", path, err)
	}
	defer rows.Close()
	var problems []string
	for rows.Next() {
		var line string
		if err := rows.Scan(&line); err != nil {
			return checkErr("checking", path, err)
		}
		for _, l := range strings.Split(line, "\n") {
			if l = strings.TrimSpace(l); l != "ok" && l != "" && !strings.HasPrefix(l, "***") {
				problems = append(problems, l)
			}
		}
	}
	if err := rows.Err(); err != nil {
		return checkErr("checking", path, err)
	}
	if len(problems) > 0 {
		return corrupt(path, fmt.Errorf("integrity check failed: %s", strings.Join(problems, "; ")))
	}
	return nil
}

// checkErr turns SQLite's "not a database" and "malformed" errors into
// ErrCorrupt; other errors (locked, permission denied) are wrapped as they
// are: they say nothing about the file's contents.
func checkErr(doing, path string, err error) error {
	var se *sqlite.Error
	if errors.As(err, &se) {
		switch se.Code() & 0xff {
		case sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_NOTADB:
			return corrupt(path, err)
		}
	}
	return fmt.Errorf("%s checkpoint store %s: %w", doing, path, err)
}

func corrupt(path string, cause error) error {
	return fmt.Errorf("%w: %s: %w; %s", ErrCorrupt, path, cause, whatToDoCorrupt)
}

func tooNew(path string, version int) error {
	return fmt.Errorf("%w: %s has schema version %d, this erpbridge knows up to %d; upgrade erpbridge or point data_dir elsewhere",
		ErrTooNew, path, version, len(migrations))
}

// fileURI builds a SQLite URI filename for an absolute path, escaping
// characters ('?', '#', '%', spaces) that would otherwise end the path.
func fileURI(abs string, q url.Values) string {
	p := filepath.ToSlash(abs)
	if !strings.HasPrefix(p, "/") { // Windows: C:/x → /C:/x
		p = "/" + p
	}
	u := url.URL{Scheme: "file", Path: p, RawQuery: q.Encode()}
	return u.String()
}
