#!/usr/bin/env bash
# cleanup-image.sh: drops build leftovers (apt caches, staging files, build-only apt settings) before generalising.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=helpers/install-helpers.sh
source "$HELPER_DIR/install-helpers.sh"

rm -f /etc/apt/apt.conf.d/90kiln-build
apt-get clean
rm -rf /var/lib/apt/lists/* "${STAGING_DIR:?}" /root/.cache /root/.npm
journalctl --rotate >/dev/null 2>&1 || true
journalctl --vacuum-time=1s >/dev/null 2>&1 || true
log "cleanup done"
