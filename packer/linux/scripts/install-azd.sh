#!/usr/bin/env bash
# install-azd.sh: Azure Developer CLI release binary, checked against the SHA-256 in toolset.json.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=helpers/install-helpers.sh
source "$HELPER_DIR/install-helpers.sh"
require_env AZD_VERSION AZD_SHA256

work=$(mktemp -d)
archive=$work/azd-linux-amd64.tar.gz
log "installing azd $AZD_VERSION"
download_with_retry "https://github.com/Azure/azure-dev/releases/download/azure-dev-cli_$AZD_VERSION/azd-linux-amd64.tar.gz" "$archive"
verify_sha256 "$archive" "$AZD_SHA256"
tar -xzf "$archive" -C "$work"
install -m 0755 -o root -g root "$work/azd-linux-amd64" /usr/local/bin/azd
rm -rf "$work"
