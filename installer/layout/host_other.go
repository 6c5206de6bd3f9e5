//go:build !windows

package layout

import "os"

// hostGetenv reads the environment.
func hostGetenv(key string) string { return os.Getenv(key) }
