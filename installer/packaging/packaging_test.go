package packaging

import (
	"encoding/xml"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/erpbridge/erpbridge/installer"
	"github.com/erpbridge/erpbridge/installer/layout"
)

// These tests read the packaging sources as text: they need neither wixl nor
// nfpm, and fail when the MSI, the .deb/.rpm and `erpbridge service install`
// would disagree about the service name, its command line or its files.

func readFile(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// unitValue returns the values of key in a unit.
func unitValue(unit, key string) []string {
	var out []string
	for _, line := range strings.Split(unit, "\n") {
		if v, ok := strings.CutPrefix(line, key+"="); ok {
			out = append(out, v)
		}
	}
	return out
}

func TestLinuxUnitRunsThePackagedBinaryWithThePackagedConfig(t *testing.T) {
	unit, err := LinuxUnit()
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"ExecStart":      "/usr/bin/erpbridge service run --config /etc/erpbridge/erpbridge.toml",
		"User":           "erpbridge",
		"ReadWritePaths": "/var/lib/erpbridge /var/log/erpbridge",
		"Restart":        "on-failure",
	}
	for k, v := range want {
		if got := unitValue(unit, k); len(got) != 1 || got[0] != v {
			t.Errorf("%s = %q, want %q", k, got, v)
		}
	}
}

// nfpmEntry is one item of nfpm.yaml's contents list.
type nfpmEntry struct{ src, dst, typ, packager string }

// nfpmContents reads the contents list of nfpm.yaml: items start with
// "  - key: value", their other keys follow indented.
func nfpmContents(t *testing.T, text string) []nfpmEntry {
	t.Helper()
	var (
		out []nfpmEntry
		in  bool
	)
	for _, line := range strings.Split(text, "\n") {
		trimmed := strings.TrimSpace(line)
		if trimmed == "" || strings.HasPrefix(trimmed, "#") {
			continue
		}
		if !strings.HasPrefix(line, " ") {
			in = line == "contents:"
			continue
		}
		if !in {
			continue
		}
		if rest, ok := strings.CutPrefix(trimmed, "- "); ok {
			out = append(out, nfpmEntry{})
			trimmed = rest
		}
		if len(out) == 0 {
			t.Fatalf("nfpm.yaml: %q before the first contents item", line)
		}
		k, v, _ := strings.Cut(trimmed, ":")
		v = strings.TrimSpace(v)
		e := &out[len(out)-1]
		switch k {
		case "src":
			e.src = v
		case "dst":
			e.dst = v
		case "type":
			e.typ = v
		case "packager":
			e.packager = v
		}
	}
	return out
}

