#!/usr/bin/env bash
# install-azure-cli.sh: Azure CLI from Microsoft's apt repository (version pinned in toolset.json when set).
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=helpers/install-helpers.sh
source "$HELPER_DIR/install-helpers.sh"

codename=$(lsb_release -cs)
add_apt_repo azure-cli https://packages.microsoft.com/keys/microsoft.asc \
	"deb [arch=amd64 signed-by={keyring}] https://packages.microsoft.com/repos/azure-cli/ $codename main"
if [[ -n ${AZURE_CLI_VERSION:-} ]]; then
	log "installing Azure CLI $AZURE_CLI_VERSION"
	apt_install "azure-cli=$AZURE_CLI_VERSION-1~$codename"
else
	log "installing the newest Azure CLI"
	apt_install azure-cli
fi
