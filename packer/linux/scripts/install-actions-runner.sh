#!/usr/bin/env bash
# install-actions-runner.sh: GitHub Actions runner in /opt/actions-runner, checksum-verified, owned by the runner user.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=helpers/install-helpers.sh
source "$HELPER_DIR/install-helpers.sh"
require_env RUNNER_USER RUNNER_VERSION
[[ -n ${RUNNER_SHA256:-} ]] ||
	die "runner_version $RUNNER_VERSION was given without runner_sha256: take the linux-x64 SHA-256 from the release notes"

runner_dir=/opt/actions-runner
if ! id "$RUNNER_USER" >/dev/null 2>&1; then
	log "creating user $RUNNER_USER"
	# A home folder for the caches jobs fill (npm, pip, azd); no password, no sudo.
	useradd --create-home --user-group --shell /bin/bash "$RUNNER_USER"
fi

work=$(mktemp -d)
archive=$work/actions-runner-linux-x64-$RUNNER_VERSION.tar.gz
log "installing GitHub Actions runner $RUNNER_VERSION into $runner_dir"
download_with_retry "https://github.com/actions/runner/releases/download/v$RUNNER_VERSION/actions-runner-linux-x64-$RUNNER_VERSION.tar.gz" "$archive"
verify_sha256 "$archive" "$RUNNER_SHA256"
install -d -m 0755 "$runner_dir"
tar -xzf "$archive" -C "$runner_dir"
rm -rf "$work"

# The runner's own script installs the libraries its .NET runtime needs (libicu, libssl, ...).
"$runner_dir/bin/installdependencies.sh"
chown -R "$RUNNER_USER:$RUNNER_USER" "$runner_dir"
