# The service account, shared by the .deb postinst and the .rpm %post
# (build.sh puts it in place of the marker line in each; not a script of its
# own). Creates the erpbridge system user, its data and log folders, and
# gives it read access to the config and the secrets folder.
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
# erpbridge secret set writes here: root's folder, entered by the group only
install -d -o root -g "$user" -m 0750 /etc/erpbridge/secrets