// topLevel returns the value of a top-level "key: value" line of nfpm.yaml.
func topLevel(text, key string) string {
	for _, line := range strings.Split(text, "\n") {
		if v, ok := strings.CutPrefix(line, key+":"); ok {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

func TestNFPMPackagesWhatTheUnitRuns(t *testing.T) {
	text := readFile(t, "nfpm.yaml")
	spec := LinuxSpec()
	if got := topLevel(text, "name"); got != layout.Name {
		t.Errorf("package name %q, want %q", got, layout.Name)
	}
	entries := nfpmContents(t, text)
	unitName := layout.Name + ".service"
	tests := []struct {
		name                     string
		dst, src, typ, packagers string
	}{
		{"the binary ExecStart runs", spec.Executable, "dist/erpbridge_linux_${GOARCH}/erpbridge", "", ""},
		{"the unit, Debian", "/lib/systemd/system/" + unitName, "dist/" + unitName, "", "deb"},
		{"the unit, Red Hat", "/usr/lib/systemd/system/" + unitName, "dist/" + unitName, "", "rpm"},
		{"the config --config names, a conffile: the template", spec.ConfigFile, "installer/packaging/erpbridge.toml", "config|noreplace", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var found []nfpmEntry
			for _, e := range entries {
				if e.dst == tt.dst {
					found = append(found, e)
				}
			}
			if len(found) != 1 {
				t.Fatalf("%d entries install %s, want 1 (entries: %+v)", len(found), tt.dst, entries)
			}
			e := found[0]
			if e.src != tt.src || e.typ != tt.typ || e.packager != tt.packagers {
				t.Errorf("%s: src %q type %q packager %q, want %q %q %q", tt.dst, e.src, e.typ, e.packager, tt.src, tt.typ, tt.packagers)
			}
		})
	}
	if _, err := os.Stat("erpbridge.toml"); err != nil {
		t.Errorf("the packaged config: %v", err)
	}
}

// TestPackageScriptsPrepareWhatTheUnitNeeds: each packager's scripts (built
// by build.sh from scripts/, with scripts/account.sh put in for the
// "# @account@" line) create the user and the folders the unit runs with,
// and reach systemd the packager's way: Debian's through deb-systemd-helper
// and deb-systemd-invoke (lintian: no systemctl but daemon-reload, no init
// script run directly).
func TestPackageScriptsPrepareWhatTheUnitNeeds(t *testing.T) {
	text := readFile(t, "nfpm.yaml")
	spec := LinuxSpec()
	account := readFile(t, "scripts/account.sh")
	for _, m := range []string{"useradd --system", "user=" + spec.User, spec.DataDir, spec.LogDir, spec.ConfigFile,
		layout.SecretsDir("linux", spec.ConfigFile)} {
		if !strings.Contains(account, m) {
			t.Errorf("scripts/account.sh does not mention %q", m)
		}
	}
	unit := "'" + layout.Name + ".service'"
	for _, s := range []struct {
		packager, key string
		mentions      []string
	}{
		{"deb", "postinstall", []string{"# @account@", "deb-systemd-helper update-state " + unit, "deb-systemd-invoke try-restart " + unit, "/run/systemd/system"}},
		{"deb", "preremove", []string{"deb-systemd-invoke stop " + unit, "invoke-rc.d " + layout.Name + " stop"}},
		{"deb", "postremove", []string{"deb-systemd-helper purge " + unit, "deb-systemd-helper mask " + unit}},
		{"rpm", "postinstall", []string{"# @account@", "systemctl try-restart " + layout.Name + ".service", "/run/systemd/system"}},
		{"rpm", "preremove", []string{"systemctl stop " + layout.Name + ".service"}},
		{"rpm", "postremove", []string{"systemctl daemon-reload", spec.ConfigFile}},
	} {
		path := overrideScripts(text, s.packager)[s.key]
		src, ok := strings.CutPrefix(path, "dist/scripts/")
		if !ok {
			t.Errorf("nfpm.yaml: the %s %s script is %q, want one build.sh writes into dist/scripts/", s.packager, s.key, path)
			continue
		}
		rel := filepath.Join("scripts", src)
		info, err := os.Stat(rel)
		if err != nil {
			t.Errorf("%s %s script: %v", s.packager, s.key, err)
			continue
		}
		if info.Mode()&0o111 == 0 {
			t.Errorf("%s script %s is not executable", s.key, rel)
		}
		script := readFile(t, rel)
		for _, m := range s.mentions {
			if !strings.Contains(script, m) {
				t.Errorf("%s script %s does not mention %q", s.key, rel, m)
			}
		}
		if strings.Count(script, "# @account@") > 1 {
			t.Errorf("%s puts the account in twice", rel)
		}
		if s.packager != "deb" {
			continue
		}
		for i, line := range strings.Split(script, "\n") {
			if strings.HasPrefix(strings.TrimSpace(line), "#") {
				continue
			}
			if regexp.MustCompile(`^(?:.+;)?\s*systemctl\b`).MatchString(line) && !strings.Contains(line, "daemon-reload") {
				t.Errorf("%s:%d calls systemctl (lintian: use deb-systemd-invoke): %s", rel, i+1, line)
			}
			if regexp.MustCompile(`^\s*/etc/init\.d/`).MatchString(line) {
				t.Errorf("%s:%d runs an init script directly (lintian: use invoke-rc.d): %s", rel, i+1, line)
			}
		}
	}
}

// overrideScripts returns the scripts of nfpm.yaml's overrides.<packager>.scripts.
func overrideScripts(text, packager string) map[string]string {
	out := map[string]string{}
	var inOverrides, inPackager, inScripts bool
	for _, line := range strings.Split(text, "\n") {
		trimmed := strings.TrimSpace(line)
		indent := len(line) - len(strings.TrimLeft(line, " "))
		switch {
		case trimmed == "" || strings.HasPrefix(trimmed, "#"):
		case indent == 0:
			inOverrides, inPackager, inScripts = line == "overrides:", false, false
		case inOverrides && indent == 2:
			inPackager, inScripts = trimmed == packager+":", false
		case inPackager && indent == 4:
			inScripts = trimmed == "scripts:"
		case inScripts && indent == 6:
			k, v, _ := strings.Cut(trimmed, ":")
			out[k] = strings.TrimSpace(v)
		}
	}
	return out
}

// The parts of WiX source the tests look at.
type (
	wixDoc struct {
		Product wixProduct `xml:"Product"`
	}
	wixProduct struct {
		UpgradeCode string       `xml:"UpgradeCode,attr"`
		Directories []wixDir     `xml:"Directory"`
		Features    []wixFeature `xml:"Feature"`
		Properties  []struct {
			ID    string `xml:"Id,attr"`
			Value string `xml:"Value,attr"`
		} `xml:"Property"`
	}
	wixDir struct {
		ID          string         `xml:"Id,attr"`
		Name        string         `xml:"Name,attr"`
		Directories []wixDir       `xml:"Directory"`
		Components  []wixComponent `xml:"Component"`
	}
	wixComponent struct {
		ID       string              `xml:"Id,attr"`
		GUID     string              `xml:"Guid,attr"`
		Files    []wixFile           `xml:"File"`
		Folders  []struct{}          `xml:"CreateFolder"`
		dirID    string              // the Id of its Directory
		Services []wixServiceInstall `xml:"ServiceInstall"`
		Controls []wixServiceControl `xml:"ServiceControl"`
		dir      string              // the folder path, e.g. ProgramFiles64Folder\erpbridge
	}
	wixFile struct {
		Name string `xml:"Name,attr"`
	}
	wixServiceInstall struct {
		Name, Start, ErrorControl, Account, Arguments, Description string `xml:",attr"`
	}
	wixServiceControl struct {
		Name, Start, Stop, Remove, Wait string `xml:",attr"`
	}
	wixFeature struct {
		Refs []struct {
			ID string `xml:"Id,attr"`
		} `xml:"ComponentRef"`
	}
)

// wixComponents parses erpbridge.wxs and returns its components by Id, each
// with the path of standard folder and folder names it installs into.
func wixComponents(t *testing.T) (wixProduct, map[string]wixComponent) {
	t.Helper()
	var doc wixDoc
	if err := xml.Unmarshal([]byte(readFile(t, "erpbridge.wxs")), &doc); err != nil {
		t.Fatalf("parsing erpbridge.wxs: %v", err)
	}
	comps := map[string]wixComponent{}
	var walk func(d wixDir, path string)
	walk = func(d wixDir, path string) {
		name := d.Name
		if name == "" || d.ID == "TARGETDIR" {
			name = d.ID
		}
		if d.ID != "TARGETDIR" {
			path = strings.TrimPrefix(path+`\`+name, `\`)
		}
		for _, c := range d.Components {
			c.dir, c.dirID = path, d.ID
			comps[c.ID] = c
		}
		for _, sub := range d.Directories {
			walk(sub, path)
		}
	}
	for _, d := range doc.Product.Directories {
		walk(d, "")
	}
	return doc.Product, comps
}

var guidRE = regexp.MustCompile(`^[0-9A-F]{8}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{12}$`)

func TestMSIInstallsTheServiceTheWayServiceInstallDoes(t *testing.T) {
	product, comps := wixComponents(t)
	if !guidRE.MatchString(product.UpgradeCode) {
		t.Errorf("UpgradeCode %q: want a fixed GUID (major upgrades find the installed product by it)", product.UpgradeCode)
	}
	referenced := map[string]bool{}
	for _, f := range product.Features {
		for _, r := range f.Refs {
			referenced[r.ID] = true
		}
	}
	for id, c := range comps {
		if !guidRE.MatchString(c.GUID) {
			t.Errorf("component %s: Guid %q, want a fixed GUID", id, c.GUID)
		}
		if !referenced[id] {
			t.Errorf("component %s is in no feature: it would not be installed", id)
		}
	}

	prog, ok := comps["Program"]
	if !ok {
		t.Fatal("no Program component")
	}
	if prog.dir != `ProgramFiles64Folder\erpbridge` || len(prog.Files) != 1 || prog.Files[0].Name != "erpbridge.exe" {
		t.Errorf("Program installs %+v into %s, want erpbridge.exe into Program Files\\erpbridge", prog.Files, prog.dir)
	}
	if len(prog.Services) != 1 {
		t.Fatalf("Program has %d ServiceInstall, want 1", len(prog.Services))
	}
	svc := prog.Services[0]
	configFile := `[CommonAppDataFolder]` + layout.Name + `\` + layout.ConfigFileName
	args := installer.Arguments(configFile)
	args[len(args)-1] = `"` + configFile + `"`
	unit, err := LinuxUnit()
	if err != nil {
		t.Fatal(err)
	}
	account := ""
	for _, p := range product.Properties {
		if "["+p.ID+"]" == svc.Account {
			account = p.Value
		}
	}
	// the MSI's names for installer.WindowsStartType and WindowsErrorControl
	start := map[uint32]string{2: "auto", 3: "demand", 4: "disabled"}[installer.WindowsStartType]
	errorControl := map[uint32]string{0: "ignore", 1: "normal", 3: "critical"}[installer.WindowsErrorControl]
	for _, c := range []struct{ what, got, want string }{
		{"service name", svc.Name, layout.Name},
		{"arguments", svc.Arguments, strings.Join(args, " ")},
		{"start type (installer.WindowsStartType)", svc.Start, start},
		{"error control (installer.WindowsErrorControl)", svc.ErrorControl, errorControl},
		{"account (a property, LocalSystem unless given)", account, "LocalSystem"},
		{"description (as in the systemd unit)", svc.Description, unitValue(unit, "Description")[0]},
	} {
		if c.got != c.want {
			t.Errorf("ServiceInstall %s = %q, want %q", c.what, c.got, c.want)
		}
	}
	if got, ok := installer.ConfigFromCommandLine("windows", `"C:\Program Files\erpbridge\erpbridge.exe" `+svc.Arguments); !ok || got != configFile {
		t.Errorf("erpbridge service status would read the config %q (%v) from the MSI's service, want %q", got, ok, configFile)
	}
	if len(prog.Controls) != 1 || prog.Controls[0].Name != layout.Name || prog.Controls[0].Stop != "both" || prog.Controls[0].Remove != "uninstall" {
		t.Errorf("Program ServiceControl %+v: want %s stopped on install and uninstall, removed on uninstall", prog.Controls, layout.Name)
	}
	startComp := comps["ServiceStart"]
	// Wait="no": a start that fails after the major upgrade removed the old
	// version must not fail (and roll back) the install, leaving nothing.
	if len(startComp.Controls) != 1 || startComp.Controls[0].Name != layout.Name || startComp.Controls[0].Start != "install" || startComp.Controls[0].Wait != "no" {
		t.Errorf("ServiceStart ServiceControl %+v: want %s started on install, without waiting", startComp.Controls, layout.Name)
	}

	cfg := comps["Config"]
	if cfg.dir != `CommonAppDataFolder\erpbridge` || len(cfg.Files) != 1 || cfg.Files[0].Name != layout.ConfigFileName {
		t.Errorf("Config installs %+v into %s, want %s into %%ProgramData%%\\erpbridge", cfg.Files, cfg.dir, layout.ConfigFileName)
	}
	if got := layout.For("windows", func(string) string { return `C:\ProgramData` }).ConfigFile(); got != `C:\ProgramData\erpbridge\erpbridge.toml` {
		t.Errorf("the default Windows config is %s, the MSI installs C:\\ProgramData\\erpbridge\\erpbridge.toml", got)
	}
}

// sqlStatements returns the statements of msi-tables.sql.
func sqlStatements(t *testing.T) []string {
	t.Helper()
	var out []string
	for _, line := range strings.Split(readFile(t, "msi-tables.sql"), "\n") {
		if line = strings.TrimSpace(line); line != "" && !strings.HasPrefix(line, "--") {
			out = append(out, line)
		}
	}
	return out
}

// insertValues returns the column values of the INSERT INTO table statement.
func insertValues(t *testing.T, stmts []string, table, key string) map[string]string {
	t.Helper()
	re := regexp.MustCompile("^INSERT INTO `" + table + "` \\((.*)\\) VALUES \\((.*)\\)$")
	for _, s := range stmts {
		m := re.FindStringSubmatch(s)
		if m == nil {
			continue
		}
		cols := strings.Split(m[1], ", ")
		vals := strings.Split(m[2], ", ")
		if len(cols) != len(vals) {
			t.Fatalf("%s: %d columns, %d values", s, len(cols), len(vals))
		}
		row := map[string]string{}
		for i, c := range cols {
			row[strings.Trim(c, "`")] = strings.Trim(vals[i], "'")
		}
		if row[table] == key || (key == "" && len(row) > 0) {
			return row
		}
	}
	t.Fatalf("msi-tables.sql inserts no %s row %q", table, key)
	return nil
}

func TestMSITablesSetTheRecoveryServiceInstallSets(t *testing.T) {
	product, comps := wixComponents(t)
	stmts := sqlStatements(t)

	recovery := insertValues(t, stmts, "MsiServiceConfigFailureActions", "ErpbridgeRecovery")
	for _, c := range []struct{ col, want string }{
		{"Name", layout.Name},
		{"Event", "1"},
		{"Actions", "1"}, // restart, as installer.Install sets it
		{"DelayActions", strconv.FormatInt(installer.WindowsRestartDelay.Milliseconds(), 10)},
		{"ResetPeriod", strconv.FormatInt(int64(installer.WindowsResetPeriod/time.Second), 10)},
		{"Component_", "Program"},
	} {
		if recovery[c.col] != c.want {
			t.Errorf("recovery %s = %q, want %q", c.col, recovery[c.col], c.want)
		}
	}
	delayed := insertValues(t, stmts, "MsiServiceConfig", "ErpbridgeDelayedStart")
	if want := installer.WindowsDelayedStart; (delayed["ConfigType"] == "3" && delayed["Argument"] == "1") != want {
		t.Errorf("delayed auto-start row %v, want delayed start %v", delayed, want)
	}
	if delayed["Name"] != layout.Name {
		t.Errorf("delayed auto-start names service %q, want %q", delayed["Name"], layout.Name)
	}
	sidType := insertValues(t, stmts, "MsiServiceConfig", "ErpbridgeSidType")
	if sidType["ConfigType"] != "5" || sidType["Argument"] != strconv.Itoa(installer.WindowsSidType) {
		t.Errorf("service SID row %v, want type 5 (SERVICE_CONFIG_SERVICE_SID_INFO) = %d", sidType, installer.WindowsSidType)
	}
	nonCrash := insertValues(t, stmts, "MsiServiceConfig", "ErpbridgeFailureActionsFlag")
	if want := installer.WindowsNonCrash; (nonCrash["ConfigType"] == "4" && nonCrash["Argument"] == "1") != want {
		t.Errorf("failure actions flag row %v, want recovery on non-crash failures %v", nonCrash, want)
	}

	upgrade := insertValues(t, stmts, "Upgrade", "")
	if upgrade["UpgradeCode"] != "{"+product.UpgradeCode+"}" {
		t.Errorf("msi-tables.sql UpgradeCode %s, erpbridge.wxs %s", upgrade["UpgradeCode"], product.UpgradeCode)
	}
	// every component the statements name exists
	for _, s := range stmts {
		for _, m := range regexp.MustCompile("`Component` = '([A-Za-z]+)'|'([A-Za-z]+)'\\)$").FindAllStringSubmatch(s, -1) {
			id := m[1] + m[2]
			if strings.HasPrefix(s, "INSERT INTO `Upgrade`") || strings.HasPrefix(s, "INSERT INTO `InstallExecuteSequence`") {
				continue
			}
			if _, ok := comps[id]; !ok {
				t.Errorf("msi-tables.sql names component %q, not in erpbridge.wxs: %s", id, s)
			}
		}
	}
	var permanent bool
	for _, s := range stmts {
		if s == "UPDATE `Component` SET `Attributes` = 400 WHERE `Component` = 'Config'" {
			permanent = true // 16 Permanent | 128 NeverOverwrite | 256 64-bit
		}
	}
	if !permanent {
		t.Error("msi-tables.sql does not make the Config component Permanent and NeverOverwrite")
	}
}

// TestMSILocksTheFoldersAsServiceInstallDoes: the MSI creates the config,
// data, logs and secrets folders, keeps them on uninstall, and gives them
// the DACLs `erpbridge service install` applies (layout.WindowsDACL).
func TestMSILocksTheFoldersAsServiceInstallDoes(t *testing.T) {
	_, comps := wixComponents(t)
	stmts := sqlStatements(t)
	byDir := map[string]wixComponent{}
	for _, c := range comps {
		if len(c.Folders) > 0 {
			byDir[c.dirID] = c
		}
	}
	for _, tt := range []struct {
		dirID, path string
		access      layout.Access
		attributes  string // Permanent (16) + 64-bit (256), and for the config NeverOverwrite (128)
	}{
		{"CONFIGDIR", `CommonAppDataFolder\erpbridge`, layout.ReadOnly, "400"},
		{"SECRETSDIR", `CommonAppDataFolder\erpbridge\secrets`, layout.ReadOnly, "272"},
		{"DATADIR", `CommonAppDataFolder\erpbridge\data`, layout.Writable, "272"},
		{"LOGSDIR", `CommonAppDataFolder\erpbridge\logs`, layout.Writable, "272"},
	} {
		t.Run(tt.dirID, func(t *testing.T) {
			c, ok := byDir[tt.dirID]
			if !ok || c.dir != tt.path {
				t.Fatalf("no component creates %s (%s)", tt.dirID, tt.path)
			}
			var lock map[string]string
			for _, s := range stmts {
				if strings.HasPrefix(s, "INSERT INTO `MsiLockPermissionsEx`") && strings.Contains(s, "'"+tt.dirID+"'") {
					lock = insertValues(t, []string{s}, "MsiLockPermissionsEx", "")
				}
			}
			if lock == nil {
				t.Fatalf("msi-tables.sql does not lock %s", tt.dirID)
			}
			if want := layout.WindowsDACL(layout.Name, tt.access); lock["SDDLText"] != want || lock["Table"] != "CreateFolder" {
				t.Errorf("%s locked with %s %q, want CreateFolder %q", tt.dirID, lock["Table"], lock["SDDLText"], want)
			}
			attr := ""
			for _, s := range stmts {
				if m := regexp.MustCompile("^UPDATE `Component` SET `Attributes` = ([0-9]+) WHERE `Component` = '" + c.ID + "'$").FindStringSubmatch(s); m != nil {
					attr = m[1]
				}
			}
			if attr != tt.attributes {
				t.Errorf("component %s Attributes %q, want %s (kept by uninstall)", c.ID, attr, tt.attributes)
			}
		})
	}
}
