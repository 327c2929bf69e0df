#!/usr/bin/env bash
# configure-runner-service.sh: installs bootstrap.sh and the github-runner unit, enabled for the next boot.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=helpers/install-helpers.sh
source "$HELPER_DIR/install-helpers.sh"
require_env RUNNER_USER STAGING_DIR

# Root-owned, outside the runner folder: a job (running as the runner user) cannot rewrite the
# script that handles the next registration's PAT.
install -d -m 0755 /usr/local/lib/github-runner
install -m 0755 -o root -g root "$STAGING_DIR/bootstrap.sh" /usr/local/lib/github-runner/bootstrap.sh

# Optional environment file for the unit; root-only because it may hold GH_PAT.
install -d -m 0750 /etc/github-runner

sed -e "s/^User=.*/User=$RUNNER_USER/" -e "s/^Group=.*/Group=$RUNNER_USER/" \
	"$STAGING_DIR/github-runner.service" >/etc/systemd/system/github-runner.service
chmod 0644 /etc/systemd/system/github-runner.service
systemd-analyze verify /etc/systemd/system/github-runner.service
systemctl daemon-reload
# Enabled, not started: the build VM has no runner environment; scale set instances start it at boot.
systemctl enable github-runner.service
log "github-runner.service enabled for user $RUNNER_USER"
