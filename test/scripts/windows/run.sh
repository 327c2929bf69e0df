#!/usr/bin/env bash
# The one entry point of the Windows image tests (`npm run test:windows`): packer fmt/validate on
# packer/windows, then every Pester suite in this folder on real PowerShell (pwsh from PATH, else
# the NuGet-hosted one built by .ci/setup-windows-image.sh). Prints "windows: N passed, N failed"
# and exits non-zero on any failure or when no Pester test ran.
set -uo pipefail
cd "$(dirname "$0")/../../.."
repo=$PWD

pester_module="$repo/.tools/windows-image/modules/Pester/5.7.1/Pester.psd1"
hosted_pwsh="$repo/.tools/pwsh-host/bin/Release/net10.0/linux-x64/pwsh-host"
if command -v pwsh >/dev/null 2>&1; then
  PWSH=$(command -v pwsh)
elif [ -x "$hosted_pwsh" ]; then
  PWSH=$hosted_pwsh
else
  echo "run.sh: no PowerShell: run 'bash .ci/setup-windows-image.sh' first" >&2
  exit 1
fi
if [ ! -f "$pester_module" ] || ! command -v packer >/dev/null 2>&1; then
  echo "run.sh: Pester or packer missing: run 'bash .ci/setup-windows-image.sh' first" >&2
  exit 1
fi

passed=0
failed=0
check() { # check NAME COMMAND...: one packer check, counted like a test
  local name=$1; shift
  local out
  if out=$("$@" 2>&1); then
    echo "  [+] $name"
    passed=$((passed + 1))
  else
    echo "  [-] $name"
    printf '%s\n' "$out" | sed 's/^/      /'
    failed=$((failed + 1))
  fi
}

echo "== packer $(packer version | head -n1) on packer/windows"
# Values for the variables whose defaults come from the environment (PACKER_*, ORG, ENV, ARM_*).
common_vars=(
  -var location=swedencentral -var managed_image_rg=rg-images -var temp_rg=rg-packer-temp
  -var managed_image_name=windows-ado-agent-test -var subscription_id=00000000-0000-0000-0000-000000000000
  -var tag_org=acme -var tag_env=dev
)
gallery_vars=(
  -var gallery_name=galkiln -var gallery_image_name=windows-agent -var gallery_image_version=2026.11.28
  -var gallery_resource_group=rg-gallery -var 'gallery_replication_regions=["swedencentral","westeurope"]'
)
# Packer runs from the template folder, as documented: Packer 1.6.6 resolves file() against
# path.root while current Packer resolves it against the working directory; "." satisfies both.
cd packer/windows
check "packer fmt -check" packer fmt -check .
check "packer validate (managed image)" packer validate "${common_vars[@]}" .
check "packer validate (managed image + gallery version)" packer validate "${common_vars[@]}" "${gallery_vars[@]}" .
check "packer validate rejects a missing managed_image_name" bash -c \
  'out=$(packer validate "$@" . 2>&1); rc=$?; [ $rc -ne 0 ] && grep -q managed_image_name <<<"$out"' _ \
  -var location=swedencentral -var managed_image_rg=rg-images -var temp_rg=rg-packer-temp -var subscription_id=00000000-0000-0000-0000-000000000000
check "packer validate rejects an unknown variable" bash -c '! packer validate "$@" . >/dev/null 2>&1' _ "${common_vars[@]}" -var no_such_variable=1
cd "$repo"

echo "== Pester on $("$PWSH" -NoProfile -NonInteractive -Command '"PowerShell $($PSVersionTable.PSVersion)"')"
mkdir -p test-results
pester_out=$(mktemp)
"$PWSH" -NoProfile -NonInteractive -File test/scripts/windows/Invoke-WindowsTests.ps1 \
  -PesterModulePath "$pester_module" -ResultPath "$repo/test-results/windows-pester.xml" 2>&1 | tee "$pester_out"
pester_rc=${PIPESTATUS[0]}
summary=$(grep -E '^pester: [0-9]+ passed, [0-9]+ failed' "$pester_out" | tail -n1)
rm -f "$pester_out"
if [ -z "$summary" ]; then
  echo "run.sh: Pester printed no summary" >&2
  pester_rc=1
  p_passed=0; p_failed=1
else
  p_passed=$(sed -E 's/^pester: ([0-9]+) passed.*/\1/' <<<"$summary")
  p_failed=$(sed -E 's/^pester: [0-9]+ passed, ([0-9]+) failed.*/\1/' <<<"$summary")
fi

total_passed=$((passed + p_passed))
total_failed=$((failed + p_failed))
if [ "$pester_rc" -ne 0 ] && [ "$total_failed" -eq 0 ]; then total_failed=1; fi
echo
echo "windows: $total_passed passed, $total_failed failed"
if [ "$p_passed" -eq 0 ]; then
  echo "run.sh: no Pester test ran" >&2
  exit 1
fi
[ "$total_failed" -eq 0 ] && [ "$pester_rc" -eq 0 ]
