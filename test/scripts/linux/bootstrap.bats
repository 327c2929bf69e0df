#!/usr/bin/env bats
# bootstrap.sh against a fake IMDS / Key Vault / GitHub on loopback, with stub config.sh and run.sh.

bats_load_library bats-support
bats_load_library bats-assert
load helpers/bootstrap

setup_file() {
	make_cert
}

setup() {
	setup_dirs
}

teardown() {
	stop_fake
}

@test "PAT path: GH_PAT from /etc/profile.d registers an org runner named after the host" {
	start_fake
	cat >"$IN/gh-runner-env.sh" <<ENV
export GH_SCOPE=org
export GH_OWNER=acme
export GH_PAT=$PAT
ENV
	run_bootstrap
	assert_success
	assert_output --partial "run.sh stub: job done"
	assert_equal "$(config_args)" "--unattended --ephemeral --replace --url https://github.com/acme --token $REG_TOKEN --name $(uname -n) --work _work"
	assert_equal "$(requests github | jq -r .path)" "/orgs/acme/actions/runners/registration-token"
	assert_equal "$(requests github | jq -r '[.method, .auth, .accept, .api_version_header] | join(" ")')" \
		"POST ok application/vnd.github+json 2022-11-28"
	assert_equal "$(requests imds)" ""
	assert_equal "$(requests keyvault)" ""
	# The runner and its jobs never see the PAT; run.sh runs in the runner folder.
	refute grep -q '^GH_PAT=' "$REC/run.env"
	refute grep -q '^GH_PAT=' "$REC/config.env"
	assert_equal "$(cat "$REC/run.pwd")" "$RUNNER"
	assert_no_secrets
}

@test "Key Vault path: PAT read through IMDS and Key Vault registers a repo runner" {
	start_fake
	run_bootstrap GH_SCOPE=repo GH_OWNER=acme GH_REPO=widgets KEYVAULT_NAME="$VAULT" SECRET_NAME="$SECRET"
	assert_success
	assert_equal "$(config_args)" "--unattended --ephemeral --replace --url https://github.com/acme/widgets --token $REG_TOKEN --name $(uname -n) --work _work"
	assert_equal "$(requests imds | jq -r '[.method, .metadata, .status] | join(" ")')" "GET true 200"
	assert_equal "$(requests keyvault | jq -r '[.tls, .host, .auth, .status] | join(" ")')" \
		"true $VAULT.localhost:$TLS_PORT ok 200"
	assert_equal "$(requests github | jq -r '[.path, .auth, .status] | join(" ")')" \
		"/repos/acme/widgets/actions/runners/registration-token ok 201"
	# While config.sh ran, bootstrap's temporary files were private and none held a secret;
	# before run.sh started they were gone.
	assert [ -s "$REC/config.tmpfiles" ]
	while read -r mode type _; do
		if [[ $type == d ]]; then assert_equal "$mode" 700; else assert_equal "$mode" 600; fi
	done <"$REC/config.tmpfiles"
	assert_equal "$(find "$OUT/run" -mindepth 1 -name 'bootstrap.*')" ""
	assert_equal "$(cat "$REC/run.umask")" "0022"
	assert_no_secrets
}

@test "labels, runner group and an explicit name reach config.sh" {
	start_fake
	run_bootstrap GH_SCOPE=org GH_OWNER=acme GH_PAT="$PAT" GH_RUNNER_LABELS=linux,kiln-ubuntu \
		GH_RUNNER_GROUP=kiln-fleet GH_RUNNER_NAME=vmss-linux_3
	assert_success
	assert_equal "$(config_args)" "--unattended --ephemeral --replace --url https://github.com/acme --token $REG_TOKEN --name vmss-linux_3 --labels linux,kiln-ubuntu --runnergroup kiln-fleet --work _work"
	assert_no_secrets
}

