#!/usr/bin/env bash
# Shared setup for bootstrap.bats: a fake IMDS / Key Vault / GitHub on loopback, a temporary
# RUNNER_DIR whose config.sh/run.sh stubs record what they get, and sentinel secrets to hunt for.

REPO_ROOT=$(cd "$BATS_TEST_DIRNAME/../../.." && pwd)
BOOTSTRAP=$REPO_ROOT/packer/linux/scripts/bootstrap.sh
FAKE=$BATS_TEST_DIRNAME/fake/fake_cloud.py

# Sentinels: none of them may appear in any output or file, except the registration token in the
# arguments config.sh records (config.sh takes it on its command line) and the JIT config in the
# arguments run.sh records (run.sh --jitconfig).
PAT=ghp_SENTINELpat4f1c9e0kiln
WRONG_PAT=ghp_SENTINELwrong77a0kiln
ACCESS_TOKEN=eyJSENTINELaccess.token.kiln
REG_TOKEN=AREGSENTINEL5PMEXLND6TS6FCWO6
BROKER_TOKEN=eyJSENTINELbroker.token.kiln
JIT_CONFIG=eyJSENTINELjitconfig.kiln==
AUDIENCE=api://kiln-registrations-test
VAULT=kv-kiln-test
SECRET=gh-pat

# One certificate per file for the fake Key Vault at https://kv-kiln-test.localhost:<port>.
make_cert() {
	openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj "/CN=$VAULT.localhost" \
		-addext "subjectAltName=DNS:$VAULT.localhost" \
		-keyout "$BATS_FILE_TMPDIR/key.pem" -out "$BATS_FILE_TMPDIR/cert.pem" 2>/dev/null
}

# Layout per test: inputs (may hold secrets: the fake's config, a profile with GH_PAT) apart from
# outputs (everything the script and its stubs write), which must stay free of secrets.
setup_dirs() {
	IN=$BATS_TEST_TMPDIR/in
	OUT=$BATS_TEST_TMPDIR/out
	RUNNER=$OUT/runner
	REC=$OUT/rec
	mkdir -p "$IN" "$OUT/run" "$OUT/home" "$OUT/fake" "$RUNNER" "$REC"
	chmod 700 "$OUT/run"
	cat >"$RUNNER/config.sh" <<'STUB'
#!/usr/bin/env bash
# Stub of the runner's config.sh: records its arguments, environment and bootstrap's temp files.
printf '%s\n' "$@" >"$RECORD_DIR/config.args"
env | sort >"$RECORD_DIR/config.env"
find "$RUNTIME_DIRECTORY" -mindepth 1 -printf '%m %y %P\n' >"$RECORD_DIR/config.tmpfiles"
echo "config.sh stub: configured"
exit "${CONFIG_STUB_EXIT:-0}"
STUB
	cat >"$RUNNER/run.sh" <<'STUB'
#!/usr/bin/env bash
# Stub of the runner's run.sh: records that it ran, where, and with which environment.
pwd >"$RECORD_DIR/run.pwd"
printf '%s\n' "$@" >"$RECORD_DIR/run.args"
env | sort >"$RECORD_DIR/run.env"
umask >"$RECORD_DIR/run.umask"
echo "run.sh stub: job done"
STUB
	chmod +x "$RUNNER/config.sh" "$RUNNER/run.sh"
}

# start_fake [json fields...]: starts the fake with the sentinels plus the given overrides, e.g.
# start_fake '"imds_statuses": [429, 429]'. Sets HTTP_PORT, TLS_PORT, FAKE_PID.
start_fake() {
	local extra=${1:-}
	rm -f "$OUT/fake/ports" "$OUT/fake/requests.jsonl"
	cat >"$IN/fake.json" <<JSON
{"pat": "$PAT", "access_token": "$ACCESS_TOKEN", "registration_token": "$REG_TOKEN",
 "vault": "$VAULT", "secret_name": "$SECRET", "kv_resource_host": "localhost",
 "registration_audience": "$AUDIENCE", "broker_token": "$BROKER_TOKEN", "jit_config": "$JIT_CONFIG"${extra:+, $extra}}
JSON
	python3 "$FAKE" --config "$IN/fake.json" --state "$OUT/fake" \
		--cert "$BATS_FILE_TMPDIR/cert.pem" --key "$BATS_FILE_TMPDIR/key.pem" \
		>"$OUT/fake/stdout" 2>"$OUT/fake/stderr" &
	FAKE_PID=$!
	local i
	for ((i = 0; i < 100; i++)); do
		[[ -s $OUT/fake/ports ]] && break
		kill -0 "$FAKE_PID" 2>/dev/null || break
		sleep 0.1
	done
	[[ -s $OUT/fake/ports ]] || {
		cat "$OUT/fake/stderr" >&2
		return 1
	}
	read -r HTTP_PORT TLS_PORT <"$OUT/fake/ports"
}

