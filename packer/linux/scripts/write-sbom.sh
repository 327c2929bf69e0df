#!/usr/bin/env bash
# write-sbom.sh: when the build asks for one (toolset.json sbom.enabled or the sbom variable), an SPDX JSON SBOM of the image made by syft, verified before it runs.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=helpers/install-helpers.sh
source "$HELPER_DIR/install-helpers.sh"

sbom=$KILN_STATE_DIR/sbom.spdx.json
meta=$KILN_STATE_DIR/sbom.json # {format, file, generator}: the software report's sbom field
if [[ ${SBOM_ENABLED:-false} != true ]]; then
	rm -f "$sbom" "$meta"
	log "no SBOM requested (toolset.json sbom.enabled / the sbom variable)"
	exit 0
fi
require_env SYFT_VERSION

# syft at the version pinned in toolset.json, its archive checked against syft_<v>_checksums.txt
# before anything is unpacked or run. It stays in a temporary folder: a build tool, not part of
# the image.
resolve_syft "$SYFT_VERSION" "${SYFT_SHA256:-}"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
archive=$work/$(basename "$RESOLVED_URL")
fetch_verified "$RESOLVED_URL" "$archive" "$RESOLVED_SHA256"
install -d -m 0755 "$work/syft"
tar -xzf "$archive" -C "$work/syft" --no-same-owner
[[ -x $work/syft/syft ]] || die "$(basename "$archive") holds no syft executable"

# The whole root file system but what is not the image: kernel and runtime file systems, temporary
# files (the build's staging folder among them) and kiln's own build records. SBOM_SCAN_ROOT only
# for the tests.
root=${SBOM_SCAN_ROOT:-/}
install -d -m 0755 "$KILN_STATE_DIR"
log "writing the SBOM of $root with syft $RESOLVED_VERSION"
"$work/syft/syft" scan "dir:$root" --quiet --source-name kiln-linux-image \
	--exclude './proc/**' --exclude './sys/**' --exclude './dev/**' --exclude './run/**' \
	--exclude './tmp/**' --exclude './var/tmp/**' --exclude './var/lib/kiln/**' \
	--output "spdx-json=$sbom"
jq -e '.spdxVersion | startswith("SPDX-")' "$sbom" >/dev/null || die "syft wrote no SPDX JSON to $sbom"
chmod 0644 "$sbom"
jq -n --arg generator "syft $RESOLVED_VERSION" '{format: "spdx-json", file: "sbom.spdx.json", generator: $generator}' >"$meta"
log "SBOM: $sbom ($(jq '.packages | length' "$sbom") packages)"
