#!/usr/bin/env bats
# The build's resolvers (packer/linux/scripts/helpers/resolve-releases.sh) and the install scripts
# that use them, against the recorded release indexes of fixtures/ served on loopback: a line
# (latest, 26.x, active LTS) or a pin resolves to one release whose published SHA-256 is checked
# before anything is unpacked, and whatever cannot be verified stops the build.
# shellcheck disable=SC2016 # bash -c snippets hold literal $ expressions on purpose

bats_load_library bats-support
bats_load_library bats-assert
load helpers/releases

setup() {
	start_release_server
	BIN=$BATS_TEST_TMPDIR/bin
	mkdir -p "$BIN"
}

teardown() {
	stop_release_server
}

# resolve FUNCTION ARGS...: runs one resolver and prints what it resolved, one field a line.
resolve() {
	run bash -c 'source "$1"; shift; "$@"; printf "%s\n" "$RESOLVED_VERSION" "$RESOLVED_SHA256" "$RESOLVED_URL" "$RESOLVED_SOURCE"' \
		_ "$HELPERS" "$@"
}

# Not root in CI: chown and install's -o/-g are recorded, the rest is real.
stub_root_tools() {
	stub id 'exit 0'
	stub useradd 'echo "useradd $*" >>"'"$BATS_TEST_TMPDIR/calls.log"'"'
	stub chown 'echo "chown $*" >>"'"$BATS_TEST_TMPDIR/calls.log"'"'
	stub install 'args=()
while [ $# -gt 0 ]; do
	case $1 in -o | -g) shift 2 ;; *) args+=("$1"); shift ;; esac
done
exec '"$(command -v install)"' "${args[@]}"'
}

install_runner() { # install_runner LINE [SHA256]
	stub_root_tools
	run env PATH="$BIN:$PATH" HELPER_DIR="$SCRIPTS/helpers" RUNNER_DIR="$BATS_TEST_TMPDIR/opt/actions-runner" \
		RUNNER_USER=runner RUNNER_VERSION="$1" RUNNER_SHA256="${2:-}" bash "$SCRIPTS/install-actions-runner.sh"
}

# --- actions/runner -------------------------------------------------------------------------

@test "runner latest: the newest release from the Releases API, checked against the asset digest" {
	publish_runner
	resolve resolve_github_runner latest
	assert_success
	assert_equal "${lines[-4]}" 2.338.0
	assert_equal "${lines[-3]}" "$RUNNER_TARBALL_SHA"
	assert_equal "${lines[-2]}" "$GITHUB_URL/actions/runner/releases/download/v2.338.0/actions-runner-linux-x64-2.338.0.tar.gz"
	# One unauthenticated API call, with a User-Agent and GitHub's media type and API version.
	run requests 'select(.path | startswith("/api/"))'
	assert_output '{"path":"/api/repos/actions/runner/releases/latest","user_agent":"kiln-image-build","accept":"application/vnd.github+json","api_version":"2022-11-28","metadata":null,"status":200}'
}

@test "runner latest without an asset digest: the SHA-256 from the release notes' linux-x64 marker" {
	publish_runner
	edit_runner_release '.assets |= map(del(.digest))'
	resolve resolve_github_runner latest
	assert_success
	assert_equal "${lines[-3]}" "$RUNNER_TARBALL_SHA"
}

@test "runner latest: digest and release notes disagreeing, or no checksum at all, stop the build" {
	publish_runner
	edit_runner_release '(.assets[] | select(.name | endswith("linux-x64-2.338.0.tar.gz")) | .digest) = "sha256:'"$(printf 'e%.0s' {1..64})"'"'
	resolve resolve_github_runner latest
	assert_failure
	assert_output --partial "the asset digest ($(printf 'e%.0s' {1..64})) and the release notes' SHA ($RUNNER_TARBALL_SHA) disagree"
	edit_runner_release '.assets |= map(del(.digest)) | .body = "no checksums here"'
	resolve resolve_github_runner latest
	assert_failure
	assert_output --partial "actions/runner 2.338.0 publishes no SHA-256 for actions-runner-linux-x64-2.338.0.tar.gz"
}

