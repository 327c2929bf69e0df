#Requires -Version 7.0
<#
.SYNOPSIS
    azd preprovision hook on Windows (azure.yaml): makes sure the Entra application that kiln's
    registration broker accepts tokens for exists before main.bicep deploys runners and agents that
    ask IMDS for such tokens. registration-app.sh does the same on Linux and macOS; keep them alike.

.DESCRIPTION
    A managed identity asking for a token for a resource no application in the tenant exposes gets
    AADSTS500011, so without this application the broker modes fail on a fresh deployment; Bicep
    cannot create it without the Microsoft Graph extension.

    Runs only in broker mode: KILN_GITHUB_REGISTRATION jit (also when unset) or KILN_ADO_REGISTRATION
    broker. Finds the application by its Application ID URI (KILN_REGISTRATION_AUDIENCE, default
    api://kiln-<env>-registrations exactly as main.bicep computes it), creates it if absent (this
    tenant only, no credentials: it exists only to be the tokens' audience), creates its service
    principal if absent, and stores the audience with azd env set. A second run changes nothing.
    infra/README.md ("The registration broker's Entra application") has the permission it needs and
    the same steps as az commands.

    Progress goes to standard output, an error to standard error; the exit code is 0 or 1. Dot-sourced
    (the Pester tests), it only defines its functions.
#>
[CmdletBinding()]
param()

Set-StrictMode -Version Latest
$ErrorActionPreference = 'Stop'

$script:ReadmeSection = "infra/README.md, `"The registration broker's Entra application`""
$script:ReplicationAttempts = 6
$script:ReplicationWaitSeconds = 10

function Write-HookLine {
    param([Parameter(Mandatory)] [string] $Text)
    Write-Host "registration-app: $Text"
}

function Invoke-Az {
    <# Runs az; returns its exit code, its output (trimmed) and its error text (shown only when the hook gives up). #>
    param([Parameter(Mandatory)] [string[]] $Arguments)
    $errorFile = [IO.Path]::GetTempFileName()
    try {
        $output = & az @Arguments 2> $errorFile
        [pscustomobject]@{
            Code = $LASTEXITCODE
            Out  = ((@($output) -join "`n") -replace "`r", '').Trim()
            Err  = [IO.File]::ReadAllText($errorFile).Trim()
        }
    } finally {
        Remove-Item -LiteralPath $errorFile -Force -ErrorAction SilentlyContinue
    }
}

function Stop-AzFailure {
    <# Stops with az's error text, explaining a refusal for want of a directory role. #>
    param([Parameter(Mandatory)] [string] $What, [Parameter(Mandatory)] $Result, [Parameter(Mandatory)] [string] $Tenant)
    if ($Result.Err -match 'insufficient privileges|Authorization_RequestDenied|Directory permission is needed') {
        throw ("$What was refused: the account az is signed in with may not register applications in tenant $Tenant.`n" +
            "  It needs the Entra role Application Developer (or Application Administrator / Cloud Application`n" +
            "  Administrator), or the tenant setting `"Users can register applications`" left at Yes. Otherwise`n" +
            "  someone who has it runs the commands of $script:ReadmeSection,`n" +
            "  then: azd env set KILN_REGISTRATION_AUDIENCE <the application's Application ID URI>.`n" +
            "  az said: $($Result.Err)")
    }
    throw "$What failed. az said: $($Result.Err)"
}

function Invoke-AzRetrying {
    <# Invoke-Az, tried again while Entra has not yet replicated a new application (a service principal or
       an update right after the create can miss it for a few seconds). #>
    param([Parameter(Mandatory)] [string] $What, [Parameter(Mandatory)] [string] $AppId,
        [Parameter(Mandatory)] [string] $Tenant, [Parameter(Mandatory)] [string[]] $Arguments)
    for ($attempt = 1; ; $attempt++) {
        $result = Invoke-Az $Arguments
        if ($result.Code -eq 0) { return $result }
        $replicating = $result.Err -match 'does not reference a valid application object|does not exist or one of its queried reference-property objects'
        if ($attempt -ge $script:ReplicationAttempts -or -not $replicating) {
            Stop-AzFailure -What $What -Result $result -Tenant $Tenant
        }
        Write-HookLine "${What}: Entra has not replicated application $AppId yet; trying again in $($script:ReplicationWaitSeconds) s ($attempt of $($script:ReplicationAttempts))"
        Start-Sleep -Seconds $script:ReplicationWaitSeconds
    }
}

