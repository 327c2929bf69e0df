#!/usr/bin/env bash
# install-azure-cli.sh: Azure CLI from Microsoft's apt repository, whose signing key must carry the fingerprint pinned in toolset.json.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=helpers/install-helpers.sh
source "$HELPER_DIR/install-helpers.sh"
require_env AZURE_CLI_VERSION MICROSOFT_KEY_FINGERPRINTS

# apt checks every package against the repository's signing key; what the build must check is that
# key: add_apt_repo refuses a downloaded key whose fingerprint is not the pinned one.
packages=${MICROSOFT_PACKAGES_URL:-https://packages.microsoft.com}
packages=${packages%/}
codename=$(lsb_release -cs)
add_apt_repo azure-cli "$packages/keys/microsoft.asc" "$MICROSOFT_KEY_FINGERPRINTS" \
	"deb [arch=amd64 signed-by={keyring}] $packages/repos/azure-cli/ $codename main"
# AZURE_CLI_VERSION: "latest" (the newest in the repository at build time) or an apt pin (X.Y.Z).
if [[ $AZURE_CLI_VERSION == latest ]]; then
	log "installing the newest Azure CLI"
	apt_install azure-cli
elif is_pin "$AZURE_CLI_VERSION"; then
	log "installing Azure CLI $AZURE_CLI_VERSION"
	apt_install "azure-cli=$AZURE_CLI_VERSION-1~$codename"
else
	die "azure-cli version '$AZURE_CLI_VERSION' is not a line kiln knows: use \"latest\" or pin \"X.Y.Z\""
fi
record_tool azure-cli "$(dpkg-query -W -f='${Version}' azure-cli)" "$AZURE_CLI_VERSION" \
	"$packages/repos/azure-cli/" apt-signature