@test "runner latest: installed from the resolved release, root's, and recorded for the report" {
	publish_runner
	install_runner latest
	assert_success
	assert_output --partial "installing GitHub Actions runner 2.338.0 (requested: latest)"
	assert_output --partial "verified actions-runner-linux-x64-2.338.0.tar.gz: SHA-256 $RUNNER_TARBALL_SHA"
	assert [ -x "$BATS_TEST_TMPDIR/opt/actions-runner/bin/Runner.Listener" ]
	grep -qx installdependencies "$BATS_TEST_TMPDIR/calls.log"
	run jq -c . "$KILN_STATE_DIR/tools.jsonl"
	assert_output '{"name":"actions-runner","version":"2.338.0","requested":"latest","source":"'"$GITHUB_URL"'/actions/runner/releases/download/v2.338.0/actions-runner-linux-x64-2.338.0.tar.gz","verifiedBy":"sha256"}'
}

@test "runner: a checksum mismatch stops the install before anything is unpacked" {
	publish_runner
	# The release says one thing, the server hands out another file.
	echo "not the runner" | gzip >"$WEB/gh/actions/runner/releases/download/v2.338.0/actions-runner-linux-x64-2.338.0.tar.gz"
	install_runner latest
	assert_failure
	assert_output --partial "SHA-256 mismatch for"
	assert_output --partial "expected $RUNNER_TARBALL_SHA"
	assert_output --partial "nothing was installed"
	# The target folder was never made, the runner's own installer never ran, nothing was recorded.
	assert [ ! -e "$BATS_TEST_TMPDIR/opt/actions-runner" ]
	assert [ ! -e "$BATS_TEST_TMPDIR/calls.log" ]
	assert [ ! -e "$KILN_STATE_DIR/tools.jsonl" ]
}

@test "runner pin with sha256: no API call, that version's file, that checksum" {
	publish_runner 2.337.0
	install_runner 2.337.0 "$RUNNER_TARBALL_SHA"
	assert_success
	assert_output --partial "installing GitHub Actions runner 2.337.0 (requested: 2.337.0)"
	run requests 'select(.path | startswith("/api/"))'
	assert_output ""
	run jq -r '[.name, .version, .requested] | join(" ")' "$KILN_STATE_DIR/tools.jsonl"
	assert_output "actions-runner 2.337.0 2.337.0"
}

@test "runner pin without sha256, or an unknown line: refused before any download, saying what to do" {
	publish_runner
	install_runner 2.317.0
	assert_failure
	assert_output --partial 'actions-runner 2.317.0 is pinned without its sha256: add "sha256" next to "version" in toolset.json'
	install_runner stable
	assert_failure
	assert_output --partial "actions-runner version 'stable' is not a line kiln knows: use \"latest\", or pin \"X.Y.Z\" with its \"sha256\""
	run requests
	assert_output ""
	assert [ ! -e "$BATS_TEST_TMPDIR/opt/actions-runner" ]
}

@test "GitHub's API refuses a request without a User-Agent (the fake checks what the real one checks)" {
	publish_runner
	run curl -s -o /dev/null -w '%{http_code}' -A '' "$GITHUB_API_URL/repos/actions/runner/releases/latest"
	assert_output 403
}

# --- Node.js --------------------------------------------------------------------------------

@test "node active LTS: the highest release with an LTS codename, not the newest Current nor a later-dated maintenance release" {
	publish_node 24.21.0
	resolve resolve_node "active LTS"
	assert_success
	# index.json: v26.9.0 (lts false), v24.21.0 (Krypton), v22.22.1 (Jod, published after v24.21.0).
	assert_equal "${lines[-4]}" 24.21.0
	assert_equal "${lines[-3]}" "$(sha_of "$WEB/node/dist/v24.21.0/node-v24.21.0-linux-x64.tar.xz")"
	assert_equal "${lines[-2]}" "$NODE_DIST_URL/v24.21.0/node-v24.21.0-linux-x64.tar.xz"
	assert_equal "${lines[-1]}" "$NODE_DIST_URL/v24.21.0/"
	run requests '.path'
	assert_output '"/node/dist/index.json"
"/node/dist/v24.21.0/SHASUMS256.txt"'
}

@test "node lines: 26.x and latest take the highest 26 release, 24.x the highest 24" {
	publish_node 26.9.0 24.21.0
	resolve resolve_node 26.x
	assert_success
	assert_equal "${lines[-4]}" 26.9.0
	# The .tar.xz line of SHASUMS256.txt, not the .tar.gz one beside it.
	assert_equal "${lines[-3]}" "$(sha_of "$WEB/node/dist/v26.9.0/node-v26.9.0-linux-x64.tar.xz")"
	resolve resolve_node latest
	assert_equal "${lines[-4]}" 26.9.0
	resolve resolve_node 24.x
	assert_equal "${lines[-4]}" 24.21.0
}

