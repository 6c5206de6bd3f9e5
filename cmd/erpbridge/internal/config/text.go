package config

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/pelletier/go-toml/v2/unstable"
)

// utf8BOM is what Notepad and PowerShell 5 put at the start of a file they
// save as UTF-8.
var utf8BOM = []byte{0xEF, 0xBB, 0xBF}

// configText returns the TOML text of a config file: UTF-8, without the
// byte order mark Windows editors write. A UTF-16 file (Notepad's
// "Unicode", PowerShell 5's Out-File and >) or other text that is not UTF-8
// is refused with a message that says to save it as UTF-8.
func configText(data []byte) ([]byte, error) {
	data = bytes.TrimPrefix(data, utf8BOM)
	if bytes.HasPrefix(data, []byte{0xFF, 0xFE}) || bytes.HasPrefix(data, []byte{0xFE, 0xFF}) || looksUTF16(data) {
		return nil, errors.New("the file is UTF-16 (Notepad's \"Unicode\", or PowerShell 5's Out-File and >): " + saveAsUTF8)
	}
	if !utf8.Valid(data) {
		line := 1 + bytes.Count(data[:invalidUTF8At(data)], []byte("\n"))
		return nil, fmt.Errorf("line %d: the file is not UTF-8 (an ANSI/Windows-1252 character?): %s", line, saveAsUTF8)
	}
	return data, nil
}

const saveAsUTF8 = "save it as UTF-8 (Notepad: File → Save As → Encoding: UTF-8; PowerShell: Set-Content -Encoding utf8)"

// looksUTF16 reports UTF-16 text without a byte order mark: TOML text has
// no NUL byte, and ASCII in UTF-16 has one in every other position.
func looksUTF16(data []byte) bool {
	return bytes.IndexByte(data[:min(len(data), 64)], 0) >= 0
}

// invalidUTF8At returns the offset of the first byte that is not UTF-8.
func invalidUTF8At(data []byte) int {
	for i := 0; i < len(data); {
		r, n := utf8.DecodeRune(data[i:])
		if r == utf8.RuneError && n <= 1 {
			return i
		}
		i += n
	}
	return len(data)
}

// keyLines maps every dotted key the TOML text sets, and every table it
// opens, to its line ("crm.token" → 12, "streams.orders.stages.open" → 40),
// read with go-toml's parser so dotted keys, quoted keys and inline tables
// count. Text that does not parse maps what comes before the error.
func keyLines(data []byte) map[string]int {
	lines := map[string]int{}
	var p unstable.Parser
	p.Reset(data)
	lineOf := func(n *unstable.Node) int { return p.Shape(n.Raw).Start.Line }
	var keyValue func(prefix []string, kv *unstable.Node)
	keyValue = func(prefix []string, kv *unstable.Node) {
		key, first := keyParts(prefix, kv)
		if first == nil {
			return
		}
		lines[strings.Join(key, ".")] = lineOf(first)
		if v := kv.Value(); v != nil && v.Kind == unstable.InlineTable {
			for it := v.Children(); it.Next(); {
				if n := it.Node(); n.Kind == unstable.KeyValue {
					keyValue(key, n)
				}
			}
		}
	}
	var table []string
	for p.NextExpression() {
		e := p.Expression()
		switch e.Kind {
		case unstable.Table, unstable.ArrayTable:
			var first *unstable.Node
			if table, first = keyParts(nil, e); first != nil {
				lines[strings.Join(table, ".")] = lineOf(first)
			}
		case unstable.KeyValue:
			keyValue(table, e)
		}
	}
	return lines
}

// keyParts returns prefix followed by the parts of n's key, and the node of
// its first part (nil for a node without a key).
func keyParts(prefix []string, n *unstable.Node) ([]string, *unstable.Node) {
	key := append([]string(nil), prefix...)
	var first *unstable.Node
	for it := n.Key(); it.Next(); {
		if first == nil {
			first = it.Node()
		}
		key = append(key, string(it.Node().Data))
	}
	return key, first
}

// at returns "line N: " for a dotted key the file sets, "" otherwise.
func at(lines map[string]int, key string) string {
	if n := lines[key]; n > 0 {
		return fmt.Sprintf("line %d: ", n)
	}
	return ""
}
