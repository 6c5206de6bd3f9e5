package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

const runCols = `id, stream, kind, started_at, finished_at, duration_ns, interrupted,
	read_n, created_n, updated_n, unchanged_n, skipped_n, failed_n, deleted_n, api_calls, err`

func scanRun(r scanner) (Run, error) {
	var run Run
	var started, finished, dur int64
	var interrupted bool
	st := &run.Stats
	err := r.Scan(&run.ID, &run.Stream, &run.Kind, &started, &finished, &dur, &interrupted,
		&st.Read, &st.Created, &st.Updated, &st.Unchanged, &st.Skipped, &st.Failed, &st.Deleted, &st.APICalls, &st.Err)
	run.StartedAt, run.FinishedAt, run.Duration = fromNanos(started), fromNanos(finished), time.Duration(dur)
	switch {
	case interrupted:
		run.Status = RunInterrupted
	case finished != 0 && st.Err != "":
		run.Status = RunFailed
	case finished != 0:
		run.Status = RunOK
	default:
		run.Status = RunRunning
	}
	return run, err
}

// StartRun records the start of a run of stream and returns its id. Any
// earlier unfinished run of the same stream is marked interrupted: the
// engine never runs one stream twice at once, so such a run was cut short.
func (s *Store) StartRun(ctx context.Context, stream string, kind RunKind) (int64, error) {
	var id int64
	err := s.Update(ctx, func(tx *Tx) error {
		if _, err := tx.exec(`UPDATE runs SET interrupted = 1 WHERE stream = ? AND finished_at = 0 AND interrupted = 0`, stream); err != nil {
			return err
		}
		res, err := tx.exec(`INSERT INTO runs (stream, kind, started_at) VALUES (?, ?, ?)`, stream, kind, tx.nowNanos())
		if err != nil {
			return err
		}
		id, err = res.LastInsertId()
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("starting run of %s: %w", stream, err)
	}
	return id, nil
}

// FinishRun records a run's counters and end; duration = now − start.
func (s *Store) FinishRun(ctx context.Context, runID int64, st RunStats) error {
	return s.endRun(ctx, runID, st, false)
}

// InterruptRun records the counters and end of a run cut short by a stop
// request (Ctrl-C, SIGTERM, a service stop or a reload): it reads as
// RunInterrupted, not as failed. The next run goes on from its cursor.
func (s *Store) InterruptRun(ctx context.Context, runID int64, st RunStats) error {
	return s.endRun(ctx, runID, st, true)
}

func (s *Store) endRun(ctx context.Context, runID int64, st RunStats, interrupted bool) error {
	err := s.Update(ctx, func(tx *Tx) error {
		now := tx.nowNanos()
		res, err := tx.exec(`UPDATE runs SET finished_at = ?, duration_ns = max(0, ? - started_at), interrupted = ?,
			read_n = ?, created_n = ?, updated_n = ?, unchanged_n = ?, skipped_n = ?, failed_n = ?, deleted_n = ?,
			api_calls = ?, err = ? WHERE id = ?`, now, now, interrupted,
			st.Read, st.Created, st.Updated, st.Unchanged, st.Skipped, st.Failed, st.Deleted, st.APICalls, st.Err, runID)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil || n == 0 {
			return errors.Join(err, fmt.Errorf("%w: id %d", ErrNoRun, runID))
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("finishing run %d: %w", runID, err)
	}
	return nil
}

// RecoverRuns marks every unfinished run interrupted and returns how many
// it marked. The engine calls it once at start-up, before starting runs:
// with one active instance per store, an unfinished run then can only be
// the leftover of a crash or a kill.
func (s *Store) RecoverRuns(ctx context.Context) (int64, error) {
	var n int64
	err := s.Update(ctx, func(tx *Tx) error {
		res, err := tx.exec(`UPDATE runs SET interrupted = 1 WHERE finished_at = 0 AND interrupted = 0`)
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("recovering interrupted runs: %w", err)
	}
	return n, nil
}

// LastRuns returns the newest runs of every stream, newest first; limit ≤ 0 means 50.
func (s *Store) LastRuns(ctx context.Context, limit int) ([]Run, error) {
	if limit <= 0 {
		limit = 50
	}
	rows, err := s.db.QueryContext(ctx, `SELECT `+runCols+` FROM runs ORDER BY id DESC LIMIT ?`, limit)
	return collect(rows, err, "reading last runs", scanRun)
}

// LastRun returns the newest run of stream; false if it never ran.
func (s *Store) LastRun(ctx context.Context, stream string) (Run, bool, error) {
	run, err := scanRun(s.db.QueryRowContext(ctx, `SELECT `+runCols+` FROM runs WHERE stream = ? ORDER BY id DESC LIMIT 1`, stream))
	if errors.Is(err, sql.ErrNoRows) {
		return Run{}, false, nil
	}
	if err != nil {
		return Run{}, false, fmt.Errorf("reading last run of %s: %w", stream, err)
	}
	return run, true, nil
}

// PruneRuns deletes finished or interrupted runs that started more than
// olderThan ago, keeping each stream's newest run, and returns how many it
// deleted.
func (s *Store) PruneRuns(ctx context.Context, olderThan time.Duration) (int64, error) {
	var n int64
	err := s.Update(ctx, func(tx *Tx) error {
		res, err := tx.exec(`DELETE FROM runs WHERE started_at < ? AND (finished_at <> 0 OR interrupted = 1)
			AND id NOT IN (SELECT max(id) FROM runs GROUP BY stream)`, toNanos(tx.now().Add(-olderThan)))
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("pruning runs: %w", err)
	}
	return n, nil
}