@test "node: an unknown line is refused, naming the lines that exist" {
	publish_node
	resolve resolve_node 27.x
	assert_failure
	assert_output --partial "node line '27.x' matches no linux-x64 release in $NODE_DIST_URL/index.json; lines that exist: latest, active LTS (24.x Krypton), 26.x, 25.x, 24.x, 22.x, 20.x"
	resolve resolve_node stable
	assert_failure
	assert_output --partial "node line 'stable' is not a line kiln knows; lines that exist: latest, active LTS (24.x Krypton), 26.x"
}

@test "node pin: with sha256 it needs no index; without it is refused" {
	publish_node 26.8.0
	resolve resolve_node 26.8.0 "$(sha_of "$WEB/node/dist/v26.8.0/node-v26.8.0-linux-x64.tar.xz")"
	assert_success
	assert_equal "${lines[-4]}" 26.8.0
	run requests
	assert_output ""
	resolve resolve_node 26.8.0
	assert_failure
	assert_output --partial 'node 26.8.0 is pinned without its sha256'
}

@test "install-nodejs.sh: active LTS into the prefix (bin, include, lib, share only), node and npm recorded" {
	publish_node 24.21.0
	run env HELPER_DIR="$SCRIPTS/helpers" NODE_PREFIX="$BATS_TEST_TMPDIR/usr/local" NODE_VERSION="active LTS" \
		bash "$SCRIPTS/install-nodejs.sh"
	assert_success
	assert_output --partial "installing Node.js 24.21.0 (requested: active LTS)"
	assert_equal "$("$BATS_TEST_TMPDIR/usr/local/bin/node" --version)" v24.21.0
	assert_equal "$(find "$BATS_TEST_TMPDIR/usr/local" -mindepth 1 -maxdepth 1 -printf '%f\n' | sort | paste -sd' ')" "bin include lib share"
	run jq -r '[.name, .version, .requested, .source, .verifiedBy] | join(" ")' "$KILN_STATE_DIR/tools.jsonl"
	assert_output "node 24.21.0 active LTS $NODE_DIST_URL/v24.21.0/ sha256
npm 11.19.0 bundled with node 24.21.0 $NODE_DIST_URL/v24.21.0/ sha256"
}

@test "install-nodejs.sh: a checksum mismatch exits before installing: the prefix is untouched" {
	publish_node 26.9.0
	sed -i "s/^[0-9a-f]\{64\}  node-v26.9.0-linux-x64.tar.xz$/$(printf '0%.0s' {1..64})  node-v26.9.0-linux-x64.tar.xz/" \
		"$WEB/node/dist/v26.9.0/SHASUMS256.txt"
	mkdir -p "$BATS_TEST_TMPDIR/usr/local"
	echo keep >"$BATS_TEST_TMPDIR/usr/local/marker"
	run env HELPER_DIR="$SCRIPTS/helpers" NODE_PREFIX="$BATS_TEST_TMPDIR/usr/local" NODE_VERSION=26.x \
		bash "$SCRIPTS/install-nodejs.sh"
	assert_failure
	assert_output --partial "SHA-256 mismatch for"
	assert_output --partial "expected $(printf '0%.0s' {1..64})"
	assert_equal "$(find "$BATS_TEST_TMPDIR/usr/local" -mindepth 1 -printf '%P\n')" marker
	assert [ ! -e "$KILN_STATE_DIR/tools.jsonl" ]
}

# --- azd --------------------------------------------------------------------------------------

@test "azd latest: the highest released azure-dev-cli tag, not an extension, beta or VS Code release" {
	publish_azd
	resolve resolve_azd latest
	assert_success
	assert_equal "${lines[-4]}" 1.36.0
	assert_equal "${lines[-3]}" "$AZD_TARBALL_SHA"
	assert_equal "${lines[-2]}" "$GITHUB_URL/Azure/azure-dev/releases/download/azure-dev-cli_1.36.0/azd-linux-amd64.tar.gz"
	run requests 'select(.path | startswith("/api/")) | [.path, .user_agent] | join(" ")'
	assert_output '"/api/repos/Azure/azure-dev/releases?per_page=100 kiln-image-build"'
}

