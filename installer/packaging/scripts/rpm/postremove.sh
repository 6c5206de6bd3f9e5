#!/bin/sh
# erpbridge .rpm %postun: forget the removed unit. The config, the secrets,
# /var/lib/erpbridge, /var/log/erpbridge and the erpbridge user stay: the data
# folder remembers which CRM record each ERP record became (docs/install.md,
# Uninstall). rpm renames an edited config to .rpmsave, which is put back so a
# reinstall finds it where it was.
#   %postun 0 (erase) | 1 (upgrade)
set -e

config=/etc/erpbridge/erpbridge.toml
if [ "${1:-}" = 0 ] && [ -f "$config.rpmsave" ] && [ ! -e "$config" ]; then
	mv "$config.rpmsave" "$config"
fi

if [ -d /run/systemd/system ] && command -v systemctl >/dev/null 2>&1; then
	systemctl daemon-reload || true
fi
exit 0
