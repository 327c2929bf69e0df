#!/usr/bin/env bash
# Shared setup for the resolver, SBOM and software report tests: a loopback server publishing the
# recorded release indexes of fixtures/ (GitHub Releases API, nodejs.org/dist, syft's checksums,
# Microsoft's key, IMDS), and small artifacts the tests make, with the published checksums
# rewritten to match them. No network: every vendor URL points at the server.

# shellcheck disable=SC2034 # the variables are read by the .bats files that load this one
REPO_ROOT=$(cd "$BATS_TEST_DIRNAME/../../.." && pwd)
SCRIPTS=$REPO_ROOT/packer/linux/scripts
HELPERS=$SCRIPTS/helpers/install-helpers.sh
FIXTURES=$BATS_TEST_DIRNAME/fixtures

# The checksums the recorded indexes carry for the files the tests replace with their own.
FIXTURE_RUNNER_SHA=af4b794c1bc41d73d40535e3fe092a39f9679cd8d965954c2aca25a05ca41d32
FIXTURE_AZD_SHA=a7c1e5b9d3f6a0c4e8b2d7f1a5c9e3b6d0f4a8c2e7b1d5f9a3c6e0b4d8f2a7c1
FIXTURE_NODE_SHA=3d5f7e9a1c3b5d7f9e0a2c4b6d8f0e1a3c5b7d9f2e4a6c8b0d1f3e5a7c9b2d4f
FIXTURE_SYFT_SHA=0b4d8a3e7c1f5b9d2a6e0c4f8b3d7a1e5c9f2b6d0a4e8c3f7b1d5a9e2c6f0b4d
MICROSOFT_FPR=BC528686B50D79E339D3721CEB3E94ADBE1229CF

sha_of() { sha256sum "$1" | cut -d' ' -f1; }

# start_release_server: serves $WEB on 127.0.0.1 and points every vendor setting at it.
start_release_server() {
	WEB=$BATS_TEST_TMPDIR/web
	STATE=$BATS_TEST_TMPDIR/server
	mkdir -p "$WEB" "$STATE"
	python3 "$BATS_TEST_DIRNAME/fake/release_server.py" "$WEB" "$STATE" 3>&- &
	SERVER_PID=$!
	local _
	for _ in $(seq 100); do
		[[ -s $STATE/port ]] && break
		sleep 0.05
	done
	[[ -s $STATE/port ]] || fail "the release server did not start"
	BASE=http://127.0.0.1:$(cat "$STATE/port")
	export GITHUB_API_URL=$BASE/api GITHUB_URL=$BASE/gh NODE_DIST_URL=$BASE/node/dist
	export MICROSOFT_PACKAGES_URL=$BASE/ms IMDS_ENDPOINT=$BASE
	export DOWNLOAD_RETRY_DELAY=0 IMDS_RETRY_DELAY=0
	export KILN_STATE_DIR=$BATS_TEST_TMPDIR/state
}

stop_release_server() {
	if [[ -n ${SERVER_PID:-} ]]; then
		kill "$SERVER_PID" 2>/dev/null || true
		wait "$SERVER_PID" 2>/dev/null || true
		SERVER_PID=
	fi
}

# requests [JQ_FILTER]: what the server was asked, one JSON object per line.
requests() {
	[[ -f $STATE/requests.jsonl ]] || return 0
	jq -c "${1:-.}" "$STATE/requests.jsonl"
}

# tarball DIR OUT: a gzip or xz tarball (by OUT's name) of DIR's contents.
tarball() {
	case $2 in
	*.xz) tar -cJf "$2" -C "$1" . ;;
	*) tar -czf "$2" -C "$1" . ;;
	esac
}

# publish_runner [VERSION]: an actions/runner release as the test's own tarball at
# {GITHUB_URL}/actions/runner/releases/download/v<V>/..., and the recorded "latest" release
# (fixtures/github, v2.338.0) answering the API with that tarball's SHA-256 in the asset digest and
# the release notes. Sets RUNNER_TARBALL_SHA.
publish_runner() {
	local version=${1:-2.338.0} src=$BATS_TEST_TMPDIR/runner-src dir
	mkdir -p "$src/bin" "$src/externals/node/bin"
	for f in config.sh run.sh run-helper.sh.template env.sh externals/node/bin/node; do
		printf '#!/bin/sh\n' >"$src/$f"
	done
	printf '#!/bin/sh\necho %s\n' "$version" >"$src/bin/Runner.Listener"
	printf '#!/bin/sh\necho installdependencies >>"%s"\n' "$BATS_TEST_TMPDIR/calls.log" >"$src/bin/installdependencies.sh"
	chmod -R 0755 "$src"
	dir=$WEB/gh/actions/runner/releases/download/v$version
	mkdir -p "$dir" "$WEB/api/repos/actions/runner/releases"
	tarball "$src" "$dir/actions-runner-linux-x64-$version.tar.gz"
	RUNNER_TARBALL_SHA=$(sha_of "$dir/actions-runner-linux-x64-$version.tar.gz")
	sed "s/$FIXTURE_RUNNER_SHA/$RUNNER_TARBALL_SHA/g" "$FIXTURES/github/actions-runner-release-latest.json" \
		>"$WEB/api/repos/actions/runner/releases/latest"
}

