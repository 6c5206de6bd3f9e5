#!/bin/sh
# erpbridge .deb/.rpm postinstall: the erpbridge system user, its data and log
# folders, read access to the config; on an upgrade, restart the service if it
# runs. A first install leaves the service disabled and stopped: the config
# needs editing first (docs/install.md).
#   deb: postinst configure [OLD-VERSION]   rpm: %post 1 (install) | 2 (upgrade)
set -e

user=erpbridge
if ! getent passwd "$user" >/dev/null 2>&1; then
	useradd --system --user-group --no-create-home --home-dir /var/lib/erpbridge \
		--shell /usr/sbin/nologin --comment "erpbridge service" "$user"
fi
install -d -o "$user" -g "$user" -m 0750 /var/lib/erpbridge /var/log/erpbridge
if [ -f /etc/erpbridge/erpbridge.toml ]; then
	chgrp "$user" /etc/erpbridge/erpbridge.toml
	chmod g+r,o-rwx /etc/erpbridge/erpbridge.toml
fi

upgrade=false
case "${1:-}" in
configure) [ -n "${2:-}" ] && upgrade=true ;;
2) upgrade=true ;;
esac

# systemd is PID 1 only when /run/systemd/system exists (not in a container
# or under System V init, where `erpbridge service install` writes an init script).
if [ -d /run/systemd/system ] && command -v systemctl >/dev/null 2>&1; then
	systemctl daemon-reload || true
	if [ "$upgrade" = true ]; then
		systemctl try-restart erpbridge.service || true
	fi
fi

if [ "$upgrade" = false ]; then
	echo "erpbridge installed: edit /etc/erpbridge/erpbridge.toml (secrets in /etc/default/erpbridge),"
	echo "check it with: erpbridge check -c /etc/erpbridge/erpbridge.toml"
	echo "then start it: systemctl enable --now erpbridge"
fi
exit 0
