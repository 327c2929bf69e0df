#!/usr/bin/env bash
# install-nodejs.sh: Node.js from NodeSource's apt repository, major version from toolset.json.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=helpers/install-helpers.sh
source "$HELPER_DIR/install-helpers.sh"
require_env NODE_MAJOR

log "installing Node.js $NODE_MAJOR.x"
add_apt_repo nodesource https://deb.nodesource.com/gpgkey/nodesource-repo.gpg.key \
	"deb [signed-by={keyring}] https://deb.nodesource.com/node_$NODE_MAJOR.x nodistro main"
apt_install nodejs

installed=$(node --version)
[[ $installed == "v$NODE_MAJOR."* ]] || die "expected Node.js $NODE_MAJOR.x, got $installed"
