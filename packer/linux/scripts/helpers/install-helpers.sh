#!/usr/bin/env bash
# install-helpers.sh: shared functions for the image build scripts (sourced, never run).

log() { printf '==> %s\n' "$*"; }

die() {
	printf 'ERROR: %s\n' "$*" >&2
	exit 1
}

# download_with_retry URL DEST: fetches URL to DEST, retrying with a growing delay, because one
# network blip should not cost a 30-minute image build.
download_with_retry() {
	local url=$1 dest=$2 attempt delay=${DOWNLOAD_RETRY_DELAY:-5}
	for attempt in 1 2 3 4 5; do
		if curl -fsSL --connect-timeout 20 --max-time 900 -o "$dest" "$url"; then
			return 0
		fi
		((attempt == 5)) && break
		log "download of $url failed (attempt $attempt of 5); retrying in ${delay}s"
		sleep "$delay"
		delay=$((delay * 2))
	done
	die "could not download $url after 5 attempts"
}

# verify_sha256 FILE EXPECTED: stops the build when FILE's SHA-256 is not EXPECTED.
verify_sha256() {
	local file=$1 expected=$2 actual
	[[ $expected =~ ^[0-9a-f]{64}$ ]] || die "no valid SHA-256 given for $file"
	actual=$(sha256sum "$file" | cut -d' ' -f1)
	[[ $actual == "$expected" ]] || die "SHA-256 mismatch for $file: expected $expected, got $actual"
}

# apt_install PACKAGE...: installs without prompts, waiting for other apt users and retrying fetches.
apt_install() {
	apt-get install -y --no-install-recommends \
		-o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold "$@"
}

# add_apt_repo NAME KEY_URL "deb line with {keyring}": trusts KEY_URL for this repository only.
add_apt_repo() {
	local name=$1 key_url=$2 line=$3 keyring=/etc/apt/keyrings/$1.gpg tmp
	install -d -m 0755 /etc/apt/keyrings
	tmp=$(mktemp)
	download_with_retry "$key_url" "$tmp"
	gpg --batch --yes --dearmor -o "$keyring" "$tmp"
	rm -f "$tmp"
	chmod 0644 "$keyring"
	printf '%s\n' "${line//\{keyring\}/$keyring}" >"/etc/apt/sources.list.d/$name.list"
	apt-get update
}

# require_env NAME...: stops the build when a variable the template should pass is empty.
require_env() {
	local name
	for name in "$@"; do
		[[ -n ${!name:-} ]] || die "$name is not set (the Packer template passes it from toolset.json)"
	done
}
