#!/usr/bin/env bats
# infra/hooks/registration-app.sh, the azd preprovision hook that makes sure the registration
# broker's Entra application and its service principal exist: run as azd runs it (the file itself,
# with the azd environment's values in its environment) against the fake az and azd of fake/.

bats_load_library bats-support
bats_load_library bats-assert

REPO_ROOT=$(cd "$BATS_TEST_DIRNAME/../../.." && pwd)
HOOK=$REPO_ROOT/infra/hooks/registration-app.sh
TENANT=7a1e0000-0000-4000-8000-00000000cafe
OTHER_TENANT=0b0e0000-0000-4000-8000-00000000beef

setup() {
	export FAKE_AZ_STATE=$BATS_TEST_TMPDIR/state
	mkdir -p "$FAKE_AZ_STATE/apps" "$FAKE_AZ_STATE/azd-env"
	: >"$FAKE_AZ_STATE/calls"
	echo "$TENANT" >"$FAKE_AZ_STATE/tenant"
	azd_env AZURE_ENV_NAME dev
}

# azd_env NAME VALUE: a value of the azd environment (azd hands them all to its hooks).
azd_env() { printf '%s' "$2" >"$FAKE_AZ_STATE/azd-env/$1"; }
stored() { cat "$FAKE_AZ_STATE/azd-env/$1"; }

