#!/usr/bin/env bash
# setup-linux-image.sh: installs what the Linux image tests need on a fresh Debian 12 (idempotent; run as root after apt-get update).
set -euo pipefail

packages=(packer shellcheck shfmt bats bats-assert bats-support systemd jq curl openssl ca-certificates python3 gnupg xz-utils)
missing=()
for package in "${packages[@]}"; do
	dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q 'install ok installed' || missing+=("$package")
done
if ((${#missing[@]})); then
	echo "installing ${missing[*]}"
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
# packer 1.6.6 checks for updates unless told not to; CI has no internet.
echo "linux image test tools: packer $(CHECKPOINT_DISABLE=1 packer version | head -n1), shellcheck $(shellcheck --version | sed -n 's/^version: //p'), shfmt $(shfmt --version), $(bats --version)"
