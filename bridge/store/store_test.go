package store

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// testClock is a settable clock for WithNow.
type testClock struct {
	mu  sync.Mutex
	now time.Time
}

func newTestClock() *testClock {
	return &testClock{now: time.Date(2026, 3, 4, 10, 0, 0, 123456789, time.UTC)}
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *testClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

func openAt(t testing.TB, path string, clk *testClock) *Store {
	t.Helper()
	s, err := Open(context.Background(), path, WithNow(clk.Now))
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func openTest(t testing.TB) (*Store, *testClock) {
	t.Helper()
	clk := newTestClock()
	return openAt(t, filepath.Join(t.TempDir(), "state.db"), clk), clk
}

func update(t testing.TB, s *Store, fn func(tx *Tx) error) {
	t.Helper()
	if err := s.Update(context.Background(), fn); err != nil {
		t.Fatalf("Update: %v", err)
	}
}

func TestOpenCreatesMigratedWALFile(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "data dir #1", "50% ?nested", "state.db")
	s := openAt(t, path, newTestClock())
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("store file not created: %v", err)
	}
	var version int
	var mode string
	var fk bool
	if err := s.db.QueryRowContext(ctx, "PRAGMA user_version").Scan(&version); err != nil {
		t.Fatal(err)
	}
	if err := s.db.QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&mode); err != nil {
		t.Fatal(err)
	}
	if err := s.db.QueryRowContext(ctx, "PRAGMA foreign_keys").Scan(&fk); err != nil {
		t.Fatal(err)
	}
	if version != SchemaVersion() || mode != "wal" || !fk {
		t.Errorf("user_version=%d journal_mode=%s foreign_keys=%v; want %d wal true", version, mode, fk, SchemaVersion())
	}
	if s.Path() != path {
		t.Errorf("Path() = %q, want %q", s.Path(), path)
	}
}

func TestReopenKeepsData(t *testing.T) {
	ctx := context.Background()
	clk := newTestClock()
	path := filepath.Join(t.TempDir(), "state.db")
	s := openAt(t, path, clk)
	update(t, s, func(tx *Tx) error {
		if err := tx.SetCursor("customers", `{"stamp":"2026-03-04T09:59:00","recno":42}`); err != nil {
			return err
		}
		return tx.PutIdentity(Identity{Entity: "organization", ERPKey: "000123|01", CRMID: "crm-1", Fingerprint: "fp1", SyncedAt: clk.Now()})
	})
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	s2 := openAt(t, path, clk) // second Open also re-runs the (no-op) migrations
	c, ok, err := s2.Cursor(ctx, "customers")
	if err != nil || !ok || c.Position != `{"stamp":"2026-03-04T09:59:00","recno":42}` || !c.UpdatedAt.Equal(clk.Now()) {
		t.Errorf("Cursor after reopen = %+v, %v, %v", c, ok, err)
	}
	id, ok, err := s2.Identity(ctx, "organization", "000123|01")
	want := Identity{Entity: "organization", ERPKey: "000123|01", CRMID: "crm-1", Fingerprint: "fp1", SyncedAt: clk.Now()}
	if err != nil || !ok || id != want {
		t.Errorf("Identity after reopen = %+v, %v, %v; want %+v", id, ok, err, want)
	}
}

// makeStore creates a populated, closed store file and returns its path.
func makeStore(t *testing.T, identities int) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "state.db")
	s, err := Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	update(t, s, func(tx *Tx) error {
		for i := range identities {
			key := fmt.Sprintf("%06d|01", i)
			if err := tx.PutIdentity(Identity{Entity: "organization", ERPKey: key, CRMID: "crm-" + key,
				Fingerprint: strings.Repeat("f", 40)}); err != nil {
				return err
			}
		}
		return nil
	})
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}

func rawExec(t *testing.T, path, query string) {
	t.Helper()
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(query); err != nil {
		t.Fatal(err)
	}
}

