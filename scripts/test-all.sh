#!/usr/bin/env bash
# Runs every test suite of the project: the app (vitest: unit and flows, then evidence), the Linux image (bats, packer, shellcheck),
# the Windows image (Pester on real PowerShell), the infrastructure (bicep), the least-privilege
# matrix of the Bicep's role assignments (one simulation per assignment) and a fixed budget of
# kiln explore's random worlds. Each suite runs even when an earlier one failed, so one run reports
# every failure; the exit status is non-zero if any failed.
set -uo pipefail
cd "$(dirname "$0")/.."
failed=()
run() {
  local name=$1
  shift
  echo "::group:: $name"
  if "$@"; then echo "== $name: passed"; else echo "== $name: FAILED"; failed+=("$name"); fi
}
run app-typecheck npm run --silent typecheck
run app-lint npm run --silent lint
run app-format npm run --silent format:check
run app npm run --silent test
run app-evidence npm run --silent test:evidence
run linux-image npm run --silent test:linux
run windows-image npm run --silent test:windows
run infra npm run --silent test:infra
run roles npm run --silent test:roles
# A fixed budget of kiln explore's random worlds (the same seeds every time): a world that breaks a
# safety invariant fails the suite, and its finding (shrunk for at most a minute) is written to
# test-results/explore-findings/ as a scenario file that kiln simulate runs as is.
run explore node bin/kiln.js explore --seeds 250 --seed 1 --shrink-minutes 1 --out test-results/explore-findings
if ((${#failed[@]})); then
  echo "failed suites: ${failed[*]}"
  exit 1
fi
echo "all suites passed"
