// Package logging builds erpbridge's logger: readable text on the console
// (each line prefixed with its syslog priority when the console is the
// systemd journal), JSON lines in a rotated file, and optionally a system
// core (the Windows Event Log, installer/events). Secrets never reach it:
// the CRM client and the config redact tokens and passwords before anything
// is logged.
package logging
