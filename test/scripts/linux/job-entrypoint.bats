#!/usr/bin/env bats
# packer/job/entrypoint.sh with stub `packer` and `az` on PATH that record their calls.

bats_load_library bats-support
bats_load_library bats-assert

setup() {
	REPO_ROOT=$(cd "$BATS_TEST_DIRNAME/../../.." && pwd)
	ENTRYPOINT=$REPO_ROOT/packer/job/entrypoint.sh
	STUBS=$BATS_TEST_TMPDIR/bin
	CALLS=$BATS_TEST_TMPDIR/calls
	TEMPLATES=$BATS_TEST_TMPDIR/templates
	mkdir -p "$STUBS" "$TEMPLATES/linux" "$TEMPLATES/windows"
	: >"$CALLS"
	# Stubs log "<tool> <cwd> <args>" in call order; packer also logs the PKR_VAR_ values it sees.
	cat >"$STUBS/packer" <<'STUB'
#!/usr/bin/env bash
echo "packer $PWD $*" >>"$CALLS"
if [[ $1 == build ]]; then
	env | grep '^PKR_VAR_' | sort >"$CALLS.pkrvars"
	echo "$KILN_SOFTWARE_REPORT_DIR" >"$CALLS.reportdir"
	# As the templates' last step does: the report files named in STUB_REPORT.
	if [[ -n ${STUB_REPORT:-} ]]; then
		mkdir -p "$KILN_SOFTWARE_REPORT_DIR"
		for f in $STUB_REPORT; do echo "{\"file\":\"$f\"}" >"$KILN_SOFTWARE_REPORT_DIR/$f"; done
	fi
	echo "==> Builds finished. The artifacts of successful builds are:"
	if [[ -n ${STUB_IMAGE_ID:-} ]]; then
		echo "ManagedImageResourceGroupName: rg-images"
		echo "ManagedImageId: $STUB_IMAGE_ID"
	fi
	exit "${STUB_BUILD_EXIT:-0}"
fi
exit "${STUB_VALIDATE_EXIT:-0}"
STUB
	cat >"$STUBS/az" <<'STUB'
#!/usr/bin/env bash
echo "az $*" >>"$CALLS"
if [[ $1 == login ]]; then exit "${STUB_LOGIN_EXIT:-0}"; fi
if [[ $1 == image ]]; then echo "/subscriptions/0000/resourceGroups/rg-images/providers/Microsoft.Compute/images/from-az"; fi
# Uploads fail the first STUB_UPLOAD_FAILS times (counted across calls), then succeed.
if [[ $1 == storage ]]; then
	n=$(($(cat "$CALLS.uploads" 2>/dev/null || echo 0) + 1))
	echo "$n" >"$CALLS.uploads"
	if ((n <= ${STUB_UPLOAD_FAILS:-0})); then
		echo "ERROR: This request is not authorized to perform this operation using this permission." >&2
		exit 1
	fi
fi
exit 0
STUB
	# Pauses between upload attempts are recorded, not waited.
	cat >"$STUBS/sleep" <<'STUB'
#!/usr/bin/env bash
echo "sleep $*" >>"$CALLS"
STUB
	chmod +x "$STUBS/packer" "$STUBS/az" "$STUBS/sleep"
}

run_entrypoint() {
	run env -i PATH="$STUBS:$PATH" HOME="$BATS_TEST_TMPDIR" CALLS="$CALLS" \
		KILN_TEMPLATES_DIR="$TEMPLATES" "$@" bash "$ENTRYPOINT"
}

IMAGE_ID=/subscriptions/0000/resourceGroups/rg-images/providers/Microsoft.Compute/images/linux-gh-runner-1

@test "linux: logs in with the managed identity, validates, builds and prints the image id" {
	run_entrypoint KILN_IMAGE=linux STUB_IMAGE_ID="$IMAGE_ID" PKR_VAR_managed_image_name=linux-gh-runner-1 \
		PKR_VAR_runner_version=2.338.0 PACKER_LOCATION=swedencentral
	assert_success
	assert_line "KILN_MANAGED_IMAGE_ID=$IMAGE_ID"
	run cat "$CALLS"
	assert_line --index 0 "az login --identity --output none"
	assert_line --index 1 "packer $TEMPLATES/linux validate ."
	assert_line --index 2 "packer $TEMPLATES/linux build -color=false ."
	assert_equal "${#lines[@]}" 3
	# Every PKR_VAR_ reaches Packer untouched; CLI auth is switched on for the job.
	run cat "$CALLS.pkrvars"
	assert_output "PKR_VAR_managed_image_name=linux-gh-runner-1
PKR_VAR_runner_version=2.338.0
PKR_VAR_use_azure_cli_auth=true"
}

