// Command erpbridge-bench measures the bridge where it counts, against
// PostgreSQL and the CRM simulator, each bridge run in its own process:
//
//	(a) backfill: a full sync of N SA1 rows into an empty CRM — rows/s,
//	    API calls per created row, and the bridge process's peak RSS;
//	(b) a full pass over the same, now unchanged, rows — rows/s, API calls;
//	(c) an incremental poll after a few rows change — rows read, time,
//	    API calls.
//
// It creates a throwaway PostgreSQL database (dropped at the end), fills
// SA1010 with set-based SQL, starts the CRM as a separate process (so the
// bridge's RSS excludes it): `erpbridge sim --rpm -1` by default (rdsim
// indexes its unique names, so a create costs the same at any size), or with
// -crm sink this program's minimal stand-in, and runs
// `erpbridge sync --once` for each step, reading the peak RSS of every sync
// process from wait4's rusage. It prints a markdown table.
//
//	go run ./cmd/erpbridge-bench -pg 'postgres://postgres@127.0.0.1:55432/postgres?sslmode=disable'
//	go run ./cmd/erpbridge-bench -crm sink -rows 1000000 -pg …
package main
