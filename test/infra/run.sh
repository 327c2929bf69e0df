#!/usr/bin/env bash
# The infra test suite, one entry point (npm run test:infra): compiles main.bicep and every module
# with the real Bicep CLI and lints each with the committed bicepconfig.json (any diagnostic fails:
# bicep exits 0 on warnings, so its output is what is judged), builds dist/infra/main.json, runs
# the node:test suites over the compiled and evaluated templates, azure.yaml and the workflows, then
# the azd hooks' tests: shellcheck and shfmt, bats for infra/hooks/*.sh and Pester on real
# PowerShell for infra/hooks/*.ps1 (tools from .ci/setup-linux-image.sh and setup-windows-image.sh).
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

# 5. The azd hooks (infra/hooks): the shell ones pass shellcheck and shfmt and their bats tests, the
# PowerShell ones their Pester tests, both against the fake az and azd of test/infra/hooks/fake.
hook_shell_files=(infra/hooks/*.sh test/infra/hooks/fake/* test/infra/hooks/*.bats)
missing=()
for tool in shellcheck shfmt bats; do command -v "$tool" >/dev/null 2>&1 || missing+=("$tool"); done
if ((${#missing[@]})); then
  fail "hook tests: ${missing[*]} missing (install them with: bash .ci/setup-linux-image.sh)"
else
  if out=$(shellcheck -x "${hook_shell_files[@]}" 2>&1); then
    pass "shellcheck infra/hooks and its tests (${#hook_shell_files[@]} files)"
  else
    echo "$out" | sed 's/^/#   /'
    fail "shellcheck infra/hooks and its tests"
  fi
  if out=$(shfmt -d "${hook_shell_files[@]}" 2>&1); then
    pass "shfmt infra/hooks and its tests"
  else
    echo "$out" | sed 's/^/#   /'
    fail "shfmt infra/hooks and its tests"
  fi
  bats_out=$(bats --tap test/infra/hooks/*.bats 2>&1)
  bats_status=$?
  echo "$bats_out"
  bats_pass=$(grep -cE '^ok ' <<<"$bats_out")
  bats_fail=$(grep -cE '^not ok ' <<<"$bats_out")
  passed=$((passed + bats_pass))
  failed=$((failed + bats_fail))
  if ((bats_fail > 0)); then failures+=("bats test/infra/hooks ($bats_fail)"); fi
  if ((bats_status != 0 && bats_fail == 0)); then fail "bats test/infra/hooks exited $bats_status"; fi
  if ((bats_pass == 0)); then fail "bats ran no hook test"; fi
fi

hosted_pwsh=.tools/pwsh-host/bin/Release/net10.0/linux-x64/pwsh-host
pester_module="$PWD/.tools/windows-image/modules/Pester/5.7.1/Pester.psd1"
if command -v pwsh >/dev/null 2>&1; then
  pwsh=$(command -v pwsh)
else
  pwsh=$hosted_pwsh
fi
if [[ ! -x $pwsh || ! -f $pester_module ]]; then
  fail "hook tests: no PowerShell or Pester (install them with: bash .ci/setup-windows-image.sh)"
else
  pester_out=$("$pwsh" -NoProfile -NonInteractive -File test/scripts/windows/Invoke-WindowsTests.ps1 \
    -PesterModulePath "$pester_module" -TestPath test/infra/hooks 2>&1)
  pester_status=$?
  echo "$pester_out"
  summary=$(grep -E '^pester: [0-9]+ passed, [0-9]+ failed' <<<"$pester_out" | tail -n1)
  pester_pass=$(sed -nE 's/^pester: ([0-9]+) passed.*/\1/p' <<<"$summary")
  pester_fail=$(sed -nE 's/^pester: [0-9]+ passed, ([0-9]+) failed.*/\1/p' <<<"$summary")
  passed=$((passed + ${pester_pass:-0}))
  failed=$((failed + ${pester_fail:-0}))
  if ((${pester_fail:-0} > 0)); then failures+=("Pester test/infra/hooks ($pester_fail)"); fi
  if ((pester_status != 0 && ${pester_fail:-0} == 0)); then fail "Pester test/infra/hooks exited $pester_status"; fi
  if ((${pester_pass:-0} == 0)); then fail "Pester ran no hook test"; fi
fi

if ((failed > 0)); then printf '# failed: %s\n' "${failures[@]}"; fi
echo "$passed passed, $failed failed"
((failed == 0))