@test "GitHub Enterprise Server: GITHUB_URL alone implies the API under /api/v3" {
	start_fake '"api_prefix": "/api/v3"'
	run_bootstrap GH_SCOPE=repo GH_OWNER=acme GH_REPO=widgets GH_PAT="$PAT" \
		GITHUB_URL="http://127.0.0.1:$HTTP_PORT" GITHUB_API_URL=
	assert_success
	assert_equal "$(requests github | jq -r '[.path, .status] | join(" ")')" \
		"/api/v3/repos/acme/widgets/actions/runners/registration-token 201"
	assert_line --index 0 --partial "using the PAT from GH_PAT"
	assert_equal "$(sed -n '5p' "$REC/config.args")" "http://127.0.0.1:$HTTP_PORT/acme/widgets"
	assert_no_secrets
	# GITHUB_API_URL alone (ending in /api/v3) implies the server URL.
	run_bootstrap GH_SCOPE=org GH_OWNER=acme GH_PAT="$PAT" \
		GITHUB_URL= GITHUB_API_URL="http://127.0.0.1:$HTTP_PORT/api/v3/"
	assert_success
	assert_equal "$(requests github | tail -n1 | jq -r .path)" "/api/v3/orgs/acme/actions/runners/registration-token"
	assert_equal "$(sed -n '5p' "$REC/config.args")" "http://127.0.0.1:$HTTP_PORT/acme"
	# Neither alone is enough when the API URL does not show where the server is.
	run_bootstrap GH_SCOPE=org GH_OWNER=acme GH_PAT="$PAT" GITHUB_URL= GITHUB_API_URL=http://127.0.0.1:9/api
	assert_failure 2
	assert_output --partial "GITHUB_URL is required when GITHUB_API_URL ('http://127.0.0.1:9/api') does not end in /api/v3"
	assert_no_secrets
}

@test "missing variables: one message lists every problem, nothing is contacted" {
	start_fake
	run_bootstrap
	assert_failure 2
	assert_output --partial "3 configuration problem(s)"
	assert_output --partial "GH_SCOPE is not set"
	assert_output --partial "GH_OWNER is not set"
	assert_output --partial "no PAT source: set GH_PAT, or KEYVAULT_NAME and SECRET_NAME"
	assert_output --partial "systemctl restart github-runner"
	[ "$(grep -c 'configuration problem' <<<"$output")" -eq 1 ]
	[ ! -e "$OUT/fake/requests.jsonl" ]
	[ ! -e "$REC/config.args" ]
}

@test "contradictory variables are each reported" {
	start_fake
	run_bootstrap GH_SCOPE=org GH_OWNER=acme GH_REPO=widgets KEYVAULT_NAME="$VAULT" GH_RUNNER_LABELS="a, b"
	assert_failure 2
	assert_output --partial "3 configuration problem(s)"
	assert_output --partial "GH_REPO is set but GH_SCOPE=org"
	assert_output --partial "SECRET_NAME is required with KEYVAULT_NAME"
	assert_output --partial "GH_RUNNER_LABELS 'a, b' must be comma-separated without spaces"
	run_bootstrap GH_SCOPE=repo GH_OWNER=acme GH_PAT="$PAT" GH_RUNNER_GROUP=fleet RUNNER_DIR="$OUT/nowhere"
	assert_failure 2
	assert_output --partial "GH_REPO is required when GH_SCOPE=repo"
	assert_output --partial "GH_RUNNER_GROUP only applies to organization runners"
	assert_output --partial "RUNNER_DIR '$OUT/nowhere' has no executable config.sh and run.sh"
	assert_no_secrets
}

@test "IMDS answers 429 twice, then a token: bootstrap retries and registers" {
	start_fake '"imds_statuses": [429, 429]'
	run_bootstrap GH_SCOPE=org GH_OWNER=acme KEYVAULT_NAME="$VAULT" SECRET_NAME="$SECRET"
	assert_success
	assert_equal "$(requests imds | jq -r .status | paste -sd' ')" "429 429 200"
	assert_output --partial "IMDS answered 429; retry 1 of 3"
	assert_output --partial "IMDS answered 429; retry 2 of 3"
	assert [ -e "$REC/run.env" ]
	assert_no_secrets
}

