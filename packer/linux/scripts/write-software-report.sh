#!/usr/bin/env bash
# write-software-report.sh: the image's software report (docs/software-report.md), JSON and Markdown, from what the install scripts recorded.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=helpers/install-helpers.sh
source "$HELPER_DIR/install-helpers.sh"
require_env STAGING_DIR BASE_IMAGE_PUBLISHER BASE_IMAGE_OFFER BASE_IMAGE_SKU

# Inputs (the defaults are the build VM's; the tests point them elsewhere):
#   KILN_STATE_DIR/tools.jsonl  what record_tool noted: one JSON object per installed tool
#   KILN_STATE_DIR/sbom.json    the SBOM's {format, file, generator}, when write-sbom.sh made one
#   OS_RELEASE_FILE             /etc/os-release (PRETTY_NAME, VERSION_ID)
#   IMDS_ENDPOINT               http://169.254.169.254: the marketplace image version the VM started from
#   APT_INSTALL                 toolset.json apt.install: listed with the versions dpkg has
# Outputs: KILN_STATE_DIR/software-report.json and .md (they stay in the image), and copies (with
# the SBOM) in STAGING_DIR/software-report/, which the template downloads to the Packer host.
state=$KILN_STATE_DIR
tools=$state/tools.jsonl
[[ -s $tools ]] || die "no tools recorded in $tools: the install scripts call record_tool"

# os_release KEY: a value of /etc/os-release, unquoted (the file is read, never sourced).
os_release() {
	sed -n "s/^$1=//p" "${OS_RELEASE_FILE:-/etc/os-release}" | head -n 1 | sed -e 's/^"\(.*\)"$/\1/' -e "s/^'\(.*\)'$/\1/"
}