function New-RegistrationApplication {
    <# Creates the application; returns its app id and audience (the app-id-based URI when the tenant's
       policy refuses the chosen one for the default audience). #>
    param([Parameter(Mandatory)] [string] $DisplayName, [Parameter(Mandatory)] [string] $Audience,
        [Parameter(Mandatory)] [string] $DefaultAudience, [Parameter(Mandatory)] [string] $Tenant)
    Write-HookLine "creating the Entra application $DisplayName with Application ID URI $Audience (this tenant only, no credentials)"
    $created = Invoke-Az @('ad', 'app', 'create', '--display-name', $DisplayName, '--identifier-uris', $Audience,
        '--sign-in-audience', 'AzureADMyOrg', '--query', 'appId', '-o', 'tsv')
    if ($created.Code -eq 0) { return @{ AppId = $created.Out; Audience = $Audience } }
    if ($created.Err -notmatch 'verified domain') {
        Stop-AzFailure -What "creating the application $DisplayName" -Result $created -Tenant $Tenant
    }
    # The tenant's app management policy accepts only URIs that hold a verified domain, the tenant id
    # or the app id. A chosen audience stays the operator's to fix; the default falls back to
    # api://<app id>, which every policy accepts.
    if ($Audience -ne $DefaultAudience) {
        throw ("tenant $Tenant refuses the Application ID URI $Audience (KILN_REGISTRATION_AUDIENCE): its policy wants`n" +
            "  URIs that contain a verified domain, the tenant id or the app id, e.g. api://$Tenant/$DisplayName.`n" +
            "  azd env set KILN_REGISTRATION_AUDIENCE to such a URI, or to '' to let this hook create the default.`n" +
            "  az said: $($created.Err)")
    }
    Write-HookLine "tenant $Tenant accepts only Application ID URIs that contain a verified domain, the tenant id or the app id; creating $DisplayName with the URI api://<its app id> instead"
    # az ad app create finds an application of exactly this name (left by an interrupted run) and
    # updates it rather than creating a second one.
    $created = Invoke-Az @('ad', 'app', 'create', '--display-name', $DisplayName, '--sign-in-audience', 'AzureADMyOrg',
        '--query', 'appId', '-o', 'tsv')
    if ($created.Code -ne 0) { Stop-AzFailure -What "creating the application $DisplayName" -Result $created -Tenant $Tenant }
    $appId = $created.Out
    $fallback = "api://$appId"
    $null = Invoke-AzRetrying -What "setting the Application ID URI $fallback" -AppId $appId -Tenant $Tenant `
        -Arguments @('ad', 'app', 'update', '--id', $appId, '--identifier-uris', $fallback)
    @{ AppId = $appId; Audience = $fallback }
}

function Invoke-RegistrationAppHook {
    <# The whole hook; returns the exit code (0 or 1) and nothing else. #>
    try {
        $githubMode = if ($env:KILN_GITHUB_REGISTRATION) { $env:KILN_GITHUB_REGISTRATION } else { 'jit' }
        $adoMode = if ($env:KILN_ADO_REGISTRATION) { $env:KILN_ADO_REGISTRATION } else { 'pat' }
        if ($githubMode -cnotin 'jit', 'pat') {
            throw "KILN_GITHUB_REGISTRATION is '$githubMode'; it must be jit or pat: azd env set KILN_GITHUB_REGISTRATION jit"
        }
        if ($adoMode -cnotin 'broker', 'pat') {
            throw "KILN_ADO_REGISTRATION is '$adoMode'; it must be broker or pat: azd env set KILN_ADO_REGISTRATION broker"
        }
        if ($githubMode -eq 'pat' -and $adoMode -eq 'pat') {
            Write-HookLine 'GitHub and Azure DevOps register with PATs (KILN_GITHUB_REGISTRATION=pat, KILN_ADO_REGISTRATION=pat): no registration broker, no Entra application needed'
            return 0
        }

        if (-not $env:AZURE_ENV_NAME) {
            throw 'AZURE_ENV_NAME is not set. azd sets it for its hooks: run azd provision, or azd hooks run preprovision'
        }
        # main.bicep: envSlug = toLower(replace(replace(environmentName, '_', '-'), '.', '-'))
        $envSlug = $env:AZURE_ENV_NAME.Replace('_', '-').Replace('.', '-').ToLowerInvariant()
        $displayName = "kiln-$envSlug-registrations"
        $defaultAudience = "api://$displayName"
        $audience = if ($env:KILN_REGISTRATION_AUDIENCE) { $env:KILN_REGISTRATION_AUDIENCE } else { $defaultAudience }
        Write-HookLine "registration broker in use (GitHub: $githubMode, Azure DevOps: $adoMode); the runners' tokens are for $audience"

        if (-not (Get-Command az -CommandType Application -ErrorAction SilentlyContinue)) {
            throw ("the Azure CLI (az) is not installed. Install it (https://aka.ms/azure-cli) and run az login, or`n" +
                "  create the application as $script:ReadmeSection shows`n" +
                '  and azd env set KILN_REGISTRATION_AUDIENCE <its Application ID URI>')
        }
        $account = Invoke-Az @('account', 'show', '--query', 'tenantId', '-o', 'tsv')
        if ($account.Code -ne 0) {
            throw "az is not signed in (azd's sign-in is separate): az login --tenant <the deployment's tenant>. az said: $($account.Err)"
        }
        $tenant = $account.Out
        if ($env:AZURE_TENANT_ID -and $env:AZURE_TENANT_ID -ne $tenant) {
            throw "az is signed in to tenant $tenant, but this azd environment deploys to tenant $($env:AZURE_TENANT_ID): az login --tenant $($env:AZURE_TENANT_ID)"
        }
        Write-HookLine "tenant $tenant"

        if ($audience -match '^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$') {
            $found = Invoke-Az @('ad', 'app', 'list', '--app-id', $audience, '--query', '[].appId', '-o', 'tsv')
            if ($found.Code -ne 0) { Stop-AzFailure -What "looking up the application $audience" -Result $found -Tenant $tenant }
            if (-not $found.Out) {
                throw ("KILN_REGISTRATION_AUDIENCE is $audience, but no application in tenant $tenant has that client id.`n" +
                    "  Set it to the Application ID URI or client id of an existing application, or to '' to let this`n" +
                    "  hook create ${defaultAudience}: azd env set KILN_REGISTRATION_AUDIENCE ''")
            }
        } else {
            $found = Invoke-Az @('ad', 'app', 'list', '--identifier-uri', $audience, '--query', '[].appId', '-o', 'tsv')
            if ($found.Code -ne 0) { Stop-AzFailure -What "looking up the application $audience" -Result $found -Tenant $tenant }
        }
        $appId = $found.Out
        if ($appId) {
            Write-HookLine "application $appId ($audience) exists"
        } else {
            $created = New-RegistrationApplication -DisplayName $displayName -Audience $audience -DefaultAudience $defaultAudience -Tenant $tenant
            $appId = $created.AppId
            $audience = $created.Audience
            Write-HookLine "created application $appId ($audience)"
        }

        $principal = Invoke-Az @('ad', 'sp', 'show', '--id', $appId, '--query', 'id', '-o', 'tsv')
        switch ($principal.Code) {
            0 { Write-HookLine 'its service principal exists' }
            3 {
                Write-HookLine 'creating its service principal (managed identities get tokens only for applications that have one)'
                $null = Invoke-AzRetrying -What "creating the service principal of $appId" -AppId $appId -Tenant $tenant `
                    -Arguments @('ad', 'sp', 'create', '--id', $appId, '--query', 'id', '-o', 'tsv')
                Write-HookLine 'created its service principal'
            }
            default { Stop-AzFailure -What "looking up the service principal of $appId" -Result $principal -Tenant $tenant }
        }

        if ($env:KILN_REGISTRATION_AUDIENCE -eq $audience) {
            Write-HookLine "KILN_REGISTRATION_AUDIENCE is $audience already"
        } else {
            & azd env set KILN_REGISTRATION_AUDIENCE $audience | Out-Host
            if ($LASTEXITCODE -ne 0) { throw "could not store the audience; run: azd env set KILN_REGISTRATION_AUDIENCE $audience" }
            Write-HookLine "stored KILN_REGISTRATION_AUDIENCE=$audience in the azd environment"
        }
        return 0
    } catch {
        [Console]::Error.WriteLine("registration-app: error: $($_.Exception.Message)")
        return 1
    }
}

if ($MyInvocation.InvocationName -ne '.') {
    exit (Invoke-RegistrationAppHook)
}
