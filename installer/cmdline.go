package installer

import (
	"strings"
)

// ConfigFromCommandLine finds the --config value in the command line a
// service manager starts (a Windows ImagePath, a systemd ExecStart= value
// or a System V cmd= value). ok is false when there is none.
func ConfigFromCommandLine(goos, cmdline string) (configFile string, ok bool) {
	words := splitCommandLine(cmdline, goos != "windows")
	for i, w := range words {
		switch {
		case (w == "--config" || w == "-c") && i+1 < len(words):
			return words[i+1], true
		case strings.HasPrefix(w, "--config="):
			return strings.TrimPrefix(w, "--config="), true
		}
	}
	return "", false
}

// splitCommandLine splits on blanks outside double quotes. A backslash
// escapes a quote; with backslashEscapes (systemd) it also escapes itself,
// otherwise (Windows paths) it stays literal.
func splitCommandLine(s string, backslashEscapes bool) []string {
	var (
		words  []string
		cur    strings.Builder
		quoted bool
		inWord bool
	)
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '\\' && i+1 < len(s) && (s[i+1] == '"' || (backslashEscapes && s[i+1] == '\\')):
			cur.WriteByte(s[i+1])
			i++
			inWord = true
		case c == '"':
			quoted = !quoted
			inWord = true
		case (c == ' ' || c == '\t') && !quoted:
			if inWord {
				words = append(words, cur.String())
				cur.Reset()
				inWord = false
			}
		default:
			cur.WriteByte(c)
			inWord = true
		}
	}
	if inWord {
		words = append(words, cur.String())
	}
	return words
}

// commandLineInFile extracts the started command line from an installed
// unit (ExecStart=) or System V script (cmd="…").
func commandLineInFile(text string) (string, bool) {
	for _, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(line)
		if v, ok := strings.CutPrefix(line, "ExecStart="); ok {
			// undo systemdQuote's specifier and variable escapes
			return strings.NewReplacer("%%", "%", "$$", "$").Replace(v), true
		}
		if v, ok := strings.CutPrefix(line, "cmd="); ok {
			// kardianos writes cmd="/path "arg" "arg"": the inner quotes
			// only toggle shell quoting, so dropping them all is what the
			// shell does.
			return strings.ReplaceAll(v, `"`, ""), true
		}
	}
	return "", false
}
