//go:build unix

package logging

import (
	"fmt"
	"os"
	"syscall"
	"testing"
)

func TestJournalStreamIsTheServicesStderrOnly(t *testing.T) {
	f, err := os.CreateTemp(t.TempDir(), "stderr")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	other, err := os.CreateTemp(t.TempDir(), "other")
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	fi, err := f.Stat()
	if err != nil {
		t.Fatal(err)
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		t.Skip("no device and inode on this system")
	}
	t.Setenv("JOURNAL_STREAM", fmt.Sprintf("%d:%d", st.Dev, st.Ino))
	if !JournalStream(f) {
		t.Error("the file JOURNAL_STREAM names is not the journal")
	}
	if JournalStream(other) {
		t.Error("another file (stderr redirected by a child) is taken for the journal")
	}
	t.Setenv("JOURNAL_STREAM", "")
	if JournalStream(f) {
		t.Error("without JOURNAL_STREAM, a file is taken for the journal")
	}
}