@test "no image: usage error; windows as argument: its templates, a user-assigned identity, caller auth choice kept" {
	run_entrypoint STUB_IMAGE_ID="$IMAGE_ID" AZURE_CLIENT_ID=11111111-2222-3333-4444-555555555555 \
		ARM_SUBSCRIPTION_ID=sub-1 PKR_VAR_agent_version=4.255.0 PKR_VAR_use_azure_cli_auth=false
	assert_failure 2 # no image yet: usage error, nothing called
	assert_output --partial "no image given"
	[ ! -s "$CALLS" ]
	run env -i PATH="$STUBS:$PATH" HOME="$BATS_TEST_TMPDIR" CALLS="$CALLS" KILN_TEMPLATES_DIR="$TEMPLATES" \
		STUB_IMAGE_ID="$IMAGE_ID" AZURE_CLIENT_ID=11111111-2222-3333-4444-555555555555 \
		ARM_SUBSCRIPTION_ID=sub-1 PKR_VAR_agent_version=4.255.0 PKR_VAR_use_azure_cli_auth=false \
		bash "$ENTRYPOINT" windows
	assert_success
	run cat "$CALLS"
	assert_line --index 0 "az login --identity --output none --client-id 11111111-2222-3333-4444-555555555555"
	assert_line --index 1 "az account set --subscription sub-1"
	assert_line --index 2 "packer $TEMPLATES/windows validate ."
	assert_line --index 3 "packer $TEMPLATES/windows build -color=false ."
	run cat "$CALLS.pkrvars"
	assert_line "PKR_VAR_agent_version=4.255.0"
	assert_line "PKR_VAR_use_azure_cli_auth=false"
}

@test "kiln's job environment: both real templates validate and build in the existing PACKER_TEMP_RG" {
	# packer validates for real; "build" only prints the resource group arguments the source gets.
	cat >"$STUBS/packer" <<'STUB'
#!/usr/bin/env bash
echo "packer $PWD $*" >>"$CALLS"
case $1 in
validate) exec "$REAL_PACKER" "$@" ;;
build)
	"$REAL_PACKER" console . >"$CALLS.group" <<<'jsonencode({build = local.build_resource_group_name, temp = local.temp_resource_group_name, location = local.build_location})'
	;;
esac
STUB
	local image
	# As src/domain/release.ts and infra/main.bicep set it: PACKER_TEMP_RG, no PACKER_BUILD_IN_EXISTING_RG.
	local job_env=(REAL_PACKER="$(command -v packer)" KILN_TEMPLATES_DIR="$REPO_ROOT/packer"
	ARM_SUBSCRIPTION_ID=00000000-0000-0000-0000-00000000a001 PACKER_LOCATION=westeurope
	PACKER_IMAGE_RG=rg-dev-images PACKER_TEMP_RG=rg-dev-packer-build PACKER_VM_SIZE=Standard_D4s_v5
	ORG=acme ENV=dev AZURE_CLIENT_ID=11111111-2222-3333-4444-555555555555)
	for image in linux windows; do
		: >"$CALLS"
		run_entrypoint "${job_env[@]}" KILN_IMAGE="$image" PKR_VAR_managed_image_name="$image-image-202611280300"
		assert_success
		run grep -c "^packer $REPO_ROOT/packer/$image validate .$" "$CALLS"
		assert_output 1
		run cat "$CALLS.group"
		assert_output '{"build":"rg-dev-packer-build","location":null,"temp":null}'
	done
	# An operator can still let Packer create (and delete) the group.
	run_entrypoint "${job_env[@]}" KILN_IMAGE=linux PKR_VAR_managed_image_name=linux-image-1 PACKER_BUILD_IN_EXISTING_RG=false
	assert_success
	run cat "$CALLS.group"
	assert_output '{"build":null,"location":"westeurope","temp":"rg-dev-packer-build"}'
}

@test "an unknown image is refused before anything runs" {
	run_entrypoint KILN_IMAGE=macos
	assert_failure 2
	assert_output --partial "unknown image 'macos': expected linux or windows"
	[ ! -s "$CALLS" ]
}

