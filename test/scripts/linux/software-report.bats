#!/usr/bin/env bats
# packer/linux/scripts/write-software-report.sh: the software report of docs/software-report.md,
# from a recorded tools file (fixtures/report/tools.jsonl, what the install scripts' record_tool
# writes), /etc/os-release, IMDS (fake, loopback) and dpkg (stubbed).
# shellcheck disable=SC2016 # the stubs and snippets hold literal $ expressions on purpose

bats_load_library bats-support
bats_load_library bats-assert
load helpers/releases

setup() {
	start_release_server
	BIN=$BATS_TEST_TMPDIR/bin
	STAGING=$BATS_TEST_TMPDIR/staging
	mkdir -p "$KILN_STATE_DIR" "$STAGING" "$WEB/metadata/instance/compute/storageProfile"
	cp "$FIXTURES/report/tools.jsonl" "$KILN_STATE_DIR/tools.jsonl"
	cp "$FIXTURES/imds/imageReference.json" "$WEB/metadata/instance/compute/storageProfile/imageReference"
	# dpkg and apt as they answer for two of toolset.json's apt packages.
	stub dpkg-query 'case ${*: -1} in
	git) echo "installed 1:2.34.1-1ubuntu1.11" ;;
	jq) echo "installed 1.6-2.1ubuntu3" ;;
	*) exit 1 ;;
esac'
	stub apt-cache 'cat <<POLICY
$2:
  Installed: x
  Candidate: x
  Version table:
     9.9 500
        500 http://azure.archive.ubuntu.com/ubuntu jammy-proposed/main amd64 Packages
 *** x 500
        500 http://azure.archive.ubuntu.com/ubuntu jammy-updates/main amd64 Packages
        500 http://azure.archive.ubuntu.com/ubuntu jammy-security/main amd64 Packages
        100 /var/lib/dpkg/status
     0.1 500
        500 http://azure.archive.ubuntu.com/ubuntu jammy/main amd64 Packages
POLICY'
}

teardown() {
	stop_release_server
}

write_report() {
	run env PATH="$BIN:$PATH" HELPER_DIR="$SCRIPTS/helpers" STAGING_DIR="$STAGING" OS_RELEASE_FILE="$FIXTURES/os/os-release" \
		BASE_IMAGE_PUBLISHER=Canonical BASE_IMAGE_OFFER=0001-com-ubuntu-server-jammy BASE_IMAGE_SKU=22_04-lts-gen2 \
		APT_INSTALL="git jq" "$@" bash "$SCRIPTS/write-software-report.sh"
}

REPORT() { jq -c "$@" "$KILN_STATE_DIR/software-report.json"; }

@test "the report has every field docs/software-report.md names, from the recorded tools" {
	write_report
	assert_success
	assert_output --partial "software report: $KILN_STATE_DIR/software-report.json (7 tools, agent 2.338.0)"
	assert_equal "$(REPORT '[.schemaVersion, .image]')" '[1,"linux"]'
	[[ $(REPORT -r .generatedAt) =~ ^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z$ ]]
	assert_equal "$(REPORT .os)" '{"name":"Ubuntu 22.04.5 LTS","version":"22.04","build":"'"$(uname -r)"'"}'
	assert_equal "$(REPORT .baseImage)" '{"publisher":"Canonical","offer":"0001-com-ubuntu-server-jammy","sku":"22_04-lts-gen2","version":"22.04.202611190"}'
	assert_equal "$(REPORT .agent)" '{"name":"actions-runner","version":"2.338.0"}'
	# Every tool: the five fields, by name; the recorded ones as recorded, the apt ones from dpkg.
	assert_equal "$(REPORT '[.tools[].name]')" '["actions-runner","azd","azure-cli","git","jq","node","npm"]'
	assert_equal "$(REPORT '[.tools[] | keys_unsorted] | unique')" '[["name","version","requested","source","verifiedBy"]]'
	assert_equal "$(REPORT '.tools[] | select(.name == "node")')" \
		'{"name":"node","version":"24.21.0","requested":"active LTS","source":"https://nodejs.org/dist/v24.21.0/","verifiedBy":"sha256"}'
	assert_equal "$(REPORT '.tools[] | select(.name == "git")')" \
		'{"name":"git","version":"1:2.34.1-1ubuntu1.11","requested":"latest","source":"http://azure.archive.ubuntu.com/ubuntu","verifiedBy":"apt-signature"}'
	assert_equal "$(REPORT '.tools[] | select(.name == "azure-cli") | .verifiedBy')" '"apt-signature"'
	assert_equal "$(REPORT 'has("sbom")')" false
	# IMDS was asked as IMDS wants to be asked.
	run requests 'select(.path | startswith("/metadata/")) | [.path, .metadata] | join(" ")'
	assert_output '"/metadata/instance/compute/storageProfile/imageReference?api-version=2021-02-01 true"'
}

