#!/usr/bin/env bash
# The Linux image's test suite (npm run test:linux): Packer validate/fmt on the template, shellcheck and
# shfmt on every script, systemd-analyze verify on the unit, then every bats file. Each step runs even
# when an earlier one failed; the summary lists them all and the exit status is non-zero on any failure.
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
for tool in packer shellcheck shfmt bats systemd-analyze jq python3 openssl curl; do
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

packer_validate() {
	# Dummy values only where the template has no default; the rest come from the seed README's
	# environment variables, as in a real build.
	env -i PATH="$PATH" HOME="${TMPDIR:-/tmp}" CHECKPOINT_DISABLE=1 \
		PACKER_LOCATION=swedencentral PACKER_IMAGE_RG=rg-kiln-images ORG=kiln ENV=ci \
		packer validate -var managed_image_name=linux-gh-runner-ci packer/linux &&
		env -i PATH="$PATH" HOME="${TMPDIR:-/tmp}" CHECKPOINT_DISABLE=1 \
			PACKER_LOCATION=swedencentral PACKER_IMAGE_RG=rg-kiln-images ORG=kiln ENV=ci \
			packer validate -var managed_image_name=linux-gh-runner-ci -var gallery_name=galkiln \
			-var gallery_image_version=2026.11.28 packer/linux
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
step "packer validate packer/linux" packer_validate
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
