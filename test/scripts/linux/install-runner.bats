#!/usr/bin/env bats
# packer/linux/scripts/install-actions-runner.sh with stubs (download, useradd, chown, install -o):
# the runner files a registration executes end up root-owned and not writable by the runner user.
# shellcheck disable=SC2016 # the stubs and greps hold literal $ expressions on purpose

bats_load_library bats-support
bats_load_library bats-assert

setup() {
	REPO_ROOT=$(cd "$BATS_TEST_DIRNAME/../../.." && pwd)
	SCRIPTS=$REPO_ROOT/packer/linux/scripts
	T=$BATS_TEST_TMPDIR
	BIN=$T/bin
	DIR=$T/opt/actions-runner
	LOG=$T/calls.log
	mkdir -p "$BIN" "$T/helpers" "$T/release/bin" "$T/release/externals/node/bin" "$T/opt"
	# A runner release as the tarball ships it, with group/world-writable files to prove the
	# script takes write access away, not the tarball or the umask.
	for f in config.sh run.sh run-helper.sh.template env.sh bin/Runner.Listener externals/node/bin/node; do
		printf '#!/bin/sh\n' >"$T/release/$f"
	done
	printf '#!/bin/sh\necho installdependencies >>"%s"\n' "$LOG" >"$T/release/bin/installdependencies.sh"
	chmod -R 0777 "$T/release"
	tar -czf "$T/runner.tar.gz" -C "$T/release" .
	SHA=$(sha256sum "$T/runner.tar.gz" | cut -d' ' -f1)
	# The real helpers, with the download served from the local tarball (the checksum is real).
	cat >"$T/helpers/install-helpers.sh" <<HELPERS
# shellcheck source=/dev/null
source "$SCRIPTS/helpers/install-helpers.sh"
download_with_retry() { cp "$T/runner.tar.gz" "\$2"; }
HELPERS
	# Not root here: chown and install's -o/-g are recorded, the rest is real.
	stub id 'exit 0'
	stub useradd 'echo "useradd $*" >>"'"$LOG"'"'
	stub chown 'echo "chown $*" >>"'"$LOG"'"'
	stub install 'echo "install $*" >>"'"$LOG"'"
args=()
while [ $# -gt 0 ]; do
	case $1 in -o | -g) shift 2 ;; *) args+=("$1"); shift ;; esac
done
exec '"$(command -v install)"' "${args[@]}"'
}

stub() { # stub NAME BODY: a bash script on PATH
	printf '#!/usr/bin/env bash\n%s\n' "$2" >"$BIN/$1"
	chmod +x "$BIN/$1"
}

run_install() {
	run bash -c 'umask 000; exec "$@"' _ env PATH="$BIN:$PATH" HELPER_DIR="$T/helpers" RUNNER_DIR="$DIR" \
		KILN_STATE_DIR="$T/state" RUNNER_USER=runner RUNNER_VERSION=2.338.0 RUNNER_SHA256="$SHA" \
		bash "$SCRIPTS/install-actions-runner.sh"
}

@test "runner files: root owns everything a registration runs; the runner user can write only _diag and _work" {
	run_install
	assert_success
	# Ownership: everything root's, then the folder's group the runner user's (sticky, below).
	assert_equal "$(grep '^chown' "$LOG")" "chown -R root:root $DIR
chown root:runner $DIR"
	assert_equal "$(grep -c "^install -d -m 0755 -o runner -g runner $DIR/_diag $DIR/_work$" "$LOG")" 1
	# installdependencies.sh ran before the files were locked.
	assert_equal "$(grep -E '^(installdependencies|chown)' "$LOG" | head -n 1)" installdependencies
	# No file or folder but the sticky top folder is group- or world-writable.
	assert_equal "$(stat -c %a "$DIR")" 1775
	assert_equal "$(find "$DIR" -mindepth 1 -perm /022 -printf '%P\n')" ""
	for f in config.sh run.sh run-helper.sh bin bin/Runner.Listener externals/node/bin/node; do
		assert [ -e "$DIR/$f" ]
	done
	# run.sh's own copy of run-helper.sh exists already, root's (chown -R), so the runner user
	# never creates it.
	cmp "$DIR/run-helper.sh.template" "$DIR/run-helper.sh"
	assert_equal "$(stat -c %a "$DIR/run-helper.sh")" 755
	assert_equal "$(stat -c %a "$DIR/run.sh" "$DIR/bin" "$DIR/_work" "$DIR/_diag" | paste -sd' ')" "755 755 755 755"
	# Recorded for the software report: the pin, requested as itself.
	assert_equal "$(jq -r '[.name, .version, .requested, .verifiedBy] | join(" ")' "$T/state/tools.jsonl")" \
		"actions-runner 2.338.0 2.338.0 sha256"
}

@test "runner files: the image check agrees with what the install script sets up" {
	grep -q "expect \"root:1775 root:755 root:755 \$RUNNER_USER:755 \"" "$SCRIPTS/verify-tools.sh"
	grep -q 'chmod 1775 "$runner_dir"' "$SCRIPTS/install-actions-runner.sh"
	refute grep -q 'chown -R "$RUNNER_USER' "$SCRIPTS/install-actions-runner.sh"
}
