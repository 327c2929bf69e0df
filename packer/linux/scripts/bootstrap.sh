#!/usr/bin/env bash
# bootstrap.sh: registers this VM as an ephemeral GitHub Actions runner, then becomes it (exec run.sh).
# Started by github-runner.service; packer/README.md documents every variable it reads.
# Two modes: with KILN_REGISTRATION_URL, kiln's registration broker hands out a just-in-time runner
# configuration for this VM (no PAT, no registration token on the VM); without it, the PAT path
# (GH_PAT or Key Vault) registers through config.sh.
set -euo pipefail
# Never trace, even under `bash -x`: this script holds a PAT and a registration token.
set +x
umask 077

log() { printf 'bootstrap: %s\n' "$*" >&2; }

# Secrets registered here are masked in every message this script prints.
secrets=()
redact() {
	local text=$1 secret
	for secret in "${secrets[@]+"${secrets[@]}"}"; do
		[[ -n $secret ]] && text=${text//"$secret"/***}
	done
	printf '%s' "$text"
}

# A failing start waits before exiting, doubling each time (state in systemd's RuntimeDirectory),
# so systemd's plain Restart= becomes an exponential backoff and a broken VM does not hammer
# IMDS, Key Vault or GitHub. A successful registration resets the count.
backoff_state=${RUNTIME_DIRECTORY:+${RUNTIME_DIRECTORY%%:*}/failures}
die() {
	local code=${2:-1} failures=1 delay i base=${RESTART_BACKOFF_BASE:-10} max=${RESTART_BACKOFF_MAX:-300}
	log "$(redact "$1")"
	[[ $base =~ ^[0-9]+$ ]] || base=10
	[[ $max =~ ^[0-9]+$ ]] || max=300
	if [[ -n $backoff_state ]] && [[ -w ${backoff_state%/*} ]]; then
		failures=$(cat "$backoff_state" 2>/dev/null || true)
		[[ $failures =~ ^[0-9]+$ ]] || failures=0
		failures=$((failures + 1))
		printf '%s\n' "$failures" >"$backoff_state"
	fi
	delay=$base
	for ((i = 1; i < failures && delay < max; i++)); do delay=$((delay * 2)); done
	((delay <= max)) || delay=$max
	if ((delay > 0)); then
		log "start attempt $failures failed; waiting ${delay}s before exiting (systemd then restarts the service)"
		sleep "$delay"
	fi
	exit "$code"
}

# --- environment --------------------------------------------------------------------------------
# systemd does not read /etc/profile.d, but the seed README's scale set example writes the runner
# environment there; values in it win over the unit's EnvironmentFile.
profile=${GH_RUNNER_ENV_PROFILE:-/etc/profile.d/gh-runner-env.sh}
if [[ -e $profile ]]; then
	[[ -r $profile ]] || die "cannot read $profile as user $(id -un). Fix: make it readable (chmod 0644), or move the variables to /etc/github-runner/env" 2
	set +u
	# shellcheck source=/dev/null
	if ! . "$profile"; then
		set -u
		die "$profile failed to load. Fix: it must only export variables (export GH_SCOPE=org ...)" 2
	fi
	set -u
fi

scope=${GH_SCOPE:-}
owner=${GH_OWNER:-}
repo=${GH_REPO:-}
pat=${GH_PAT:-}
vault=${KEYVAULT_NAME:-}
secret_name=${SECRET_NAME:-}
labels=${GH_RUNNER_LABELS:-}
group=${GH_RUNNER_GROUP:-}
name=${GH_RUNNER_NAME:-$(uname -n)}
work=${GH_RUNNER_WORKDIR:-_work}
github_url=${GITHUB_URL:-}
api_url=${GITHUB_API_URL:-}
kv_suffix=${KEYVAULT_DNS_SUFFIX:-vault.azure.net}
imds=${IMDS_ENDPOINT:-http://169.254.169.254}
client_id=${AZURE_CLIENT_ID:-}
runner_dir=${RUNNER_DIR:-/opt/actions-runner}
read -r -a imds_delays <<<"${IMDS_RETRY_DELAYS:-2 4 8 16 32}"
registration_url=${KILN_REGISTRATION_URL:-}
audience=${KILN_REGISTRATION_AUDIENCE:-}
read -r -a broker_delays <<<"${KILN_REGISTRATION_RETRY_DELAYS:-2 4 8 16 32}"
if [[ -n $registration_url ]]; then mode=broker; else mode=pat; fi
# The runner and the jobs it starts inherit this environment: the PAT must not reach them.
unset GH_PAT
secrets+=("$pat")

# --- validation: collect every problem, report them together -------------------------------------
problems=()
problem() { problems+=("$*"); }
url_ok() { [[ $1 =~ ^https?://[^/[:space:]]+(/[^[:space:]]*)?$ ]]; }

check_runner_name() {
	if [[ -z $name || $name =~ [[:space:],] ]]; then
		problem "GH_RUNNER_NAME '$name' must be non-empty, without spaces or commas"
	fi
}

check_workdir() {
	if [[ -z $work || $work == *..* ]]; then
		problem "GH_RUNNER_WORKDIR '$work' must be a folder name or path without '..'"
	fi
}

check_imds() {
	url_ok "$imds" || problem "IMDS_ENDPOINT '$imds' is not an http(s) URL"
	for delay in "${imds_delays[@]+"${imds_delays[@]}"}"; do
		[[ $delay =~ ^[0-9]+$ ]] || problem "IMDS_RETRY_DELAYS must be whole seconds separated by spaces"
	done
}

if [[ $mode == broker ]]; then
	# The broker decides scope, owner, labels, group and work folder (they are in the JIT config);
	# the VM only proves who it is. A PAT on the VM would defeat the point of this mode.
	if ! url_ok "$registration_url"; then
		problem "KILN_REGISTRATION_URL '$registration_url' is not an http(s) URL"
	elif [[ $registration_url != https://* && ! $registration_url =~ ^http://(127\.0\.0\.1|localhost)(:[0-9]+)?/ ]]; then
		# The request carries the VM's identity token: plain http only to this machine (tests, a proxy).
		problem "KILN_REGISTRATION_URL '$registration_url' must be https (it carries the VM's identity token)"
	fi
	[[ -n $audience ]] || problem "KILN_REGISTRATION_AUDIENCE is required with KILN_REGISTRATION_URL (the broker's app ID URI or client id)"
	[[ $audience != *[[:space:]]* ]] || problem "KILN_REGISTRATION_AUDIENCE '$audience' must not contain spaces"
	[[ -z $pat ]] || problem "GH_PAT is set but KILN_REGISTRATION_URL selects the registration broker: remove GH_PAT from the VM (no PAT may be reachable by jobs)"
	for delay in "${broker_delays[@]+"${broker_delays[@]}"}"; do
		[[ $delay =~ ^[0-9]+$ ]] || problem "KILN_REGISTRATION_RETRY_DELAYS must be whole seconds separated by spaces"
	done
	check_imds
	check_runner_name
	# Only the cleanup of the last job's work folder reads it in this mode.
	check_workdir
	[[ -x $runner_dir/run.sh ]] || problem "RUNNER_DIR '$runner_dir' has no executable run.sh (is the runner installed there?)"
else
	case $scope in
	'') problem "GH_SCOPE is not set (org or repo)" ;;
	org | repo) ;;
	*) problem "GH_SCOPE must be org or repo, not '$scope'" ;;
	esac
	if [[ -z $owner ]]; then
		problem "GH_OWNER is not set (the organization or user that owns the runner)"
	elif ! [[ $owner =~ ^[A-Za-z0-9][A-Za-z0-9-]*$ ]]; then
		problem "GH_OWNER '$owner' is not a GitHub account name"
	fi
	if [[ $scope == repo && -z $repo ]]; then
		problem "GH_REPO is required when GH_SCOPE=repo"
	elif [[ $scope == org && -n $repo ]]; then
		problem "GH_REPO is set but GH_SCOPE=org: set GH_SCOPE=repo for a repository runner, or unset GH_REPO"
	fi
	if [[ -n $repo && ! $repo =~ ^[A-Za-z0-9._-]+$ ]]; then
		problem "GH_REPO '$repo' is not a repository name (give the name only, without the owner)"
	fi
	if [[ -n $group && $scope == repo ]]; then
		problem "GH_RUNNER_GROUP only applies to organization runners (GH_SCOPE=org)"
	fi
	if [[ -z $pat ]]; then
		if [[ -z $vault && -z $secret_name ]]; then
			problem "no PAT source: set GH_PAT, or KEYVAULT_NAME and SECRET_NAME"
		elif [[ -z $vault ]]; then
			problem "KEYVAULT_NAME is required with SECRET_NAME"
		elif [[ -z $secret_name ]]; then
			problem "SECRET_NAME is required with KEYVAULT_NAME"
		fi
		if [[ -n $vault && ! $vault =~ ^[A-Za-z][A-Za-z0-9-]{1,22}[A-Za-z0-9]$ ]]; then
			problem "KEYVAULT_NAME '$vault' is not a vault name (3-24 letters, digits and hyphens)"
		fi
		if [[ -n $secret_name && ! $secret_name =~ ^[A-Za-z0-9-]{1,127}$ ]]; then
			problem "SECRET_NAME '$secret_name' is not a secret name (letters, digits and hyphens)"
		fi
		if ! [[ $kv_suffix =~ ^[A-Za-z0-9.-]+(:[0-9]+)?$ ]]; then
			problem "KEYVAULT_DNS_SUFFIX '$kv_suffix' is not a DNS suffix (e.g. vault.azure.net, vault.azure.cn)"
		fi
		check_imds
	fi
	check_runner_name
	if [[ $labels =~ [[:space:]] ]]; then
		problem "GH_RUNNER_LABELS '$labels' must be comma-separated without spaces"
	fi
	check_workdir

	# GitHub Enterprise Server: GITHUB_URL alone implies the API at /api/v3 (or api.<host> on ghe.com);
	# GITHUB_API_URL alone works when it ends in /api/v3.
	github_url=${github_url%/}
	api_url=${api_url%/}
	if [[ -z $github_url && -z $api_url ]]; then
		github_url=https://github.com
		api_url=https://api.github.com
	elif [[ -z $api_url ]]; then
		if [[ $github_url == https://github.com ]]; then
			api_url=https://api.github.com
		elif [[ $github_url =~ ^https://([A-Za-z0-9-]+\.ghe\.com)$ ]]; then
			api_url=https://api.${BASH_REMATCH[1]}
		else
			api_url=$github_url/api/v3
		fi
	elif [[ -z $github_url ]]; then
		if [[ $api_url == https://api.github.com ]]; then
			github_url=https://github.com
		elif [[ $api_url == */api/v3 ]]; then
			github_url=${api_url%/api/v3}
		else
			problem "GITHUB_URL is required when GITHUB_API_URL ('$api_url') does not end in /api/v3"
		fi
	fi
	[[ -z $github_url ]] || url_ok "$github_url" || problem "GITHUB_URL '$github_url' is not an http(s) URL"
	url_ok "$api_url" || problem "GITHUB_API_URL '$api_url' is not an http(s) URL"

	if [[ ! -x $runner_dir/config.sh || ! -x $runner_dir/run.sh ]]; then
		problem "RUNNER_DIR '$runner_dir' has no executable config.sh and run.sh (is the runner installed there?)"
	fi
fi # pat mode
command -v curl >/dev/null || problem "curl is not installed"
command -v jq >/dev/null || problem "jq is not installed"

if ((${#problems[@]})); then
	message="cannot register the runner, ${#problems[@]} configuration problem(s):"
	for p in "${problems[@]}"; do message+=$'\n'"  - $p"; done
	message+=$'\n'"Fix: set the variables in /etc/github-runner/env or $profile, then: systemctl restart github-runner"
	die "$message" 2
fi

# --- HTTP ---------------------------------------------------------------------------------------
tmp_base=${RUNTIME_DIRECTORY:-${TMPDIR:-/tmp}}
tmp_base=${tmp_base%%:*}
tmp=$(mktemp -d "$tmp_base/bootstrap.XXXXXX") ||
	die "cannot create a private temporary folder in $tmp_base. Fix: check the unit's RuntimeDirectory=github-runner" 2
trap 'rm -rf "$tmp"' EXIT

# http METHOD URL BODY_FILE HEADER_FILE [curl args...]: sets $status (000 when no HTTP answer).
# Headers travel in a 0600 file so no secret appears on a command line (ps shows those).
http() {
	local method=$1 url=$2 body=$3 headers=$4
	shift 4
	status=$(curl -q --silent --show-error --connect-timeout 10 --max-time 60 \
		-X "$method" -H "@$headers" -o "$body" -w '%{http_code}' "$@" "$url" 2>"$tmp/curl.err") || true
	[[ $status =~ ^[1-5][0-9][0-9]$ ]] || status=000
}
# A short, masked reason from an error body (IMDS, Key Vault and GitHub shapes) or curl's message.
reason() {
	local body=$1 text=''
	if [[ $status == 000 ]]; then
		text=$(head -c 200 "$tmp/curl.err" 2>/dev/null || true)
	elif [[ -s $body ]]; then
		text=$(jq -r '[.error.code?, .error.message?, (.error | strings)?, .error_description?, .message?]
			| map(select(type == "string" and . != "")) | join(": ")' "$body" 2>/dev/null || true)
	fi
	text=${text//[$'\r\n\t']/ }
	redact "${text:0:300}"
}
urlencode() { jq -rn --arg v "$1" '$v | @uri'; }
fail_http() { # step, body, hint
	local why
	why=$(reason "$2")
	if [[ $status == 000 ]]; then
		die "$1 failed: no HTTP response${why:+ ($why)}. Fix: $3" 3
	fi
	die "$1 failed: HTTP $status${why:+ ($why)}. Fix: $3" 3
}

# --- IMDS (the token: Key Vault in the PAT path, the broker's audience in the broker path) ---------
# imds_get URL BODY WHAT HINT: GETs URL from IMDS into BODY, retrying what IMDS calls transient;
# anything else fails with HINT.
imds_get() {
	local url=$1 body=$2 what=$3 hint=$4 attempt=1 why
	printf 'Metadata: true\n' >"$tmp/imds.headers"
	while :; do
		# IMDS must never go through a proxy.
		http GET "$url" "$body" "$tmp/imds.headers" --noproxy '*'
		case $status in
		200) break ;;
		404 | 410 | 429 | 5?? | 000)
			# IMDS guidance: these are transient (updating, throttled, restarting); retry with backoff.
			if ((attempt > ${#imds_delays[@]})); then
				fail_http "$what" "$body" "IMDS at $imds kept failing after $attempt attempts; it is only reachable from inside an Azure VM and must not go through a proxy. The service retries with a growing delay; if it persists, check the VM agent"
			fi
			if [[ $status == 000 ]]; then why="did not answer"; else why="answered $status"; fi
			log "$what: IMDS $why; retry $attempt of ${#imds_delays[@]} in ${imds_delays[attempt - 1]}s"
			sleep "${imds_delays[attempt - 1]}"
			attempt=$((attempt + 1))
			;;
		*) fail_http "$what" "$body" "$hint" ;;
		esac
	done
	rm -f "$tmp/imds.headers"
}

# imds_token RESOURCE FOR: sets $access_token, masked from then on.
imds_token() {
	local resource=$1 for=$2 url body=$tmp/imds.json hint
	url="${imds%/}/metadata/identity/oauth2/token?api-version=2018-02-01&resource=$(urlencode "$resource")"
	[[ -z $client_id ]] || url+="&client_id=$(urlencode "$client_id")"
	hint="give the VM or scale set a managed identity (with several user-assigned identities, set AZURE_CLIENT_ID to the one allowed to read the vault)"
	[[ $for == 'Key Vault' ]] || hint="give the VM or scale set a managed identity (with several user-assigned identities, set AZURE_CLIENT_ID to kiln's runner identity) and check KILN_REGISTRATION_AUDIENCE ('$audience') names the broker's application"
	imds_get "$url" "$body" "IMDS token for $for" "$hint"
	access_token=$(jq -r '.access_token // empty' "$body" 2>/dev/null || true)
	rm -f "$body"
	[[ -n $access_token ]] || die "IMDS token for $for failed: HTTP 200 without access_token. Fix: check IMDS_ENDPOINT" 3
	secrets+=("$access_token")
}

# imds_attested_document: sets $attested_document, the signature of this VM's attested document.
# The token names the scale set; this document (signed by Azure for this VM's vmId) proves to the
# broker which instance is asking. Not a secret, but never printed whole.
imds_attested_document() {
	local body=$tmp/attested.json random nonce
	# A nonce of 10 random digits (IMDS's documented form), fresh for every document.
	read -r random < <(od -An -N4 -tu4 /dev/urandom)
	printf -v nonce '%010d' "$random"
	imds_get "${imds%/}/metadata/attested/document?api-version=2018-10-01&nonce=$nonce" "$body" \
		"IMDS attested document" "check IMDS_ENDPOINT ('$imds') names this VM's instance metadata service"
	attested_document=$(jq -r '.signature // empty' "$body" 2>/dev/null || true)
	rm -f "$body"
	[[ -n $attested_document ]] || die "IMDS attested document failed: HTTP 200 without a signature. Fix: check IMDS_ENDPOINT ('$imds')" 3
}

keyvault_pat() {
	local vault_url="https://$vault.$kv_suffix" body=$tmp/secret.json hint
	printf 'Authorization: Bearer %s\n' "$access_token" >"$tmp/kv.headers"
	http GET "$vault_url/secrets/$secret_name?api-version=7.4" "$body" "$tmp/kv.headers"
	rm -f "$tmp/kv.headers"
	case $status in
	200) ;;
	401 | 403) hint="the managed identity cannot read secrets in vault '$vault': assign it the Key Vault Secrets User role on the vault (or an access policy with secret get)" ;;
	404) hint="verify KEYVAULT_NAME and SECRET_NAME spelling: vault '$vault' has no secret '$secret_name'" ;;
	000) hint="cannot reach $vault_url: check KEYVAULT_NAME, KEYVAULT_DNS_SUFFIX (sovereign clouds), DNS or private endpoint, and outbound rules" ;;
	*) hint="retry later; check the vault's firewall and the Key Vault service health" ;;
	esac
	[[ $status == 200 ]] || fail_http "Key Vault secret '$secret_name' from '$vault'" "$body" "$hint"
	pat=$(jq -r '.value // empty' "$body" 2>/dev/null || true)
	rm -f "$body"
	[[ -n $pat ]] || die "Key Vault secret '$secret_name' in '$vault' is empty. Fix: store the GitHub PAT as the secret's value" 3
	secrets+=("$pat")
}

# --- broker path: IMDS token and attested document -> JIT config -> run.sh --jitconfig -------------
# The broker sees who is asking (the token's managed identity) and which instance (the attested
# document's vmId); it answers with a just-in-time configuration for one ephemeral runner of this
# instance. Nothing on this VM can register another one.
broker_registration() {
	local body=$tmp/broker.json resp_headers=$tmp/broker.headers-in attempt=1 wait retry_after hint why
	printf 'Authorization: Bearer %s\nContent-Type: application/json\nAccept: application/json\n' \
		"$access_token" >"$tmp/broker.headers"
	jq -n --arg instance "$name" --arg document "$attested_document" \
		'{instance: $instance, attestedDocument: $document}' >"$tmp/broker.request"
	while :; do
		rm -f "$resp_headers"
		http POST "$registration_url" "$body" "$tmp/broker.headers" -D "$resp_headers" \
			--data-binary "@$tmp/broker.request"
		case $status in
		200) break ;;
		429 | 5?? | 000)
			# Transient: the broker is throttling this instance (Retry-After), restarting or unreachable.
			if ((attempt > ${#broker_delays[@]})); then
				fail_http "registration broker $registration_url" "$body" "the broker kept failing after $attempt attempts; check the function app's health and outbound access to it. The service retries with a growing delay"
			fi
			wait=${broker_delays[attempt - 1]}
			retry_after=$(sed -n 's/^[Rr][Ee][Tt][Rr][Yy]-[Aa][Ff][Tt][Ee][Rr]:[[:space:]]*\([0-9][0-9]*\)[[:space:]]*$/\1/p' "$resp_headers" 2>/dev/null | head -n 1)
			# Retry-After is the broker's word on when to come back; wait at least that (at most 5 min).
			if [[ $status == 429 && -n $retry_after ]] && ((retry_after > wait)); then
				wait=$((retry_after > 300 ? 300 : retry_after))
			fi
			if [[ $status == 000 ]]; then why="did not answer"; else why="answered $status"; fi
			log "registration broker $why; retry $attempt of ${#broker_delays[@]} in ${wait}s"
			sleep "$wait"
			attempt=$((attempt + 1))
			;;
		*)
			case $status in
			401) hint="the broker did not accept this VM's identity token: KILN_REGISTRATION_AUDIENCE ('$audience') must be the broker's audience and the token from kiln's runner identity (AZURE_CLIENT_ID)" ;;
			400) hint="the broker did not take the request: it names this VM's computer name and attested document, which IMDS gave (the refusal above says what is wrong)" ;;
			403) hint="the broker refused this VM: its identity or instance '$name' is not one of kiln's runner scale sets, or the attested document is not that of instance '$name' (GH_RUNNER_NAME must be this VM's computer name; the refusal above says which)" ;;
			409) hint="the broker refused a second registration for instance '$name' while one exists; kiln removes or reimages it, or wait for the registration to go away" ;;
			*) hint="check KILN_REGISTRATION_URL ('$registration_url') names kiln's /api/registrations" ;;
			esac
			why=$(reason "$body")
			die "the registration broker refused instance '$name': HTTP $status${why:+ ($why)}. Fix: $hint" 3
			;;
		esac
	done
	rm -f "$tmp/broker.headers" "$tmp/broker.request" "$resp_headers"
	jit_name=$(jq -r '.name // empty' "$body" 2>/dev/null || true)
	jit_config=$(jq -r '.encoded_jit_config // empty' "$body" 2>/dev/null || true)
	rm -f "$body"
	[[ -n $jit_config ]] || die "registration broker failed: HTTP 200 without encoded_jit_config. Fix: check KILN_REGISTRATION_URL names kiln's /api/registrations" 3
	secrets+=("$jit_config")
}

