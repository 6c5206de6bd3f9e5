#!/usr/bin/env bash
# Inspects what build.sh left in dist/: the MSI's tables (msiinfo), the .deb
# (dpkg-deb) and the .rpm (rpm) files, conffiles and scripts, the version
# stamped in the binaries, and with --signed-by CERT.pem the Authenticode
# signatures of erpbridge.exe and the MSI; then lintian on each .deb (errors
# fail, warnings are shown). Prints one line per check and exits 1 if any
# expected entry is missing.
#
# Needs: msiinfo (msitools), dpkg-deb, rpm, lintian, go; osslsigncode with --signed-by.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."

ca=""
if [ "${1:-}" = --signed-by ]; then
	ca="$(realpath -e -- "${2:?--signed-by needs a certificate file}")"
fi

bad=0
ok() { echo "  ok      $1"; }
missing() { echo "  MISSING $1"; bad=1; }
# check DESCRIPTION COMMAND...: the command succeeds
check() {
	local what="$1"
	shift
	if "$@" >/dev/null 2>&1; then ok "$what"; else missing "$what"; fi
}
# has DESCRIPTION TEXT LINE: TEXT has LINE, whole
has() { if grep -qxF -- "$3" <<<"$2"; then ok "$1"; else missing "$1"; fi; }
# one GLOB: the single file matching GLOB in dist/
one() {
	local f=(dist/$1)
	[ ${#f[@]} -eq 1 ] && [ -f "${f[0]}" ] || { echo "expected one dist/$1, found: ${f[*]}" >&2; exit 1; }
	echo "${f[0]}"
}

# erpbridge VERSION (commit COMMIT, built DATE, …): what the amd64 binary says
version="$(dist/erpbridge_linux_amd64/erpbridge version)"
echo "binaries: $version"
if [[ $version =~ ^erpbridge\ ([^ ]+)\ \(commit\ ([^,]+),\ built\ ([^,]+), ]] &&
	[ "${BASH_REMATCH[1]}" != dev ] && [ "${BASH_REMATCH[2]}" != unknown ] && [ "${BASH_REMATCH[3]}" != unknown ]; then
	ok "version, commit and date stamped"
	stamp="${BASH_REMATCH[2]}"
else
	missing "version, commit and date stamped"
	stamp="no commit stamped"
fi
for bin in dist/erpbridge_windows_amd64/erpbridge.exe dist/erpbridge_linux_amd64/erpbridge dist/erpbridge_linux_arm64/erpbridge; do
	info="$(go version -m "$bin")"
	check "$bin: built with -trimpath" grep -qE $'^\tbuild\t-trimpath=true$' <<<"$info"
	check "$bin: no cgo" grep -qE $'^\tbuild\tCGO_ENABLED=0$' <<<"$info"
	check "$bin: commit stamped" grep -qaF -- "$stamp" "$bin"
done

msi="$(one '*.msi')"
echo "$msi"
# row DESCRIPTION TABLE AWK-CONDITION: a row of TABLE (tab-separated) matches
row() {
	if msiinfo export "$msi" "$2" | tr -d '\r' | awk -F'\t' "NR > 3 && ($3) { found = 1 } END { exit !found }"; then ok "$1"; else missing "$1"; fi
}
tables="$(msiinfo tables "$msi" | tr -d '\r')"
for t in File Component CreateFolder ServiceInstall ServiceControl MsiServiceConfig MsiServiceConfigFailureActions MsiLockPermissionsEx Upgrade Registry; do
	has "table $t" "$tables" "$t"
done
row 'File erpbridge.exe in component Program' File '$1 == "ErpbridgeExe" && $2 == "Program" && $3 == "erpbridge.exe"'
row 'File erpbridge.toml in component Config' File '$1 == "ConfigFile" && $2 == "Config" && $3 == "erpbridge.toml"'
row 'Directory Program Files\erpbridge' Directory '$1 == "INSTALLDIR" && $2 == "ProgramFiles64Folder" && $3 == "erpbridge"'
row 'Directory %ProgramData%\erpbridge' Directory '$1 == "CONFIGDIR" && $2 == "CommonAppDataFolder" && $3 == "erpbridge"'
row 'Component Program in Program Files\erpbridge' Component '$1 == "Program" && $3 == "INSTALLDIR"'
row 'Component Config: Permanent + NeverOverwrite + 64-bit (400)' Component '$1 == "Config" && $3 == "CONFIGDIR" && $4 == 400'
row 'Component ServiceStart: on upgrade or START_SERVICE=1' Component '$1 == "ServiceStart" && $5 == "WIX_UPGRADE_DETECTED OR START_SERVICE=\"1\""'
row 'ServiceInstall erpbridge: own process, auto start, error control normal, SERVICE_ACCOUNT, --config in %ProgramData%' ServiceInstall \
	'$2 == "erpbridge" && $4 == 16 && $5 == 2 && $6 == 1 && $9 == "[SERVICE_ACCOUNT]" && $11 == "service run --config \"[CommonAppDataFolder]erpbridge\\erpbridge.toml\"" && $12 == "Program"'
row 'Property SERVICE_ACCOUNT: LocalSystem unless given' Property '$1 == "SERVICE_ACCOUNT" && $2 == "LocalSystem"'
for d in CONFIGDIR DATADIR LOGSDIR SECRETSDIR; do
	row "CreateFolder $d, locked (MsiLockPermissionsEx, protected DACL)" MsiLockPermissionsEx "\$2 == \"$d\" && \$3 == \"CreateFolder\" && \$4 ~ /^D:PAI\\(/"
done
row 'ServiceControl erpbridge: stopped on install and uninstall, removed on uninstall (162)' ServiceControl '$2 == "erpbridge" && $3 == 162 && $6 == "Program"'
row 'ServiceControl erpbridge: started without waiting (component ServiceStart)' ServiceControl '$2 == "erpbridge" && $3 == 1 && $5 == 0 && $6 == "ServiceStart"'
row 'MsiServiceConfig erpbridge: delayed auto-start' MsiServiceConfig '$2 == "erpbridge" && $3 == 1 && $4 == 3 && $5 == "1"'
row 'MsiServiceConfig erpbridge: unrestricted service SID' MsiServiceConfig '$2 == "erpbridge" && $3 == 1 && $4 == 5 && $5 == "1"'
row 'MsiServiceConfigFailureActions erpbridge: restart after 60 s, reset after a day' MsiServiceConfigFailureActions \
	'$2 == "erpbridge" && $3 == 1 && $4 == 86400 && $7 == "1" && $8 == "60000"'
row 'InstallExecuteSequence MsiConfigureServices between InstallServices and StartServices' InstallExecuteSequence '$1 == "MsiConfigureServices" && $3 > 5800 && $3 < 5900'
row 'InstallExecuteSequence RemoveExistingProducts (major upgrade)' InstallExecuteSequence '$1 == "RemoveExistingProducts"'
row 'Upgrade: same or older versions replaced (513)' Upgrade '$5 == 513 && $7 == "WIX_UPGRADE_DETECTED"'
row 'Upgrade: newer version refused' LaunchCondition '$1 == "NOT WIX_DOWNGRADE_DETECTED"'
row 'Registry: Event Log source erpbridge' Registry '$3 == "SYSTEM\\CurrentControlSet\\Services\\EventLog\\Application\\erpbridge" && $4 == "EventMessageFile"'
row 'Property UpgradeCode' Property '$1 == "UpgradeCode" && $2 ~ /^\{[0-9A-F-]+\}$/'
row 'Property SecureCustomProperties has START_SERVICE and SERVICE_ACCOUNT' Property '$1 == "SecureCustomProperties" && $2 ~ /START_SERVICE/ && $2 ~ /SERVICE_ACCOUNT/'

for deb in dist/*.deb; do
	echo "$deb"
	arch="$(dpkg-deb -f "$deb" Architecture)"
	files="$(dpkg-deb -c "$deb" | awk '{ print $1, $NF }')"
	has "/usr/bin/erpbridge, executable" "$files" "-rwxr-xr-x ./usr/bin/erpbridge"
	has "/lib/systemd/system/erpbridge.service" "$files" "-rw-r--r-- ./lib/systemd/system/erpbridge.service"
	has "/etc/erpbridge/erpbridge.toml, not world-readable" "$files" "-rw-r----- ./etc/erpbridge/erpbridge.toml"
	has "conffile /etc/erpbridge/erpbridge.toml" "$(dpkg-deb -I "$deb" conffiles)" "/etc/erpbridge/erpbridge.toml"
	control="$(dpkg-deb -I "$deb")"
	for s in postinst prerm postrm; do
		check "maintainer script $s" grep -qE "^ +[0-9]+ bytes, +[0-9]+ lines +\* +$s " <<<"$control"
	done
	check "postinst through deb-systemd-helper, the service account put in" \
		sh -c "dpkg-deb --ctrl-tarfile '$deb' | tar -xO ./postinst | grep -q 'deb-systemd-helper update-state' && ! dpkg-deb --ctrl-tarfile '$deb' | tar -xO ./postinst | grep -qx '# @account@'"
	check "Depends: init-system-helpers" grep -q "init-system-helpers" <<<"$(dpkg-deb -f "$deb" Depends)"
	check "Maintainer: Name <address>" grep -qE '^.+ <[^ >]+@[^ >]+>$' <<<"$(dpkg-deb -f "$deb" Maintainer)"
	for f in /usr/share/doc/erpbridge/copyright /usr/share/doc/erpbridge/changelog.Debian.gz /usr/share/lintian/overrides/erpbridge; do
		has "$f" "$(awk '{ print $NF }' <<<"$files")" ".$f"
	done
	unit="$(dpkg-deb --fsys-tarfile "$deb" | tar -xO ./lib/systemd/system/erpbridge.service)"
	has "unit runs /usr/bin/erpbridge with /etc/erpbridge/erpbridge.toml" "$unit" \
		"ExecStart=/usr/bin/erpbridge service run --config /etc/erpbridge/erpbridge.toml"
	has "unit runs as erpbridge" "$unit" "User=erpbridge"
	binary="$(dpkg-deb --fsys-tarfile "$deb" 2>/dev/null | tar -xO ./usr/bin/erpbridge 2>/dev/null | od -An -tx1 -N20 | tr -d ' \n')" || true
	case "$arch" in
	amd64) [ "${binary:36:4}" = 3e00 ] && ok "binary is x86-64" || missing "an x86-64 binary" ;;
	arm64) [ "${binary:36:4}" = b700 ] && ok "binary is arm64" || missing "an arm64 binary" ;;
	*) missing "a known architecture (got $arch)" ;;
	esac
done

for rpm in dist/*.rpm; do
	echo "$rpm"
	files="$(rpm -qp --queryformat '[%{FILEMODES:perms} %{FILENAMES}\n]' "$rpm" 2>/dev/null)"
	has "/usr/bin/erpbridge, executable" "$files" "-rwxr-xr-x /usr/bin/erpbridge"
	has "/usr/lib/systemd/system/erpbridge.service" "$files" "-rw-r--r-- /usr/lib/systemd/system/erpbridge.service"
	has "/etc/erpbridge/erpbridge.toml, not world-readable" "$files" "-rw-r----- /etc/erpbridge/erpbridge.toml"
	has "%config(noreplace) /etc/erpbridge/erpbridge.toml" \
		"$(rpm -qp --queryformat '[%{FILEFLAGS:fflags} %{FILENAMES}\n]' "$rpm" 2>/dev/null)" "cn /etc/erpbridge/erpbridge.toml"
	check "License set" test -n "$(rpm -qp --queryformat '%{LICENSE}' "$rpm" 2>/dev/null | grep -v '(none)')"
	has "/usr/share/doc/erpbridge/copyright" "$(awk '{ print $NF }' <<<"$files")" "/usr/share/doc/erpbridge/copyright"
	scripts="$(rpm -qp --scripts "$rpm" 2>/dev/null)"
	for s in postinstall preuninstall postuninstall; do
		check "scriptlet $s" grep -q "^$s scriptlet" <<<"$scripts"
	done
done

if [ -n "$ca" ]; then
	echo "Authenticode"
	for f in dist/erpbridge_windows_amd64/erpbridge.exe "$msi"; do
		check "$f signed by $(basename "$ca")" osslsigncode verify -CAfile "$ca" -in "$f"
	done
fi

echo "lintian"
for deb in dist/*.deb; do
	# --fail-on error: warnings (no-manual-page) are shown, errors fail
	if out="$(lintian --fail-on error "$deb" 2>&1)"; then
		ok "$deb: no lintian errors"
	else
		missing "$deb: lintian errors"
	fi
	grep -E '^[EWI]: ' <<<"$out" | sed 's/^/          /' || true
done

if [ "$bad" -ne 0 ]; then
	echo "inspect.sh: expected entries are missing (above)" >&2
	exit 1
fi
echo "every expected entry is there"
