//go:build !windows

package main

import (
	"os"
	"os/signal"
	"syscall"
)

// reloadSignals delivers SIGHUP, the signal that makes `erpbridge run`
// re-read its configuration (systemd's ExecReload=kill -HUP $MAINPID). The
// returned function stops the delivery.
func reloadSignals() (<-chan os.Signal, func()) {
	ch := make(chan os.Signal, 1)
	signal.Notify(ch, syscall.SIGHUP)
	return ch, func() { signal.Stop(ch) }
}
