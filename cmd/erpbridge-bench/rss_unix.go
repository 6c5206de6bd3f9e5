//go:build !windows

package main

import (
	"os"
	"syscall"
)

// peakRSS is the finished child's peak resident set size in bytes.
func peakRSS(ps *os.ProcessState) int64 {
	if ru, ok := ps.SysUsage().(*syscall.Rusage); ok && ru != nil {
		return ru.Maxrss * 1024 // kilobytes on Linux
	}
	return 0
}
