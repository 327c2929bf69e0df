#!/usr/bin/env bash
# resolve-releases.sh: turns a toolset.json line (latest, 26.x, active LTS) or pin (X.Y.Z + sha256)
# into one release, its download URL and the SHA-256 its vendor published (sourced by install-helpers.sh).
#
# Each resolve_* function sets:
#   RESOLVED_VERSION  the version that will be installed (no leading v)
#   RESOLVED_URL      the file to download
#   RESOLVED_SHA256   the SHA-256 it must have: the pin's, or the vendor's published one
#   RESOLVED_SOURCE   what the software report names as the source
# and stops the build (die) when the line names nothing, a pin lacks its checksum, or the vendor
# publishes no checksum for the file. Nothing is downloaded here but the indexes and checksum lists.
#
# Vendor endpoints are settings with the real defaults (the template passes them through):
#   GITHUB_API_URL  https://api.github.com   the Releases API (unauthenticated: 60 requests an hour,
#                                            the build makes at most two)
#   GITHUB_URL      https://github.com        release downloads
#   NODE_DIST_URL   https://nodejs.org/dist   index.json, SHASUMS256.txt, tarballs

# shellcheck disable=SC2034 # the RESOLVED_* values are read by the scripts that source this file
RESOLVED_VERSION='' RESOLVED_URL='' RESOLVED_SHA256='' RESOLVED_SOURCE=''

# is_pin VALUE: VALUE is a full version (X.Y.Z), not a line.
is_pin() { [[ $1 =~ ^[0-9]+\.[0-9]+\.[0-9]+$ ]]; }

# pinned TOOL VERSION SHA256: the pin's checksum, refused when missing or malformed. A pin is only
# reproducible when the file it downloads is fixed too.
pinned() {
	local tool=$1 version=$2 sha=${3:-}
	[[ -n $sha ]] ||
		die "$tool $version is pinned without its sha256: add \"sha256\" next to \"version\" in toolset.json (the vendor's published SHA-256 of the file), or name a line such as \"latest\""
	[[ $sha =~ ^[0-9a-f]{64}$ ]] || die "$tool $version: sha256 '$sha' is not 64 lowercase hex digits"
	RESOLVED_SHA256=$sha
}