@test "packer build failure: the entry point exits with Packer's status and prints no image id" {
	run_entrypoint KILN_IMAGE=linux STUB_BUILD_EXIT=3 STUB_IMAGE_ID="$IMAGE_ID"
	assert_failure 3
	assert_output --partial "packer build failed (exit 3)"
	refute_output --partial "KILN_MANAGED_IMAGE_ID"
}

@test "packer validate failure stops before the build" {
	run_entrypoint KILN_IMAGE=linux STUB_VALIDATE_EXIT=1
	assert_failure 1
	assert_output --partial "packer validate failed (exit 1)"
	refute grep -q ' build ' "$CALLS"
}

@test "az login failure stops before Packer runs" {
	run_entrypoint KILN_IMAGE=linux STUB_LOGIN_EXIT=1
	assert_failure 3
	assert_output --partial "az login --identity failed"
	refute grep -q '^packer' "$CALLS"
}

@test "without an id in Packer's output the image id is asked from Azure by group and name" {
	run_entrypoint KILN_IMAGE=linux PKR_VAR_managed_image_rg=rg-images PKR_VAR_managed_image_name=from-az
	assert_success
	assert_line "KILN_MANAGED_IMAGE_ID=/subscriptions/0000/resourceGroups/rg-images/providers/Microsoft.Compute/images/from-az"
	run grep '^az image' "$CALLS"
	assert_output "az image show --resource-group rg-images --name from-az --query id --output tsv"
}

@test "the Dockerfile copies what exists and starts the entry point" {
	local dockerfile=$REPO_ROOT/packer/job/Dockerfile
	grep -qE '^ARG PACKER_VERSION=[0-9]+\.[0-9]+\.[0-9]+$' "$dockerfile"
	grep -qE '^ARG PACKER_SHA256=[0-9a-f]{64}$' "$dockerfile"
	grep -q 'packer plugins install github.com/hashicorp/azure' "$dockerfile"
	while read -r src _; do
		[ -e "$REPO_ROOT/$src" ] || fail "COPY source $src does not exist"
	done < <(sed -nE 's/^COPY (--[a-z]+=[^ ]+ )*([^ ]+) ([^ ]+)$/\2 \3/p' "$dockerfile")
	run sed -nE 's/^COPY (--[a-z]+=[^ ]+ )*packer\/job\/entrypoint.sh ([^ ]+)$/\2/p' "$dockerfile"
	assert_output "/usr/local/bin/kiln-packer-build"
	grep -qx 'ENTRYPOINT \["/usr/local/bin/kiln-packer-build"\]' "$dockerfile"
}

REPORT_URL=https://stkiln.blob.core.windows.net/software-reports/linux-agent/2026.12.1
upload_line() { # upload_line FILE TYPE: the az call that stores one report file
	echo "az storage blob upload --auth-mode login --blob-url $REPORT_URL/$1 --file $TEMPLATES/linux/software-report/$1 --overwrite --content-type $2 --only-show-errors --output none"
}

@test "software report: the templates write it beside themselves; after the build it is stored with the job's identity, the JSON last" {
	run_entrypoint KILN_IMAGE=linux STUB_IMAGE_ID="$IMAGE_ID" KILN_SOFTWARE_REPORT_URL="$REPORT_URL" \
		STUB_REPORT="software.json software.md sbom.spdx.json"
	assert_success
	assert_line "KILN_MANAGED_IMAGE_ID=$IMAGE_ID"
	assert_line "KILN_SOFTWARE_REPORT=linux-agent/2026.12.1/software.json"
	run cat "$CALLS.reportdir"
	assert_output "$TEMPLATES/linux/software-report"
	run grep '^az storage' "$CALLS"
	assert_line --index 0 "$(upload_line software.md text/markdown)"
	assert_line --index 1 "$(upload_line sbom.spdx.json application/json)"
	assert_line --index 2 "$(upload_line software.json application/json)"
	assert_equal "${#lines[@]}" 3
}