@test "kiln's own parser (src/domain/software-report.ts) reads the report" {
	[[ -x $REPO_ROOT/node_modules/.bin/tsx ]] || skip "node_modules not installed (npm ci)"
	write_report
	assert_success
	run "$REPO_ROOT/node_modules/.bin/tsx" -e '
		import { readFileSync } from "node:fs";
		import { parseSoftwareReport } from "'"$REPO_ROOT"'/src/domain/software-report.ts";
		const r = parseSoftwareReport(readFileSync(process.argv[1], "utf8"), "report");
		console.log(`${r.image} ${r.agent.version} ${r.tools.length}`);' "$KILN_STATE_DIR/software-report.json"
	assert_success
	assert_output "linux 2.338.0 7"
}

@test "the Markdown report and the copies the template downloads" {
	write_report
	assert_success
	local md=$KILN_STATE_DIR/software-report.md
	assert_equal "$(sed -n 1p "$md")" "# Software report: linux image"
	grep -qxF "| OS | Ubuntu 22.04.5 LTS (22.04, kernel $(uname -r)) |" "$md"
	grep -qxF "| Base image | Canonical / 0001-com-ubuntu-server-jammy / 22_04-lts-gen2, version 22.04.202611190 |" "$md"
	grep -qxF "| node | 24.21.0 | active LTS | sha256 | https://nodejs.org/dist/v24.21.0/ |" "$md"
	grep -qxF "| Tool | Version | Requested | Verified by | Source |" "$md"
	assert_equal "$(grep -c '^| [a-z-]* | .* | .* | .* | .* |$' "$md")" 7
	# The outbox the file provisioner downloads: the two reports, readable, nothing else.
	assert_equal "$(find "$STAGING/software-report" -type f -printf '%f %m\n' | sort | paste -sd' ')" \
		"software-report.json 644 software-report.md 644"
	cmp "$STAGING/software-report/software-report.json" "$KILN_STATE_DIR/software-report.json"
}

@test "with an SBOM: the report's sbom field, and the SBOM beside the reports for the download" {
	echo '{"spdxVersion":"SPDX-2.3","packages":[]}' >"$KILN_STATE_DIR/sbom.spdx.json"
	echo '{"format":"spdx-json","file":"sbom.spdx.json","generator":"syft 1.45.1"}' >"$KILN_STATE_DIR/sbom.json"
	write_report
	assert_success
	assert_equal "$(REPORT .sbom)" '{"format":"spdx-json","file":"sbom.spdx.json","generator":"syft 1.45.1"}'
	grep -qxF "| SBOM | sbom.spdx.json (spdx-json, syft 1.45.1) |" "$KILN_STATE_DIR/software-report.md"
	assert_equal "$(find "$STAGING/software-report" -type f -printf '%f\n' | sort | paste -sd' ')" \
		"sbom.spdx.json software-report.json software-report.md"
}

@test "base image version: IMDS's 'latest' falls back to compute/version; no IMDS at all says unknown" {
	cp "$FIXTURES/imds/imageReference-latest.json" "$WEB/metadata/instance/compute/storageProfile/imageReference"
	printf '22.04.202611190' >"$WEB/metadata/instance/compute/version"
	write_report
	assert_success
	assert_equal "$(REPORT -r .baseImage.version)" 22.04.202611190
	write_report IMDS_ENDPOINT=http://127.0.0.1:1
	assert_success
	assert_output --partial "WARNING: IMDS did not say which base image version"
	assert_equal "$(REPORT -r .baseImage.version)" unknown
}

@test "an incomplete report is refused: no runner recorded, an apt package missing, nothing recorded" {
	grep -v actions-runner "$FIXTURES/report/tools.jsonl" >"$KILN_STATE_DIR/tools.jsonl"
	write_report
	assert_failure
	assert_output --partial "the software report is incomplete: no actions-runner among the recorded tools"
	assert [ ! -e "$KILN_STATE_DIR/software-report.json" ]
	cp "$FIXTURES/report/tools.jsonl" "$KILN_STATE_DIR/tools.jsonl"
	write_report APT_INSTALL="git curl"
	assert_failure
	assert_output --partial "curl (toolset.json apt.install) is not installed"
	rm "$KILN_STATE_DIR/tools.jsonl"
	write_report
	assert_failure
	assert_output --partial "no tools recorded in $KILN_STATE_DIR/tools.jsonl"
}

@test "record_tool: one JSON line per tool, built by jq, refusing empty fields" {
	rm -rf "$KILN_STATE_DIR"
	run bash -c 'source "$1"; record_tool "we|ird" "1.0 \"quoted\"" latest "https://x/?a=b&c" sha256' _ "$HELPERS"
	assert_success
	assert_equal "$(jq -c . "$KILN_STATE_DIR/tools.jsonl")" \
		'{"name":"we|ird","version":"1.0 \"quoted\"","requested":"latest","source":"https://x/?a=b&c","verifiedBy":"sha256"}'
	run bash -c 'source "$1"; record_tool node "" latest src sha256' _ "$HELPERS"
	assert_failure
	assert_output --partial "record_tool node: an empty field"
}