@test "IMDS keeps failing: the step, the status and a hint are named after the retries" {
	start_fake '"imds_statuses": [503, 503, 503, 503, 503]'
	run_bootstrap GH_SCOPE=org GH_OWNER=acme KEYVAULT_NAME="$VAULT" SECRET_NAME="$SECRET"
	assert_failure 3
	assert_equal "$(requests imds | wc -l)" 4
	assert_output --partial "IMDS token for Key Vault failed: HTTP 503"
	assert_output --partial "Fix: IMDS at http://127.0.0.1:$HTTP_PORT kept failing after 4 attempts"
	[ ! -e "$REC/config.args" ]
}

@test "Key Vault 403: names the step and tells to assign Key Vault Secrets User" {
	start_fake '"kv_status": 403'
	run_bootstrap GH_SCOPE=org GH_OWNER=acme KEYVAULT_NAME="$VAULT" SECRET_NAME="$SECRET"
	assert_failure 3
	assert_output --partial "Key Vault secret 'gh-pat' from '$VAULT' failed: HTTP 403 (Forbidden: Caller is not authorized"
	assert_output --partial "assign it the Key Vault Secrets User role on the vault"
	assert_equal "$(requests github)" ""
	[ ! -e "$REC/config.args" ]
	assert_no_secrets
}

@test "Key Vault 404: a misspelt secret name is reported as such" {
	start_fake
	run_bootstrap GH_SCOPE=org GH_OWNER=acme KEYVAULT_NAME="$VAULT" SECRET_NAME=gh-pta
	assert_failure 3
	assert_output --partial "HTTP 404 (SecretNotFound"
	assert_output --partial "verify KEYVAULT_NAME and SECRET_NAME spelling"
	assert_no_secrets
}

@test "GitHub 401: a wrong PAT is reported with a rotation hint and never printed" {
	start_fake
	run_bootstrap GH_SCOPE=org GH_OWNER=acme GH_PAT="$WRONG_PAT"
	assert_failure 3
	assert_output --partial "GitHub registration token for organization 'acme' failed: HTTP 401 (Bad credentials)"
	assert_output --partial "Fix: the PAT is invalid or expired: rotate it in GH_PAT"
	assert_equal "$(requests github | jq -r .auth)" "wrong"
	[ ! -e "$REC/config.args" ]
	assert_no_secrets
}

@test "GitHub unreachable: no HTTP response names the API URL to check" {
	start_fake
	run_bootstrap GH_SCOPE=org GH_OWNER=acme GH_PAT="$PAT" GITHUB_API_URL=http://127.0.0.1:1
	assert_failure 3
	assert_output --partial "failed: no HTTP response"
	assert_output --partial "cannot reach http://127.0.0.1:1: check GITHUB_API_URL"
	assert_no_secrets
}

@test "no secret appears in any output, log or recorded file, on success or failure" {
	# Key Vault PAT, retried IMDS, then a GitHub refusal that echoes a reason: every path that
	# handles the PAT and the access token, with everything written under $OUT searched.
	start_fake '"imds_statuses": [500], "gh_status": 403'
	run_bootstrap GH_SCOPE=org GH_OWNER=acme KEYVAULT_NAME="$VAULT" SECRET_NAME="$SECRET"
	assert_failure 3
	assert_output --partial "HTTP 403"
	assert_output --partial "may not register runners"
	assert_no_secrets
	stop_fake
	start_fake
	run_bootstrap GH_SCOPE=org GH_OWNER=acme KEYVAULT_NAME="$VAULT" SECRET_NAME="$SECRET" GH_PAT=
	assert_success
	assert_no_secrets
	# The request log holds no Authorization values, only their verdicts.
	run grep -c '"auth": "ok"' "$OUT/fake/requests.jsonl"
	assert_output 2
}

