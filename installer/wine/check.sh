#!/usr/bin/env bash
# Runs the Windows service under wine 8 and checks what an administrator would:
#
#   1. `erpbridge service install -c C:\ProgramData\erpbridge\erpbridge.toml` →
#      `sc query` shows it → `service start` → RUNNING → a full sync against the
#      RD Station simulator (`erpbridge sim`, Linux, on 127.0.0.1) from a SQLite
#      ERP built by `erpbridge demo --dir`, its CRM token read from a DPAPI secret
#      (`erpbridge secret set`) → seen in the simulator and in the service's log
#      file → `service stop` (graceful) → `service uninstall` → gone;
#   2. a failed install (a display name another service has) leaves no service
#      and no folder behind;
#   3. the MSI: `msiexec /i … /qn START_SERVICE=1` → RUNNING and syncing, the
#      service registered as `service install` registers it → `msiexec /x` →
#      service and program gone, config kept.
#
# What wine cannot prove (session 0, ACL enforcement, service accounts, delayed
# start, recovery, the real Event Log, a reboot) is listed in docs/install.md.
#
#   bash installer/wine/check.sh        # from anywhere; about a minute
#
# Installs wine64, the MinGW-w64 compiler, wixl, msitools, curl and python3
# when missing (apt-get, as root). Builds the bcryptprimitives.dll shim and the keeper from
# the C sources here into a fresh wine prefix in a temporary folder, removed at
# the end (ERPBRIDGE_WINE_KEEP=1 keeps it). Fails with the service's log.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"
here=installer/wine
started=$SECONDS
say() { printf '  %3ss  %s\n' "$((SECONDS - started))" "$*"; }