@test "software report: KILN_SOFTWARE_REPORT_DIR is the caller's when set; no SBOM, none uploaded; a trailing slash on the URL is fine" {
	run_entrypoint KILN_IMAGE=windows KILN_SOFTWARE_REPORT_DIR="$BATS_TEST_TMPDIR/report" \
		KILN_SOFTWARE_REPORT_URL="https://st.blob.core.usgovcloudapi.net/reports/windows-agent/2026.12.3/" \
		STUB_REPORT="software.json software.md"
	assert_success
	assert_line "KILN_SOFTWARE_REPORT=windows-agent/2026.12.3/software.json"
	run cat "$CALLS.reportdir"
	assert_output "$BATS_TEST_TMPDIR/report"
	run grep -c '^az storage blob upload' "$CALLS"
	assert_output 2
	run grep -c -- "--blob-url https://st.blob.core.usgovcloudapi.net/reports/windows-agent/2026.12.3/software.json --file $BATS_TEST_TMPDIR/report/software.json" "$CALLS"
	assert_output 1
}

@test "software report missing: said loudly, nothing uploaded, the job still succeeds with its image" {
	mkdir -p "$TEMPLATES/linux/software-report"
	echo '{"stale":true}' >"$TEMPLATES/linux/software-report/software.json" # an earlier build's: not this one's
	run_entrypoint KILN_IMAGE=linux STUB_IMAGE_ID="$IMAGE_ID" KILN_SOFTWARE_REPORT_URL="$REPORT_URL"
	assert_success
	assert_line "KILN_MANAGED_IMAGE_ID=$IMAGE_ID"
	assert_output --partial "WARNING: no software report: $TEMPLATES/linux/software-report/software.json was not written by the build; kiln will hold this version as unreported"
	refute_output --partial "KILN_SOFTWARE_REPORT="
	refute grep -q '^az storage' "$CALLS"
}

@test "software report upload: retried after a failure, with a pause" {
	run_entrypoint KILN_IMAGE=linux STUB_IMAGE_ID="$IMAGE_ID" KILN_SOFTWARE_REPORT_URL="$REPORT_URL" \
		STUB_REPORT="software.json software.md" STUB_UPLOAD_FAILS=2
	assert_success
	assert_line "KILN_SOFTWARE_REPORT=linux-agent/2026.12.1/software.json"
	assert_output --partial "upload of $REPORT_URL/software.md failed (attempt 1 of 3); trying again"
	run grep -E '^(az storage|sleep)' "$CALLS"
	assert_output "$(upload_line software.md text/markdown)
sleep 5
$(upload_line software.md text/markdown)
sleep 10
$(upload_line software.md text/markdown)
$(upload_line software.json application/json)"
}

@test "software report upload failing every time: said loudly with the role it needs; the job still succeeds" {
	run_entrypoint KILN_IMAGE=linux STUB_IMAGE_ID="$IMAGE_ID" KILN_SOFTWARE_REPORT_URL="$REPORT_URL" \
		STUB_REPORT="software.json software.md" STUB_UPLOAD_FAILS=99
	assert_success
	assert_line "KILN_MANAGED_IMAGE_ID=$IMAGE_ID"
	assert_output --partial "WARNING: the software report could not be stored: uploading software.md to $REPORT_URL/software.md failed 3 times (does the job's identity have Storage Blob Data Contributor on the container?); kiln will hold this version as unreported"
	refute_output --partial "KILN_SOFTWARE_REPORT="
	# The JSON, which kiln reads, is never stored without the rest.
	run grep -c '^az storage' "$CALLS"
	assert_output 3
	refute grep -q 'software.json --file' "$CALLS"
}

@test "software report: without KILN_SOFTWARE_REPORT_URL (no KILN_BLOB_ENDPOINT) nothing is uploaded; a failed build uploads nothing" {
	run_entrypoint KILN_IMAGE=linux STUB_IMAGE_ID="$IMAGE_ID" STUB_REPORT="software.json software.md"
	assert_success
	assert_output --partial "KILN_SOFTWARE_REPORT_URL is not set: the software report is not stored"
	refute_output --partial "WARNING"
	refute grep -q '^az storage' "$CALLS"
	run_entrypoint KILN_IMAGE=linux STUB_BUILD_EXIT=3 KILN_SOFTWARE_REPORT_URL="$REPORT_URL" STUB_REPORT="software.json software.md"
	assert_failure 3
	refute grep -q '^az storage' "$CALLS"
}

@test "the job image has the Azure CLI that stores the report" {
	grep -q 'apt-get install -y --no-install-recommends azure-cli' "$REPO_ROOT/packer/job/Dockerfile"
}