@test "config.sh failure stops with its exit code named" {
	start_fake
	run_bootstrap GH_SCOPE=org GH_OWNER=acme GH_PAT="$PAT" CONFIG_STUB_EXIT=7
	assert_failure 4
	assert_output --partial "config.sh failed (exit 7)"
	[ ! -e "$REC/run.env" ]
	assert_no_secrets
}

@test "failed starts are counted for the backoff and a registration resets the count" {
	start_fake
	run_bootstrap GH_SCOPE=org
	assert_failure 2
	run_bootstrap GH_SCOPE=org
	assert_failure 2
	assert_equal "$(cat "$OUT/run/failures")" 2
	run_bootstrap GH_SCOPE=org RESTART_BACKOFF_BASE=1
	assert_failure 2
	assert_output --partial "start attempt 3 failed; waiting 4s"
	run_bootstrap GH_SCOPE=org GH_OWNER=acme GH_PAT="$PAT"
	assert_success
	[ ! -e "$OUT/run/failures" ]
}

@test "a local registration left by an interrupted run is removed before config.sh" {
	start_fake
	echo '{}' >"$RUNNER/.runner"
	echo '{}' >"$RUNNER/.credentials"
	mkdir -p "$RUNNER/_work/old-job"
	run_bootstrap GH_SCOPE=org GH_OWNER=acme GH_PAT="$PAT"
	assert_success
	assert_output --partial "removing the local registration left by a previous start"
	[ ! -e "$RUNNER/.runner" ]
	[ ! -e "$RUNNER/.credentials" ]
	[ ! -e "$RUNNER/_work/old-job" ]
}

@test "the fake rejects what the real services reject (so passing tests mean correct requests)" {
	start_fake
	local imds=http://127.0.0.1:$HTTP_PORT/metadata/identity/oauth2/token resource
	resource=$(jq -rn --arg v "https://localhost:$TLS_PORT" '$v | @uri')
	code() { curl -s -o /dev/null -w '%{http_code}' --cacert "$BATS_FILE_TMPDIR/cert.pem" "$@"; }
	# IMDS: Metadata header exactly "true", api-version and the Key Vault resource required.
	assert_equal "$(code "$imds?api-version=2018-02-01&resource=$resource")" 400
	assert_equal "$(code -H 'Metadata: True' "$imds?api-version=2018-02-01&resource=$resource")" 400
	assert_equal "$(code -H 'Metadata: true' "$imds?resource=$resource")" 400
	assert_equal "$(code -H 'Metadata: true' "$imds?api-version=2018-02-01&resource=https%3A%2F%2Fmanagement.azure.com%2F")" 400
	assert_equal "$(code -H 'Metadata: true' "$imds?api-version=2018-02-01&resource=$resource")" 200
	# Key Vault: bearer token and api-version required; unknown secrets are 404.
	local kv=https://$VAULT.localhost:$TLS_PORT/secrets
	assert_equal "$(code "$kv/$SECRET?api-version=7.4")" 401
	assert_equal "$(code -H "Authorization: Bearer nope" "$kv/$SECRET?api-version=7.4")" 401
	assert_equal "$(code -H "Authorization: Bearer $ACCESS_TOKEN" "$kv/$SECRET")" 400
	assert_equal "$(code -H "Authorization: Bearer $ACCESS_TOKEN" "$kv/other?api-version=7.4")" 404
	assert_equal "$(code -H "Authorization: Bearer $ACCESS_TOKEN" "$kv/$SECRET?api-version=7.4")" 200
	# GitHub: POST with the PAT; GET or a wrong token is refused.
	local gh=http://127.0.0.1:$HTTP_PORT/orgs/acme/actions/runners/registration-token
	assert_equal "$(code -X POST "$gh")" 401
	assert_equal "$(code -X POST -H "Authorization: Bearer $WRONG_PAT" "$gh")" 401
	assert_equal "$(code -H "Authorization: Bearer $PAT" "$gh")" 404
	assert_equal "$(code -X POST -H "Authorization: Bearer $PAT" "$gh")" 201
}
