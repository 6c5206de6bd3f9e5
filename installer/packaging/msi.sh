#!/usr/bin/env bash
# Builds the erpbridge MSI: wixl from erpbridge.wxs, then msi-tables.sql applied
# with msibuild (what wixl cannot express; see README.md). build.sh and
# installer/wine/check.sh both build it this way.
#
#   installer/packaging/msi.sh OUT.msi MSI_VERSION ERPBRIDGE.EXE CONFIG.toml
#
# MSI_VERSION is Windows Installer's a.b.c.d. Needs wixl and msibuild
# (apt-get install --no-install-recommends wixl msitools).
set -euo pipefail
[ $# -eq 4 ] || { echo "usage: $0 OUT.msi MSI_VERSION ERPBRIDGE.EXE CONFIG.toml" >&2; exit 2; }
out="$1" version="$2" exe="$3" config="$4"
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
for tool in wixl msibuild; do
	command -v "$tool" >/dev/null 2>&1 || { echo "msi.sh: $tool not found: apt-get install --no-install-recommends wixl msitools" >&2; exit 1; }
done
log="$(mktemp /tmp/erpbridge-msibuild.XXXXXX)"
trap 'rm -f "$log"' EXIT

# wixl takes sources relative to the working folder only
exe="$(realpath --relative-to=. -- "$exe")" config="$(realpath --relative-to=. -- "$config")"
wixl -a x64 -D Version="$version" -D ExeSource="$exe" -D ConfigSource="$config" -o "$out" "$here/erpbridge.wxs"
# what wixl cannot write (see msi-tables.sql), one statement a line
while IFS= read -r stmt; do
	case "$stmt" in '' | --*) continue ;; esac
	msibuild "$out" -q "${stmt//@VERSION@/$version}" >"$log" 2>&1 ||
		{ cat "$log" >&2; echo "msi.sh: msibuild failed on: $stmt" >&2; exit 1; }
done <"$here/msi-tables.sql"
