#!/usr/bin/env bats
# The Linux image template and its build scripts: Packer validation rules, script conventions,
# the shared download helper, toolset.json and the unit/bootstrap wiring.

bats_load_library bats-support
bats_load_library bats-assert

setup() {
	REPO_ROOT=$(cd "$BATS_TEST_DIRNAME/../../.." && pwd)
	LINUX=$REPO_ROOT/packer/linux
	SCRIPTS=$LINUX/scripts
	export CHECKPOINT_DISABLE=1
}

teardown() {
	if [[ -n ${SERVER_PID:-} ]]; then
		kill "$SERVER_PID" 2>/dev/null || true
		wait "$SERVER_PID" 2>/dev/null || true
	fi
}

# validate [VAR=value...] -- [packer args...]: packer validate in a clean environment.
validate() {
	local envs=()
	while (($#)) && [[ $1 != -- ]]; do
		envs+=("$1")
		shift
	done
	[[ ${1:-} != -- ]] || shift
	run env -i PATH="$PATH" HOME="$BATS_TEST_TMPDIR" CHECKPOINT_DISABLE=1 "${envs[@]}" packer validate "$@" "$LINUX"
}

GOOD_ENV=(PACKER_LOCATION=swedencentral PACKER_IMAGE_RG=rg-kiln-images ORG=acme ENV=dev)

# assert_said TEXT: the output holds TEXT once Packer's line wrapping is undone.
assert_said() {
	local said
	said=$(tr -s '\n ' '  ' <<<"$output")
	[[ $said == *"$1"* ]] || fail "expected \"$1\" in: $said"
}

# build_group [VAR=value...] -- [packer args...]: the resource group arguments the source gets, as JSON
# {"build":build_resource_group_name,"temp":temp_resource_group_name,"location":location} (null: unset).
build_group() {
	local envs=()
	while (($#)) && [[ $1 != -- ]]; do
		envs+=("$1")
		shift
	done
	[[ ${1:-} != -- ]] || shift
	run env -i PATH="$PATH" HOME="$BATS_TEST_TMPDIR" CHECKPOINT_DISABLE=1 "${GOOD_ENV[@]}" "${envs[@]}" \
		packer console -var managed_image_name=linux-gh-runner-1 "$@" "$LINUX" \
		<<<'jsonencode({build = local.build_resource_group_name, temp = local.temp_resource_group_name, location = local.build_location})'
}

@test "template: the seed README's environment defaults are enough, with a gallery destination too" {
	validate "${GOOD_ENV[@]}" -- -var managed_image_name=linux-gh-runner-202611280300
	assert_success
	assert_output ""
	validate "${GOOD_ENV[@]}" PACKER_TEMP_RG=rg-packer-temp PACKER_VM_SIZE=Standard_D8s_v5 -- \
		-var managed_image_name=linux-gh-runner-1 -var gallery_name=gal_kiln -var gallery_image_version=2026.11.28 \
		-var 'gallery_replication_regions=["swedencentral","westeurope"]' \
		-var runner_version=2.337.0 -var runner_sha256=70920811a4f8ad4328818682bca5c6469c1c942fab52448868071d0063816613
	assert_success
}

@test "resource group: kiln's PACKER_TEMP_RG is an existing group Packer builds in, without location" {
	# The Packer job's environment as infra/ and the orchestrator set it: no PACKER_BUILD_IN_EXISTING_RG.
	build_group PACKER_TEMP_RG=rg-dev-packer-build
	assert_success
	assert_output '{"build":"rg-dev-packer-build","location":null,"temp":null}'
	build_group PACKER_TEMP_RG=rg-dev-packer-build PACKER_BUILD_IN_EXISTING_RG=true
	assert_output '{"build":"rg-dev-packer-build","location":null,"temp":null}'
	# The builder refuses location together with build_resource_group_name: validate passing proves
	# the source leaves location unset.
	validate "${GOOD_ENV[@]}" PACKER_TEMP_RG=rg-dev-packer-build -- -var managed_image_name=linux-gh-runner-1
	assert_success
	grep -qE '^  location += local\.build_location$' "$LINUX/source.linux.pkr.hcl"
	grep -qE '^  build_resource_group_name += local\.build_resource_group_name$' "$LINUX/source.linux.pkr.hcl"
	grep -qE '^  temp_resource_group_name += local\.temp_resource_group_name$' "$LINUX/source.linux.pkr.hcl"
}

@test "resource group: Packer creates and deletes temp_rg when build_in_existing_rg is false, or a generated one" {
	build_group PACKER_TEMP_RG=rg-packer-temp PACKER_BUILD_IN_EXISTING_RG=false
	assert_success
	assert_output '{"build":null,"location":"swedencentral","temp":"rg-packer-temp"}'
	build_group PACKER_TEMP_RG=rg-packer-temp -- -var build_in_existing_rg=false
	assert_output '{"build":null,"location":"swedencentral","temp":"rg-packer-temp"}'
	# No temp_rg: a generated name, whatever build_in_existing_rg says.
	build_group
	assert_output '{"build":null,"location":"swedencentral","temp":null}'
	build_group PACKER_BUILD_IN_EXISTING_RG=true
	assert_output '{"build":null,"location":"swedencentral","temp":null}'
	validate "${GOOD_ENV[@]}" PACKER_TEMP_RG=rg-packer-temp PACKER_BUILD_IN_EXISTING_RG=false -- \
		-var managed_image_name=linux-gh-runner-1
	assert_success
	assert_output ""
}

@test "resource group: PACKER_BUILD_IN_EXISTING_RG other than true or false is refused" {
	validate "${GOOD_ENV[@]}" PACKER_TEMP_RG=rg-dev-packer-build PACKER_BUILD_IN_EXISTING_RG=yes -- \
		-var managed_image_name=linux-gh-runner-1
	assert_failure
	assert_output --partial "Invalid default value for variable"
	assert_output --partial 'variable "build_in_existing_rg"'
}

@test "template: validates from the repository root, from packer/ and from its own folder" {
	local dir rel
	for dir in "$REPO_ROOT" "$REPO_ROOT/packer" "$LINUX" "$BATS_TEST_TMPDIR"; do
		rel=$(realpath --relative-to="$dir" "$LINUX")
		run bash -c 'cd "$1" && shift && env -i PATH="$PATH" HOME="$HOME" CHECKPOINT_DISABLE=1 "$@"' _ "$dir" \
			"${GOOD_ENV[@]}" PACKER_TEMP_RG=rg-dev-packer-build packer validate -var managed_image_name=linux-gh-runner-1 "$rel"
		assert_success
	done
}

@test "template: missing environment is reported with the variable to export" {
	validate -- -var managed_image_name=x1
	assert_failure
	assert_output --partial "The location must be an Azure region name"
	assert_output --partial "PACKER_LOCATION or pass -var location="
	assert_output --partial "PACKER_IMAGE_RG or pass -var managed_image_rg="
}

@test "template: wrong values fail with clear messages" {
	validate "${GOOD_ENV[@]}" PACKER_VM_SIZE=D4 -- -var managed_image_name=-bad -var runner_version=v2.338.0 \
		-var runner_sha256=ABC -var runner_user=root -var gallery_image_version=latest -var temp_rg=rg.
	assert_failure
	assert_output --partial "The managed_image_name must be 2-80 letters"
	assert_output --partial "The runner_version must look like 2.338.0"
	assert_output --partial "The runner_sha256 must be 64 lowercase hex digits"
	assert_output --partial "The runner_user must be a Linux user name"
	assert_output --partial "The gallery_image_version must be MAJOR.MINOR.PATCH"
	assert_output --partial "The vm_size must be an Azure VM size"
	assert_output --partial "The temp_rg must be a resource group name"
}

@test "template: a gallery destination needs its version" {
	validate "${GOOD_ENV[@]}" -- -var managed_image_name=linux-gh-runner-1 -var gallery_name=galkiln
	assert_failure
	assert_output --partial "An image_version must be specified for shared_image_gallery_destination"
}

@test "build scripts: verb-first names, a one-line header, strict mode" {
	local script name count=0
	for script in "$SCRIPTS"/*.sh; do
		name=${script##*/}
		[[ $name =~ ^(install|configure|verify|write|cleanup)-[a-z0-9-]+\.sh$ || $name == bootstrap.sh ]] ||
			fail "$name is not verb-first (install-/configure-/verify-/write-/cleanup-)"
		[[ $(sed -n 1p "$script") == '#!/usr/bin/env bash' ]] || fail "$name: no bash shebang"
		[[ $(sed -n 2p "$script") == "# "* ]] || fail "$name: no one-line header on line 2"
		grep -qx 'set -euo pipefail' "$script" || fail "$name: no set -euo pipefail"
		count=$((count + 1))
	done
	((count >= 10))
}

@test "build scripts: the template runs every script on disk, and each one it names exists" {
	local listed on_disk
	listed=$(grep -oE '\$\{local\.scripts\}/[a-z0-9-]+\.sh' "$LINUX/build.linux.pkr.hcl" | sed 's|.*/||' | sort -u)
	on_disk=$(find "$SCRIPTS" -maxdepth 1 -name '*.sh' ! -name bootstrap.sh -printf '%f\n' | sort)
	assert_equal "$listed" "$on_disk"
	# Deprovisioning is the very last provisioner.
	run grep -n 'provisioner "' "$LINUX/build.linux.pkr.hcl"
	last=${lines[-1]%%:*}
	run sed -n "$last,\$p" "$LINUX/build.linux.pkr.hcl"
	assert_output --partial "waagent -force -deprovision+user"
}

@test "build: scripts get toolset.json's values (execute_command passes {{ .Vars }} through sudo -E)" {
	local build=$LINUX/build.linux.pkr.hcl
	# Without {{ .Vars }} in a custom execute_command, Packer silently drops environment_vars.
	assert_equal "$(grep -c 'environment_vars = local.script_env' "$build")" 4
	assert_equal "$(grep -cF "execute_command  = \"{{ .Vars }} sudo -E bash '{{ .Path }}'\"" "$build")" 4
	# Every variable the scripts require is in local.script_env.
	local required name
	required=$(grep -ohE 'require_env [A-Z0-9_ ]+' "$SCRIPTS"/*.sh | cut -d' ' -f2- | tr ' ' '\n' | sort -u)
	for name in $required; do
		grep -q "\"$name=" "$LINUX/locals.linux.pkr.hcl" || fail "$name is required by a script but not passed"
	done
}

@test "download_with_retry: retries a failing server, then the checksum is verified" {
	echo "runner tarball" >"$BATS_TEST_TMPDIR/payload"
	python3 "$BATS_TEST_DIRNAME/fake/flaky_download.py" "$BATS_TEST_TMPDIR/payload" 2 "$BATS_TEST_TMPDIR" &
	SERVER_PID=$!
	for _ in $(seq 50); do
		[[ -s $BATS_TEST_TMPDIR/port ]] && break
		sleep 0.1
	done
	local url sum
	url=http://127.0.0.1:$(cat "$BATS_TEST_TMPDIR/port")/runner.tar.gz
	sum=$(sha256sum "$BATS_TEST_TMPDIR/payload" | cut -d' ' -f1)
	DOWNLOAD_RETRY_DELAY=0 run bash -c 'source "$1"; download_with_retry "$2" "$3" && verify_sha256 "$3" "$4"' _ \
		"$SCRIPTS/helpers/install-helpers.sh" "$url" "$BATS_TEST_TMPDIR/got" "$sum"
	assert_success
	assert_output --partial "(attempt 2 of 5)"
	assert_equal "$(cat "$BATS_TEST_TMPDIR/hits")" 3
	assert_equal "$(cat "$BATS_TEST_TMPDIR/got")" "runner tarball"
	run bash -c 'source "$1"; verify_sha256 "$2" "$3"' _ "$SCRIPTS/helpers/install-helpers.sh" \
		"$BATS_TEST_TMPDIR/got" "$(printf '0%.0s' {1..64})"
	assert_failure
	assert_output --partial "SHA-256 mismatch"
}

@test "download_with_retry: gives up after 5 attempts with the URL named" {
	DOWNLOAD_RETRY_DELAY=0 run bash -c 'source "$1"; download_with_retry http://127.0.0.1:1/x "$2"' _ \
		"$SCRIPTS/helpers/install-helpers.sh" "$BATS_TEST_TMPDIR/x"
	assert_failure
	assert_output --partial "could not download http://127.0.0.1:1/x after 5 attempts"
}

@test "toolset.json: every tool names a line or a pin with its checksum; keys pinned; no SBOM by default" {
	local t=$LINUX/toolset.json name version
	assert_equal "$(jq -r .runner.version "$t")" latest
	assert_equal "$(jq -r .node.version "$t")" "active LTS"
	assert_equal "$(jq -r .azd.version "$t")" latest
	assert_equal "$(jq -r .azure_cli.version "$t")" latest
	for name in runner node azd; do
		version=$(jq -r ".$name.version" "$t")
		if [[ $version =~ ^[0-9]+\.[0-9]+\.[0-9]+$ ]]; then
			[[ $(jq -r ".$name.sha256" "$t") =~ ^[0-9a-f]{64}$ ]] || fail "$name pins $version without a sha256"
		fi
	done
	jq -e '[.azure_cli.keyFingerprints[], .apt.keyFingerprints[]] | all(test("^[0-9A-F]{40}$"))' "$t" >/dev/null
	assert_equal "$(jq -c '[.sbom.enabled, .sbom.generator]' "$t")" '[false,"syft"]'
	[[ $(jq -r .sbom.version "$t") =~ ^[0-9]+\.[0-9]+\.[0-9]+$ ]] || fail "syft is not pinned"
	for tool in git curl jq build-essential python3 zip unzip; do
		jq -e --arg t "$tool" '.apt.install | index($t)' "$t" >/dev/null || fail "$tool missing from apt.install"
	done
}

@test "packer validate: runner_version without runner_sha256 fails before any VM exists, saying why" {
	validate "${GOOD_ENV[@]}" -- -var managed_image_name=linux-gh-runner-1 -var runner_version=2.317.0
	assert_failure
	assert_said "runner_version 2.317.0 was given without runner_sha256: add -var runner_sha256=<the SHA-256 of actions-runner-linux-x64-2.317.0.tar.gz from its release notes>, or leave runner_version empty to build the toolset.json line (latest)"
	# The checksum alone is refused too; both together validate.
	validate "${GOOD_ENV[@]}" -- -var managed_image_name=linux-gh-runner-1 -var runner_sha256="$(printf 'a%.0s' {1..64})"
	assert_failure
	assert_said "runner_sha256 was given without runner_version: give the version the checksum belongs to, or neither"
	validate "${GOOD_ENV[@]}" -- -var managed_image_name=linux-gh-runner-1 -var runner_version=2.317.0 \
		-var runner_sha256="$(printf 'a%.0s' {1..64})"
	assert_success
	# kiln's orchestrator passes them as PKR_VAR_runner_version and PKR_VAR_runner_sha256.
	validate "${GOOD_ENV[@]}" PKR_VAR_runner_version=2.317.0 -- -var managed_image_name=linux-gh-runner-1
	assert_failure
	assert_said "runner_version 2.317.0 was given without runner_sha256"
	validate "${GOOD_ENV[@]}" PKR_VAR_runner_version=2.317.0 PKR_VAR_runner_sha256="$(printf 'b%.0s' {1..64})" -- \
		-var managed_image_name=linux-gh-runner-1
	assert_success
}

@test "packer validate: a toolset.json pin without its sha256 fails; with it, it validates" {
	local copy=$BATS_TEST_TMPDIR/linux
	cp -r "$LINUX" "$copy"
	jq '.runner.version = "2.338.0" | .node.version = "24.21.0"' "$LINUX/toolset.json" >"$copy/toolset.json"
	run env -i PATH="$PATH" HOME="$BATS_TEST_TMPDIR" CHECKPOINT_DISABLE=1 "${GOOD_ENV[@]}" packer validate \
		-var managed_image_name=linux-gh-runner-1 "$copy"
	assert_failure
	assert_said 'toolset.json pins runner and node to a version without its sha256: add "sha256" beside "version", or name a line such as latest'

	jq --arg s "$(printf 'c%.0s' {1..64})" '.runner += {version: "2.338.0", sha256: $s} | .node += {version: "24.21.0", sha256: $s}' \
		"$LINUX/toolset.json" >"$copy/toolset.json"
	run env -i PATH="$PATH" HOME="$BATS_TEST_TMPDIR" CHECKPOINT_DISABLE=1 "${GOOD_ENV[@]}" packer validate \
		-var managed_image_name=linux-gh-runner-1 "$copy"
	assert_success
}

# console EXPR [VAR=value...] -- [packer args...]: an expression of the template, evaluated.
console() {
	local expr=$1 envs=()
	shift
	while (($#)) && [[ $1 != -- ]]; do
		envs+=("$1")
		shift
	done
	[[ ${1:-} != -- ]] || shift
	run env -i PATH="$PATH" HOME="$BATS_TEST_TMPDIR" CHECKPOINT_DISABLE=1 "${GOOD_ENV[@]}" "${envs[@]}" \
		packer console -var managed_image_name=linux-gh-runner-1 "$@" "$LINUX" <<<"$expr"
}

@test "software report: downloaded to software_report_dir (env KILN_SOFTWARE_REPORT_DIR), else software-report/ beside the template" {
	console local.software_report_dir
	assert_success
	assert_output "$LINUX/software-report"
	console local.software_report_dir KILN_SOFTWARE_REPORT_DIR=/tmp/kiln-reports
	assert_output /tmp/kiln-reports
	console local.software_report_dir -- -var software_report_dir=/srv/reports
	assert_output /srv/reports
	# The download provisioner: the staging copies (glob: the files, the SBOM only when made).
	run grep -A2 'direction   = "download"' "$LINUX/build.linux.pkr.hcl"
	assert_output --partial 'direction   = "download"'
	# shellcheck disable=SC2016 # Packer's own ${...}, literally
	assert_output --partial 'source      = "${local.staging}/software-report/*"'
	# shellcheck disable=SC2016 # Packer's own ${...}, literally
	assert_output --partial 'destination = "${local.software_report_dir}/"'
	grep -q '^software-report/$' "$LINUX/.gitignore"
}

@test "build order: verify-tools, then the SBOM and the report, their download, then cleanup" {
	local order
	order=$(grep -oE 'verify-tools\.sh|write-sbom\.sh|write-software-report\.sh|direction += "download"|cleanup-image\.sh|waagent' \
		"$LINUX/build.linux.pkr.hcl" | sed -E 's/direction.*/download/' | paste -sd' ')
	assert_equal "$order" "verify-tools.sh write-sbom.sh write-software-report.sh download cleanup-image.sh waagent"
}

@test "sbom: off by default (toolset.json), on with -var sbom=true; vendor URLs default to the real services" {
	console local.sbom_enabled
	assert_success
	assert_output false
	console 'jsonencode(local.script_env)'
	assert_success
	run jq -r '.[] | select(test("^(SBOM_ENABLED|SYFT_VERSION|GITHUB_API_URL|GITHUB_URL|NODE_DIST_URL|MICROSOFT_PACKAGES_URL)="))' <<<"$output"
	assert_output "SBOM_ENABLED=false
SYFT_VERSION=1.45.1
GITHUB_API_URL=https://api.github.com
GITHUB_URL=https://github.com
NODE_DIST_URL=https://nodejs.org/dist
MICROSOFT_PACKAGES_URL=https://packages.microsoft.com"
	console local.sbom_enabled -- -var sbom=true
	assert_output true
	console local.sbom_enabled PKR_VAR_sbom=false
	assert_output false
	validate "${GOOD_ENV[@]}" -- -var managed_image_name=linux-gh-runner-1 -var sbom=yes -var node_dist_url=nodejs.org
	assert_failure
	assert_output --partial "The sbom must be true, false or empty"
	assert_output --partial "The node_dist_url must be an http(s) URL"
}

@test "unit and install script agree on bootstrap.sh's path, the runner folder and the user lines" {
	local unit=$SCRIPTS/github-runner.service
	exec_path=$(sed -nE 's|^ExecStart=/bin/bash (/[^ ]+)$|\1|p' "$unit")
	assert_equal "$exec_path" /usr/local/lib/github-runner/bootstrap.sh
	grep -q "install -m 0755 -o root -g root \"\$STAGING_DIR/bootstrap.sh\" $exec_path" "$SCRIPTS/configure-runner-service.sh"
	assert_equal "$(grep -c '^User=' "$unit")" 1
	assert_equal "$(grep -c '^Group=' "$unit")" 1
	grep -qx 'WorkingDirectory=/opt/actions-runner' "$unit"
	grep -qF "runner_dir=\${RUNNER_DIR:-/opt/actions-runner}" "$SCRIPTS/install-actions-runner.sh"
	# Rendered for another runner_user the way configure-runner-service.sh does, it still verifies.
	sed -e "s/^User=.*/User=ci/" -e "s/^Group=.*/Group=ci/" "$unit" >"$BATS_TEST_TMPDIR/github-runner.service"
	run systemd-analyze verify "$BATS_TEST_TMPDIR/github-runner.service"
	assert_success
	assert_output ""
}
