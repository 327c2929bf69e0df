#!/usr/bin/env bash
# Runs every test suite of the project: the app (vitest: unit and flows, then the evidence suites),
# the Linux image (bats, packer, shellcheck), the Windows image (Pester on real PowerShell), the
# infrastructure (bicep), the least-privilege matrix of the Bicep's role assignments (one simulation
# per assignment) and a fixed budget of kiln explore's random worlds.
#
# The suites run in two lanes at once (the app's; the images', infrastructure's, roles' and
# explore's), since much of their time is spent waiting on tools, loopback servers and real
# timeouts; KILN_TEST_LANES=1 runs them one after another. Each suite's output is kept in
# test-results/suites/<suite>.log and printed whole when the suite ends. Every suite runs even when
# an earlier one failed, so one run reports every failure; the exit status is non-zero if any failed.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 2

LOGS=test-results/suites
mkdir -p "$LOGS"
rm -f "$LOGS"/*.log "$LOGS"/*.result

# suite NAME COMMAND...: runs one suite, keeps its output, prints it whole when it ends.
suite() {
  local name=$1 started=$SECONDS status
  shift
  echo "== $name: started"
  if "$@" >"$LOGS/$name.log" 2>&1; then status=passed; else status=FAILED; fi
  local seconds=$((SECONDS - started))
  echo "$status $seconds" >"$LOGS/$name.result"
  {
    flock 9
    echo "::group:: $name"
    cat "$LOGS/$name.log"
    echo "::endgroup::"
    echo "== $name: $status in ${seconds} s"
  } 9>"$LOGS/.print-lock"
}

app_lane() {
  suite app-typecheck npm run --silent typecheck
  suite app-lint npm run --silent lint
  suite app-format npm run --silent format:check
  suite app npm run --silent test
  suite app-evidence npm run --silent test:evidence
}

tools_lane() {
  suite linux-image npm run --silent test:linux
  suite windows-image npm run --silent test:windows
  suite infra npm run --silent test:infra
  suite roles npm run --silent test:roles
  # A fixed budget of kiln explore's random worlds (the same seeds every time): a world that breaks
  # a safety invariant fails the suite, and its finding (shrunk for at most a minute) is written to
  # test-results/explore-findings/ as a scenario file that kiln simulate runs as is.
  suite explore node bin/kiln.js explore --seeds 250 --seed 1 --shrink-minutes 1 --out test-results/explore-findings
}

started=$SECONDS
if [[ "${KILN_TEST_LANES:-2}" == 1 ]]; then
  app_lane
  tools_lane
else
  app_lane &
  app=$!
  tools_lane &
  tools=$!
  wait "$app" "$tools"
fi

echo
echo "suite            result  seconds"
failed=()
for result in "$LOGS"/*.result; do
  name=$(basename "$result" .result)
  read -r status seconds <"$result"
  printf '%-16s %-7s %7s\n' "$name" "$status" "$seconds"
  [[ $status == passed ]] || failed+=("$name")
done
echo "wall time: $((SECONDS - started)) s"
# A lane that died before a suite ended leaves no result: that is a failure too.
for name in app-typecheck app-lint app-format app app-evidence linux-image windows-image infra roles explore; do
  [[ -f "$LOGS/$name.result" ]] || failed+=("$name (no result)")
done
if ((${#failed[@]})); then
  echo "failed suites: ${failed[*]}"
  exit 1
fi
echo "all suites passed"