# github_release_json PATH DEST: GET {GITHUB_API_URL}/PATH into DEST, unauthenticated, as GitHub
# asks API clients to call it (User-Agent, Accept, API version).
github_release_json() {
	local api=${GITHUB_API_URL:-https://api.github.com}
	download_with_retry "${api%/}/$1" "$2" -H 'Accept: application/vnd.github+json' -H 'X-GitHub-Api-Version: 2022-11-28'
	jq -e 'type == "object" or type == "array"' "$2" >/dev/null 2>&1 || die "${api%/}/$1 did not answer JSON"
}

# release_asset_sha256 RELEASE_JSON ASSET: the asset's published SHA-256 from its "digest"
# ("sha256:<hex>", on release assets since 2025); empty when GitHub has none. Dies when the
# release has no such asset.
release_asset_sha256() {
	jq -e --arg a "$2" '.assets // [] | any(.name == $a)' "$1" >/dev/null ||
		die "release $(jq -r .tag_name "$1") has no asset $2 (it has: $(jq -r '[.assets[]?.name] | join(", ")' "$1"))"
	jq -r --arg a "$2" '.assets[] | select(.name == $a) | .digest // "" | select(startswith("sha256:")) | ltrimstr("sha256:")' "$1"
}

# resolve_github_runner LINE [SHA256]: actions/runner. LINE "latest": the newest release, from
# GET /repos/actions/runner/releases/latest; its SHA-256 from the asset's digest, else from the
# release notes' <!-- BEGIN SHA linux-x64 -->HEX<!-- END SHA linux-x64 --> marker (both present:
# they must agree). LINE X.Y.Z: a pin, SHA256 required.
resolve_github_runner() {
	local line=$1 sha=${2:-} work json version asset digest marker
	local base=${GITHUB_URL:-https://github.com}
	if is_pin "$line"; then
		version=$line
		pinned "actions-runner" "$version" "$sha"
	elif [[ $line == latest ]]; then
		work=$(mktemp -d)
		json=$work/release.json
		github_release_json repos/actions/runner/releases/latest "$json"
		version=$(jq -r '.tag_name // ""' "$json")
		version=${version#v}
		is_pin "$version" || die "actions/runner's latest release has tag '$(jq -r .tag_name "$json")', not vX.Y.Z"
		asset=actions-runner-linux-x64-$version.tar.gz
		digest=$(release_asset_sha256 "$json" "$asset")
		marker=$(jq -r '.body // ""' "$json" | sed -n 's/.*<!-- BEGIN SHA linux-x64 -->\([0-9a-f]\{64\}\)<!-- END SHA linux-x64 -->.*/\1/p' | head -n 1)
		if [[ -n $digest && -n $marker && $digest != "$marker" ]]; then
			die "actions/runner $version: the asset digest ($digest) and the release notes' SHA ($marker) disagree; refusing to choose"
		fi
		RESOLVED_SHA256=${digest:-$marker}
		[[ $RESOLVED_SHA256 =~ ^[0-9a-f]{64}$ ]] ||
			die "actions/runner $version publishes no SHA-256 for $asset (no asset digest, no linux-x64 marker in the release notes)"
		rm -rf "$work"
	else
		die "actions-runner version '$line' is not a line kiln knows: use \"latest\", or pin \"X.Y.Z\" with its \"sha256\""
	fi
	RESOLVED_VERSION=$version
	RESOLVED_URL=${base%/}/actions/runner/releases/download/v$version/actions-runner-linux-x64-$version.tar.gz
	RESOLVED_SOURCE=$RESOLVED_URL
}

# resolve_azd LINE [SHA256]: Azure/azure-dev's CLI (tags azure-dev-cli_X.Y.Z; the repository also
# releases extensions and betas under other tags, so /releases/latest may not be the CLI). LINE
# "latest": the highest azure-dev-cli_X.Y.Z that is neither draft nor prerelease among the newest
# 100 releases, verified by its azd-linux-amd64.tar.gz digest. LINE X.Y.Z: a pin, SHA256 required.
resolve_azd() {
	local line=$1 sha=${2:-} work json version tags
	local base=${GITHUB_URL:-https://github.com} asset=azd-linux-amd64.tar.gz
	if is_pin "$line"; then
		version=$line
		pinned azd "$version" "$sha"
	elif [[ $line == latest ]]; then
		work=$(mktemp -d)
		json=$work/releases.json
		github_release_json 'repos/Azure/azure-dev/releases?per_page=100' "$json"
		jq -e 'type == "array"' "$json" >/dev/null || die "Azure/azure-dev's release list is not a JSON array"
		version=$(jq -r '[.[] | select((.draft | not) and (.prerelease | not))
			| .tag_name | select(test("^azure-dev-cli_[0-9]+\\.[0-9]+\\.[0-9]+$")) | ltrimstr("azure-dev-cli_")]
			| sort_by(split(".") | map(tonumber)) | last // ""' "$json")
		if [[ -z $version ]]; then
			tags=$(jq -r '[.[].tag_name] | .[:10] | join(", ")' "$json")
			die "no released azure-dev-cli_X.Y.Z among Azure/azure-dev's newest releases (tags: ${tags:-none})"
		fi
		jq '.[] | select(.tag_name == "azure-dev-cli_'"$version"'")' "$json" >"$work/release.json"
		RESOLVED_SHA256=$(release_asset_sha256 "$work/release.json" "$asset")
		[[ $RESOLVED_SHA256 =~ ^[0-9a-f]{64}$ ]] || die "azd $version publishes no SHA-256 digest for $asset"
		rm -rf "$work"
	else
		die "azd version '$line' is not a line kiln knows: use \"latest\", or pin \"X.Y.Z\" with its \"sha256\""
	fi
	RESOLVED_VERSION=$version
	RESOLVED_URL=${base%/}/Azure/azure-dev/releases/download/azure-dev-cli_$version/$asset
	RESOLVED_SOURCE=$RESOLVED_URL
}

# node_lines INDEX_JSON: the lines index.json offers, for messages: "latest, active LTS (24.x
# Krypton), 26.x, 25.x, ...".
node_lines() {
	jq -r 'map(select(.version | test("^v[0-9]+\\.[0-9]+\\.[0-9]+$"))) as $r
		| ($r | map(select(.lts != false)) | sort_by(.version | ltrimstr("v") | split(".") | map(tonumber)) | last) as $lts
		| ["latest"]
		+ (if $lts then ["active LTS (\($lts.version | ltrimstr("v") | split(".")[0]).x \($lts.lts))"] else [] end)
		+ ($r | map(.version | ltrimstr("v") | split(".")[0] | tonumber) | unique | reverse | map("\(.).x"))
		| join(", ")' "$1"
}

# resolve_node LINE [SHA256]: Node.js for linux-x64 from {NODE_DIST_URL}/index.json (fields version
# "vX.Y.Z", lts false or the LTS codename, files), checked against that release's SHASUMS256.txt.
# Only releases offering linux-x64 and with a plain vX.Y.Z version count (no prereleases). Lines:
#   latest      the highest version (the Current line)
#   active LTS  the highest version whose lts is a codename. Node's schedule keeps one LTS line
#               in Active LTS at a time, always the newest LTS major: the older LTS majors are in
#               Maintenance and only get fixes, and a maintenance release published after it must
#               not win, so this takes the highest version, not the first or newest-dated entry.
#   N.x         the highest N.*.* release
# LINE X.Y.Z: a pin, SHA256 required (no index needed).
resolve_node() {
	local line=$1 sha=${2:-} work index version file filter
	local dist=${NODE_DIST_URL:-https://nodejs.org/dist}
	dist=${dist%/}
	if is_pin "$line"; then
		version=$line
		pinned node "$version" "$sha"
	else
		filter=''
		if [[ $line == latest ]]; then
			filter='.'
		elif [[ ${line,,} == 'active lts' ]]; then
			filter='select(.lts != false)'
		elif [[ $line =~ ^[0-9]+\.x$ ]]; then
			filter="select(.version | startswith(\"v${line%.x}.\"))"
		fi
		work=$(mktemp -d)
		index=$work/index.json
		download_with_retry "$dist/index.json" "$index"
		jq -e 'type == "array"' "$index" >/dev/null 2>&1 || die "$dist/index.json is not a JSON array"
		[[ -n $filter ]] ||
			die "node line '$line' is not a line kiln knows; lines that exist: $(node_lines "$index"), or pin \"X.Y.Z\" with its \"sha256\""
		version=$(jq -r "map(select(.version | test(\"^v[0-9]+\\\\.[0-9]+\\\\.[0-9]+$\"))
			| select((.files // []) | index(\"linux-x64\")) | $filter)
			| sort_by(.version | ltrimstr(\"v\") | split(\".\") | map(tonumber)) | last | .version // \"\"" "$index")
		version=${version#v}
		[[ -n $version ]] || die "node line '$line' matches no linux-x64 release in $dist/index.json; lines that exist: $(node_lines "$index")"
		file=node-v$version-linux-x64.tar.xz
		download_with_retry "$dist/v$version/SHASUMS256.txt" "$work/SHASUMS256.txt"
		RESOLVED_SHA256=$(awk -v f="$file" '$2 == f { print $1; exit }' "$work/SHASUMS256.txt")
		[[ $RESOLVED_SHA256 =~ ^[0-9a-f]{64}$ ]] || die "$dist/v$version/SHASUMS256.txt lists no SHA-256 for $file"
		rm -rf "$work"
	fi
	RESOLVED_VERSION=$version
	RESOLVED_URL=$dist/v$version/node-v$version-linux-x64.tar.xz
	RESOLVED_SOURCE=$dist/v$version/
}

# resolve_syft VERSION [SHA256]: syft (anchore/syft) at a pinned version, never a line: the SBOM
# generator is a build tool whose output format must not change under a rebuild. The SHA-256 of
# syft_<v>_linux_amd64.tar.gz comes from syft's published syft_<v>_checksums.txt (and must agree
# with a sha256 pinned in toolset.json when one is).
resolve_syft() {
	local version=$1 sha=${2:-} work listed file
	local base=${GITHUB_URL:-https://github.com}
	is_pin "$version" || die "syft version '$version' must be pinned (X.Y.Z): an SBOM generator is not taken from a line"
	file=syft_${version}_linux_amd64.tar.gz
	work=$(mktemp -d)
	download_with_retry "${base%/}/anchore/syft/releases/download/v$version/syft_${version}_checksums.txt" "$work/checksums.txt"
	listed=$(awk -v f="$file" '$2 == f { print $1; exit }' "$work/checksums.txt")
	rm -rf "$work"
	[[ $listed =~ ^[0-9a-f]{64}$ ]] || die "syft_${version}_checksums.txt lists no SHA-256 for $file"
	if [[ -n $sha && $sha != "$listed" ]]; then
		die "syft $version: toolset.json pins sha256 $sha but syft_${version}_checksums.txt lists $listed"
	fi
	RESOLVED_VERSION=$version
	RESOLVED_SHA256=$listed
	RESOLVED_URL=${base%/}/anchore/syft/releases/download/v$version/$file
	RESOLVED_SOURCE=$RESOLVED_URL
}
