#!/usr/bin/env bash
# install-actions-runner.sh: GitHub Actions runner in /opt/actions-runner, checksum-verified, its files owned by root.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=helpers/install-helpers.sh
source "$HELPER_DIR/install-helpers.sh"
require_env RUNNER_USER RUNNER_VERSION

# RUNNER_VERSION is the toolset line ("latest") or a pin (X.Y.Z, with RUNNER_SHA256); the release,
# its URL and its published SHA-256 are resolved here, and the archive is checked before anything
# is unpacked.
resolve_github_runner "$RUNNER_VERSION" "${RUNNER_SHA256:-}"
version=$RESOLVED_VERSION

# RUNNER_DIR only for the tests (they install into a temporary folder); the image uses the default.
runner_dir=${RUNNER_DIR:-/opt/actions-runner}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
archive=$work/actions-runner-linux-x64-$version.tar.gz
log "installing GitHub Actions runner $version (requested: $RUNNER_VERSION) into $runner_dir"
fetch_verified "$RESOLVED_URL" "$archive" "$RESOLVED_SHA256"

if ! id "$RUNNER_USER" >/dev/null 2>&1; then
	log "creating user $RUNNER_USER"
	# A home folder for the caches jobs fill (npm, pip, azd); no password, no sudo.
	useradd --create-home --user-group --shell /bin/bash "$RUNNER_USER"
fi
install -d -m 0755 "$runner_dir"
tar -xzf "$archive" -C "$runner_dir"

# The runner's own script installs the libraries its .NET runtime needs (libicu, libssl, ...).
"$runner_dir/bin/installdependencies.sh"

# Every registration runs these files (config.sh, run.sh, run-helper.sh, bin/, externals/) as the
# runner user, and so does every job: if that user could write them, one job could plant code that
# the next registration runs with the next job's credentials. So root owns all of it and nothing is
# group- or world-writable. The folder itself is root:<runner user> 1775: the sticky bit lets the
# runner create what it writes at run time (.runner, .credentials*, .env, .path) while it cannot
# rename or delete root's files; _diag (its logs) and _work (the jobs' checkouts) are its own.
# The runner cannot update itself over root's files: kiln rebuilds the image for a new runner
# release (the daily runner-release watch) instead.
# run.sh copies run-helper.sh.template over run-helper.sh before every start (cp -f). Made here,
# root's, that copy fails harmlessly (run.sh goes on with this identical file); left to run.sh, it
# would be created by the runner user in the sticky folder, and a job could rewrite it.
cp "$runner_dir/run-helper.sh.template" "$runner_dir/run-helper.sh"
chown -R root:root "$runner_dir"
chmod -R go-w "$runner_dir"
chown "root:$RUNNER_USER" "$runner_dir"
chmod 1775 "$runner_dir"
install -d -m 0755 -o "$RUNNER_USER" -g "$RUNNER_USER" "$runner_dir/_diag" "$runner_dir/_work"

record_tool actions-runner "$version" "$RUNNER_VERSION" "$RESOLVED_SOURCE" sha256
