#!/usr/bin/env bats
# bootstrap.sh's broker path (KILN_REGISTRATION_URL): an IMDS token for the broker's audience and the
# VM's attested document, then POST /api/registrations, then run.sh --jitconfig; against the fake
# IMDS + broker on loopback.

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

# run_broker [VAR=value...]: bootstrap.sh with the broker variables pointed at the fake.
run_broker() {
	local benv
	mapfile -t benv < <(broker_env)
	run_bootstrap "${benv[@]}" "$@"
}

@test "broker: IMDS token for the audience and the attested document, both to the broker, run.sh --jitconfig; no config.sh, no PAT" {
	start_fake '"runner_name": "kilnlnx000001"'
	run_broker
	assert_success
	assert_output --partial "run.sh stub: job done"
	assert_output --partial "registered as 'kilnlnx000001'"
	assert_equal "$(paste -sd' ' "$REC/run.args")" "--jitconfig $JIT_CONFIG"
	[ ! -e "$REC/config.args" ]
	# The token asked for is the broker's audience, with the Metadata header, straight to IMDS.
	assert_equal "$(requests imds | jq -r '[.method, .metadata, .resource, .status] | join(" ")')" \
		"GET true $AUDIENCE 200"
	# The attested document: the Metadata header, an api-version of the attested category, a nonce
	# of 10 digits; what IMDS signed goes to the broker as it came.
	assert_equal "$(requests attested | jq -r '[.method, .metadata, .api_version, (.nonce | test("^[0-9]{10}$")), .status] | join(" ")')" \
		"GET true 2018-10-01 true 200"
	assert_equal "$(requests broker | jq -r '[.method, .path, .auth, .content_type, .instance, .attested, .status] | join(" ")')" \
		"POST /api/registrations ok application/json $(uname -n) issued 200"
	# Neither Key Vault nor GitHub is contacted: no PAT, no registration token exists on the VM.
	assert_equal "$(requests keyvault)" ""
	assert_equal "$(requests github)" ""
	assert_equal "$(cat "$REC/run.pwd")" "$RUNNER"
	assert_equal "$(cat "$REC/run.umask")" "0022"
	assert_equal "$(find "$OUT/run" -mindepth 1 -name 'bootstrap.*')" ""
	assert_no_secrets
}

@test "broker: GH_RUNNER_NAME is the instance asked for; GH_SCOPE, GH_OWNER and Key Vault are not needed" {
	start_fake
	run_broker GH_RUNNER_NAME=kilnlnx00000A
	assert_success
	assert_equal "$(requests broker | jq -r .instance)" kilnlnx00000A
	assert_no_secrets
}

@test "broker: a local registration, a planted .env/.path and the last job's work folder are removed before run.sh" {
	start_fake
	touch "$RUNNER/.runner" "$RUNNER/.credentials" "$RUNNER/.credentials_rsaparams" "$RUNNER/.path"
	echo LD_PRELOAD=/tmp/evil.so >"$RUNNER/.env"
	mkdir -p "$RUNNER/_work/old-job"
	run_broker
	assert_success
	[ ! -e "$RUNNER/.runner" ]
	[ ! -e "$RUNNER/.credentials" ]
	[ ! -e "$RUNNER/.env" ]
	[ ! -e "$RUNNER/.path" ]
	[ ! -e "$RUNNER/_work" ]
}

@test "broker: 503, 429 with Retry-After and an IMDS 429 are retried; Retry-After sets the wait" {
	start_fake '"imds_statuses": [429], "broker_statuses": [503, 429], "retry_after": "1"'
	run_broker
	assert_success
	assert_equal "$(requests imds | jq -r .status | paste -sd' ')" "429 200"
	assert_equal "$(requests broker | jq -r .status | paste -sd' ')" "503 429 200"
	assert_output --partial "IMDS answered 429; retry 1 of 3"
	assert_output --partial "registration broker answered 503; retry 1 of 3 in 0s"
	assert_output --partial "registration broker answered 429; retry 2 of 3 in 1s"
	assert_equal "$(paste -sd' ' "$REC/run.args")" "--jitconfig $JIT_CONFIG"
	assert_no_secrets
}

@test "broker: the attested document is retried as the token is (429, 5xx), with a fresh nonce at every start" {
	start_fake '"attested_statuses": [429, 500]'
	run_broker
	assert_success
	assert_equal "$(requests attested | jq -r .status | paste -sd' ')" "429 500 200"
	assert_output --partial "IMDS attested document: IMDS answered 429; retry 1 of 3"
	assert_output --partial "IMDS attested document: IMDS answered 500; retry 2 of 3"
	assert_equal "$(requests broker | jq -r '[.attested, .status] | join(" ")')" "issued 200"
	run_broker
	assert_success
	assert_equal "$(requests attested | jq -r 'select(.status == 200) | .nonce' | sort -u | wc -l)" 2
	assert_no_secrets
}

@test "broker: an IMDS that keeps failing the attested document stops the start before the broker is asked" {
	start_fake '"attested_statuses": [503, 503, 503, 503]'
	run_broker
	assert_failure 3
	assert_output --partial "IMDS attested document failed: HTTP 503"
	assert_output --partial "kept failing after 4 attempts"
	assert_equal "$(requests broker)" ""
	[ ! -e "$REC/run.args" ]
	assert_no_secrets
}

@test "broker: keeps answering 503: fails after the retries, naming the broker" {
	start_fake '"broker_statuses": [503, 503, 503, 503, 503]'
	run_broker
	assert_failure 3
	assert_equal "$(requests broker | wc -l)" 4
	assert_output --partial "failed: HTTP 503 (broker unavailable)"
	assert_output --partial "kept failing after 4 attempts"
	[ ! -e "$REC/run.args" ]
	assert_no_secrets
}

