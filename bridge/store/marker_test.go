package store

import (
	"context"
	"database/sql"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// synced opens a store at path and records sync progress in it.
func synced(t *testing.T, path string) *Store {
	t.Helper()
	s, err := Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	update(t, s, func(tx *Tx) error { return tx.SetCursor("customers", `{"stamp":"2026-01-01"}`) })
	return s
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	in, err := os.Open(from)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	out, err := os.Create(to)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(out, in); err != nil {
		t.Fatal(err)
	}
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
}

// TestAStoreThatLostItsDataIsRefused: a store whose data vanished behind
// erpbridge's back (its -wal file deleted before a checkpoint, then the
// process killed; the file deleted alone) must not silently start over:
// Open fails naming the file and the marker, and says what to do.
func TestAStoreThatLostItsDataIsRefused(t *testing.T) {
	t.Run("wal deleted, then killed", func(t *testing.T) {
		dir := t.TempDir()
		path := filepath.Join(dir, "erpbridge.db")
		s := synced(t, path)
		// What is on disk if the -wal file goes and the process dies before
		// a checkpoint: the main file alone (everything else was in the WAL).
		lost := filepath.Join(t.TempDir(), "erpbridge.db")
		copyFile(t, path, lost)
		copyFile(t, markerPath(path), markerPath(lost))
		s.Close()
		_, err := Open(context.Background(), lost)
		if !errors.Is(err, ErrStoreLost) || !strings.Contains(err.Error(), lost) || !strings.Contains(err.Error(), markerPath(lost)) {
			t.Fatalf("Open = %v, want ErrStoreLost naming %s and its marker", err, lost)
		}
	})
	t.Run("file deleted, marker kept", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "erpbridge.db")
		synced(t, path).Close()
		for _, suffix := range []string{"", "-wal", "-shm"} {
			os.Remove(path + suffix)
		}
		if _, err := Open(context.Background(), path); !errors.Is(err, ErrStoreLost) {
			t.Fatalf("Open = %v, want ErrStoreLost", err)
		}
	})
	t.Run("another store's file", func(t *testing.T) {
		a, b := filepath.Join(t.TempDir(), "erpbridge.db"), filepath.Join(t.TempDir(), "erpbridge.db")
		synced(t, a).Close()
		synced(t, b).Close()
		copyFile(t, markerPath(b), markerPath(a))
		if _, err := Open(context.Background(), a); !errors.Is(err, ErrStoreLost) || !strings.Contains(err.Error(), "another installation") {
			t.Fatalf("Open = %v, want ErrStoreLost saying the file belongs to another store", err)
		}
	})
	t.Run("the whole folder deleted starts over", func(t *testing.T) {
		dir := t.TempDir()
		path := filepath.Join(dir, "data", "erpbridge.db")
		synced(t, path).Close()
		if err := os.RemoveAll(filepath.Dir(path)); err != nil {
			t.Fatal(err)
		}
		s, err := Open(context.Background(), path)
		if err != nil {
			t.Fatalf("Open of a fresh folder = %v, want a new store", err)
		}
		s.Close()
	})
	t.Run("a store from before markers gets one", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "erpbridge.db")
		synced(t, path).Close()
		os.Remove(markerPath(path))
		s, err := Open(context.Background(), path)
		if err != nil {
			t.Fatal(err)
		}
		s.Close()
		if _, ok, err := readMarker(path); err != nil || !ok {
			t.Fatalf("marker after reopening = %v, %v; want it written", ok, err)
		}
	})
	t.Run("a new store is not marked before it syncs", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "erpbridge.db")
		s, err := Open(context.Background(), path)
		if err != nil {
			t.Fatal(err)
		}
		s.Close()
		os.Remove(path) // a store that never synced may go
		s, err = Open(context.Background(), path)
		if err != nil {
			t.Fatalf("reopening a never-synced store after deleting it: %v", err)
		}
		s.Close()
	})
}

// TestAReadOnlyStoreNamesTheFile: a write refused because the file is
// read-only names the file and says what to do.
func TestAReadOnlyStoreNamesTheFile(t *testing.T) {
	t.Run("the error of a read-only database", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "erpbridge.db")
		synced(t, path).Close()
		db, err := sql.Open("sqlite", "file:"+path+"?mode=ro")
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		_, werr := db.Exec(`UPDATE cursors SET position = 'x'`)
		if werr == nil {
			t.Fatal("a write through a read-only connection succeeded")
		}
		err = readOnly(path, werr)
		if !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), "write access") || !errors.Is(err, werr) {
			t.Fatalf("readOnly = %v, want the path, what to do and the cause", err)
		}
	})
	t.Run("a store file made read-only", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "erpbridge.db")
		synced(t, path).Close()
		if os.Geteuid() == 0 {
			// root writes through permissions: make the file immutable instead.
			if out, err := exec.Command("chattr", "+i", path).CombinedOutput(); err != nil {
				t.Skipf("cannot make the file read-only for root here (chattr: %v %s)", err, out)
			}
			t.Cleanup(func() { _ = exec.Command("chattr", "-i", path).Run() })
		} else if err := os.Chmod(path, 0o444); err != nil {
			t.Fatal(err)
		}
		s, err := Open(context.Background(), path)
		if err == nil {
			err = s.Update(context.Background(), func(tx *Tx) error { return tx.SetCursor("customers", "y") })
			s.Close()
		}
		if err == nil || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), "read-only") {
			t.Fatalf("writing to a read-only store: %v, want an error naming %s and saying it is read-only", err, path)
		}
		t.Log(err)
	})
}

// TestAnEmptyFileLeftByAKillIsANewStore: a process killed while creating
// the store (before SQLite wrote its first page) leaves a 0-byte file and
// no marker; the next start opens it as the new store it was, instead of
// refusing it as corrupt on every start after.
func TestAnEmptyFileLeftByAKillIsANewStore(t *testing.T) {
	for _, wal := range []bool{false, true} {
		path := filepath.Join(t.TempDir(), "erpbridge.db")
		if err := os.WriteFile(path, nil, 0o600); err != nil {
			t.Fatal(err)
		}
		if wal {
			if err := os.WriteFile(path+"-wal", nil, 0o600); err != nil {
				t.Fatal(err)
			}
		}
		s, err := Open(context.Background(), path)
		if err != nil {
			t.Fatalf("Open of an empty file (empty -wal %v) = %v, want a new store", wal, err)
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
		if fi, err := os.Stat(path); err != nil || fi.Size() == 0 {
			t.Fatalf("the store file after opening: %v, %v", fi, err)
		}
	}
}
