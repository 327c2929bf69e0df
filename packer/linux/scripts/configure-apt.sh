#!/usr/bin/env bash
# configure-apt.sh: makes apt patient and non-interactive for the build, then upgrades the base image.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=helpers/install-helpers.sh
source "$HELPER_DIR/install-helpers.sh"

# cloud-init may still be installing packages on the fresh build VM.
cloud-init status --wait >/dev/null 2>&1 || true

cat >/etc/apt/apt.conf.d/90kiln-build <<'CONF'
Acquire::Retries "5";
DPkg::Lock::Timeout "600";
APT::Get::Assume-Yes "true";
CONF

log "upgrading the base image"
apt-get update
apt-get -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold dist-upgrade -y
