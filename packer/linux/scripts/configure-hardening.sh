#!/usr/bin/env bash
# configure-hardening.sh: key-only SSH and removal of tooling a CI runner does not use (toolset.json apt.remove).
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=helpers/install-helpers.sh
source "$HELPER_DIR/install-helpers.sh"

# sshd keeps the first value it reads and includes sshd_config.d/*.conf in name order at the top
# of sshd_config, so 00- wins over 50-cloud-init.conf even on a VM created with a password.
cat >/etc/ssh/sshd_config.d/00-kiln-hardening.conf <<'CONF'
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitEmptyPasswords no
PermitRootLogin no
CONF
chmod 0644 /etc/ssh/sshd_config.d/00-kiln-hardening.conf
sshd -t

read -r -a candidates <<<"${APT_REMOVE:-}"
installed=()
for package in "${candidates[@]+"${candidates[@]}"}"; do
	if dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q 'install ok installed'; then
		installed+=("$package")
	fi
done
if ((${#installed[@]})); then
	log "removing ${installed[*]}"
	apt-get purge -y "${installed[@]}"
fi
apt-get autoremove --purge -y
