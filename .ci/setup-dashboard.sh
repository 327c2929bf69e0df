#!/usr/bin/env bash
# Installs Debian's Chromium for the dashboard's browser test (test/dashboard/), which drives it
# headless through playwright-core (a devDependency, so no browser download from npm).
# Idempotent: when /usr/bin/chromium runs, nothing is installed.
set -euo pipefail

if [[ -x /usr/bin/chromium ]] && /usr/bin/chromium --headless --no-sandbox --version >/dev/null 2>&1; then
  echo "chromium already installed: $(/usr/bin/chromium --version 2>/dev/null)"
  exit 0
fi

sudo=""
if [[ "$(id -u)" != 0 ]]; then sudo="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
# .ci/run updates the package lists first; a stand-alone run does it here when they are missing.
if ! apt-cache show chromium >/dev/null 2>&1; then $sudo apt-get update -qq >/dev/null; fi
$sudo apt-get install -y -qq --no-install-recommends chromium fonts-liberation >/dev/null
echo "chromium installed: $(/usr/bin/chromium --version 2>/dev/null)"
