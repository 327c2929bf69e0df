#!/usr/bin/env bash
# entrypoint.sh: the Packer job's entry point: signs in with the job's managed identity and builds one kiln image.
#
# Usage: entrypoint.sh [linux|windows]   (or KILN_IMAGE=linux|windows)
# Every Packer variable comes from the environment: PKR_VAR_<name> (read by Packer itself) and the
# defaults the templates take from PACKER_LOCATION, PACKER_IMAGE_RG, PACKER_TEMP_RG,
# PACKER_BUILD_IN_EXISTING_RG, PACKER_VM_SIZE, ORG and ENV. With kiln's PACKER_TEMP_RG (the existing
# rg-<env>-packer-build, where the job's identity is Contributor) and PACKER_BUILD_IN_EXISTING_RG
# unset, the templates build in that group and never create or delete a resource group.
# AZURE_CLIENT_ID picks a user-assigned identity; ARM_SUBSCRIPTION_ID the subscription.
# On success prints "KILN_MANAGED_IMAGE_ID=<id>"; exits with Packer's status.
#
# The build's software report (docs/software-report.md): the templates write software.json,
# software.md and, when an SBOM was made, sbom.spdx.json into KILN_SOFTWARE_REPORT_DIR (exported
# here; default software-report/ beside the template). After a successful build they are uploaded,
# with the job's identity, to KILN_SOFTWARE_REPORT_URL (the version's folder in kiln's reports
# container, <blob endpoint>/<container>/<definition>/<version>; kiln sets it), the JSON last, each
# tried KILN_UPLOAD_ATTEMPTS times (default 3); then "KILN_SOFTWARE_REPORT=<blob name of the JSON>"
# is printed. A missing report or a failed upload is logged loudly and does not fail the job: the
# image is built, and kiln holds the version as unreported for a person to decide.
set -euo pipefail

log() { printf 'kiln-packer: %s\n' "$*" >&2; }
# Loud: a line a person reading the job's log cannot miss.
warn() { printf 'kiln-packer: WARNING: %s\n' "$*" >&2; }

image=${1:-${KILN_IMAGE:-}}
templates=${KILN_TEMPLATES_DIR:-/opt/kiln/packer}
case $image in
linux | windows) ;;
'')
	log "no image given: pass linux or windows as the argument or in KILN_IMAGE"
	exit 2
	;;
*)
	log "unknown image '$image': expected linux or windows"
	exit 2
	;;
esac
template_dir=$templates/$image
if [[ ! -d $template_dir ]]; then
	log "no template folder $template_dir (KILN_TEMPLATES_DIR=$templates)"
	exit 2
fi

# Where the templates write the software report. Files an earlier build left there are not this one's.
report_dir=${KILN_SOFTWARE_REPORT_DIR:-$template_dir/software-report}
export KILN_SOFTWARE_REPORT_DIR=$report_dir
report_files=(software.md sbom.spdx.json software.json) # the JSON last: it is what kiln reads first
for file in "${report_files[@]}"; do rm -f "$report_dir/$file"; done

# Container Apps managed identities are not reachable through IMDS, so the azure-arm builder's own
# managed-identity login cannot work here; the Azure CLI can, so both templates build with CLI auth.
export PKR_VAR_use_azure_cli_auth=${PKR_VAR_use_azure_cli_auth:-true}

# Names only: values may be secrets.
mapfile -t pkr_vars < <(compgen -e | grep '^PKR_VAR_' | sed 's/^PKR_VAR_//' | sort || true)
log "building the $image image from $template_dir; Packer variables from the environment: ${pkr_vars[*]:-none}"

login=(login --identity --output none)
[[ -z ${AZURE_CLIENT_ID:-} ]] || login+=(--client-id "$AZURE_CLIENT_ID")
if ! az "${login[@]}"; then
	log "az login --identity failed: the job needs a managed identity (set AZURE_CLIENT_ID for a user-assigned one)"
	exit 3