WINE=/usr/lib/wine/wine64
WINESERVER=/usr/lib/wine/wineserver
missing=()
[ -x "$WINE" ] || missing+=(wine64)
command -v x86_64-w64-mingw32-gcc >/dev/null 2>&1 || missing+=(gcc-mingw-w64-x86-64-win32)
command -v wixl >/dev/null 2>&1 || missing+=(wixl)
command -v msibuild >/dev/null 2>&1 || missing+=(msitools)
command -v curl >/dev/null 2>&1 || missing+=(curl)
command -v python3 >/dev/null 2>&1 || missing+=(python3)
if [ ${#missing[@]} -gt 0 ]; then
	say "installing ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq >/dev/null
	apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
[ -x "$WINESERVER" ] || WINESERVER=/usr/lib/wine/wineserver64

tmp="$(mktemp -d /tmp/erpbridge-wine.XXXXXX)"
export WINEPREFIX="$tmp/prefix" WINEARCH=win64 WINEDEBUG=-all WINEDLLOVERRIDES="mscoree,mshtml=" DISPLAY=""
sim_pid="" keeper_pid=""
cleanup() {
	[ -n "$keeper_pid" ] && kill "$keeper_pid" 2>/dev/null
	[ -d "$WINEPREFIX" ] && "$WINESERVER" -k 2>/dev/null
	[ -n "$sim_pid" ] && kill "$sim_pid" 2>/dev/null
	wait 2>/dev/null
	if [ "${ERPBRIDGE_WINE_KEEP:-}" = 1 ]; then echo "kept $tmp"; else rm -rf "$tmp"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

pd="$WINEPREFIX/drive_c/ProgramData/erpbridge" # C:\ProgramData\erpbridge
pf="$WINEPREFIX/drive_c/Program Files/erpbridge"
exe='C:\Program Files\erpbridge\erpbridge.exe'
config='C:\ProgramData\erpbridge\erpbridge.toml'
logfile="$pd/logs/erpbridge.log"

fail() {
	echo "wine check FAILED: $*" >&2
	echo "--- sc query erpbridge" >&2
	"$WINE" sc query erpbridge >&2 2>&1 || true
	if [ -f "$logfile" ]; then
		echo "--- the service's log file (last 40 lines)" >&2
		tail -n 40 "$logfile" >&2
	else
		echo "--- the service wrote no log file ($logfile)" >&2
	fi
	if [ -f "$pf/erpbridge.exe" ] && [ -f "$pd/erpbridge.toml" ]; then
		# what the service reports to the Event Log, which wine does not keep
		echo "--- erpbridge validate -c $config (as the service loads it)" >&2
		"$WINE" "$exe" validate -c "$config" >&2 2>&1 || true
	fi
	exit 1
}
# run WHAT CMD...: runs CMD, fails with its output when it fails.
run() {
	local what="$1" out
	shift
	if ! out="$("$@" 2>&1)"; then
		printf '%s\n' "$out" >&2
		fail "$what"
	fi
	printf '%s\n' "$out"
}
# state: the service's state in sc query (STOPPED, RUNNING, …; "" when not installed)
state() { "$WINE" sc query erpbridge 2>/dev/null | awk '$1 == "STATE" { print $4 }' | tr -d '\r'; }
# wait_state WANT SECONDS
wait_state() {
	local i
	for ((i = 0; i < $2 * 10; i++)); do
		[ "$(state)" = "$1" ] && return 0
		sleep 0.1
	done
	fail "the service is not $1 after $2 s (state: $(state))"
}
# service_values: the registration as the registry holds it, the command
# line unquoted (mgr quotes only what needs it, Windows Installer always).
service_values() {
	"$WINE" reg query 'HKLM\System\CurrentControlSet\Services\erpbridge' | tr -d '\r' |
		awk '$1 ~ /^(Type|Start|ErrorControl|ObjectName|DisplayName|Description|ImagePath)$/' | tr -d '"' | sort
}
sim_admin() { curl -fsS -X "$1" "$sim_admin/$2"; }
# synced: the simulator holds organizations, contacts and products.
synced() {
	sim_admin GET state | python3 -c '
import json, sys
s = json.load(sys.stdin)
n = {k: len(s.get(k) or []) for k in ("organizations", "contacts", "products")}
print(" ".join(f"{k}={v}" for k, v in n.items()))
sys.exit(0 if all(n.values()) else 1)'
}
# wait_sync SECONDS LOG_FROM_LINE: the simulator holds the synced records, and
# the log file has a finished run of every stream without an error since line
# LOG_FROM_LINE.
wait_sync() {
	local i counts
	for ((i = 0; i < $1 * 2; i++)); do
		if counts="$(synced 2>/dev/null)" && [ -f "$logfile" ] &&
			tail -n "+$2" "$logfile" | python3 -c '
import json, sys
done = set()
for line in sys.stdin:
    e = json.loads(line)
    if e.get("msg") == "run finished" and "error" not in e:
        done.add(e.get("stream"))
sys.exit(0 if {"customers", "contacts", "products"} <= done else 1)'; then
			say "synced: simulator holds $counts; the log file has a finished run of customers, contacts and products"
			return 0
		fi
		sleep 0.5
	done
	fail "no complete sync within $1 s (simulator: $(synced 2>&1 || true))"
}
# prefix_pids PATTERN: the processes of this wine prefix matching PATTERN.
prefix_pids() {
	local p
	for p in $(pgrep -f "$1" || true); do
		tr '\0' '\n' 2>/dev/null <"/proc/$p/environ" | grep -qxF "WINEPREFIX=$WINEPREFIX" && printf '%s ' "$p"
	done
	return 0
}
log_lines() { if [ -f "$logfile" ]; then wc -l <"$logfile"; else echo 0; fi; }

echo "==> Windows service under wine ($tmp)"
say "building erpbridge (Linux, Windows), the shim, the keeper and the MSI"
go build -o "$tmp/erpbridge" ./cmd/erpbridge
GOOS=windows GOARCH=amd64 CGO_ENABLED=0 go build -o "$tmp/erpbridge.exe" ./cmd/erpbridge
x86_64-w64-mingw32-gcc -shared -O2 -o "$tmp/bcryptprimitives.dll" "$here/bcryptprimitives.c" -ladvapi32
x86_64-w64-mingw32-gcc -O2 -o "$tmp/keeper.exe" "$here/keeper.c"
installer/packaging/msi.sh "$tmp/erpbridge.msi" 0.0.1.0 "$tmp/erpbridge.exe" installer/packaging/erpbridge.toml

say "a fresh wine prefix"
timeout 120 "$WINE" wineboot --init >/dev/null 2>&1 || fail "wineboot --init"
# wineboot --init on a busy machine can leave two services.exe in the prefix,
# each with its own service database (sc query then answers from either):
# restart the prefix, so the keeper brings up exactly one.
"$WINESERVER" -k 2>/dev/null || true
"$WINESERVER" -w
cp "$tmp/bcryptprimitives.dll" "$WINEPREFIX/drive_c/windows/system32/"
"$WINE" "$tmp/keeper.exe" >/dev/null 2>&1 &
keeper_pid=$!
for ((i = 0; i < 300; i++)); do
	"$WINE" sc query rpcss >/dev/null 2>&1 && break
	sleep 0.1
done
scms="$(prefix_pids 'services\.exe' | wc -w)"
[ "$scms" -eq 1 ] || fail "the prefix runs $scms services.exe, want 1"

say "the simulator and the SQLite ERP"
: >"$tmp/sim.log" # there before the simulator writes it, for the loop below
"$tmp/erpbridge" sim --addr 127.0.0.1:0 --token sim-token --rpm -1 >"$tmp/sim.log" 2>&1 &
sim_pid=$!
base_url=""
for ((i = 0; i < 200; i++)); do
	base_url="$(awk '$1 == "base" && $2 == "URL:" { print $3 }' "$tmp/sim.log")"
	[ -n "$base_url" ] && break
	sleep 0.1
done
[ -n "$base_url" ] || { cat "$tmp/sim.log" >&2; fail "the simulator did not start"; }
sim_admin="${base_url%/api/v1}/_sim"
"$tmp/erpbridge" demo --dir "$tmp/demo" >"$tmp/demo.log" 2>&1 || { cat "$tmp/demo.log" >&2; fail "erpbridge demo --dir"; }
mkdir -p "$pd" "$pf"
cp "$tmp/demo/erp.db" "$pd/erp.db"
# write_config FILE [TOP-LEVEL LINE] [LOG LINE]: the demo ERP, the simulator on
# 127.0.0.1, the CRM token a secret; in C:\ProgramData\erpbridge the installed
# data and log folders are the defaults.
write_config() {
	cat >"$1" <<EOF
# written by installer/wine/check.sh
${2:-}
[http]
addr = "127.0.0.1:0"
[log]
level = "info"
${3:-}
[crm]
base_url = "$base_url"
token = "\${secret:CRM_TOKEN}"
requests_per_minute = -1
[erp]
driver = "sqlite"
dsn = "erp.db"
[streams.contacts]
filial = "01"
[streams.products]
price_table = "001"
EOF
}
write_config "$pd/erpbridge.toml"
cp "$tmp/erpbridge.exe" "$pf/erpbridge.exe"

echo "==> erpbridge service install, start, sync, stop, uninstall"
printf 'sim-token\n' | run "secret set" "$WINE" "$exe" secret set CRM_TOKEN -c "$config" >/dev/null
grep -qa sim-token "$pd/secrets/CRM_TOKEN" && fail "the secret is stored in clear in $pd/secrets/CRM_TOKEN"
say "secret CRM_TOKEN stored with DPAPI in C:\\ProgramData\\erpbridge\\secrets"
out="$(run "service install" "$WINE" "$exe" service install -c "$config")"
printf '%s\n' "$out" | sed 's/^/      /'
[ "$(state)" = STOPPED ] || fail "sc query does not show the installed service STOPPED (state: $(state))"
say "installed; sc query: STOPPED"
installed_values="$(service_values)"
run "service start" "$WINE" "$exe" service start >/dev/null
wait_state RUNNING 10
say "service start: RUNNING"
out="$(run "service status" "$WINE" "$exe" service status)"
grep -qF "config: $config" <<<"$out" || fail "service status does not name the config of the installed command line: $out"
wait_sync 120 1
from="$(log_lines)"
run "service stop" "$WINE" "$exe" service stop >/dev/null
wait_state STOPPED 5
"$WINE" sc query erpbridge | tr -d '\r' | grep -qE 'WIN32_EXIT_CODE +: 0 ' || fail "the service did not exit cleanly"
tail -n "+$from" "$logfile" | grep -q '"msg":"stopped"' || fail "the log file does not show a graceful stop"
say "service stop: STOPPED, exit code 0, the log file shows the graceful stop"
run "service uninstall" "$WINE" "$exe" service uninstall >/dev/null
[ -z "$(state)" ] || fail "the service is still there after uninstall (state: $(state))"
[ -f "$pd/erpbridge.toml" ] && [ -d "$pd/data" ] || fail "uninstall removed the config or the data"
say "service uninstall: gone; config and data kept"

echo "==> a failed install leaves nothing behind"
rb="$WINEPREFIX/drive_c/erpbridge-rollback"
mkdir -p "$rb"
write_config "$rb/erpbridge.toml" 'data_dir = "data"' 'file = "logs/erpbridge.log"'
if "$WINE" "$exe" service install -c 'C:\erpbridge-rollback\erpbridge.toml' --display-name "Remote Procedure Call (RPC)" >"$tmp/rollback.log" 2>&1; then
	fail "an install with a display name another service has succeeded"
fi
why="$(grep -o 'registering the service: .*' "$tmp/rollback.log" | tr -d '\r')" ||
	{ cat "$tmp/rollback.log" >&2; fail "the install failed before registering the service, not where this check needs it to"; }
[ -z "$(state)" ] || fail "the failed install left the service registered"
[ "$(ls -A "$rb")" = erpbridge.toml ] || fail "the failed install left folders behind: $(ls -A "$rb" | tr '\n' ' ')"
say "refused ($why) after creating data and logs: no service, no folder left"

echo "==> the MSI: msiexec /i … START_SERVICE=1, msiexec /x"
sim_admin POST reset >/dev/null
rm -rf "$pd/data" "$pf"
from="$(log_lines)"
msi="Z:${tmp//\//\\}\\erpbridge.msi"
msilog="Z:${tmp//\//\\}\\msi-install.log"
rc=0
"$WINE" msiexec /i "$msi" /qn START_SERVICE=1 /l*v "$msilog" >/dev/null 2>&1 || rc=$?
if [ "$rc" -ne 0 ]; then
	iconv -f utf-16 -t utf-8 "$tmp/msi-install.log" 2>/dev/null | tail -n 30 >&2 || true
	fail "msiexec /i exited $rc (cut to 8 bits: 67 = 1603 failed, 91 = 1627 function failed)"
fi
[ -f "$pf/erpbridge.exe" ] || fail "the MSI did not install C:\\Program Files\\erpbridge\\erpbridge.exe"
wait_state RUNNING 15
say "msiexec /i … START_SERVICE=1: RUNNING"
msi_values="$(service_values)"
if [ "$msi_values" != "$installed_values" ]; then
	diff <(printf '%s\n' "$installed_values") <(printf '%s\n' "$msi_values") >&2 || true
	fail "the MSI registers the service differently from service install (above: < service install, > MSI)"
fi
say "registered as service install registers it: $(printf '%s\n' "$msi_values" | awk '$1 ~ /Start|ErrorControl|ObjectName/ { printf "%s=%s ", $1, $3 }')"
wait_sync 120 "$((from + 1))"
# Stopped first: wine's msiexec removes the program as soon as the service
# reports STOPPED, and a process still exiting keeps erpbridge.exe (left for a
# reboot). Windows Installer waits for it (Restart Manager).
run "net stop" "$WINE" net stop erpbridge >/dev/null
wait_state STOPPED 10
for ((i = 0; i < 100; i++)); do
	[ -z "$(prefix_pids 'erpbridge\.exe')" ] && break
	sleep 0.1
done
[ -z "$(prefix_pids 'erpbridge\.exe')" ] || fail "the stopped service's process has not exited after 10 s"
rc=0
"$WINE" msiexec /x "$msi" /qn >/dev/null 2>&1 || rc=$?
[ "$rc" -eq 0 ] || fail "msiexec /x exited $rc"
[ -z "$(state)" ] || fail "the service is still there after msiexec /x (state: $(state))"
[ ! -e "$pf/erpbridge.exe" ] || fail "msiexec /x left C:\\Program Files\\erpbridge\\erpbridge.exe"
[ -f "$pd/erpbridge.toml" ] || fail "msiexec /x removed the config"
[ -f "$pd/secrets/CRM_TOKEN" ] && [ -d "$pd/data" ] || fail "msiexec /x removed the secrets or the data"
say "msiexec /x: service and program gone; config, secrets and data kept"

echo "==> wine check passed in $((SECONDS - started)) s"
