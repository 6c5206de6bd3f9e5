//go:build unix

package bundle

import (
	"bufio"
	"bytes"
	"os"
	"runtime"
	"strings"

	"golang.org/x/sys/unix"
)

// OS describes the operating system: the distribution (os-release) and
// the kernel (uname).
func OS() string {
	var parts []string
	if data, err := os.ReadFile("/etc/os-release"); err == nil {
		sc := bufio.NewScanner(bytes.NewReader(data))
		for sc.Scan() {
			if v, ok := strings.CutPrefix(sc.Text(), "PRETTY_NAME="); ok {
				parts = append(parts, strings.Trim(v, `"'`))
			}
		}
	}
	var u unix.Utsname
	if err := unix.Uname(&u); err == nil {
		parts = append(parts, unix.ByteSliceToString(u.Sysname[:])+" "+unix.ByteSliceToString(u.Release[:]))
	} else {
		parts = append(parts, runtime.GOOS)
	}
	return strings.Join(parts, ", ") + " (" + runtime.GOARCH + ")"
}
