#!/bin/sh
# erpbridge .rpm %preun: stop and disable the service when the package is
# erased, not when it is upgraded (%post restarts it then).
#   %preun 0 (erase) | 1 (upgrade)
set -e

if [ "${1:-0}" -eq 0 ]; then
	if [ -d /run/systemd/system ] && command -v systemctl >/dev/null 2>&1; then
		systemctl stop erpbridge.service || true
		systemctl disable erpbridge.service >/dev/null 2>&1 || true
	elif [ -x /etc/init.d/erpbridge ]; then
		# installed by `erpbridge service install` under System V init
		/etc/init.d/erpbridge stop || true
	fi
fi
exit 0