stop_fake() {
	if [[ -n ${FAKE_PID:-} ]]; then
		kill "$FAKE_PID" 2>/dev/null || true
		wait "$FAKE_PID" 2>/dev/null || true
		FAKE_PID=
	fi
}

# run_bootstrap [VAR=value...]: runs bootstrap.sh in a clean environment pointed at the fake.
# The defaults give every endpoint; each test adds the runner variables it is about.
run_bootstrap() {
	run env -i PATH="$PATH" HOME="$OUT/home" LANG=C.UTF-8 \
		RUNTIME_DIRECTORY="$OUT/run" RECORD_DIR="$REC" RUNNER_DIR="$RUNNER" \
		GH_RUNNER_ENV_PROFILE="$IN/gh-runner-env.sh" \
		IMDS_ENDPOINT="http://127.0.0.1:$HTTP_PORT" IMDS_RETRY_DELAYS="0 0 0" \
		KEYVAULT_DNS_SUFFIX="localhost:$TLS_PORT" CURL_CA_BUNDLE="$BATS_FILE_TMPDIR/cert.pem" \
		GITHUB_URL=https://github.com GITHUB_API_URL="http://127.0.0.1:$HTTP_PORT" \
		RESTART_BACKOFF_BASE=0 \
		"$@" timeout 60 bash "$BOOTSTRAP"
	# shellcheck disable=SC2154 # bats' run sets $output
	printf '%s\n' "$output" >"$OUT/bootstrap.output"
}

# broker_env: the variables that select the broker path against the fake.
broker_env() {
	printf '%s\n' "KILN_REGISTRATION_URL=http://127.0.0.1:$HTTP_PORT/api/registrations" \
		"KILN_REGISTRATION_AUDIENCE=$AUDIENCE" KILN_REGISTRATION_RETRY_DELAYS="0 0 0"
}

# requests KIND: the fake's recorded requests of one kind (imds, attested, keyvault, github, broker), one JSON a line.
requests() {
	[[ -f $OUT/fake/requests.jsonl ]] || return 0
	jq -c --arg k "$1" 'select(.kind == $k)' "$OUT/fake/requests.jsonl"
}

# Fails when a sentinel secret appears in the script's output or in any file under $OUT (stub
# records, the fake's request log, temp and runtime folders), except the registration token in
# config.sh's recorded arguments.
assert_no_secrets() {
	local secret hits
	for secret in "$PAT" "$WRONG_PAT" "$ACCESS_TOKEN" "$REG_TOKEN" "$BROKER_TOKEN" "$JIT_CONFIG"; do
		if [[ $output == *"$secret"* ]]; then
			echo "secret ${secret:0:12}... appears in the output" >&2
			return 1
		fi
		hits=$(grep -rlF -- "$secret" "$OUT" || true)
		if [[ $secret == "$REG_TOKEN" ]]; then
			hits=$(grep -vxF "$REC/config.args" <<<"$hits" || true)
		fi
		if [[ $secret == "$JIT_CONFIG" ]]; then
			hits=$(grep -vxF "$REC/run.args" <<<"$hits" || true)
		fi
		if [[ -n $hits ]]; then
			echo "secret ${secret:0:12}... found in: $hits" >&2
			return 1
		fi
	done
}

# config_args: what config.sh received, on one line.
config_args() { paste -sd' ' "$REC/config.args"; }