func TestOpenRefusesBadFilesAndLeavesThemUntouched(t *testing.T) {
	tests := []struct {
		name     string
		make     func(t *testing.T) string
		sentinel error
		wantText []string
	}{
		{
			name: "newer schema version",
			make: func(t *testing.T) string {
				path := makeStore(t, 10)
				rawExec(t, path, "PRAGMA user_version = 99")
				return path
			},
			sentinel: ErrTooNew,
			wantText: []string{"schema version 99", fmt.Sprintf("knows up to %d", SchemaVersion()), "upgrade erpbridge or point data_dir elsewhere"},
		},
		{
			name: "another application's database",
			make: func(t *testing.T) string {
				path := filepath.Join(t.TempDir(), "state.db")
				rawExec(t, path, "CREATE TABLE invoices (id INTEGER PRIMARY KEY); PRAGMA user_version = 7")
				return path
			},
			sentinel: ErrNotStore,
			wantText: []string{"another application", "point data_dir elsewhere"},
		},
		{
			name: "garbage file",
			make: func(t *testing.T) string {
				path := filepath.Join(t.TempDir(), "state.db")
				if err := os.WriteFile(path, bytes.Repeat([]byte("not a database\n"), 500), 0o600); err != nil {
					t.Fatal(err)
				}
				return path
			},
			sentinel: ErrCorrupt,
			wantText: []string{"not a SQLite database", "restore a backup", "never resets it"},
		},
		{
			name: "empty file of a store that synced (its marker says so)",
			make: func(t *testing.T) string {
				path := filepath.Join(t.TempDir(), "state.db")
				if err := os.WriteFile(path, nil, 0o600); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(markerPath(path), []byte("store-id\n"), 0o600); err != nil {
					t.Fatal(err)
				}
				return path
			},
			sentinel: ErrCorrupt,
			wantText: []string{"empty", "move it aside"},
		},
		{
			name: "truncated file",
			make: func(t *testing.T) string {
				path := makeStore(t, 3000)
				fi, err := os.Stat(path)
				if err != nil {
					t.Fatal(err)
				}
				if err := os.Truncate(path, fi.Size()/2); err != nil {
					t.Fatal(err)
				}
				return path
			},
			sentinel: ErrCorrupt,
			wantText: []string{"restore a backup"},
		},
		{
			name: "overwritten pages",
			make: func(t *testing.T) string {
				path := makeStore(t, 3000)
				f, err := os.OpenFile(path, os.O_WRONLY, 0)
				if err != nil {
					t.Fatal(err)
				}
				defer f.Close()
				if _, err := f.WriteAt(bytes.Repeat([]byte{0xAB}, 3*4096), 2*4096); err != nil {
					t.Fatal(err)
				}
				return path
			},
			sentinel: ErrCorrupt,
			wantText: []string{"restore a backup"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := tt.make(t)
			before, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			s, err := Open(context.Background(), path)
			if err == nil {
				s.Close()
				t.Fatal("Open succeeded, want an error")
			}
			if !errors.Is(err, tt.sentinel) {
				t.Errorf("error %q does not wrap %v", err, tt.sentinel)
			}
			for _, want := range append(tt.wantText, path) {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q does not mention %q", err, want)
				}
			}
			after, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("file gone after failed Open: %v", err)
			}
			if !bytes.Equal(before, after) {
				t.Errorf("file changed by a failed Open (%d → %d bytes)", len(before), len(after))
			}
		})
	}
}

func TestOpenRefusesDirectory(t *testing.T) {
	dir := t.TempDir()
	_, err := Open(context.Background(), dir)
	if err == nil || !strings.Contains(err.Error(), "directory") {
		t.Fatalf("Open(dir) error = %v, want one saying it is a directory", err)
	}
}

