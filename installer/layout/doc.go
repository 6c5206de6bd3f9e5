// Package layout knows where an installed erpbridge keeps its files on each
// platform, and resolves paths the way that platform does. Every function
// takes the target GOOS explicitly, so Windows rules can be checked on Linux
// and the other way round; Host applies them to the running system.
package layout