@test "broker: no answer at all (connection refused) is retried, then named" {
	start_fake
	run_bootstrap KILN_REGISTRATION_URL=http://127.0.0.1:1/api/registrations \
		KILN_REGISTRATION_AUDIENCE="$AUDIENCE" KILN_REGISTRATION_RETRY_DELAYS="0 0"
	assert_failure 3
	assert_output --partial "registration broker did not answer; retry 2 of 2"
	assert_output --partial "failed: no HTTP response"
	[ ! -e "$REC/run.args" ]
	assert_no_secrets
}

@test "broker: 401, 403 and 409 are refusals: no retry, the broker's reason and a fix are named" {
	local code reason
	for code in 401 403 409; do
		start_fake "\"broker_statuses\": [$code]"
		run_broker
		assert_failure 3
		case $code in
		401) reason="token rejected" ;;
		403) reason="identity may not register instance $(uname -n)" ;;
		409) reason="instance $(uname -n) already has a registration" ;;
		esac
		assert_output --partial "the registration broker refused instance '$(uname -n)': HTTP $code ($reason). Fix:"
		assert_equal "$(requests broker | wc -l)" 1
		[ ! -e "$REC/run.args" ]
		assert_no_secrets
		stop_fake
	done
}

@test "broker: a token for another audience is refused by the broker (the fake checks the audience)" {
	start_fake
	run_bootstrap KILN_REGISTRATION_URL="http://127.0.0.1:$HTTP_PORT/api/registrations" \
		KILN_REGISTRATION_AUDIENCE="http://127.0.0.1:$TLS_PORT" KILN_REGISTRATION_RETRY_DELAYS=0 \
		IMDS_RETRY_DELAYS=0
	assert_failure 3
	assert_output --partial "IMDS token for the registration broker failed: HTTP 400"
	assert_equal "$(requests broker)" ""
	assert_no_secrets
}

@test "broker: configuration problems are listed together; a PAT on the VM is refused" {
	start_fake
	run_bootstrap KILN_REGISTRATION_URL="not a url" GH_PAT="$PAT" KILN_REGISTRATION_RETRY_DELAYS=x
	assert_failure 2
	assert_output --partial "4 configuration problem(s)"
	assert_output --partial "KILN_REGISTRATION_URL 'not a url' is not an http(s) URL"
	assert_output --partial "KILN_REGISTRATION_AUDIENCE is required with KILN_REGISTRATION_URL"
	assert_output --partial "GH_PAT is set but KILN_REGISTRATION_URL selects the registration broker"
	assert_output --partial "KILN_REGISTRATION_RETRY_DELAYS must be whole seconds"
	refute_output --partial "GH_SCOPE"
	refute_output --partial "no PAT source"
	[ ! -e "$OUT/fake/requests.jsonl" ]
	assert_no_secrets
}

@test "broker: the identity token never travels over plain http to another machine" {
	start_fake
	run_bootstrap KILN_REGISTRATION_URL=http://kiln.example.com/api/registrations KILN_REGISTRATION_AUDIENCE="$AUDIENCE"
	assert_failure 2
	assert_output --partial "KILN_REGISTRATION_URL 'http://kiln.example.com/api/registrations' must be https"
	[ ! -e "$OUT/fake/requests.jsonl" ]
}

@test "the fake broker rejects what kiln's broker rejects (wrong token, wrong body, wrong method)" {
	start_fake
	local url="http://127.0.0.1:$HTTP_PORT/api/registrations"
	run curl -s -o /dev/null -w '%{http_code}' -X POST -H 'Content-Type: application/json' -d '{"instance":"a"}' "$url"
	assert_output 401
	run curl -s -o /dev/null -w '%{http_code}' -X POST -H "Authorization: Bearer $BROKER_TOKEN" -H 'Content-Type: application/json' -d '{"name":"a"}' "$url"
	assert_output 400
	run curl -s -o /dev/null -w '%{http_code}' -X POST -H "Authorization: Bearer $BROKER_TOKEN" -d 'instance=a' "$url"
	assert_output 400
	run curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $BROKER_TOKEN" "$url"
	assert_output 405
	# Without an attested document, or with one IMDS did not give this VM.
	run curl -s -o /dev/null -w '%{http_code}' -X POST -H "Authorization: Bearer $BROKER_TOKEN" -H 'Content-Type: application/json' -d '{"instance":"a"}' "$url"
	assert_output 400
	run curl -s -o /dev/null -w '%{http_code}' -X POST -H "Authorization: Bearer $BROKER_TOKEN" -H 'Content-Type: application/json' -d '{"instance":"a","attestedDocument":"b3RoZXIgVk0="}' "$url"
	assert_output 403
}

@test "the fake IMDS refuses an attested document request as IMDS does" {
	start_fake
	local url="http://127.0.0.1:$HTTP_PORT/metadata/attested/document"
	run curl -s -o /dev/null -w '%{http_code}' "$url?api-version=2018-10-01"
	assert_output 400
	run curl -s -o /dev/null -w '%{http_code}' -H 'Metadata: true' "$url?api-version=2018-02-01"
	assert_output 400
	run curl -s -o /dev/null -w '%{http_code}' -H 'Metadata: true' "$url?api-version=2018-10-01&nonce=12345"
	assert_output 400
	run curl -s -w '%{http_code}' -H 'Metadata: true' "$url?api-version=2018-10-01&nonce=0123456789"
	assert_output --regexp '^\{"encoding": "pkcs7", "signature": "[A-Za-z0-9+/=]+"\}200$'
}
