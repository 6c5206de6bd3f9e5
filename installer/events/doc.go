// Package events carries erpbridge's lifecycle events, warnings and errors
// to the Windows Event Log (Application, source erpbridge): one event id per
// kind of message (Kinds, listed in docs/install.md), repeats of a message
// rate-limited so a burst of failing records cannot flood the log.
//
// It knows nothing of Windows: a Sink is what it writes to, and
// golang.org/x/sys/windows/svc/eventlog's *Log is one.
package events
