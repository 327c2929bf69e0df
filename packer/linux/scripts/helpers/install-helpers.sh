#!/usr/bin/env bash
# install-helpers.sh: shared functions for the image build scripts (sourced, never run).

# Where the build keeps what it learns about the image: the tools it installed (tools.jsonl, written
# by record_tool), the software report and the SBOM. KILN_STATE_DIR only for the tests.
KILN_STATE_DIR=${KILN_STATE_DIR:-/var/lib/kiln}
# Every request names its sender: GitHub's API refuses requests without a User-Agent.
KILN_USER_AGENT=${KILN_USER_AGENT:-kiln-image-build}

log() { printf '==> %s\n' "$*"; }

die() {
	printf 'ERROR: %s\n' "$*" >&2
	exit 1
}

# download_with_retry URL DEST [CURL_ARGS...]: fetches URL to DEST, retrying with a growing delay,
# because one network blip should not cost a 30-minute image build. CURL_ARGS (headers) are added.
download_with_retry() {
	local url=$1 dest=$2 attempt delay=${DOWNLOAD_RETRY_DELAY:-5}
	shift 2
	for attempt in 1 2 3 4 5; do
		if curl -fsSL --connect-timeout 20 --max-time 900 -A "$KILN_USER_AGENT" "$@" -o "$dest" "$url"; then
			return 0
		fi
		((attempt == 5)) && break
		log "download of $url failed (attempt $attempt of 5); retrying in ${delay}s"
		sleep "$delay"
		delay=$((delay * 2))
	done
	die "could not download $url after 5 attempts"
}

# verify_sha256 FILE EXPECTED: stops the build when FILE's SHA-256 is not EXPECTED, and deletes
# FILE first, so nothing can install what failed the check.
verify_sha256() {
	local file=$1 expected=$2 actual
	[[ $expected =~ ^[0-9a-f]{64}$ ]] || die "no valid SHA-256 given for $file"
	actual=$(sha256sum "$file" | cut -d' ' -f1)
	if [[ $actual != "$expected" ]]; then
		rm -f "$file"
		die "SHA-256 mismatch for $file: expected $expected, got $actual; nothing was installed"
	fi
}

# fetch_verified URL DEST SHA256: download_with_retry, then verify_sha256. Install only after it.
fetch_verified() {
	download_with_retry "$1" "$2"
	verify_sha256 "$2" "$3"
	log "verified $(basename "$2"): SHA-256 $3"
}

# apt_install PACKAGE...: installs without prompts, waiting for other apt users and retrying fetches.
apt_install() {
	apt-get install -y --no-install-recommends \
		-o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold "$@"
}

# key_fingerprints FILE: the primary-key fingerprints in an OpenPGP key file (armored or binary),
# one per line, upper case. Read with a throwaway keyring: nothing is imported anywhere.
key_fingerprints() {
	local home
	home=$(mktemp -d)
	GNUPGHOME=$home gpg --batch --quiet --show-keys --with-colons --with-fingerprint "$1" 2>/dev/null |
		awk -F: '$1 == "pub" { want = 1; next } $1 == "fpr" && want { print toupper($10); want = 0 }'
	rm -rf "$home"
}