if [[ $mode == broker ]]; then
	log "asking the registration broker at $registration_url for instance '$name' with the VM's managed identity"
	imds_token "$audience" 'the registration broker'
	imds_attested_document
	broker_registration
	unset access_token
	cd "$runner_dir"
	# Whatever a previous start left (a stopped ephemeral runner's local registration, the last
	# job's work folder) goes; run.sh writes the JIT registration afresh.
	if [[ -e .runner ]]; then
		log "removing the local registration left by a previous start"
		rm -f .runner .credentials .credentials_rsaparams
	fi
	# The runner loads .env and .path into its own environment at start, and a job (same user)
	# could have written them; config.sh would rewrite them, but in this mode nothing does.
	rm -f .env .path
	if [[ $work != /* && -d $work ]]; then
		rm -rf -- "${runner_dir:?}/$work"
	fi
	[[ -z $backoff_state ]] || rm -f "$backoff_state"
	rm -rf "$tmp"
	trap - EXIT
	umask 022
	log "registered as '${jit_name:-$name}'; starting the runner with its just-in-time configuration"
	# The JIT config is a single-use credential for this ephemeral runner only; run.sh takes it on
	# its command line (the runner has no other way in), never printed here.
	exec ./run.sh --jitconfig "$jit_config"
fi

if [[ -n $pat ]]; then
	pat_source=GH_PAT
	log "using the PAT from GH_PAT"
else
	pat_source="the Key Vault secret '$secret_name' in '$vault'"
	log "reading the PAT from Key Vault '$vault' (secret '$secret_name') with the VM's managed identity"
	imds_token "https://$kv_suffix" 'Key Vault'
	keyvault_pat
	unset access_token
fi

# --- registration token --------------------------------------------------------------------------
if [[ $scope == org ]]; then
	token_url=$api_url/orgs/$owner/actions/runners/registration-token
	config_url=$github_url/$owner
	who="organization '$owner'"
else
	token_url=$api_url/repos/$owner/$repo/actions/runners/registration-token
	config_url=$github_url/$owner/$repo
	who="repository '$owner/$repo'"
fi
{
	printf 'Authorization: Bearer %s\n' "$pat"
	printf 'Accept: application/vnd.github+json\n'
	printf 'X-GitHub-Api-Version: 2022-11-28\n'
} >"$tmp/gh.headers"
http POST "$token_url" "$tmp/token.json" "$tmp/gh.headers"
rm -f "$tmp/gh.headers"
pat=''
case $status in
200 | 201) ;;
401) hint="the PAT is invalid or expired: rotate it in $pat_source" ;;
403) hint="the PAT may not register runners for $who (classic PAT: admin:org for org, repo for repo; fine-grained: self-hosted runners or administration write), or the API rate limit is exhausted" ;;
404) hint="verify GH_SCOPE, GH_OWNER and GH_REPO spelling: $who was not found or is not visible to the PAT" ;;
000) hint="cannot reach $api_url: check GITHUB_API_URL (GitHub Enterprise Server) and outbound access" ;;
*) hint="retry later; check https://www.githubstatus.com or your GitHub Enterprise Server" ;;
esac
[[ $status == 200 || $status == 201 ]] || fail_http "GitHub registration token for $who" "$tmp/token.json" "$hint"
reg_token=$(jq -r '.token // empty' "$tmp/token.json" 2>/dev/null || true)
rm -f "$tmp/token.json"
[[ -n $reg_token ]] || die "GitHub registration token for $who failed: HTTP $status without a token. Fix: check GITHUB_API_URL" 3
secrets+=("$reg_token")

# --- configure and run ---------------------------------------------------------------------------
cd "$runner_dir"
# An ephemeral runner that was stopped before its job left its local registration behind;
# config.sh refuses to run over it, and --replace takes care of the server side.
if [[ -e .runner ]]; then
	log "removing the local registration left by a previous start"
	rm -f .runner .credentials .credentials_rsaparams
fi
# Every job starts from an empty work folder when it lives under the runner folder.
if [[ $work != /* && -d $work ]]; then
	rm -rf -- "${runner_dir:?}/$work"
fi

args=(--unattended --ephemeral --replace --url "$config_url" --token "$reg_token" --name "$name")
[[ -z $labels ]] || args+=(--labels "$labels")
[[ -z $group ]] || args+=(--runnergroup "$group")
args+=(--work "$work")
log "registering runner '$name' for $who at $config_url${labels:+ with labels $labels}${group:+ in group $group}"
rc=0
./config.sh "${args[@]}" || rc=$?
((rc == 0)) || die "config.sh failed (exit $rc). Fix: read its output above; an unknown runner group (GH_RUNNER_GROUP) or a clock far off are common causes" 4
unset reg_token args

[[ -z $backoff_state ]] || rm -f "$backoff_state"
rm -rf "$tmp"
trap - EXIT
umask 022
log "registered; starting the runner"
exec ./run.sh
