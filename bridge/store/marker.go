package store

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// ErrStoreLost reports a store file that no longer holds what its data
// folder says it held: the marker beside it records a store that had
// synced, but the file is empty (its -wal file deleted, a failed restore)
// or is another store. Starting over silently would resend everything as
// if new; the error says what to do instead.
var ErrStoreLost = errors.New("checkpoint store lost its data")

// metaStoreID is the meta key of the store's identity, also in its marker.
const metaStoreID = "store_id"

// markerPath is the marker beside the store file: written (outside the
// database) once the store first records a cursor, so a store emptied
// behind erpbridge's back is noticed on the next open.
func markerPath(path string) string { return path + ".marker" }

// readMarker returns the store id the marker records; false when there is
// no marker.
func readMarker(path string) (string, bool, error) {
	f, err := os.Open(markerPath(path))
	if errors.Is(err, os.ErrNotExist) {
		return "", false, nil
	}
	if err != nil {
		return "", false, fmt.Errorf("reading checkpoint store marker: %w", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if id, ok := strings.CutPrefix(sc.Text(), metaStoreID+"="); ok {
			return strings.TrimSpace(id), true, nil
		}
	}
	if err := sc.Err(); err != nil {
		return "", false, fmt.Errorf("reading checkpoint store marker %s: %w", markerPath(path), err)
	}
	return "", true, nil // a marker without an id still says the store had data
}

// writeMarker writes the marker atomically (temporary file, fsync, rename).
func writeMarker(path, id string) error {
	dest := markerPath(path)
	tmp, err := os.CreateTemp(filepath.Dir(dest), filepath.Base(dest)+".tmp*")
	if err != nil {
		return fmt.Errorf("writing checkpoint store marker: %w", err)
	}
	text := "# erpbridge: the checkpoint store " + filepath.Base(path) + " beside this file has synced.\n" +
		"# Deleting the store but not this file makes erpbridge refuse to start over silently.\n" +
		metaStoreID + "=" + id + "\n"
	_, err = tmp.WriteString(text)
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), dest)
	}
	if err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("writing checkpoint store marker %s: %w", dest, err)
	}
	return nil
}

// checkIdentity gives a new (or pre-marker) store its id and compares an
// existing store with its marker. It runs after the schema is up to date.
func (s *Store) checkIdentity(ctx context.Context) error {
	id, hasID, err := s.Meta(ctx, metaStoreID)
	if err != nil {
		return err
	}
	marked, hasMarker, err := readMarker(s.path)
	if err != nil {
		return err
	}
	// Any trace of a sync: progress, identities, writes, runs.
	var synced bool
	if err := s.queryRow(ctx, `SELECT EXISTS (SELECT 1 FROM cursors) OR EXISTS (SELECT 1 FROM identities)
		OR EXISTS (SELECT 1 FROM outbox) OR EXISTS (SELECT 1 FROM runs) OR EXISTS (SELECT 1 FROM writebacks)`).Scan(&synced); err != nil {
		return fmt.Errorf("checking checkpoint store %s: %w", s.path, err)
	}
	lost := func(why string) error {
		return fmt.Errorf("%w: %s %s. Restore the store from a backup; or, to start over on purpose (every record is "+
			"looked up in the CRM again by its natural key, so nothing is duplicated, but the first run re-reads and "+
			"re-sends everything), delete %s and start again", ErrStoreLost, s.path, why, markerPath(s.path))
	}
	switch {
	case hasMarker && !synced:
		return lost("has no sync progress, but its marker says it had synced (was its -wal file deleted, or the file replaced?)")
	case hasMarker && hasID && marked != "" && marked != id:
		return lost(fmt.Sprintf("is store %s, but its marker names store %s (a file copied from another installation?)", id, marked))
	}
	if !hasID {
		var raw [8]byte
		if _, err := rand.Read(raw[:]); err != nil {
			return fmt.Errorf("naming checkpoint store: %w", err)
		}
		id = hex.EncodeToString(raw[:])
		if err := s.Update(ctx, func(tx *Tx) error { return tx.SetMeta(metaStoreID, id) }); err != nil {
			return err
		}
	}
	s.id = id
	if synced && (!hasMarker || marked != id) {
		// A store from before markers, or a marker deleted: mark it now.
		if err := writeMarker(s.path, id); err != nil {
			return err
		}
		s.marked.Store(true)
	}
	s.marked.Store(s.marked.Load() || hasMarker)
	return nil
}

// markOnce writes the marker the first time the store records a cursor.
func (s *Store) markOnce() error {
	if s.marked.Load() {
		return nil
	}
	if err := writeMarker(s.path, s.id); err != nil {
		return err
	}
	s.marked.Store(true)
	return nil
}

// readOnly wraps a write that failed because the file (or its folder) is
// read-only with the path and what to do.
func readOnly(path string, err error) error {
	var se *sqlite.Error
	if errors.As(err, &se) && se.Code()&0xff == sqlite3.SQLITE_READONLY {
		return fmt.Errorf("writing checkpoint store %s: it is read-only for this user; give the user erpbridge runs as "+
			"write access to the file and its folder (SQLite writes %s-wal and %s-shm beside it): %w", path, filepath.Base(path), filepath.Base(path), err)
	}
	return err
}
