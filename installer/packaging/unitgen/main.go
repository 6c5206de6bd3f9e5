// Command unitgen prints the systemd unit the .deb and .rpm ship
// (packaging.LinuxUnit). build.sh runs it as
//
//	go run ./installer/packaging/unitgen > dist/erpbridge.service
package main

import (
	"fmt"
	"os"

	"github.com/erpbridge/erpbridge/installer/packaging"
)

func main() {
	unit, err := packaging.LinuxUnit()
	if err != nil {
		fmt.Fprintln(os.Stderr, "unitgen:", err)
		os.Exit(1)
	}
	if _, err := fmt.Print(unit); err != nil {
		fmt.Fprintln(os.Stderr, "unitgen: writing the unit:", err)
		os.Exit(1)
	}
}