# run_hook: the hook with the azd environment as its environment and the fakes first on PATH.
run_hook() {
	local vars=() file
	for file in "$FAKE_AZ_STATE"/azd-env/*; do vars+=("$(basename "$file")=$(cat "$file")"); done
	run env -u KILN_GITHUB_REGISTRATION -u KILN_ADO_REGISTRATION -u KILN_REGISTRATION_AUDIENCE \
		-u AZURE_TENANT_ID PATH="$BATS_TEST_DIRNAME/fake:$PATH" "${vars[@]}" "$HOOK"
}

# existing_app ID URI [sp]: an application already in the tenant, with its service principal or not.
existing_app() {
	mkdir -p "$FAKE_AZ_STATE/apps/$1"
	echo "kiln-dev-registrations" >"$FAKE_AZ_STATE/apps/$1/name"
	echo "$2" >"$FAKE_AZ_STATE/apps/$1/uris"
	if [[ ${3:-} == sp ]]; then echo "5555bbbb-0000-4000-8000-00000000e0e0" >"$FAKE_AZ_STATE/apps/$1/sp"; fi
}
apps() { find "$FAKE_AZ_STATE/apps" -mindepth 1 -maxdepth 1 -type d -printf '%f\n' | sort; }
# writes: the calls that change something (the rest only read).
writes() { grep -E '^(az ad app create|az ad app update|az ad sp create|azd env set)' "$FAKE_AZ_STATE/calls" || true; }

@test "absent: creates the single-tenant application and its service principal, stores the audience" {
	run_hook
	assert_success
	assert_equal "$(apps)" "1111aaaa-0000-4000-8000-000000000001"
	app=$FAKE_AZ_STATE/apps/1111aaaa-0000-4000-8000-000000000001
	assert_equal "$(cat "$app/name")" "kiln-dev-registrations"
	assert_equal "$(cat "$app/uris")" "api://kiln-dev-registrations"
	assert_equal "$(cat "$app/sign-in-audience")" "AzureADMyOrg"
	[ -s "$app/sp" ]
	assert_equal "$(stored KILN_REGISTRATION_AUDIENCE)" "api://kiln-dev-registrations"
	assert_output --partial "registration-app: tenant $TENANT"
	assert_output --partial "created application 1111aaaa-0000-4000-8000-000000000001 (api://kiln-dev-registrations)"
	assert_output --partial "created its service principal"
	assert_output --partial "stored KILN_REGISTRATION_AUDIENCE=api://kiln-dev-registrations"
	# Looked up by its URI before anything was created; no credential of any kind was asked for.
	assert_equal "$(sed -n 2p "$FAKE_AZ_STATE/calls")" \
		"az ad app list --identifier-uri api://kiln-dev-registrations --query [].appId -o tsv"
	refute grep -qiE 'credential|password|secret' "$FAKE_AZ_STATE/calls"
}

@test "idempotent: a second run finds the application, its service principal and the stored audience, and changes nothing" {
	run_hook
	assert_success
	: >"$FAKE_AZ_STATE/calls"
	run_hook
	assert_success
	assert_equal "$(writes)" ""
	assert_equal "$(apps)" "1111aaaa-0000-4000-8000-000000000001"
	assert_output --partial "application 1111aaaa-0000-4000-8000-000000000001 (api://kiln-dev-registrations) exists"
	assert_output --partial "its service principal exists"
	assert_output --partial "KILN_REGISTRATION_AUDIENCE is api://kiln-dev-registrations already"
}

@test "present with its service principal: nothing is created; the audience is stored" {
	existing_app 2222cccc-0000-4000-8000-000000000002 api://kiln-dev-registrations sp
	run_hook
	assert_success
	assert_equal "$(writes)" "azd env set KILN_REGISTRATION_AUDIENCE api://kiln-dev-registrations"
	assert_equal "$(apps)" "2222cccc-0000-4000-8000-000000000002"
}

@test "present without a service principal: only the service principal is created" {
	existing_app 2222cccc-0000-4000-8000-000000000002 api://kiln-dev-registrations
	azd_env KILN_REGISTRATION_AUDIENCE api://kiln-dev-registrations
	run_hook
	assert_success
	assert_equal "$(writes)" \
		"az ad sp create --id 2222cccc-0000-4000-8000-000000000002 --query id -o tsv"
	[ -s "$FAKE_AZ_STATE/apps/2222cccc-0000-4000-8000-000000000002/sp" ]
}

@test "a new application not yet replicated: the service principal is tried again after a wait" {
	echo 2 >"$FAKE_AZ_STATE/replication-lag"
	run_hook
	assert_success
	assert_equal "$(grep -c '^az ad sp create' "$FAKE_AZ_STATE/calls")" 3
	assert_equal "$(grep -c '^sleep 10$' "$FAKE_AZ_STATE/calls")" 2
	assert_output --partial "Entra has not replicated application 1111aaaa-0000-4000-8000-000000000001 yet; trying again in 10 s (1 of 6)"
	[ -s "$FAKE_AZ_STATE/apps/1111aaaa-0000-4000-8000-000000000001/sp" ]
}

@test "replication that never catches up: gives up after six attempts, saying what failed" {
	echo 99 >"$FAKE_AZ_STATE/replication-lag"
	run_hook
	assert_failure
	assert_equal "$(grep -c '^az ad sp create' "$FAKE_AZ_STATE/calls")" 6
	assert_output --partial "registration-app: error: creating the service principal of 1111aaaa-0000-4000-8000-000000000001 failed. az said: ERROR: The appId"
	[ ! -e "$FAKE_AZ_STATE/azd-env/KILN_REGISTRATION_AUDIENCE" ]
}

@test "PAT mode on both platforms: skipped without a single az call" {
	azd_env KILN_GITHUB_REGISTRATION pat
	azd_env KILN_ADO_REGISTRATION pat
	run_hook
	assert_success
	assert_output --partial "no registration broker, no Entra application needed"
	assert_equal "$(cat "$FAKE_AZ_STATE/calls")" ""
}

@test "KILN_GITHUB_REGISTRATION unset means jit; Azure DevOps broker mode alone needs the application too" {
	# Unset (setup): jit, covered by the first test. GitHub on PATs, Azure DevOps through the broker:
	azd_env KILN_GITHUB_REGISTRATION pat
	azd_env KILN_ADO_REGISTRATION broker
	run_hook
	assert_success
	assert_output --partial "registration broker in use (GitHub: pat, Azure DevOps: broker)"
	assert_equal "$(stored KILN_REGISTRATION_AUDIENCE)" "api://kiln-dev-registrations"
}

@test "a mode that does not exist is refused by name, before any az call" {
	azd_env KILN_GITHUB_REGISTRATION JIT
	run_hook
	assert_failure
	assert_output --partial "registration-app: error: KILN_GITHUB_REGISTRATION is 'JIT'; it must be jit or pat"
	azd_env KILN_GITHUB_REGISTRATION jit
	azd_env KILN_ADO_REGISTRATION brokered
	run_hook
	assert_failure
	assert_output --partial "KILN_ADO_REGISTRATION is 'brokered'; it must be broker or pat"
	assert_equal "$(cat "$FAKE_AZ_STATE/calls")" ""
}

@test "the default audience is main.bicep's: api://kiln-<environment name, lower case, _ and . as ->-registrations" {
	azd_env AZURE_ENV_NAME Dev_Team.One
	run_hook
	assert_success
	assert_equal "$(stored KILN_REGISTRATION_AUDIENCE)" "api://kiln-dev-team-one-registrations"
	assert_equal "$(cat "$FAKE_AZ_STATE"/apps/*/name)" "kiln-dev-team-one-registrations"
}

@test "a chosen audience is looked up, and created under that URI when absent" {
	azd_env KILN_REGISTRATION_AUDIENCE "api://$TENANT/kiln-broker"
	run_hook
	assert_success
	assert_equal "$(cat "$FAKE_AZ_STATE"/apps/*/uris)" "api://$TENANT/kiln-broker"
	assert_equal "$(writes | grep -c '^azd env set')" 0
}

@test "a client id as the audience: used when an application has it, refused with what to do when none has" {
	existing_app 3333dddd-0000-4000-8000-000000000003 api://something-else sp
	azd_env KILN_REGISTRATION_AUDIENCE 3333dddd-0000-4000-8000-000000000003
	run_hook
	assert_success
	assert_equal "$(writes)" ""
	azd_env KILN_REGISTRATION_AUDIENCE 4444eeee-0000-4000-8000-000000000004
	run_hook
	assert_failure
	assert_output --partial "KILN_REGISTRATION_AUDIENCE is 4444eeee-0000-4000-8000-000000000004, but no application in tenant $TENANT has that client id"
	assert_output --partial "azd env set KILN_REGISTRATION_AUDIENCE ''"
	assert_equal "$(apps)" "3333dddd-0000-4000-8000-000000000003"
}

