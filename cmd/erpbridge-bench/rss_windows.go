//go:build windows

package main

import "os"

// peakRSS is not measured on Windows (the figures in docs/benchmarks.md
// come from Linux).
func peakRSS(*os.ProcessState) int64 { return 0 }
