package main

import "os"

// reloadSignals delivers nothing on Windows: there is no SIGHUP, and
// `erpbridge service restart` applies a changed configuration.
func reloadSignals() (<-chan os.Signal, func()) { return nil, func() {} }
