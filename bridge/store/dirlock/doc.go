// Package dirlock keeps two erpbridge processes from syncing from the
// same data directory at once: both would send the same outbox items and
// could double a record. The lock is an OS file lock (flock on Unix,
// LockFileEx on Windows), so it is released when the process dies, even by
// a crash or a kill: there is never a stale lock to clean up by hand.
package dirlock
