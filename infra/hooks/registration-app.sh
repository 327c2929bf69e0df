#!/usr/bin/env bash
# azd preprovision hook (azure.yaml; registration-app.ps1 does the same on Windows): makes sure the
# Entra application that kiln's registration broker accepts tokens for exists before main.bicep
# deploys runners that ask IMDS for such tokens. A managed identity asking for a token for a
# resource no application in the tenant exposes gets AADSTS500011, so without this application the
# broker modes fail on a fresh deployment; Bicep cannot create it without the Microsoft Graph
# extension.
#
# Runs only in broker mode: KILN_GITHUB_REGISTRATION jit (also when unset) or KILN_ADO_REGISTRATION
# broker. Finds the application by its Application ID URI (KILN_REGISTRATION_AUDIENCE, default
# api://kiln-<env>-registrations exactly as main.bicep computes it), creates it if absent (this
# tenant only, no credentials: it exists only to be the tokens' audience), creates its service
# principal if absent, and stores the audience with azd env set. A second run changes nothing.
# infra/README.md ("The registration broker's Entra application") has the permission it needs and
# the same steps as az commands.
#
# Kept to bash 3.2 (macOS's /bin/bash): no namerefs, no ${var,,}, no mapfile.
set -euo pipefail

HOOK=registration-app
README_SECTION="infra/README.md, \"The registration broker's Entra application\""
REPLICATION_ATTEMPTS=6
REPLICATION_WAIT_SECONDS=10

say() { printf '%s: %s\n' "$HOOK" "$*"; }
die() {
	printf '%s: error: %s\n' "$HOOK" "$*" >&2
	exit 1
}
lower() { printf '%s' "$1" | tr '[:upper:]' '[:lower:]'; }
is_guid() { [[ $1 =~ ^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$ ]]; }

# az_run ARGS...: runs az, keeping its output in az_out and its error text in az_err (shown only
# when the hook gives up); returns az's exit status.
az_out=''
az_err=''
az_run() {
	local err_file status=0
	err_file=$(mktemp)
	az_out=$(az "$@" 2>"$err_file") || status=$?
	az_out=${az_out//$'\r'/}
	az_err=$(cat "$err_file")
	rm -f "$err_file"
	return "$status"
}

# fail_az WHAT: stops with az's error text, explaining a refusal for want of a directory role.
fail_az() {
	if grep -qiE 'insufficient privileges|Authorization_RequestDenied|Directory permission is needed' <<<"$az_err"; then
		die "$1 was refused: the account az is signed in with may not register applications in tenant $tenant.
  It needs the Entra role Application Developer (or Application Administrator / Cloud Application
  Administrator), or the tenant setting \"Users can register applications\" left at Yes. Otherwise
  someone who has it runs the commands of $README_SECTION,
  then: azd env set KILN_REGISTRATION_AUDIENCE <the application's Application ID URI>.
  az said: $az_err"
	fi
	die "$1 failed. az said: $az_err"
}

# az_retrying WHAT ARGS...: az_run, tried again while Entra has not yet replicated a new application
# (a service principal or an update right after the create can miss it for a few seconds).
az_retrying() {
	local what=$1 attempt=1
	shift
	until az_run "$@"; do
		if ((attempt >= REPLICATION_ATTEMPTS)) ||
			! grep -qiE 'does not reference a valid application object|does not exist or one of its queried reference-property objects' <<<"$az_err"; then
			fail_az "$what"
		fi
		say "$what: Entra has not replicated application $app_id yet; trying again in $REPLICATION_WAIT_SECONDS s ($attempt of $REPLICATION_ATTEMPTS)"
		sleep "$REPLICATION_WAIT_SECONDS"
		attempt=$((attempt + 1))
	done
}

# create_application: creates the application named display_name with the Application ID URI
# audience; sets app_id (and audience, when the tenant's policy forces the app-id-based URI).
create_application() {
	say "creating the Entra application $display_name with Application ID URI $audience (this tenant only, no credentials)"
	if az_run ad app create --display-name "$display_name" --identifier-uris "$audience" \
		--sign-in-audience AzureADMyOrg --query appId -o tsv; then
		app_id=$az_out
		return
	fi
	if ! grep -qi 'verified domain' <<<"$az_err"; then
		fail_az "creating the application $display_name"
	fi
	# The tenant's app management policy accepts only URIs that hold a verified domain, the tenant id
	# or the app id. A chosen audience stays the operator's to fix; the default falls back to
	# api://<app id>, which every policy accepts.
	if [[ $audience != "$default_audience" ]]; then
		die "tenant $tenant refuses the Application ID URI $audience (KILN_REGISTRATION_AUDIENCE): its policy wants
  URIs that contain a verified domain, the tenant id or the app id, e.g. api://$tenant/$display_name.
  azd env set KILN_REGISTRATION_AUDIENCE to such a URI, or to '' to let this hook create the default.
  az said: $az_err"
	fi
	say "tenant $tenant accepts only Application ID URIs that contain a verified domain, the tenant id or the app id; creating $display_name with the URI api://<its app id> instead"
	# az ad app create finds an application of exactly this name (left by an interrupted run) and
	# updates it rather than creating a second one.
	az_run ad app create --display-name "$display_name" --sign-in-audience AzureADMyOrg --query appId -o tsv ||
		fail_az "creating the application $display_name"
	app_id=$az_out
	audience="api://$app_id"
	az_retrying "setting the Application ID URI $audience" ad app update --id "$app_id" --identifier-uris "$audience"
}

github_mode=${KILN_GITHUB_REGISTRATION:-jit}
ado_mode=${KILN_ADO_REGISTRATION:-pat}
case $github_mode in
jit | pat) ;;
*) die "KILN_GITHUB_REGISTRATION is '$github_mode'; it must be jit or pat: azd env set KILN_GITHUB_REGISTRATION jit" ;;
esac
case $ado_mode in
broker | pat) ;;
*) die "KILN_ADO_REGISTRATION is '$ado_mode'; it must be broker or pat: azd env set KILN_ADO_REGISTRATION broker" ;;
esac
if [[ $github_mode == pat && $ado_mode == pat ]]; then
	say "GitHub and Azure DevOps register with PATs (KILN_GITHUB_REGISTRATION=pat, KILN_ADO_REGISTRATION=pat): no registration broker, no Entra application needed"
	exit 0
