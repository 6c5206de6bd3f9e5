#!/bin/sh
# erpbridge .deb/.rpm preremove: stop and disable the service when the package
# is removed, not when it is upgraded (postinstall restarts it then).
#   deb: prerm remove | upgrade NEW-VERSION | …   rpm: %preun 0 (erase) | 1 (upgrade)
set -e

case "${1:-}" in
remove | deconfigure | 0)
	if [ -d /run/systemd/system ] && command -v systemctl >/dev/null 2>&1; then
		systemctl stop erpbridge.service || true
		systemctl disable erpbridge.service >/dev/null 2>&1 || true
	elif [ -x /etc/init.d/erpbridge ]; then
		# installed by `erpbridge service install` under System V init
		/etc/init.d/erpbridge stop || true
	fi
	;;
esac
exit 0
