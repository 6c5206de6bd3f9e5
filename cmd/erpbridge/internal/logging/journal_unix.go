//go:build unix

package logging

import (
	"fmt"
	"os"
	"syscall"
)

// JournalStream reports whether f is the systemd journal stream of this
// service: $JOURNAL_STREAM names its device and inode (systemd.exec(5)),
// and a process started from the service with its stderr redirected must
// not prefix that file.
func JournalStream(f *os.File) bool {
	want := os.Getenv("JOURNAL_STREAM")
	if want == "" || f == nil {
		return false
	}
	fi, err := f.Stat()
	if err != nil {
		return false
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return false
	}
	return want == fmt.Sprintf("%d:%d", st.Dev, st.Ino)
}