fi

[[ -n ${AZURE_ENV_NAME:-} ]] ||
	die "AZURE_ENV_NAME is not set. azd sets it for its hooks: run azd provision, or azd hooks run preprovision"
# main.bicep: envSlug = toLower(replace(replace(environmentName, '_', '-'), '.', '-'))
env_slug=$(lower "$(printf '%s' "$AZURE_ENV_NAME" | tr '_.' '--')")
display_name="kiln-$env_slug-registrations"
default_audience="api://$display_name"
audience=${KILN_REGISTRATION_AUDIENCE:-$default_audience}
say "registration broker in use (GitHub: $github_mode, Azure DevOps: $ado_mode); the runners' tokens are for $audience"

command -v az >/dev/null 2>&1 ||
	die "the Azure CLI (az) is not installed. Install it (https://aka.ms/azure-cli) and run az login, or
  create the application as $README_SECTION shows
  and azd env set KILN_REGISTRATION_AUDIENCE <its Application ID URI>"
az_run account show --query tenantId -o tsv ||
	die "az is not signed in (azd's sign-in is separate): az login --tenant <the deployment's tenant>. az said: $az_err"
tenant=$az_out
if [[ -n ${AZURE_TENANT_ID:-} && $(lower "$AZURE_TENANT_ID") != $(lower "$tenant") ]]; then
	die "az is signed in to tenant $tenant, but this azd environment deploys to tenant $AZURE_TENANT_ID: az login --tenant $AZURE_TENANT_ID"
fi
say "tenant $tenant"

app_id=''
if is_guid "$audience"; then
	az_run ad app list --app-id "$audience" --query '[].appId' -o tsv ||
		fail_az "looking up the application $audience"
	[[ -n $az_out ]] ||
		die "KILN_REGISTRATION_AUDIENCE is $audience, but no application in tenant $tenant has that client id.
  Set it to the Application ID URI or client id of an existing application, or to '' to let this
  hook create $default_audience: azd env set KILN_REGISTRATION_AUDIENCE ''"
	app_id=$az_out
else
	az_run ad app list --identifier-uri "$audience" --query '[].appId' -o tsv ||
		fail_az "looking up the application $audience"
	app_id=$az_out
fi
if [[ -n $app_id ]]; then
	say "application $app_id ($audience) exists"
else
	create_application
	say "created application $app_id ($audience)"
fi

sp_status=0
az_run ad sp show --id "$app_id" --query id -o tsv || sp_status=$?
case $sp_status in
0) say "its service principal exists" ;;
3)
	say "creating its service principal (managed identities get tokens only for applications that have one)"
	az_retrying "creating the service principal of $app_id" ad sp create --id "$app_id" --query id -o tsv
	say "created its service principal"
	;;
*) fail_az "looking up the service principal of $app_id" ;;
esac

if [[ ${KILN_REGISTRATION_AUDIENCE:-} == "$audience" ]]; then
	say "KILN_REGISTRATION_AUDIENCE is $audience already"
else
	azd env set KILN_REGISTRATION_AUDIENCE "$audience" ||
		die "could not store the audience; run: azd env set KILN_REGISTRATION_AUDIENCE $audience"
	say "stored KILN_REGISTRATION_AUDIENCE=$audience in the azd environment"
fi
