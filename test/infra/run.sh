#!/usr/bin/env bash
# The infra test suite, one entry point (npm run test:infra): compiles main.bicep and every module
# with the real Bicep CLI and lints each with the committed bicepconfig.json (any diagnostic fails:
# bicep exits 0 on warnings, so its output is what is judged), builds dist/infra/main.json, then runs
# the node:test suites over the compiled and evaluated templates, azure.yaml and the workflows.
# Ends with "N passed, N failed" and exits non-zero when anything failed.
set -uo pipefail
cd "$(dirname "$0")/../.."

passed=0
failed=0
failures=()
pass() { passed=$((passed + 1)); echo "ok - $1"; }
fail() { failed=$((failed + 1)); failures+=("$1"); echo "not ok - $1"; }

if command -v bicep >/dev/null 2>&1; then
  bicep=$(command -v bicep)
elif [[ -x .tools/bin/bicep ]]; then
  bicep="$PWD/.tools/bin/bicep"
else
  echo "test/infra/run.sh: no bicep CLI; run bash .ci/setup-infra.sh first" >&2
  echo "0 passed, 1 failed"
  exit 1
fi
echo "# using $bicep ($("$bicep" --version))"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# 1. Every template compiles and lints without a single diagnostic. One bicep process builds them
# all and one lints them all (the CLI's start-up is most of its time); a diagnostic names its file.
files=(infra/main.bicep infra/modules/*.bicep)
build_out=$("$bicep" build --pattern 'infra/**/*.bicep' --outdir "$tmp/build" 2>&1)
build_status=$?
lint_out=$("$bicep" lint --pattern 'infra/**/*.bicep' 2>&1)
lint_status=$?
for file in "${files[@]}"; do
  built="$tmp/build/${file#infra/}"
  if ((build_status == 0)) && [[ -s "${built%.bicep}.json" ]] && ! grep -qF "$file(" <<<"$build_out"; then
    pass "bicep build $file"
  else
    grep -F "$file(" <<<"$build_out" | sed 's/^/#   /'
    fail "bicep build $file"
  fi
  if ((lint_status == 0)) && ! grep -qF "$file(" <<<"$lint_out"; then
    pass "bicep lint $file"
  else
    grep -F "$file(" <<<"$lint_out" | sed 's/^/#   /'
    fail "bicep lint $file"
  fi
done
# Anything either printed is a diagnostic, even one no file was named in.
if [[ -z "$build_out$lint_out" ]]; then
  pass "bicep build and lint print nothing for infra/"
else
  printf '%s\n%s\n' "$build_out" "$lint_out" | sed 's/^/#   /'
  fail "bicep build and lint print nothing for infra/"
fi

# 2. The linter is live: the committed configuration flags a known-bad fixture.
out=$("$bicep" lint test/infra/fixtures/lint-warnings.bicep 2>&1)
if grep -q 'no-unused-params' <<<"$out" && grep -q 'no-unused-vars' <<<"$out" && grep -q 'no-hardcoded-location' <<<"$out"; then
  pass "bicep lint reports the fixture's warnings with bicepconfig.json"
else
  echo "$out" | sed 's/^/#   /'
  fail "bicep lint reports the fixture's warnings with bicepconfig.json"
fi

# 3. npm run build:infra's script produces dist/infra/main.json.
if out=$(bash infra/build.sh 2>&1) && [[ -s dist/infra/main.json ]]; then
  pass "infra/build.sh compiles dist/infra/main.json"
else
  echo "$out" | sed 's/^/#   /'
  fail "infra/build.sh compiles dist/infra/main.json"
fi

# 3b. The compiled template the fake cloud draws its role assignments from is the one the Bicep
# compiles to today (kiln simulate reads the committed copy).
if cmp -s dist/infra/main.json infra/generated/main.json; then
  pass "infra/generated/main.json equals a fresh build"
else
  fail "infra/generated/main.json differs from a fresh build: run npm run build:infra and commit it"
fi

# 4. The node:test suites (spec output for people, TAP to a file for the counts).
tap="$tmp/node.tap"
node --test \
  --test-reporter=spec --test-reporter-destination=stdout \
  --test-reporter=tap --test-reporter-destination="$tap" \
  test/infra/*.test.mjs
node_status=$?
node_pass=$(grep -E '^# pass [0-9]+' "$tap" | tail -1 | awk '{print $3}')
node_fail=$(grep -E '^# fail [0-9]+' "$tap" | tail -1 | awk '{print $3}')
node_pass=${node_pass:-0}
node_fail=${node_fail:-0}
passed=$((passed + node_pass))
failed=$((failed + node_fail))
if ((node_fail > 0)); then failures+=("node:test suites ($node_fail)"); fi
if ((node_status != 0 && node_fail == 0)); then fail "node --test exited $node_status"; fi
if ((node_pass == 0)); then fail "node:test ran no test"; fi

if ((failed > 0)); then printf '# failed: %s\n' "${failures[@]}"; fi
echo "$passed passed, $failed failed"
((failed == 0))