@test "install-azd.sh: installed and recorded; a checksum mismatch leaves the bin folder untouched" {
	publish_azd
	stub_root_tools
	mkdir -p "$BATS_TEST_TMPDIR/bin-dir"
	run env PATH="$BIN:$PATH" HELPER_DIR="$SCRIPTS/helpers" AZD_BIN_DIR="$BATS_TEST_TMPDIR/bin-dir" AZD_VERSION=latest \
		bash "$SCRIPTS/install-azd.sh"
	assert_success
	assert_equal "$("$BATS_TEST_TMPDIR/bin-dir/azd" version)" "azd version 1.36.0 (commit 0000000)"
	assert_equal "$(jq -r '[.name, .version, .requested, .verifiedBy] | join(" ")' "$KILN_STATE_DIR/tools.jsonl")" "azd 1.36.0 latest sha256"

	rm -rf "$BATS_TEST_TMPDIR/bin-dir" "$KILN_STATE_DIR"
	mkdir -p "$BATS_TEST_TMPDIR/bin-dir"
	echo tampered | gzip >"$WEB/gh/Azure/azure-dev/releases/download/azure-dev-cli_1.36.0/azd-linux-amd64.tar.gz"
	run env PATH="$BIN:$PATH" HELPER_DIR="$SCRIPTS/helpers" AZD_BIN_DIR="$BATS_TEST_TMPDIR/bin-dir" AZD_VERSION=latest \
		bash "$SCRIPTS/install-azd.sh"
	assert_failure
	assert_output --partial "SHA-256 mismatch"
	assert_equal "$(find "$BATS_TEST_TMPDIR/bin-dir" -mindepth 1)" ""
	assert [ ! -e "$KILN_STATE_DIR/tools.jsonl" ]
}

@test "azd: a pin without sha256 and an unknown line are refused" {
	resolve resolve_azd 1.35.1
	assert_failure
	assert_output --partial "azd 1.35.1 is pinned without its sha256"
	resolve resolve_azd newest
	assert_failure
	assert_output --partial "azd version 'newest' is not a line kiln knows"
}

# --- syft (SBOM) ------------------------------------------------------------------------------

@test "write-sbom.sh: syft checked against syft's published checksums, then an SPDX JSON SBOM" {
	publish_syft
	run env HELPER_DIR="$SCRIPTS/helpers" SBOM_ENABLED=true SYFT_VERSION=1.45.1 SBOM_SCAN_ROOT="$BATS_TEST_TMPDIR/root" \
		bash "$SCRIPTS/write-sbom.sh"
	assert_success
	assert_output --partial "verified syft_1.45.1_linux_amd64.tar.gz"
	assert_equal "$(jq -r .spdxVersion "$KILN_STATE_DIR/sbom.spdx.json")" SPDX-2.3
	assert_equal "$(jq -c . "$KILN_STATE_DIR/sbom.json")" '{"format":"spdx-json","file":"sbom.spdx.json","generator":"syft 1.45.1"}'
	run sed -n '1,2p' "$BATS_TEST_TMPDIR/syft.args"
	assert_output "scan
dir:$BATS_TEST_TMPDIR/root"
	grep -qFx -- './var/lib/kiln/**' "$BATS_TEST_TMPDIR/syft.args"
	grep -qFx -- "spdx-json=$KILN_STATE_DIR/sbom.spdx.json" "$BATS_TEST_TMPDIR/syft.args"
}

@test "write-sbom.sh: a syft archive that fails the checksum never runs; no SBOM unless asked for" {
	publish_syft
	echo tampered | gzip >"$WEB/gh/anchore/syft/releases/download/v1.45.1/syft_1.45.1_linux_amd64.tar.gz"
	run env HELPER_DIR="$SCRIPTS/helpers" SBOM_ENABLED=true SYFT_VERSION=1.45.1 bash "$SCRIPTS/write-sbom.sh"
	assert_failure
	assert_output --partial "SHA-256 mismatch"
	assert [ ! -e "$BATS_TEST_TMPDIR/syft.args" ]
	assert [ ! -e "$KILN_STATE_DIR/sbom.spdx.json" ]

	rm -f "$STATE/requests.jsonl"
	run env HELPER_DIR="$SCRIPTS/helpers" SBOM_ENABLED=false bash "$SCRIPTS/write-sbom.sh"
	assert_success
	assert_output --partial "no SBOM requested"
	run requests
	assert_output ""
}

@test "syft: a line instead of a version is refused" {
	resolve resolve_syft latest
	assert_failure
	assert_output --partial "syft version 'latest' must be pinned (X.Y.Z)"
}