# imds PATH: GET from IMDS (header Metadata: true, never through a proxy), a few tries; empty on failure.
imds() {
	local url=${IMDS_ENDPOINT:-http://169.254.169.254} attempt
	for attempt in 1 2 3 4 5; do
		if curl -fsS --noproxy '*' -H Metadata:true --connect-timeout 5 --max-time 20 "${url%/}$1"; then
			return 0
		fi
		((attempt == 5)) || sleep "${IMDS_RETRY_DELAY:-2}"
	done
	return 1
}

# The marketplace version the build VM started from. IMDS's imageReference names it (exactVersion
# in newer api-versions, version in 2021-02-01); should it say "latest", compute/version has the
# version itself.
base_version=$(imds '/metadata/instance/compute/storageProfile/imageReference?api-version=2021-02-01' |
	jq -r '.exactVersion // .version // ""' 2>/dev/null || true)
if [[ -z $base_version || $base_version == latest ]]; then
	base_version=$(imds '/metadata/instance/compute/version?api-version=2021-02-01&format=text' || true)
fi
if [[ -z $base_version || $base_version == latest ]]; then
	log "WARNING: IMDS did not say which base image version this VM started from; the report says unknown"
	base_version=unknown
fi

# apt_origin PACKAGE: the repository URL its installed version came from (apt-cache policy).
apt_origin() {
	apt-cache policy "$1" 2>/dev/null | awk '
		/^ \*\*\* / { here = 1; next }
		here && /^ +[0-9]+ [a-z]+:\/\// { print $2; exit }
		here && /^ {5}[^ ]/ { exit }'
}

# The apt packages of toolset.json, with the versions dpkg installed, listed before the recorded
# tools so a tool an install script recorded itself keeps its own entry.
apt_records=$(mktemp)
report=$state/software-report.json
trap 'rm -f "$apt_records" "$report.tmp"' EXIT
read -r -a packages <<<"${APT_INSTALL:-}"
for package in "${packages[@]+"${packages[@]}"}"; do
	version=$(dpkg-query -W -f='${db:Status-Status} ${Version}' "$package" 2>/dev/null || true)
	[[ $version == 'installed '?* ]] || die "$package (toolset.json apt.install) is not installed"
	version=${version#installed }
	origin=$(apt_origin "$package")
	jq -cn --arg name "$package" --arg version "$version" --arg source "${origin:-apt}" \
		'{name: $name, version: $version, requested: "latest", source: $source, verifiedBy: "apt-signature"}' >>"$apt_records"
done

sbom_meta=()
if [[ -s $state/sbom.json && -s $state/sbom.spdx.json ]]; then
	sbom_meta=(--slurpfile sbom "$state/sbom.json")
else
	sbom_meta=(--argjson sbom '[]')
fi

jq -n \
	--arg generatedAt "$(date -u +%Y-%m-%dT%H:%M:%SZ)" \
	--arg osName "$(os_release PRETTY_NAME)" --arg osVersion "$(os_release VERSION_ID)" --arg osBuild "$(uname -r)" \
	--arg publisher "$BASE_IMAGE_PUBLISHER" --arg offer "$BASE_IMAGE_OFFER" --arg sku "$BASE_IMAGE_SKU" \
	--arg baseVersion "$base_version" \
	--slurpfile tools <(cat "$apt_records" "$tools") \
	"${sbom_meta[@]}" \
	'($tools | group_by(.name) | map(last)) as $all
	| ($all | map(select(.name == "actions-runner")) | first) as $runner
	| {
		schemaVersion: 1,
		image: "linux",
		generatedAt: $generatedAt,
		os: {name: $osName, version: $osVersion, build: $osBuild},
		baseImage: {publisher: $publisher, offer: $offer, sku: $sku, version: $baseVersion},
		agent: (if $runner then {name: $runner.name, version: $runner.version} else null end),
		tools: $all
	}
	+ (if ($sbom | length) > 0 then {sbom: $sbom[0]} else {} end)' >"$report.tmp"

# What docs/software-report.md promises, checked before the report is written.
problems=$(jq -r '
	(if .agent == null then "no actions-runner among the recorded tools" else empty end),
	(.os | to_entries[] | select(.value == "") | "os.\(.key) is empty"),
	(.tools[] | . as $t | ["name", "version", "requested", "source", "verifiedBy"][]
		| select(($t[.] // "") == "") | "tool \($t.name // "?"): \(.) is empty"),
	(.tools[] | select(.verifiedBy | IN("sha256", "authenticode", "apt-signature", "npm-integrity",
		"nuget-signature", "chocolatey-checksum", "os") | not) | "tool \(.name): unknown verifiedBy \(.verifiedBy)")
	' "$report.tmp")
[[ -z $problems ]] || die "the software report is incomplete: $(paste -sd';' <<<"$problems")"
mv "$report.tmp" "$report"

jq -r '
	def cell: tostring | gsub("\\|"; "\\|") | gsub("\n"; " ");
	"# Software report: \(.image) image",
	"",
	"Generated \(.generatedAt).",
	"",
	"| | |",
	"|---|---|",
	"| OS | \(.os.name | cell) (\(.os.version | cell), kernel \(.os.build | cell)) |",
	"| Base image | \(.baseImage.publisher | cell) / \(.baseImage.offer | cell) / \(.baseImage.sku | cell), version \(.baseImage.version | cell) |",
	"| Agent | \(.agent.name | cell) \(.agent.version | cell) |",
	(if .sbom then "| SBOM | \(.sbom.file | cell) (\(.sbom.format | cell), \(.sbom.generator | cell)) |" else empty end),
	"",
	"## Tools",
	"",
	"| Tool | Version | Requested | Verified by | Source |",
	"|---|---|---|---|---|",
	(.tools[] | "| \(.name | cell) | \(.version | cell) | \(.requested | cell) | \(.verifiedBy | cell) | \(.source | cell) |")
	' "$report" >"$state/software-report.md"

# Copies for the Packer host: the template downloads this folder's files (the SBOM only when made).
outbox=$STAGING_DIR/software-report
install -d -m 0755 "$outbox"
install -m 0644 "$report" "$state/software-report.md" "$outbox/"
if [[ -s $state/sbom.json ]]; then
	install -m 0644 "$state/sbom.spdx.json" "$outbox/"
fi
chmod 0644 "$report" "$state/software-report.md"
log "software report: $report ($(jq '.tools | length' "$report") tools, agent $(jq -r '.agent.version' "$report"))"