# edit_runner_release JQ_FILTER: changes the published "latest" release, e.g. drops the digest.
edit_runner_release() {
	local file=$WEB/api/repos/actions/runner/releases/latest
	jq "$1" "$file" >"$file.new" && mv "$file.new" "$file"
}

# publish_node VERSION...: a linux-x64 tarball per version (bin/node prints its version, bin/npm
# 11.19.0) under {NODE_DIST_URL}/v<V>/, with that release's SHASUMS256.txt (the recorded one, its
# linux-x64.tar.xz line carrying the test tarball's checksum), and the recorded index.json.
publish_node() {
	local version src dir
	mkdir -p "$WEB/node/dist"
	cp "$FIXTURES/node/index.json" "$WEB/node/dist/index.json"
	for version in "$@"; do
		src=$BATS_TEST_TMPDIR/node-src-$version
		mkdir -p "$src/node-v$version-linux-x64/"{bin,include/node,lib/node_modules/npm,share/doc/node}
		printf '#!/bin/sh\necho v%s\n' "$version" >"$src/node-v$version-linux-x64/bin/node"
		printf '#!/bin/sh\necho 11.19.0\n' >"$src/node-v$version-linux-x64/bin/npm"
		chmod +x "$src/node-v$version-linux-x64/bin/"*
		echo '#define NODE_MAJOR_VERSION 0' >"$src/node-v$version-linux-x64/include/node/node_version.h"
		echo '{"name":"npm"}' >"$src/node-v$version-linux-x64/lib/node_modules/npm/package.json"
		echo "Node.js $version" >"$src/node-v$version-linux-x64/README.md"
		dir=$WEB/node/dist/v$version
		mkdir -p "$dir"
		tar -cJf "$dir/node-v$version-linux-x64.tar.xz" -C "$src" "node-v$version-linux-x64"
		sed -e "s/$FIXTURE_NODE_SHA/$(sha_of "$dir/node-v$version-linux-x64.tar.xz")/" -e "s/v26\.9\.0/v$version/g" \
			"$FIXTURES/node/SHASUMS256.txt" >"$dir/SHASUMS256.txt"
	done
}

# publish_azd: azd 1.36.0 as the test's tarball, and the recorded release list of Azure/azure-dev
# (extension, beta and VS Code releases around it) with its azd-linux-amd64.tar.gz digest.
publish_azd() {
	local src=$BATS_TEST_TMPDIR/azd-src dir=$WEB/gh/Azure/azure-dev/releases/download/azure-dev-cli_1.36.0
	mkdir -p "$src" "$dir" "$WEB/api/repos/Azure/azure-dev"
	printf '#!/bin/sh\necho "azd version 1.36.0 (commit 0000000)"\n' >"$src/azd-linux-amd64"
	chmod +x "$src/azd-linux-amd64"
	tarball "$src" "$dir/azd-linux-amd64.tar.gz"
	AZD_TARBALL_SHA=$(sha_of "$dir/azd-linux-amd64.tar.gz")
	sed "s/$FIXTURE_AZD_SHA/$AZD_TARBALL_SHA/g" "$FIXTURES/github/azure-dev-releases.json" \
		>"$WEB/api/repos/Azure/azure-dev/releases"
}

# publish_syft: syft 1.45.1 as a stub that records its arguments and writes a small SPDX document
# to its --output spdx-json=FILE, with the recorded syft_1.45.1_checksums.txt listing it.
publish_syft() {
	local src=$BATS_TEST_TMPDIR/syft-src dir=$WEB/gh/anchore/syft/releases/download/v1.45.1
	mkdir -p "$src" "$dir"
	cat >"$src/syft" <<STUB
#!/bin/sh
printf '%s\n' "\$@" >"$BATS_TEST_TMPDIR/syft.args"
for arg in "\$@"; do
	case \$arg in spdx-json=*) out=\${arg#spdx-json=} ;; esac
done
printf '{"spdxVersion":"SPDX-2.3","name":"kiln-linux-image","packages":[{"name":"git"},{"name":"jq"}]}\n' >"\$out"
STUB
	chmod +x "$src/syft"
	printf 'LICENSE\n' >"$src/LICENSE"
	# As syft's releases pack it: the files at the top, no ./ prefix.
	tar -czf "$dir/syft_1.45.1_linux_amd64.tar.gz" -C "$src" syft LICENSE
	sed "s/$FIXTURE_SYFT_SHA/$(sha_of "$dir/syft_1.45.1_linux_amd64.tar.gz")/" \
		"$FIXTURES/syft/syft_1.45.1_checksums.txt" >"$dir/syft_1.45.1_checksums.txt"
}

# stub NAME BODY: a bash script on $BIN (put $BIN first on PATH).
stub() {
	mkdir -p "$BIN"
	printf '#!/usr/bin/env bash\n%s\n' "$2" >"$BIN/$1"
	chmod +x "$BIN/$1"
}
