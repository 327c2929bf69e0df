#!/usr/bin/env bash
# install-azd.sh: Azure Developer CLI release binary (toolset.json azd line or pin), checked against its published SHA-256.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=helpers/install-helpers.sh
source "$HELPER_DIR/install-helpers.sh"
require_env AZD_VERSION

# AZD_VERSION is "latest" (the newest azure-dev-cli_X.Y.Z release, verified by its asset digest) or
# a pin (X.Y.Z, with AZD_SHA256).
resolve_azd "$AZD_VERSION" "${AZD_SHA256:-}"
version=$RESOLVED_VERSION
# AZD_BIN_DIR only for the tests; the image uses /usr/local/bin.
bin_dir=${AZD_BIN_DIR:-/usr/local/bin}

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
log "installing azd $version (requested: $AZD_VERSION)"
fetch_verified "$RESOLVED_URL" "$work/azd-linux-amd64.tar.gz" "$RESOLVED_SHA256"
tar -xzf "$work/azd-linux-amd64.tar.gz" -C "$work" --no-same-owner
install -m 0755 -o root -g root "$work/azd-linux-amd64" "$bin_dir/azd"
record_tool azd "$version" "$AZD_VERSION" "$RESOLVED_SOURCE" sha256