fi
if [[ -n ${ARM_SUBSCRIPTION_ID:-} ]]; then
	az account set --subscription "$ARM_SUBSCRIPTION_ID"
fi

cd "$template_dir"
export CHECKPOINT_DISABLE=1
# Validation first: a bad variable fails in seconds, before any Azure resource exists.
rc=0
packer validate . || rc=$?
if ((rc != 0)); then
	log "packer validate failed (exit $rc): check the variables above"
	exit "$rc"
fi

build_log=$(mktemp)
trap 'rm -f "$build_log"' EXIT
rc=0
packer build -color=false . 2>&1 | tee "$build_log" || rc=${PIPESTATUS[0]}
if ((rc != 0)); then
	log "packer build failed (exit $rc)"
	exit "$rc"
fi

# The azure-arm artifact names its managed image; fall back to asking Azure by group and name.
image_id=$(grep -oE 'ManagedImageId: /subscriptions/[^[:space:]]+' "$build_log" | tail -n1 | cut -d' ' -f2 || true)
if [[ -z $image_id ]]; then
	rg=${PKR_VAR_managed_image_rg:-${PACKER_IMAGE_RG:-}}
	name=${PKR_VAR_managed_image_name:-}
	if [[ -n $rg && -n $name ]]; then
		image_id=$(az image show --resource-group "$rg" --name "$name" --query id --output tsv || true)
	fi
fi
if [[ -n $image_id ]]; then
	printf 'KILN_MANAGED_IMAGE_ID=%s\n' "$image_id"
else
	log "packer succeeded but the managed image id could not be determined (set PKR_VAR_managed_image_rg and PKR_VAR_managed_image_name)"
fi

# upload FILE URL: one blob, tried KILN_UPLOAD_ATTEMPTS times with a growing pause.
upload() {
	local file=$1 url=$2 attempts=${KILN_UPLOAD_ATTEMPTS:-3} attempt content_type
	case $file in
	*.md) content_type=text/markdown ;;
	*) content_type=application/json ;;
	esac
	for ((attempt = 1; attempt <= attempts; attempt++)); do
		if az storage blob upload --auth-mode login --blob-url "$url" --file "$file" --overwrite \
			--content-type "$content_type" --only-show-errors --output none; then
			return 0
		fi
		if ((attempt < attempts)); then
			log "upload of $url failed (attempt $attempt of $attempts); trying again"
			sleep $((attempt * 5))
		fi
	done
	return 1
}

# store_report: uploads the report files that exist; the status says whether the report was stored.
store_report() {
	local url=${KILN_SOFTWARE_REPORT_URL:-} file blob
	url=${url%/}
	if [[ -z $url ]]; then
		log "KILN_SOFTWARE_REPORT_URL is not set: the software report is not stored (kiln reads no reports without KILN_BLOB_ENDPOINT)"
		return 0
	fi
	if [[ ! -s $report_dir/software.json ]]; then
		warn "no software report: $report_dir/software.json was not written by the build; kiln will hold this version as unreported until someone approves it"
		return 1
	fi
	[[ -s $report_dir/software.md ]] || warn "$report_dir/software.md was not written: the report is stored without its Markdown"
	for file in "${report_files[@]}"; do
		[[ -s $report_dir/$file ]] || continue
		if ! upload "$report_dir/$file" "$url/$file"; then
			warn "the software report could not be stored: uploading $file to $url/$file failed ${KILN_UPLOAD_ATTEMPTS:-3} times (does the job's identity have Storage Blob Data Contributor on the container?); kiln will hold this version as unreported until someone approves it"
			return 1
		fi
	done
	# The blob's name within its container: the URL's path after the container.
	blob=${url#*://*/}
	blob=${blob#*/}
	printf 'KILN_SOFTWARE_REPORT=%s/software.json\n' "$blob"
}

# The image is built whatever happens to its report.
store_report || true
exit "$rc"