func TestBackupIsOpenable(t *testing.T) {
	ctx := context.Background()
	s, clk := openTest(t)
	update(t, s, func(tx *Tx) error {
		return tx.PutIdentity(Identity{Entity: "product", ERPKey: "P1", CRMID: "c1"})
	})
	dest := filepath.Join(t.TempDir(), "backup.db")
	if err := s.Backup(ctx, dest); err != nil {
		t.Fatal(err)
	}
	if err := s.Backup(ctx, dest); err == nil {
		t.Error("second Backup to the same file succeeded, want an error")
	}
	b := openAt(t, dest, clk)
	if id, ok, err := b.Identity(ctx, "product", "P1"); err != nil || !ok || id.CRMID != "c1" {
		t.Errorf("backup Identity = %+v, %v, %v", id, ok, err)
	}
}

func TestOpenAfterCrashKeepsCommittedWrites(t *testing.T) {
	ctx := context.Background()
	clk := newTestClock()
	dir := t.TempDir()
	s := openAt(t, filepath.Join(dir, "state.db"), clk)
	update(t, s, func(tx *Tx) error { return tx.SetCursor("products", "p-7") })

	// Copy the database and its WAL while the store is open: the state a
	// crash leaves behind, with the last commit only in the WAL.
	crash := t.TempDir()
	for _, suffix := range []string{"", "-wal"} {
		b, err := os.ReadFile(filepath.Join(dir, "state.db"+suffix))
		if err != nil {
			t.Fatal(err)
		}
		if suffix == "-wal" && len(b) == 0 {
			t.Fatal("expected the commit to be in the WAL")
		}
		if err := os.WriteFile(filepath.Join(crash, "state.db"+suffix), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	s2 := openAt(t, filepath.Join(crash, "state.db"), clk)
	if c, ok, err := s2.Cursor(ctx, "products"); err != nil || !ok || c.Position != "p-7" {
		t.Errorf("Cursor after crash = %+v, %v, %v; want position p-7", c, ok, err)
	}
}

func TestUpdateReleasesTheWriteLock(t *testing.T) {
	ctx := context.Background()
	s, _ := openTest(t)
	func() {
		defer func() {
			if recover() == nil {
				t.Error("panic in fn was swallowed")
			}
		}()
		_ = s.Update(ctx, func(tx *Tx) error {
			if err := tx.SetCursor("customers", "half-done"); err != nil {
				return err
			}
			panic("bug in the engine")
		})
	}()
	if _, ok, _ := s.Cursor(ctx, "customers"); ok {
		t.Error("a panicking Update committed its writes")
	}

	// The lock is free again, and a cancelled context does not wait for it.
	update(t, s, func(tx *Tx) error { return tx.SetCursor("customers", "next") })
	release := make(chan struct{})
	held := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		_ = s.Update(ctx, func(tx *Tx) error { close(held); <-release; return nil })
	}()
	<-held
	cctx, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()
	if err := s.Update(cctx, func(tx *Tx) error { return nil }); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Update behind a held lock with an expiring context = %v, want DeadlineExceeded", err)
	}
	close(release)
	<-finished
}

func TestOpenItemsByKey(t *testing.T) {
	ctx := context.Background()
	s, err := Open(ctx, filepath.Join(t.TempDir(), "s.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	err = s.Update(ctx, func(tx *Tx) error {
		for _, k := range []string{"a", "b", "c"} {
			id, err := tx.Enqueue(OutboxItem{Stream: "customers", Entity: "organization", ERPKey: k, Op: OpCreate, Payload: []byte(`{}`)})
			if err != nil {
				return err
			}
			if k == "c" {
				if err := tx.MarkInflight(id); err != nil {
					return err
				}
				if err := tx.Complete(id, "crm-c", "fp"); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	got, err := s.OpenItemsByKey(ctx, "organization", []string{"a", "c", "zz"})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got["a"].ERPKey != "a" {
		t.Fatalf("open items = %v, want only a (c is done, zz unknown)", got)
	}
}