@test "a tenant that refuses api://<name> URIs: the default falls back to api://<app id>, stored as the audience; a second run changes nothing" {
	touch "$FAKE_AZ_STATE/tenant-identifier-policy"
	run_hook
	assert_success
	id=1111aaaa-0000-4000-8000-000000000001
	assert_equal "$(apps)" "$id"
	assert_equal "$(cat "$FAKE_AZ_STATE/apps/$id/uris")" "api://$id"
	[ -s "$FAKE_AZ_STATE/apps/$id/sp" ]
	assert_equal "$(stored KILN_REGISTRATION_AUDIENCE)" "api://$id"
	assert_output --partial "accepts only Application ID URIs that contain a verified domain, the tenant id or the app id"
	: >"$FAKE_AZ_STATE/calls"
	run_hook
	assert_success
	assert_equal "$(writes)" ""
}

@test "refused URI, interrupted before the URI was set: the next run reuses the application of that name" {
	touch "$FAKE_AZ_STATE/tenant-identifier-policy"
	mkdir -p "$FAKE_AZ_STATE/apps/2222cccc-0000-4000-8000-000000000002"
	echo kiln-dev-registrations >"$FAKE_AZ_STATE/apps/2222cccc-0000-4000-8000-000000000002/name"
	: >"$FAKE_AZ_STATE/apps/2222cccc-0000-4000-8000-000000000002/uris"
	run_hook
	assert_success
	assert_equal "$(apps)" "2222cccc-0000-4000-8000-000000000002"
	assert_equal "$(stored KILN_REGISTRATION_AUDIENCE)" "api://2222cccc-0000-4000-8000-000000000002"
}

@test "a chosen audience the tenant's policy refuses: stops, naming a URI the policy accepts" {
	touch "$FAKE_AZ_STATE/tenant-identifier-policy"
	azd_env KILN_REGISTRATION_AUDIENCE api://kiln-broker
	run_hook
	assert_failure
	assert_output --partial "registration-app: error: tenant $TENANT refuses the Application ID URI api://kiln-broker (KILN_REGISTRATION_AUDIENCE)"
	assert_output --partial "api://$TENANT/kiln-dev-registrations"
	assert_equal "$(apps)" ""
}

@test "an account that may not register applications: names the role, the tenant setting and the manual way" {
	touch "$FAKE_AZ_STATE/deny-app-create"
	run_hook
	assert_failure
	assert_output --partial "registration-app: error: creating the application kiln-dev-registrations was refused"
	assert_output --partial "Application Developer"
	assert_output --partial '"Users can register applications"'
	assert_output --partial "infra/README.md, \"The registration broker's Entra application\""
	assert_output --partial "azd env set KILN_REGISTRATION_AUDIENCE <the application's Application ID URI>"
	assert_output --partial "az said: ERROR: Directory permission is needed"
	assert_equal "$(apps)" ""
	[ ! -e "$FAKE_AZ_STATE/azd-env/KILN_REGISTRATION_AUDIENCE" ]
}

@test "az not signed in: says that azd's sign-in is not az's and how to sign in" {
	rm "$FAKE_AZ_STATE/tenant"
	run_hook
	assert_failure
	assert_output --partial "registration-app: error: az is not signed in (azd's sign-in is separate): az login --tenant"
}

@test "az signed in to another tenant than the deployment's: stops before creating anything there" {
	azd_env AZURE_TENANT_ID "$OTHER_TENANT"
	run_hook
	assert_failure
	assert_output --partial "az is signed in to tenant $TENANT, but this azd environment deploys to tenant $OTHER_TENANT: az login --tenant $OTHER_TENANT"
	assert_equal "$(writes)" ""
	# The same tenant in capitals is the same tenant.
	azd_env AZURE_TENANT_ID "${TENANT^^}"
	run_hook
	assert_success
}

@test "no az on PATH: says how to install it or create the application by hand" {
	tools=$BATS_TEST_TMPDIR/tools
	mkdir -p "$tools"
	for tool in bash env tr cat grep mktemp rm basename; do ln -s "$(command -v "$tool")" "$tools/$tool"; done
	ln -s "$BATS_TEST_DIRNAME/fake/azd" "$tools/azd"
	run env -i FAKE_AZ_STATE="$FAKE_AZ_STATE" PATH="$tools" AZURE_ENV_NAME=dev "$HOOK"
	assert_failure
	assert_output --partial "registration-app: error: the Azure CLI (az) is not installed"
	assert_output --partial "infra/README.md, \"The registration broker's Entra application\""
}

@test "outside azd (no AZURE_ENV_NAME): says how to run it" {
	rm "$FAKE_AZ_STATE/azd-env/AZURE_ENV_NAME"
	run env -u AZURE_ENV_NAME -u KILN_GITHUB_REGISTRATION PATH="$BATS_TEST_DIRNAME/fake:$PATH" "$HOOK"
	assert_failure
	assert_output --partial "AZURE_ENV_NAME is not set. azd sets it for its hooks: run azd provision, or azd hooks run preprovision"
}
