#!/usr/bin/env bats
# packer/linux/scripts/verify-tools.sh with stub tools on PATH: it passes only when every promised
# tool runs (and the versions are the ones the install scripts resolved and recorded), and names
# every one that does not.

bats_load_library bats-support
bats_load_library bats-assert

setup() {
	REPO_ROOT=$(cd "$BATS_TEST_DIRNAME/../../.." && pwd)
	SCRIPTS=$REPO_ROOT/packer/linux/scripts
	BIN=$BATS_TEST_TMPDIR/bin
	mkdir -p "$BIN"
	# Only the stubs and the few real tools the script itself uses are on PATH.
	for tool in head grep cat jq; do ln -s "$(command -v "$tool")" "$BIN/$tool"; done
	for tool in git curl npm az gcc g++ make zip unzip; do stub "$tool" "$tool 1.0"; done
	stub node v26.3.0
	stub azd "azd version 1.35.1 (commit abc)"
	stub python3 "Python 3.10.12"
	stub runuser "2.338.0"
	stub stat "root:1775 root:755 root:755 runner:755 "
	stub bash "" # bash -n on the installed bootstrap.sh
	stub systemctl "enabled"
	stub sshd "passwordauthentication no"
	printf '#!/bin/sh\nexit 1\n' >"$BIN/dpkg-query" # nothing of apt.remove is installed
	chmod +x "$BIN/dpkg-query"
	# What the install scripts recorded (record_tool): the versions that must run.
	STATE=$BATS_TEST_TMPDIR/state
	mkdir -p "$STATE"
	for tool in "node 26.3.0" "azd 1.35.1" "actions-runner 2.338.0"; do
		jq -cn --arg n "${tool% *}" --arg v "${tool#* }" '{name: $n, version: $v, requested: "latest", source: "x", verifiedBy: "sha256"}'
	done >"$STATE/tools.jsonl"
}

stub() { # stub NAME OUTPUT: a tool that prints OUTPUT and succeeds
	printf '#!/bin/sh\necho "%s"\n' "$2" >"$BIN/$1"
	chmod +x "$BIN/$1"
}

run_verify() {
	run env -i PATH="$BIN" HELPER_DIR="$SCRIPTS/helpers" KILN_STATE_DIR="$STATE" RUNNER_USER=runner \
		APT_REMOVE="snapd apport" "$(command -v bash)" "$SCRIPTS/verify-tools.sh"
}

@test "every tool present: the build goes on" {
	run_verify
	assert_success
	assert_output --partial "ok    node             v26.3.0"
	assert_output --partial "ok    removed:snapd"
	assert_output --partial "all tools present"
	refute_output --partial FAIL
}

@test "missing tools, another Node.js than the recorded one and a leftover package fail the build, all named" {
	rm "$BIN/azd" "$BIN/unzip"
	stub node v20.19.0
	printf '#!/bin/sh\necho "install ok installed"\n' >"$BIN/dpkg-query"
	run_verify
	assert_failure
	assert_output --partial "FAIL  azd"
	assert_output --partial "FAIL  unzip"
	assert_output --partial "FAIL  node"
	assert_output --partial "FAIL  removed:snapd"
	assert_output --regexp "ERROR: 5 tool\(s\) missing or broken: node azd unzip removed:snapd removed:apport"
}

@test "runner files writable by the runner user fail the build" {
	stub stat "runner:755 runner:755 runner:755 runner:755 "
	run_verify
	assert_failure
	assert_output --partial "FAIL  runner-owner"
}

@test "a runner of another version than the one installed and recorded fails the build" {
	stub runuser "2.337.0"
	run_verify
	assert_failure
	assert_output --partial "FAIL  runner"
}

@test "nothing recorded for a tool (its install script did not run to the end) fails the build" {
	grep -v '"azd"' "$STATE/tools.jsonl" >"$STATE/tools.new" && mv "$STATE/tools.new" "$STATE/tools.jsonl"
	run_verify
	assert_failure
	assert_output --partial "FAIL  azd"
}
