#!/usr/bin/env bash
# install-nodejs.sh: Node.js from nodejs.org's release tarball (toolset.json node line or pin), checked against its SHASUMS256.txt, into /usr/local.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=helpers/install-helpers.sh
source "$HELPER_DIR/install-helpers.sh"
require_env NODE_VERSION

# NODE_VERSION is a line ("active LTS", "latest", "26.x") resolved from {NODE_DIST_URL}/index.json,
# or a pin (X.Y.Z, with NODE_SHA256).
resolve_node "$NODE_VERSION" "${NODE_SHA256:-}"
version=$RESOLVED_VERSION
# NODE_PREFIX only for the tests (they install into a temporary folder); the image uses /usr/local.
prefix=${NODE_PREFIX:-/usr/local}

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
log "installing Node.js $version (requested: $NODE_VERSION) into $prefix"
fetch_verified "$RESOLVED_URL" "$work/node.tar.xz" "$RESOLVED_SHA256"

# Unpacked beside the archive first, then only the tree (bin, include, lib, share) is copied: the
# tarball's README, LICENSE and CHANGELOG do not belong in /usr/local. Root owns what is copied.
install -d -m 0755 "$work/node"
tar -xJf "$work/node.tar.xz" -C "$work/node" --strip-components=1 --no-same-owner
install -d -m 0755 "$prefix"
for dir in bin include lib share; do
	if [[ -d $work/node/$dir ]]; then
		cp -a "$work/node/$dir" "$prefix/"
	fi
done

installed=$("$prefix/bin/node" --version)
[[ $installed == "v$version" ]] || die "expected Node.js v$version in $prefix/bin, got $installed"
record_tool node "$version" "$NODE_VERSION" "$RESOLVED_SOURCE" sha256
# npm ships inside the same verified tarball.
record_tool npm "$(PATH="$prefix/bin:$PATH" "$prefix/bin/npm" --version)" "bundled with node $version" "$RESOLVED_SOURCE" sha256
