#!/bin/sh
# erpbridge .rpm %post: the service account; on an upgrade, restart the
# service if it runs. A first install leaves the service disabled and
# stopped: the config needs editing first (docs/install.md).
#   %post 1 (install) | 2 (upgrade)
set -e

# @account@

# systemd is PID 1 only when /run/systemd/system exists (not in a container
# or under System V init, where `erpbridge service install` writes an init script).
if [ -d /run/systemd/system ] && command -v systemctl >/dev/null 2>&1; then
	systemctl daemon-reload || true
	if [ "${1:-1}" -ge 2 ]; then
		systemctl try-restart erpbridge.service || true
	fi
fi

if [ "${1:-1}" -lt 2 ]; then
	echo "erpbridge installed: edit /etc/erpbridge/erpbridge.toml, store its secrets with"
	echo "  erpbridge secret set NAME -c /etc/erpbridge/erpbridge.toml"
	echo "check it with: erpbridge check -c /etc/erpbridge/erpbridge.toml"
	echo "then start it: systemctl enable --now erpbridge"
fi
exit 0
