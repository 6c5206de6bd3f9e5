// Package bundle writes the zip `erpbridge support-bundle` makes: named
// texts, every one scrubbed of the secrets the configuration holds before
// it is written, and the tail of a log file.
package bundle

import (
	"archive/zip"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"time"
)

// Mask replaces a secret in a bundle's texts.
const Mask = "REDACTED"

// Writer writes a support bundle: a zip of texts.
type Writer struct {
	zw    *zip.Writer
	scrub *strings.Replacer
	now   time.Time
}

// New starts a bundle on w. Every text added is scrubbed of secrets (the
// values the configuration holds, config.SecretValues) in each form a
// text may show them: as they are and escaped as in a JSON string (a log
// line). Secrets shorter than 3 characters are not looked for (they would
// mask ordinary text).
func New(w io.Writer, secrets []string, now time.Time) *Writer {
	var forms []string
	add := func(s string) {
		if len(s) >= 3 && !slices.Contains(forms, s) {
			forms = append(forms, s)
		}
	}
	for _, s := range secrets {
		add(s)
		if j, err := json.Marshal(s); err == nil {
			add(string(j[1 : len(j)-1]))
		}
	}
	// Longest first: a secret is masked whole before a piece of it.
	slices.SortStableFunc(forms, func(a, b string) int { return len(b) - len(a) })
	pairs := make([]string, 0, 2*len(forms))
	for _, s := range forms {
		pairs = append(pairs, s, Mask)
	}
	return &Writer{zw: zip.NewWriter(w), scrub: strings.NewReplacer(pairs...), now: now}
}

// Add writes data, scrubbed, as the file name.
func (b *Writer) Add(name string, data []byte) error {
	f, err := b.zw.CreateHeader(&zip.FileHeader{Name: name, Method: zip.Deflate, Modified: b.now})
	if err != nil {
		return fmt.Errorf("adding %s to the bundle: %w", name, err)
	}
	if _, err := io.WriteString(f, b.scrub.Replace(string(data))); err != nil {
		return fmt.Errorf("adding %s to the bundle: %w", name, err)
	}
	return nil
}

// Close finishes the zip (the writer it was made on is the caller's).
func (b *Writer) Close() error {
	if err := b.zw.Close(); err != nil {
		return fmt.Errorf("finishing the bundle: %w", err)
	}
	return nil
}

// maxTail bounds what Tail reads of a file, whatever its lines.
const maxTail = 16 << 20

// Tail returns the last n lines of the file at path (at most its last
// 16 MiB).
func Tail(path string, n int) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("reading the log: %w", err)
	}
	defer f.Close()
	size, err := f.Seek(0, io.SeekEnd)
	if err != nil {
		return nil, fmt.Errorf("reading the log: %w", err)
	}
	from := max(size-maxTail, 0)
	data := make([]byte, size-from)
	if _, err := f.ReadAt(data, from); err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("reading the log: %w", err)
	}
	if from > 0 { // the first line is cut: drop it
		if i := bytes.IndexByte(data, '\n'); i >= 0 {
			data = data[i+1:]
		}
	}
	if n <= 0 || len(data) == 0 {
		return nil, nil
	}
	lines := bytes.SplitAfter(data, []byte("\n"))
	if len(lines[len(lines)-1]) == 0 {
		lines = lines[:len(lines)-1]
	}
	return bytes.Join(lines[max(len(lines)-n, 0):], nil), nil
}
