#!/usr/bin/env bash
# The one entry point of the Windows image tests (`npm run test:windows`): packer fmt/validate on
# packer/windows (from the repository root and from the folder, building in an existing resource
# group and in one Packer creates; the agent pin rule and the software report's paths through packer validate
# and packer console), then every Pester suite in this folder on real PowerShell (pwsh
# from PATH, else the NuGet-hosted one built by .ci/setup-windows-image.sh). Prints "windows: N passed, N failed"
# and exits non-zero on any failure or when no Pester test ran.
set -uo pipefail
cd "$(dirname "$0")/../../.." || exit 1
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
  -var location=swedencentral -var managed_image_rg=rg-images
  -var managed_image_name=windows-ado-agent-test -var subscription_id=00000000-0000-0000-0000-000000000000
  -var tag_org=acme -var tag_env=dev
)
gallery_vars=(
  -var gallery_name=galkiln -var gallery_image_name=windows-agent -var gallery_image_version=2026.11.28
  -var gallery_resource_group=rg-gallery -var 'gallery_replication_regions=["swedencentral","westeurope"]'
)
# The resource group modes: kiln's existing build group (temp_rg, build_in_existing_rg defaults to
# true), a group Packer creates as temp_rg, and one it creates under a generated name.
existing_rg=(-var temp_rg=rg-dev-packer-build)
created_rg=(-var temp_rg=rg-packer-temp -var build_in_existing_rg=false)
generated_rg=()
# build_group DIR TEMPLATE [VAR=value...] -- ARGS...: the source's resource group arguments as JSON.
build_group() {
  local dir=$1 template=$2 envs=()
  shift 2
  while (($#)) && [[ $1 != -- ]]; do envs+=("$1"); shift; done
  [[ ${1:-} != -- ]] || shift
  (cd "$dir" && env -i PATH="$PATH" HOME="${TMPDIR:-/tmp}" CHECKPOINT_DISABLE=1 "${envs[@]}" packer console "$@" "$template" \
    <<<'jsonencode({build = local.build_resource_group_name, temp = local.temp_resource_group_name, location = local.build_location})')
}
expect_group() { # expect_group JSON DIR TEMPLATE [VAR=value...] -- ARGS...
  local want=$1 got
  shift
  got=$(build_group "$@") || { echo "$got"; return 1; }
  [ "$got" = "$want" ] || { echo "expected $want, got $got"; return 1; }
}
# validate_fails 'MSG;MSG...' [env args...] -- ARGS...: packer validate . fails and prints every MSG.
validate_fails() {
  local msgs=$1 envs=() out msg list
  shift
  while (($#)) && [[ $1 != -- ]]; do envs+=("$1"); shift; done
  [[ ${1:-} != -- ]] || shift
  if out=$(env "${envs[@]}" packer validate "$@" . 2>&1); then echo "packer validate passed"; return 1; fi
  IFS=';' read -ra list <<<"$msgs"
  for msg in "${list[@]}"; do
    grep -qF -- "$msg" <<<"$out" || { printf '%s\nmissing: %s\n' "$out" "$msg"; return 1; }
  done
}
# Both from the repository root (packer 1.6.6 once resolved file() against the template folder,
# current Packer against the working directory: locals use abspath(path.root)) and from the folder.
in_dir() { (cd "$1" && shift && "$@"); } # in_dir DIR COMMAND...: runs COMMAND from DIR
for where in "$repo packer/windows" "$repo/packer/windows ."; do
  read -r dir template <<<"$where"
  if [ "$dir" = "$repo" ]; then label="from the repo root"; else label="from packer/windows"; fi
  check "packer fmt -check ($label)" in_dir "$dir" packer fmt -check "$template"
  check "packer validate, existing resource group ($label)" \
    in_dir "$dir" packer validate "${common_vars[@]}" "${existing_rg[@]}" "$template"
  check "packer validate, existing resource group + gallery version ($label)" \
    in_dir "$dir" packer validate "${common_vars[@]}" "${existing_rg[@]}" "${gallery_vars[@]}" "$template"
  check "packer validate, Packer creates temp_rg ($label)" \
    in_dir "$dir" packer validate "${common_vars[@]}" "${created_rg[@]}" "$template"
  check "packer validate, Packer creates a generated group + gallery version ($label)" \
    in_dir "$dir" packer validate "${common_vars[@]}" "${generated_rg[@]}" "${gallery_vars[@]}" "$template"
done
cd packer/windows || exit 1
check "existing temp_rg: build_resource_group_name, location unset" \
  expect_group '{"build":"rg-dev-packer-build","location":null,"temp":null}' . . -- "${common_vars[@]}" "${existing_rg[@]}"
check "kiln's job environment (PACKER_TEMP_RG, no PACKER_BUILD_IN_EXISTING_RG) builds in the existing group" \
  expect_group '{"build":"rg-dev-packer-build","location":null,"temp":null}' . . \
  PACKER_LOCATION=westeurope PACKER_IMAGE_RG=rg-dev-images PACKER_TEMP_RG=rg-dev-packer-build -- -var managed_image_name=w1
check "PACKER_BUILD_IN_EXISTING_RG=false: Packer creates temp_rg in location" \
  expect_group '{"build":null,"location":"westeurope","temp":"rg-packer-temp"}' . . \
  PACKER_LOCATION=westeurope PACKER_IMAGE_RG=rg-dev-images PACKER_TEMP_RG=rg-packer-temp PACKER_BUILD_IN_EXISTING_RG=false -- -var managed_image_name=w1
check "build_in_existing_rg=false: Packer creates temp_rg in location" \
  expect_group '{"build":null,"location":"swedencentral","temp":"rg-packer-temp"}' . . -- "${common_vars[@]}" "${created_rg[@]}"
check "no temp_rg: a generated group in location" \
  expect_group '{"build":null,"location":"swedencentral","temp":null}' . . -- "${common_vars[@]}"
check "packer validate rejects PACKER_BUILD_IN_EXISTING_RG other than true or false" \
  validate_fails 'Invalid default value for variable;build_in_existing_rg' PACKER_BUILD_IN_EXISTING_RG=yes -- \
  "${common_vars[@]}" "${existing_rg[@]}"
check "packer validate rejects a malformed temp_rg and a missing location, naming them" \
  validate_fails 'The temp_rg must be a resource group name;The location must be an Azure region name;PACKER_LOCATION or pass -var location=' \
  -u PACKER_LOCATION -- -var managed_image_rg=rg-images -var managed_image_name=w1 -var temp_rg=rg.
check "packer validate rejects a missing managed_image_name" validate_fails managed_image_name -- \
  -var location=swedencentral -var managed_image_rg=rg-images -var temp_rg=rg-packer-temp -var subscription_id=00000000-0000-0000-0000-000000000000
# The agent: an exact version needs its SHA-256 (toolset.json or agent_sha256) before any VM exists;
# latest takes it from the release notes inside the build.
check "packer validate refuses an agent_version without its SHA-256, saying how to give it" \
  validate_fails 'ERROR: agent_version 4.1.0 has;adoAgent.sha256;vsts-agent-win-x64-4.1.0.zip;agent_version=latest' -- \
  "${common_vars[@]}" "${existing_rg[@]}" -var agent_version=4.1.0
check "packer validate refuses a malformed agent_version and agent_sha256" \
  validate_fails 'The agent_version must be an exact agent version;The agent_sha256 must be 64 hexadecimal digits' -- \
  "${common_vars[@]}" "${existing_rg[@]}" -var agent_version=4.1 -var agent_sha256=abc
check "packer validate takes agent_version=latest, a toolset.json pin, and a version with agent_sha256" bash -c \
  'packer validate "$@" -var agent_version=latest . && packer validate "$@" -var agent_version=3.236.0 . &&
   packer validate "$@" -var agent_version=4.1.0 -var agent_sha256=0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef .' \
  _ "${common_vars[@]}" "${existing_rg[@]}"
# report_console [VAR=value...] -- [ARGS...]: where the software report is downloaded to, the SBOM
# download and what the build scripts are told.
report_console() {
  local envs=()
  while (($#)) && [[ $1 != -- ]]; do envs+=("$1"); shift; done
  [[ ${1:-} != -- ]] || shift
  env -i PATH="$PATH" HOME="${TMPDIR:-/tmp}" CHECKPOINT_DISABLE=1 "${envs[@]}" packer console "${common_vars[@]}" "${existing_rg[@]}" "$@" . \
    <<<'jsonencode([local.software_report_dir, local.sbom_download_source, local.sbom_download_destination, local.script_env])'
}
expect_report() { # expect_report WANT [VAR=value...] -- [ARGS...]: report_console's answer contains WANT
  local want=$1 got
  shift
  got=$(report_console "$@") || { echo "$got"; return 1; }
  grep -qF -- "$want" <<<"$got" || { echo "expected $want in $got"; return 1; }
}
check "software report: downloaded to software-report beside the template by default" \
  expect_report "[\"$repo/packer/windows/software-report\",\"C:\\\\kiln\\\\software-report.json\""
check "software report: KILN_SOFTWARE_REPORT_DIR moves it; sbom_enabled downloads sbom.spdx.json there" \
  expect_report '"/srv/reports/w1","C:\\kiln\\sbom.spdx.json","/srv/reports/w1/sbom.spdx.json",[' KILN_SOFTWARE_REPORT_DIR=/srv/reports/w1 -- -var sbom_enabled=true
check "software report: sbom_enabled tells the build to make the SBOM" expect_report '"KILN_SBOM_ENABLED=true"' -- -var sbom_enabled=true
check "software report: the build writes it to C:\\kiln, without an SBOM unless asked" \
  expect_report '"KILN_REPORT_FOLDER=C:\\kiln","KILN_SBOM_ENABLED=false"'
check "packer validate rejects an unknown variable" bash -c '! packer validate "$@" . >/dev/null 2>&1' _ "${common_vars[@]}" -var no_such_variable=1
cd "$repo" || exit 1

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
