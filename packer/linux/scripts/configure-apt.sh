#!/usr/bin/env bash
# configure-apt.sh: makes apt patient and non-interactive for the build, then upgrades the base image.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=helpers/install-helpers.sh
source "$HELPER_DIR/install-helpers.sh"
require_env UBUNTU_KEY_FINGERPRINTS

# cloud-init may still be installing packages on the fresh build VM.
cloud-init status --wait >/dev/null 2>&1 || true

cat >/etc/apt/apt.conf.d/90kiln-build <<'CONF'
Acquire::Retries "5";
DPkg::Lock::Timeout "600";
APT::Get::Assume-Yes "true";
CONF

# apt checks every Ubuntu package against the archive key the base image trusts; the build checks
# that this key is the one pinned in toolset.json (apt.keyFingerprints), so a base image whose
# archive is signed by another key stops here.
require_trusted_keys "${APT_TRUST_DIR:-/etc/apt}" "$UBUNTU_KEY_FINGERPRINTS"

log "upgrading the base image"
apt-get update
apt-get -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold dist-upgrade -y