# verify_key_fingerprint FILE "FPR[,FPR...]": stops the build unless FILE holds OpenPGP keys and
# every primary key in it is one of the pinned fingerprints (spaces ignored, any case). A key file
# that also carries an unpinned key is refused: apt would trust that key for the repository too.
verify_key_fingerprint() {
	local file=$1 fpr found list=" " entry
	local -a pinned
	IFS=, read -r -a pinned <<<"${2^^}"
	for entry in "${pinned[@]+"${pinned[@]}"}"; do
		entry=${entry// /}
		[[ $entry =~ ^[0-9A-F]{40}$ ]] || die "pinned key fingerprint '$entry' is not 40 hex digits (toolset.json keyFingerprints)"
		list+="$entry "
	done
	[[ $list != " " ]] || die "no key fingerprint pinned for $file (toolset.json keyFingerprints)"
	found=$(key_fingerprints "$file")
	[[ -n $found ]] || die "$file holds no OpenPGP public key"
	for fpr in $found; do
		[[ $list == *" $fpr "* ]] ||
			die "the repository key in $file has fingerprint $fpr, not the pinned${list% }: refusing to trust it"
	done
	log "repository key fingerprint(s) $(paste -sd" " <<<"$found") pinned in toolset.json"
}

# require_trusted_keys APT_DIR "FPR[,FPR...]": stops the build unless every pinned key is among
# the keys apt trusts: APT_DIR/trusted.gpg and trusted.gpg.d/ (sources without signed-by, as on
# 22.04) and the keyrings the sources name in signed-by (Signed-By in 24.04's ubuntu.sources). For
# the base image's Ubuntu archive key, which the image brings rather than the build downloading it.
require_trusted_keys() {
	local apt_dir=$1 trusted keyring fpr
	local -a pinned keyrings
	mapfile -t keyrings < <(
		printf '%s\n' "$apt_dir"/trusted.gpg "$apt_dir"/trusted.gpg.d/*.gpg "$apt_dir"/trusted.gpg.d/*.asc
		cat "$apt_dir"/sources.list "$apt_dir"/sources.list.d/*.list "$apt_dir"/sources.list.d/*.sources 2>/dev/null |
			grep -oiE 'signed-by(=|: *)[^] ]+' | sed -E 's/^[Ss]igned-[Bb]y(=|: *)//' || true
	)
	trusted=$(
		for keyring in "${keyrings[@]}"; do
			if [[ -f $keyring ]]; then
				key_fingerprints "$keyring"
			fi
		done
	)
	IFS=, read -r -a pinned <<<"${2^^}"
	((${#pinned[@]})) || die "no apt key fingerprint pinned (toolset.json apt.keyFingerprints)"
	for fpr in "${pinned[@]}"; do
		fpr=${fpr// /}
		grep -qx "$fpr" <<<"$trusted" ||
			die "apt does not trust the key $fpr pinned in toolset.json (it trusts: $(paste -sd' ' <<<"${trusted:-nothing}"))"
	done
	log "apt trusts the pinned archive key(s) ${2^^}"
}

# add_apt_repo NAME KEY_URL FINGERPRINTS "deb line with {keyring}": trusts the key at KEY_URL for
# this repository only (signed-by), and only when its fingerprint is the pinned one: apt then
# checks every package of the repository against that key. KILN_APT_DIR only for the tests.
add_apt_repo() {
	local name=$1 key_url=$2 fingerprints=$3 line=$4 apt_dir=${KILN_APT_DIR:-/etc/apt} keyring tmp
	keyring=$apt_dir/keyrings/$name.gpg
	install -d -m 0755 "$apt_dir/keyrings" "$apt_dir/sources.list.d"
	tmp=$(mktemp)
	download_with_retry "$key_url" "$tmp"
	verify_key_fingerprint "$tmp" "$fingerprints"
	gpg --batch --yes --dearmor -o "$keyring" "$tmp"
	rm -f "$tmp"
	chmod 0644 "$keyring"
	printf '%s\n' "${line//\{keyring\}/$keyring}" >"$apt_dir/sources.list.d/$name.list"
	apt-get update
}

# require_env NAME...: stops the build when a variable the template should pass is empty.
require_env() {
	local name
	for name in "$@"; do
		[[ -n ${!name:-} ]] || die "$name is not set (the Packer template passes it from toolset.json)"
	done
}

# record_tool NAME VERSION REQUESTED SOURCE VERIFIED_BY: notes one installed tool for the software
# report (docs/software-report.md, tools[]): REQUESTED is the toolset line or the pin, SOURCE where
# it came from, VERIFIED_BY how its download was checked (sha256, apt-signature, os, ...).
record_tool() {
	(($# == 5)) || die "record_tool needs NAME VERSION REQUESTED SOURCE VERIFIED_BY, got: $*"
	local arg
	for arg in "$@"; do
		[[ -n $arg ]] || die "record_tool $1: an empty field ($*)"
	done
	install -d -m 0755 "$KILN_STATE_DIR"
	jq -cn --arg name "$1" --arg version "$2" --arg requested "$3" --arg source "$4" --arg verifiedBy "$5" \
		'{name: $name, version: $version, requested: $requested, source: $source, verifiedBy: $verifiedBy}' \
		>>"$KILN_STATE_DIR/tools.jsonl"
}

# recorded_version NAME: the version record_tool noted last for NAME (empty when none).
recorded_version() {
	[[ -f $KILN_STATE_DIR/tools.jsonl ]] || return 0
	jq -rs --arg name "$1" 'map(select(.name == $name)) | last | .version // empty' "$KILN_STATE_DIR/tools.jsonl"
}

# The resolvers (resolve_node, resolve_github_runner, resolve_azd, resolve_syft) live beside this file.
# shellcheck source-path=SCRIPTDIR source=resolve-releases.sh
source "${BASH_SOURCE[0]%/*}/resolve-releases.sh"
