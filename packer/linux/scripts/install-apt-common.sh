#!/usr/bin/env bash
# install-apt-common.sh: git, curl, jq, build-essential, Python 3, zip/unzip and their friends (toolset.json apt.install).
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=helpers/install-helpers.sh
source "$HELPER_DIR/install-helpers.sh"
require_env APT_INSTALL

read -r -a packages <<<"$APT_INSTALL"
log "installing ${packages[*]}"
apt_install "${packages[@]}"
