package bundle

import (
	"archive/zip"
	"bytes"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestWriterScrubs: every file of the zip has each secret masked, as
// written and as a JSON log line escapes it, a longer secret whole before
// a shorter one it holds; short values and other text stay.
func TestWriterScrubs(t *testing.T) {
	var zipped bytes.Buffer
	b := New(&zipped, []string{"pa\"ss\\word-7f", "tok-9c21", "tok-9c21-long", "ab"}, time.Date(2026, 12, 8, 0, 0, 0, 0, time.UTC))
	for name, text := range map[string]string{
		"plain.txt": `token tok-9c21-long and tok-9c21, password pa"ss\word-7f, ab stays`,
		"log.json":  `{"msg":"connecting","dsn":"postgres://u:pa\"ss\\word-7f@db"}` + "\n",
	} {
		if err := b.Add(name, []byte(text)); err != nil {
			t.Fatal(err)
		}
	}
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	got := unzip(t, zipped.Bytes())
	want := map[string]string{
		"plain.txt": `token REDACTED and REDACTED, password REDACTED, ab stays`,
		"log.json":  `{"msg":"connecting","dsn":"postgres://u:REDACTED@db"}` + "\n",
	}
	for name, w := range want {
		if got[name] != w {
			t.Errorf("%s = %q, want %q", name, got[name], w)
		}
	}
}

// TestTail: the last n lines of a file, whether or not it ends in a
// newline, all of it when it has fewer.
func TestTail(t *testing.T) {
	dir := t.TempDir()
	for _, c := range []struct {
		text string
		n    int
		want string
	}{
		{"a\nb\nc\n", 2, "b\nc\n"},
		{"a\nb\nc", 2, "b\nc"},
		{"a\nb\n", 5, "a\nb\n"},
		{"", 3, ""},
		{"a\n", 0, ""},
	} {
		path := filepath.Join(dir, "log")
		if err := os.WriteFile(path, []byte(c.text), 0o600); err != nil {
			t.Fatal(err)
		}
		got, err := Tail(path, c.n)
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != c.want {
			t.Errorf("Tail(%q, %d) = %q, want %q", c.text, c.n, got, c.want)
		}
	}
	if _, err := Tail(filepath.Join(dir, "none"), 1); err == nil || !strings.Contains(err.Error(), "reading the log") {
		t.Errorf("Tail of a missing file: %v", err)
	}
}

// unzip returns the files of a zip by name.
func unzip(t *testing.T, data []byte) map[string]string {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, f := range zr.File {
		r, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(r)
		r.Close()
		if err != nil {
			t.Fatal(err)
		}
		out[f.Name] = string(b)
	}
	return out
}
