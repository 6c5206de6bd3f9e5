package layout

import (
	"path"
	"runtime"
	"strings"
)

// Name is the service name, and the folder name used under the platform's
// configuration, data and log folders.
const Name = "erpbridge"

// ConfigFileName is the name of the configuration file in the config folder.
const ConfigFileName = "erpbridge.toml"

// LogFileName is the name of the JSON log file in the log folder.
const LogFileName = "erpbridge.log"

// Layout is where an installed erpbridge keeps its configuration, its data
// (checkpoint store and instance lock) and its logs.
type Layout struct {
	GOOS      string // the platform the paths are for
	ConfigDir string // holds ConfigFileName
	DataDir   string // default data_dir
	LogDir    string // holds LogFileName
}

// For returns the layout on goos; getenv reads the environment (Windows
// takes %ProgramData% from it).
//
//	windows: %ProgramData%\erpbridge\{erpbridge.toml, data, logs}
//	others:  /etc/erpbridge/erpbridge.toml, /var/lib/erpbridge, /var/log/erpbridge
func For(goos string, getenv func(string) string) Layout {
	if goos == "windows" {
		root := getenv("ProgramData")
		if root == "" || !IsAbs(goos, root) {
			root = `C:\ProgramData`
		}
		base := Join(goos, root, Name)
		return Layout{GOOS: goos, ConfigDir: base, DataDir: Join(goos, base, "data"), LogDir: Join(goos, base, "logs")}
	}
	return Layout{
		GOOS:      goos,
		ConfigDir: "/etc/" + Name,
		DataDir:   "/var/lib/" + Name,
		LogDir:    "/var/log/" + Name,
	}
}

// Host returns the layout of the running system.
func Host() Layout { return For(runtime.GOOS, hostGetenv) }

// ConfigFile is the default configuration file.
func (l Layout) ConfigFile() string { return Join(l.GOOS, l.ConfigDir, ConfigFileName) }

// LogFile is the default JSON log file.
func (l Layout) LogFile() string { return Join(l.GOOS, l.LogDir, LogFileName) }

// InConfigDir reports whether file sits directly in the layout's config
// folder (compared without case on Windows).
func (l Layout) InConfigDir(file string) bool {
	return SamePath(l.GOOS, Dir(l.GOOS, Clean(l.GOOS, file)), l.ConfigDir)
}

// IsAbs reports whether p is absolute on goos. On Windows that means a drive
// letter followed by a separator (C:\x) or a UNC path (\\server\share).
func IsAbs(goos, p string) bool {
	if goos != "windows" {
		return strings.HasPrefix(p, "/")
	}
	if len(p) >= 3 && isLetter(p[0]) && p[1] == ':' && isWinSep(p[2]) {
		return true
	}
	return len(p) >= 2 && isWinSep(p[0]) && isWinSep(p[1])
}

// Join joins path elements with goos's separator and cleans the result.
func Join(goos string, elem ...string) string {
	var parts []string
	for _, e := range elem {
		if e != "" {
			parts = append(parts, e)
		}
	}
	if len(parts) == 0 {
		return ""
	}
	return Clean(goos, strings.Join(parts, sep(goos)))
}

// Resolve returns p unchanged when it is absolute on goos, else joined to
// base. An empty p stays empty.
func Resolve(goos, base, p string) string {
	if p == "" {
		return ""
	}
	if IsAbs(goos, p) {
		return Clean(goos, p)
	}
	return Join(goos, base, p)
}

// Dir returns all but the last element of p, like filepath.Dir on goos.
func Dir(goos, p string) string {
	p = Clean(goos, p)
	vol, rest := splitVolume(goos, p)
	if goos == "windows" {
		rest = strings.ReplaceAll(rest, `\`, "/")
	}
	d := path.Dir(rest)
	if goos == "windows" {
		d = strings.ReplaceAll(d, "/", `\`)
	}
	return vol + d
}

// Clean is filepath.Clean for goos: on Windows both separators are accepted
// and the result uses backslashes.
func Clean(goos, p string) string {
	if p == "" {
		return ""
	}
	if goos != "windows" {
		return path.Clean(p)
	}
	vol, rest := splitVolume(goos, p)
	rest = strings.ReplaceAll(rest, `\`, "/")
	if rest == "" {
		return vol
	}
	return vol + strings.ReplaceAll(path.Clean(rest), "/", `\`)
}

// SamePath reports whether a and b name the same path on goos (Windows
// paths compare without case).
func SamePath(goos, a, b string) bool {
	a, b = Clean(goos, a), Clean(goos, b)
	if goos == "windows" {
		return strings.EqualFold(a, b)
	}
	return a == b
}

// Within reports whether p is dir or lies below it on goos.
func Within(goos, p, dir string) bool {
	p, dir = Clean(goos, p), Clean(goos, dir)
	if SamePath(goos, p, dir) {
		return true
	}
	prefix := strings.TrimSuffix(dir, sep(goos)) + sep(goos)
	if goos == "windows" {
		return len(p) > len(prefix) && strings.EqualFold(p[:len(prefix)], prefix)
	}
	return strings.HasPrefix(p, prefix)
}

// splitVolume splits a Windows path into its volume (C: or \\server\share)
// and the rest. Other platforms have no volume.
func splitVolume(goos, p string) (vol, rest string) {
	if goos != "windows" {
		return "", p
	}
	if len(p) >= 2 && isLetter(p[0]) && p[1] == ':' {
		return strings.ToUpper(p[:1]) + ":", p[2:]
	}
	if len(p) >= 2 && isWinSep(p[0]) && isWinSep(p[1]) {
		// \\server\share\rest
		parts := strings.FieldsFunc(p[2:], func(r rune) bool { return r == '\\' || r == '/' })
		if len(parts) >= 2 {
			vol = `\\` + parts[0] + `\` + parts[1]
			return vol, `\` + strings.Join(parts[2:], `\`)
		}
		return `\\` + strings.Join(parts, `\`), ""
	}
	return "", p
}

func sep(goos string) string {
	if goos == "windows" {
		return `\`
	}
	return "/"
}

func isWinSep(c byte) bool { return c == '\\' || c == '/' }

func isLetter(c byte) bool { return ('a' <= c && c <= 'z') || ('A' <= c && c <= 'Z') }
