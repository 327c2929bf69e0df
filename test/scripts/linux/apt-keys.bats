#!/usr/bin/env bats
# Repository keys: apt checks packages against a repository's key, and the build checks that key.
# add_apt_repo trusts a downloaded key only when its fingerprint is the one toolset.json pins;
# require_trusted_keys checks the base image trusts the pinned Ubuntu archive key.
# shellcheck disable=SC2016 # bash -c snippets hold literal $ expressions on purpose

bats_load_library bats-support
bats_load_library bats-assert
load helpers/releases

setup() {
	start_release_server
	BIN=$BATS_TEST_TMPDIR/bin
	APT=$BATS_TEST_TMPDIR/etc/apt
	mkdir -p "$WEB/ms/keys"
	stub apt-get 'echo "apt-get $*" >>"'"$BATS_TEST_TMPDIR/apt.log"'"'
}

teardown() {
	stop_release_server
}

add_repo() { # add_repo KEY_FIXTURE PINNED
	cp "$FIXTURES/keys/$1" "$WEB/ms/keys/microsoft.asc"
	run env PATH="$BIN:$PATH" KILN_APT_DIR="$APT" bash -c 'source "$1"; add_apt_repo azure-cli "$2" "$3" "deb [arch=amd64 signed-by={keyring}] $4 jammy main"' \
		_ "$HELPERS" "$MICROSOFT_PACKAGES_URL/keys/microsoft.asc" "$2" "$MICROSOFT_PACKAGES_URL/repos/azure-cli/"
}

@test "toolset.json pins Microsoft's packages key, and the recorded microsoft.asc carries that fingerprint" {
	assert_equal "$(jq -r '.azure_cli.keyFingerprints | join(",")' "$REPO_ROOT/packer/linux/toolset.json")" "$MICROSOFT_FPR"
	run bash -c 'source "$1"; key_fingerprints "$2"' _ "$HELPERS" "$FIXTURES/keys/microsoft.asc"
	assert_output "$MICROSOFT_FPR"
}

@test "add_apt_repo: the pinned key is trusted for that repository only (signed-by), then apt updates" {
	add_repo microsoft.asc "$MICROSOFT_FPR"
	assert_success
	assert_output --partial "repository key fingerprint(s) $MICROSOFT_FPR pinned in toolset.json"
	assert_equal "$(cat "$APT/sources.list.d/azure-cli.list")" \
		"deb [arch=amd64 signed-by=$APT/keyrings/azure-cli.gpg] $MICROSOFT_PACKAGES_URL/repos/azure-cli/ jammy main"
	# The keyring is the dearmored key itself.
	run bash -c 'source "$1"; key_fingerprints "$2"' _ "$HELPERS" "$APT/keyrings/azure-cli.gpg"
	assert_output "$MICROSOFT_FPR"
	assert_equal "$(cat "$BATS_TEST_TMPDIR/apt.log")" "apt-get update"
	# Any case, spaces in the pin, and a second pinned fingerprint are fine.
	add_repo microsoft.asc "9BF4 5A0D 84C1 E423 0B10 FA14 02A7 2073 0E35 E4A4,bc52 8686 b50d 79e3 39d3 721c eb3e 94ad be12 29cf"
	assert_success
}

@test "add_apt_repo: a key with another fingerprint is refused, and nothing is trusted" {
	add_repo not-microsoft.asc "$MICROSOFT_FPR"
	assert_failure
	assert_output --partial "has fingerprint 9BF45A0D84C1E4230B10FA1402A720730E35E4A4, not the pinned $MICROSOFT_FPR: refusing to trust it"
	assert [ ! -e "$APT/keyrings/azure-cli.gpg" ]
	assert [ ! -e "$APT/sources.list.d/azure-cli.list" ]
	assert [ ! -e "$BATS_TEST_TMPDIR/apt.log" ]
}

@test "add_apt_repo: a key file carrying the pinned key and another one is refused" {
	cat "$FIXTURES/keys/microsoft.asc" "$FIXTURES/keys/not-microsoft.asc" >"$WEB/ms/keys/microsoft.asc"
	run env PATH="$BIN:$PATH" KILN_APT_DIR="$APT" bash -c 'source "$1"; add_apt_repo azure-cli "$2" "$3" "deb [signed-by={keyring}] x jammy main"' \
		_ "$HELPERS" "$MICROSOFT_PACKAGES_URL/keys/microsoft.asc" "$MICROSOFT_FPR"
	assert_failure
	assert_output --partial "has fingerprint 9BF45A0D84C1E4230B10FA1402A720730E35E4A4, not the pinned"
	assert [ ! -e "$APT/keyrings/azure-cli.gpg" ]
}

@test "add_apt_repo: no pin, a malformed pin, or a file that is no key are refused" {
	add_repo microsoft.asc ""
	assert_failure
	assert_output --partial "no key fingerprint pinned"
	add_repo microsoft.asc "BC528686"
	assert_failure
	assert_output --partial "pinned key fingerprint 'BC528686' is not 40 hex digits"
	echo "<html>maintenance</html>" >"$WEB/ms/keys/microsoft.asc"
	run env PATH="$BIN:$PATH" KILN_APT_DIR="$APT" bash -c 'source "$1"; add_apt_repo azure-cli "$2" "$3" "deb x"' \
		_ "$HELPERS" "$MICROSOFT_PACKAGES_URL/keys/microsoft.asc" "$MICROSOFT_FPR"
	assert_failure
	assert_output --partial "holds no OpenPGP public key"
}

@test "require_trusted_keys: the pinned archive key must be among apt's trusted keys or a signed-by keyring" {
	mkdir -p "$APT/trusted.gpg.d" "$APT/sources.list.d" "$BATS_TEST_TMPDIR/keyrings"
	gpg --batch --quiet --dearmor -o "$APT/trusted.gpg.d/other.gpg" "$FIXTURES/keys/not-microsoft.asc"
	run bash -c 'source "$1"; require_trusted_keys "$2" "$3"' _ "$HELPERS" "$APT" "$MICROSOFT_FPR"
	assert_failure
	assert_output --partial "apt does not trust the key $MICROSOFT_FPR pinned in toolset.json (it trusts: 9BF45A0D84C1E4230B10FA1402A720730E35E4A4)"
	# 24.04 style: the key is named by a source's Signed-By.
	gpg --batch --quiet --dearmor -o "$BATS_TEST_TMPDIR/keyrings/archive.gpg" "$FIXTURES/keys/microsoft.asc"
	printf 'Types: deb\nURIs: http://azure.archive.ubuntu.com/ubuntu/\nSuites: noble\nComponents: main\nSigned-By: %s\n' \
		"$BATS_TEST_TMPDIR/keyrings/archive.gpg" >"$APT/sources.list.d/ubuntu.sources"
	run bash -c 'source "$1"; require_trusted_keys "$2" "$3"' _ "$HELPERS" "$APT" "$MICROSOFT_FPR"
	assert_success
	# 22.04 style: in trusted.gpg.d.
	rm "$APT/sources.list.d/ubuntu.sources"
	cp "$BATS_TEST_TMPDIR/keyrings/archive.gpg" "$APT/trusted.gpg.d/ubuntu-keyring-2018-archive.gpg"
	run bash -c 'source "$1"; require_trusted_keys "$2" "$3"' _ "$HELPERS" "$APT" "$MICROSOFT_FPR"
	assert_success
}
