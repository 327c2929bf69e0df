#!/usr/bin/env bash
# The Linux image's test suite (npm run test:linux): packer fmt and packer validate on the template
# (from the repository root and from packer/linux, building in an existing resource group and in one
# Packer creates; runner_version without runner_sha256 refused), shellcheck and shfmt on every
# script, systemd-analyze verify on the unit, then every bats file. Each step runs even when an earlier one failed; the summary lists them all and the exit
# status is non-zero on any failure.
set -uo pipefail
cd "$(dirname "$0")/../../.." || exit 1

export CHECKPOINT_DISABLE=1 # packer must not phone home (no internet in CI)
results=()
failed=0
step() { # step NAME COMMAND...: runs one check and records PASS/FAIL
	local name=$1
	shift
	echo "--- $name"
	if "$@"; then
		results+=("PASS  $name")
	else
		results+=("FAIL  $name")
		failed=$((failed + 1))
	fi
}

missing=()
for tool in packer shellcheck shfmt bats systemd-analyze jq python3 openssl curl gpg xz; do
	command -v "$tool" >/dev/null || missing+=("$tool")
done
if ((${#missing[@]})); then
	echo "missing tools: ${missing[*]} (install them with: bash .ci/setup-linux-image.sh)" >&2
	exit 1
fi

# Shell files of this area: build scripts, helpers, bootstrap, the job entry point, tests, CI setup.
mapfile -t shell_files < <(
	{
		find packer/linux packer/job test/scripts/linux -type f \( -name '*.sh' -o -name '*.bash' -o -name '*.bats' \)
		echo .ci/setup-linux-image.sh
	} | sort
)
mapfile -t bats_files < <(find test/scripts/linux -maxdepth 1 -type f -name '*.bats' | sort)

# pv DIR TEMPLATE [VAR=value...] -- [packer args...]: packer validate run from DIR in a clean
# environment. Dummy values only where the template has no default; the rest come from the seed
# README's environment variables, as in a real build.
pv() {
	local dir=$1 template=$2 envs=()
	shift 2
	while (($#)) && [[ $1 != -- ]]; do
		envs+=("$1")
		shift
	done
	[[ ${1:-} != -- ]] || shift
	(cd "$dir" && env -i PATH="$PATH" HOME="${TMPDIR:-/tmp}" CHECKPOINT_DISABLE=1 \
		PACKER_LOCATION=swedencentral PACKER_IMAGE_RG=rg-kiln-images ORG=kiln ENV=ci "${envs[@]}" \
		packer validate -var managed_image_name=linux-gh-runner-ci "$@" "$template")
}

packer_validate() { # packer_validate DIR TEMPLATE: every resource group mode, from DIR
	local dir=$1 template=$2 rc=0
	# Existing group (kiln's job: PACKER_TEMP_RG is rg-<env>-packer-build): build_resource_group_name,
	# no location; the builder refuses both at once, so this also proves location is left unset.
	pv "$dir" "$template" PACKER_TEMP_RG=rg-kiln-packer-build || rc=1
	pv "$dir" "$template" PACKER_TEMP_RG=rg-kiln-packer-build -- -var gallery_name=galkiln \
		-var gallery_image_version=2026.11.28 || rc=1
	# Packer creates the group: a generated name, or temp_rg with build_in_existing_rg=false.
	pv "$dir" "$template" || rc=1
	pv "$dir" "$template" PACKER_TEMP_RG=rg-packer-temp PACKER_BUILD_IN_EXISTING_RG=false || rc=1
	pv "$dir" "$template" PACKER_TEMP_RG=rg-packer-temp -- -var build_in_existing_rg=false \
		-var gallery_name=galkiln -var gallery_image_version=2026.11.28 || rc=1
	return "$rc"
}

# The seed's "-var runner_version=2.317.0" failed an hour into the build, when the install script
# found no checksum; packer validate refuses it now, saying why, and takes it with its checksum.
runner_pin_checked() {
	local out sha
	sha=$(printf 'a%.0s' {1..64})
	if out=$(pv . packer/linux PACKER_TEMP_RG=rg-kiln-packer-build -- -var runner_version=2.317.0 2>&1); then
		echo "packer validate accepted runner_version without runner_sha256"
		return 1
	fi
	if ! tr -s '\n ' '  ' <<<"$out" | grep -qF "runner_version 2.317.0 was given without runner_sha256: add -var runner_sha256="; then
		echo "packer validate failed without the explanation:"
		echo "$out"
		return 1
	fi
	pv . packer/linux PACKER_TEMP_RG=rg-kiln-packer-build -- -var runner_version=2.317.0 -var runner_sha256="$sha"
}

unit_verify() {
	# systemd-analyze can exit 0 while warning; any output on stderr counts as a failure.
	local err
	err=$(systemd-analyze verify packer/linux/scripts/github-runner.service 2>&1 >/dev/null) || {
		echo "$err"
		return 1
	}
	if [[ -n $err ]]; then
		echo "$err"
		return 1
	fi
}

run_bats() {
	local count
	count=$(bats --count "${bats_files[@]}" 2>/dev/null || echo 0)
	echo "${#bats_files[@]} bats files, $count tests"
	if ((${#bats_files[@]} == 0 || count == 0)); then
		echo "no bats tests found: a run that tests nothing fails" >&2
		return 1
	fi
	bats --print-output-on-failure "${bats_files[@]}"
}

step "packer fmt -check packer/linux" packer fmt -check -diff packer/linux
step "packer validate packer/linux (repo root; existing and created resource group)" packer_validate . packer/linux
step "packer validate . (in packer/linux; existing and created resource group)" packer_validate packer/linux .
step "packer validate refuses runner_version without runner_sha256" runner_pin_checked
step "shellcheck (${#shell_files[@]} files)" shellcheck -x "${shell_files[@]}"
step "shfmt -d (${#shell_files[@]} files)" shfmt -d "${shell_files[@]}"
step "systemd-analyze verify github-runner.service" unit_verify
step "bats (${#bats_files[@]} files)" run_bats

echo
echo "== Linux image tests"
printf '  %s\n' "${results[@]}"
if ((failed)); then
	echo "== $failed of ${#results[@]} steps FAILED"
	exit 1
fi
echo "== all ${#results[@]} steps passed"
