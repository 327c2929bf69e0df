<#
.SYNOPSIS
    Registers this VM as an Azure DevOps agent at boot, with a registration secret from kiln's
    registration broker (KILN_REGISTRATION_URL set) or a PAT read from Key Vault, either way through
    the VM's managed identity. Run by the AdoBootstrap service; safe to run again at every boot.

.DESCRIPTION
    Settings come from the MACHINE environment (read at run time, so values injected after the
    service started are seen on the next run or after `Restart-Service AdoBootstrap`):
      ADO_ORG_URL          required, e.g. https://dev.azure.com/acme
      KILN_REGISTRATION_URL       broker mode: kiln's POST /api/registrations; the VM proves who it is
                                  with an IMDS token and its IMDS attested document and gets
                                  {"token": ...}; no vault, no PAT on the VM
      KILN_REGISTRATION_AUDIENCE  required with KILN_REGISTRATION_URL: the audience of that token
      KEYVAULT_NAME        required without KILN_REGISTRATION_URL, the vault that holds the PAT
      ADO_PAT_SECRET       optional, secret name (default ado-pat)
      ADO_POOL             optional, agent pool (default Default)
      ADO_WORK_DIR         optional, agent work folder (default <agent root>\_work)
      KILN_RECYCLE         optional, true or false (unset: false). true: the agent runs one job
                           (Agent.Listener.exe run --once, through the AdoAgentOnce service) and
                           nothing starts it again; kiln reimages the VM afterwards
      IMDS_ENDPOINT        optional, default http://169.254.169.254 (tests point it at a fake)
      KEYVAULT_DNS_SUFFIX  optional, default vault.azure.net (vault.azure.cn, vault.usgovcloudapi.net, ...)
      KEYVAULT_URL         optional, full vault URL replacing https://<name>.<suffix> (private
                           endpoints, tests; a loopback fake cannot serve https://<name>.<suffix>)
      MANAGED_IDENTITY_CLIENT_ID  optional, picks one of several user-assigned identities
      ADO_AGENT_ROOT       optional, agent folder (default: the folder holding this script)

    The agent is named after the computer name: kiln matches agents to scale set instances by name.
    An agent that is already configured for this name, organisation and pool, with its Windows
    service present, is left alone (its service is started if stopped). A half-configured agent
    (marker files without a service, another name/org/pool) is removed and configured again.
    With KILN_RECYCLE=true the agent is configured without a service and started once, by this
    script, right after its registration; a registered agent found on a later run (a reboot, a
    restart of AdoBootstrap) is not started again, since the VM has run its one job.

    Every job runs as the agent's account (NETWORK SERVICE), so that account must not be able to
    change what a registration runs: see "Agent folder permissions" below. Before it registers, the
    script checks the agent folder's permissions are the image's, and refuses (exit 3) if not;
    after config.cmd it applies them again, since config.cmd changes them itself.

    The registration secret reaches config.cmd through the VSTS_AGENT_INPUT_TOKEN environment
    variable of that one child process, never its command line (which any process on the machine can
    read). It is never written to any stream or log: every line that is logged passes through
    Protect-BootstrapText, which masks the secret and the IMDS access token.

    Exit codes: 0 configured (or already configured); 2 settings invalid; 3 the agent folder's
    permissions are not the image's (the VM must be reimaged); 1 any other failure. The AdoBootstrap
    service restarts the script after 1 and 2, not after 0 and 3.

    Windows-only operations sit behind small functions (Get-MachineEnvironmentVariable,
    Get-ComputerName, Get-AgentServiceState, Start-AgentService, Remove-AgentService,
    Start-BootstrapDelay, Invoke-Icacls, Get-AgentPathSecurity) so the Pester tests can mock them
    on Linux. The script stays compatible with Windows PowerShell 5.1, which is what a fresh image
    runs it with.
#>
[CmdletBinding()]
param(
    # Agent folder holding config.cmd; overrides ADO_AGENT_ROOT.
    [string] $AgentRoot,
    # Log file; the default sits outside the agent folder so `config.cmd remove` never touches it.
    [string] $LogPath
)

# ---------------------------------------------------------------------------------------------
# Retry policy (IMDS guidance: retry 404/410/429/5xx with backoff, about 0/2/6/14/30 s).
$script:ImdsRetryDelaysSeconds = @(0, 2, 6, 14, 30)
$script:KeyVaultRetryDelaysSeconds = @(0, 2, 6)
# The broker: 5xx, 429 (at least its Retry-After, at most 5 minutes) and no answer are transient.
$script:BrokerRetryDelaysSeconds = @(0, 2, 6, 14, 30)
$script:BrokerMaxRetryAfterSeconds = 300
$script:KeyVaultApiVersion = '7.4'
$script:ImdsApiVersion = '2018-02-01'
$script:AgentMarkerFiles = @('.agent', '.credentials', '.credentials_rsaparams', '.service')

# Well-known SIDs, not account names: the names are localized (a German Windows has no
# "Administrators"), the SIDs are not.
$script:AdministratorsSid = 'S-1-5-32-544'
$script:SystemSid = 'S-1-5-18'
# The account the agent, and so every job, runs as: config.cmd --runAsService without
# --windowsLogonAccount installs the agent's service as NETWORK SERVICE, and the AdoAgentOnce
# service (KILN_RECYCLE=true) runs as NETWORK SERVICE too.
$script:AgentAccountSid = 'S-1-5-20'
$script:PrincipalNames = @{
    'S-1-5-32-544' = 'Administrators'; 'S-1-5-18' = 'SYSTEM'; 'S-1-5-20' = 'NETWORK SERVICE'
    'S-1-5-19' = 'LOCAL SERVICE'; 'S-1-5-11' = 'Authenticated Users'; 'S-1-5-32-545' = 'Users'; 'S-1-1-0' = 'Everyone'
}
# What a registration executes, in the agent folder: config.cmd and the bootstrap scripts run as
# LocalSystem with the registration secret; run.cmd, bin\ and externals\ run the agent and its jobs.
$script:AgentExecutedItems = @('config.cmd', 'run.cmd', 'bin', 'externals', 'bootstrap-agent.ps1', 'configure-run.ps1')
# KILN_RECYCLE=true: registered by configure-ado-bootstrap.ps1 (NSSM, NETWORK SERVICE, demand start,
# never restarted), it runs Agent.Listener.exe run --once.
$script:AgentOnceServiceName = 'AdoAgentOnce'

# Values that must never reach a stream or a log; filled as they are learned.
$script:BootstrapSecrets = New-Object System.Collections.Generic.List[string]
$script:BootstrapLogPath = $null

class BootstrapConfigError : System.Exception {
    BootstrapConfigError([string] $message) : base($message) {}
}

class AgentFolderAclError : System.Exception {
    AgentFolderAclError([string] $message) : base($message) {}
}

# --- Windows-only operations, isolated for the tests -----------------------------------------

function Get-MachineEnvironmentVariable {
    param([Parameter(Mandatory)] [string] $Name)
    [Environment]::GetEnvironmentVariable($Name, [EnvironmentVariableTarget]::Machine)
}

function Get-ComputerName {
    # The NetBIOS name (COMPUTERNAME on Windows): the name a scale set instance gets, and the one
    # kiln matches agents by.
    [Environment]::MachineName
}

function Get-AgentServiceState {
    # Returns the service status as text ('Running', 'Stopped', ...) or $null when it does not exist.
    param([Parameter(Mandatory)] [string] $Name)
    $service = Get-Service -Name $Name -ErrorAction SilentlyContinue
    if ($null -eq $service) { return $null }
    [string] $service.Status
}

function Start-AgentService {
    param([Parameter(Mandatory)] [string] $Name)
    Start-Service -Name $Name -ErrorAction Stop
}

function Remove-AgentService {
    param([Parameter(Mandatory)] [string] $Name)
    Stop-Service -Name $Name -Force -ErrorAction SilentlyContinue
    & sc.exe delete $Name | Out-Null
}

function Start-BootstrapDelay {
    param([Parameter(Mandatory)] [int] $Seconds)
    if ($Seconds -gt 0) { Start-Sleep -Seconds $Seconds }
}

function Invoke-Icacls {
    # One icacls.exe call; throws with its output when it fails.
    param([Parameter(Mandatory)] [string[]] $Arguments)
    # Native stderr must not become a terminating error (Windows PowerShell 5.1 with Stop).
    $ErrorActionPreference = 'Continue'
    $output = & icacls.exe @Arguments 2>&1 | ForEach-Object { [string] $_ }
    if ($LASTEXITCODE -ne 0) { throw "icacls $($Arguments -join ' ') failed with exit code ${LASTEXITCODE}: $($output -join ' ')" }
}

function Get-AgentPathSecurity {
    # The owner, whether inheritance is broken, and the explicit (not inherited) entries of a path's
    # ACL, with SIDs rather than (localized) names.
    param([Parameter(Mandatory)] [string] $Path)
    $acl = Get-Acl -LiteralPath $Path -ErrorAction Stop
    $sidType = [System.Security.Principal.SecurityIdentifier]
    [pscustomobject]@{
        Owner     = $acl.GetOwner($sidType).Value
        Protected = $acl.AreAccessRulesProtected
        Explicit  = @($acl.GetAccessRules($true, $false, $sidType) | ForEach-Object {
                [pscustomobject]@{
                    Type        = [string] $_.AccessControlType
                    Sid         = $_.IdentityReference.Value
                    Mask        = [int] $_.FileSystemRights
                    Inheritance = [string] $_.InheritanceFlags
                    Propagation = [string] $_.PropagationFlags
                }
            })
    }
}

# --- Logging and masking ---------------------------------------------------------------------

function Add-BootstrapSecret {
    param([string] $Value)
    if (-not [string]::IsNullOrEmpty($Value) -and -not $script:BootstrapSecrets.Contains($Value)) {
        $script:BootstrapSecrets.Add($Value)
    }
}

function Protect-BootstrapText {
    # Replaces every known secret in $Text with ***.
    param([AllowNull()] [AllowEmptyString()] [string] $Text)
    if ([string]::IsNullOrEmpty($Text)) { return $Text }
    $masked = $Text
    foreach ($secret in $script:BootstrapSecrets) {
        $masked = $masked.Replace($secret, '***')
    }
    $masked
}

function Write-BootstrapLog {
    param(
        [Parameter(Mandatory)] [AllowEmptyString()] [string] $Message,
        [ValidateSet('INFO', 'WARN', 'ERROR')] [string] $Level = 'INFO'
    )
    $line = '{0} [{1}] {2}' -f (Get-Date).ToUniversalTime().ToString('yyyy-MM-ddTHH:mm:ssZ'), $Level, (Protect-BootstrapText $Message)
    if ($script:BootstrapLogPath) {
        Add-Content -LiteralPath $script:BootstrapLogPath -Value $line -Encoding UTF8
    }
    Write-Host $line
}

# --- Settings ---------------------------------------------------------------------------------

function Get-KeyVaultResource {
    # Token audience for Key Vault in the cloud that owns the DNS suffix (vault.azure.net -> https://vault.azure.net).
    param([Parameter(Mandatory)] [string] $DnsSuffix)
    'https://' + $DnsSuffix.Trim().TrimEnd('/')
}

function Get-KeyVaultSecretUri {
    param(
        [Parameter(Mandatory)] [string] $VaultName,
        [Parameter(Mandatory)] [string] $DnsSuffix,
        [Parameter(Mandatory)] [string] $SecretName,
        [string] $VaultUrl
    )
    if ([string]::IsNullOrWhiteSpace($VaultUrl)) {
        $VaultUrl = 'https://{0}.{1}' -f $VaultName, $DnsSuffix.Trim().TrimEnd('/')
    }
    '{0}/secrets/{1}?api-version={2}' -f $VaultUrl.TrimEnd('/'), [Uri]::EscapeDataString($SecretName), $script:KeyVaultApiVersion
}

function Test-AbsoluteHttpUrl {
    param([string] $Value)
    $uri = $null
    [Uri]::TryCreate($Value, [UriKind]::Absolute, [ref] $uri) -and ($uri.Scheme -eq 'https' -or $uri.Scheme -eq 'http')
}

function ConvertFrom-RecycleSetting {
    # KILN_RECYCLE: $true for 'true', $false for 'false' or unset (any case), $null for anything else.
    param([AllowNull()] [AllowEmptyString()] [string] $Value)
    if ([string]::IsNullOrWhiteSpace($Value)) { return $false }
    switch ($Value.Trim()) {
        'true' { return $true }
        'false' { return $false }
    }
    $null
}

function Get-BootstrapSettings {
    # Reads and validates every setting; throws one BootstrapConfigError listing every problem.
    param([string] $AgentRoot)

    $problems = New-Object System.Collections.Generic.List[string]
    function Read-Setting([string] $Name, [string] $Default) {
        $value = Get-MachineEnvironmentVariable -Name $Name
        if ([string]::IsNullOrWhiteSpace($value)) { return $Default }
        $value.Trim()
    }

    $settings = [ordered]@{
        OrgUrl           = Read-Setting 'ADO_ORG_URL' $null
        KeyVaultName     = Read-Setting 'KEYVAULT_NAME' $null
        RegistrationUrl  = Read-Setting 'KILN_REGISTRATION_URL' $null
        RegistrationAudience = Read-Setting 'KILN_REGISTRATION_AUDIENCE' $null
        Mode             = 'pat'
        SecretName       = Read-Setting 'ADO_PAT_SECRET' 'ado-pat'
        Pool             = Read-Setting 'ADO_POOL' 'Default'
        ImdsEndpoint     = Read-Setting 'IMDS_ENDPOINT' 'http://169.254.169.254'
        KeyVaultDnsSuffix = Read-Setting 'KEYVAULT_DNS_SUFFIX' 'vault.azure.net'
        KeyVaultUrl      = Read-Setting 'KEYVAULT_URL' $null
        IdentityClientId = Read-Setting 'MANAGED_IDENTITY_CLIENT_ID' $null
        AgentRoot        = $AgentRoot
        WorkDir          = Read-Setting 'ADO_WORK_DIR' $null
        Recycle          = ConvertFrom-RecycleSetting (Read-Setting 'KILN_RECYCLE' $null)
        AgentName        = $null
    }

    if (-not $settings.OrgUrl) {
        $problems.Add('ADO_ORG_URL is not set (expected e.g. https://dev.azure.com/<org>)')
    } elseif (-not (Test-AbsoluteHttpUrl $settings.OrgUrl)) {
        $problems.Add("ADO_ORG_URL '$($settings.OrgUrl)' is not an absolute http(s) URL")
    }
    if ($settings.RegistrationUrl) {
        # Broker mode: the vault and secret settings are not read; the broker hands out the secret.
        $settings.Mode = 'broker'
        if (-not (Test-AbsoluteHttpUrl $settings.RegistrationUrl)) {
            $problems.Add("KILN_REGISTRATION_URL '$($settings.RegistrationUrl)' is not an absolute http(s) URL")
        } elseif (([Uri] $settings.RegistrationUrl).Scheme -ne 'https' -and -not ([Uri] $settings.RegistrationUrl).IsLoopback) {
            # The request carries the VM's identity token: plain http only to this machine (tests).
            $problems.Add("KILN_REGISTRATION_URL '$($settings.RegistrationUrl)' must be https (it carries the VM's identity token)")
        }
        if (-not $settings.RegistrationAudience) {
            $problems.Add('KILN_REGISTRATION_AUDIENCE is not set (required with KILN_REGISTRATION_URL: the audience of the broker''s token)')
        }
    } elseif (-not $settings.KeyVaultName) {
        $problems.Add('KEYVAULT_NAME is not set')
    } elseif ($settings.KeyVaultName -notmatch '^[A-Za-z](?!.*--)[A-Za-z0-9-]{1,22}[A-Za-z0-9]$') {
        $problems.Add("KEYVAULT_NAME '$($settings.KeyVaultName)' is not a valid vault name (3-24 letters, digits, single hyphens)")
    }
    if ($settings.Mode -eq 'pat' -and $settings.SecretName -notmatch '^[A-Za-z0-9-]{1,127}$') {
        $problems.Add("ADO_PAT_SECRET '$($settings.SecretName)' is not a valid secret name (1-127 letters, digits, hyphens)")
    }
    if (-not (Test-AbsoluteHttpUrl $settings.ImdsEndpoint)) {
        $problems.Add("IMDS_ENDPOINT '$($settings.ImdsEndpoint)' is not an absolute http(s) URL")
    }
    if ($settings.KeyVaultDnsSuffix -notmatch '^[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)+$') {
        $problems.Add("KEYVAULT_DNS_SUFFIX '$($settings.KeyVaultDnsSuffix)' is not a DNS suffix")
    }
    if ($settings.KeyVaultUrl -and -not (Test-AbsoluteHttpUrl $settings.KeyVaultUrl)) {
        $problems.Add("KEYVAULT_URL '$($settings.KeyVaultUrl)' is not an absolute http(s) URL")
    }

    if ($null -eq $settings.Recycle) {
        $problems.Add("KILN_RECYCLE '$(Read-Setting 'KILN_RECYCLE' $null)' is neither true nor false (true: the agent runs one job and the VM is reimaged; unset means false)")
    }

    if ([string]::IsNullOrWhiteSpace($settings.AgentRoot)) {
        $problems.Add('the agent folder is not known (pass -AgentRoot or set ADO_AGENT_ROOT)')
    } elseif (-not (Test-Path -LiteralPath (Join-Path $settings.AgentRoot 'config.cmd') -PathType Leaf)) {
        $problems.Add("the agent folder '$($settings.AgentRoot)' has no config.cmd (is the Azure DevOps agent unpacked there?)")
    }
    if (-not $settings.WorkDir -and $settings.AgentRoot) {
        $settings.WorkDir = Join-Path $settings.AgentRoot '_work'
    }

    $computerName = Get-ComputerName
    if ([string]::IsNullOrWhiteSpace($computerName)) {
        $problems.Add('the computer name is empty')
    } else {
        $settings.AgentName = $computerName.Trim()
    }

    if ($problems.Count -gt 0) {
        $noun = if ($problems.Count -eq 1) { 'problem' } else { 'problems' }
        throw [BootstrapConfigError]::new(('agent bootstrap settings have {0} {1}: {2}' -f $problems.Count, $noun, ($problems -join '; ')))
    }
    [pscustomobject] $settings
}

# --- HTTP: IMDS token and Key Vault secret ----------------------------------------------------

function Invoke-BootstrapHttpGet {
    param([Parameter(Mandatory)] [string] $Uri, [hashtable] $Headers = @{})
    Invoke-BootstrapHttpRequest -Uri $Uri -Headers $Headers
}

function Get-RetryAfterSeconds {
    # Retry-After in whole seconds from a failed response (Windows PowerShell: HttpWebResponse;
    # PowerShell 7: HttpResponseMessage), or $null when absent or not a number of seconds.
    param($Response)
    try {
        $headers = $Response.Headers
        if ($headers -and $headers.PSObject.Properties['RetryAfter']) {
            if ($headers.RetryAfter -and $null -ne $headers.RetryAfter.Delta) { return [int] $headers.RetryAfter.Delta.TotalSeconds }
            return $null
        }
        $value = [string] $headers['Retry-After']
        if ($value -match '^\s*(\d+)\s*$') { return [int] $Matches[1] }
    } catch {
        Write-Debug 'no readable Retry-After'
    }
    $null
}

function Invoke-BootstrapHttpRequest {
    # One request that never throws on an HTTP status: returns StatusCode (0 = no answer), Body and
    # RetryAfter (seconds, or $null).
    param([Parameter(Mandatory)] [string] $Uri, [hashtable] $Headers = @{}, [string] $Method = 'Get', [string] $Body)
    # Invoke-WebRequest writes whole responses (a Key Vault answer holds the PAT) to the debug and
    # verbose streams when those are on: keep them off for this call, whatever the caller asked for.
    $DebugPreference = 'SilentlyContinue'
    $VerbosePreference = 'SilentlyContinue'
    # Windows PowerShell 5.1 (what a fresh image runs this with) offers TLS 1.0/1.1 only unless told;
    # Key Vault, the broker and Entra refuse those. Added to what is enabled, as the image helpers do.
    [Net.ServicePointManager]::SecurityProtocol = [Net.ServicePointManager]::SecurityProtocol -bor [Net.SecurityProtocolType]::Tls12
    $request = @{ Uri = $Uri; Method = $Method; Headers = $Headers; UseBasicParsing = $true; TimeoutSec = 30; ErrorAction = 'Stop'; Debug = $false; Verbose = $false }
    if ($PSBoundParameters.ContainsKey('Body')) { $request.Body = $Body; $request.ContentType = 'application/json' }
    if ($PSVersionTable.PSVersion.Major -ge 7) { $request.NoProxy = $true }  # IMDS must not go through a proxy
    try {
        $response = Invoke-WebRequest @request
        return [pscustomobject]@{ StatusCode = [int] $response.StatusCode; Body = [string] $response.Content; RetryAfter = $null }
    } catch {
        $exception = $_.Exception
        $response = $null
        if ($exception.PSObject.Properties['Response']) { $response = $exception.Response }
        if ($null -eq $response) {
            return [pscustomobject]@{ StatusCode = 0; Body = $exception.Message; RetryAfter = $null }
        }
        $body = $null
        if ($_.ErrorDetails) { $body = $_.ErrorDetails.Message }
        return [pscustomobject]@{ StatusCode = [int] $response.StatusCode; Body = [string] $body; RetryAfter = (Get-RetryAfterSeconds $response) }
    }
}

function Get-JsonProperty {
    # A property of a parsed JSON object, or $null when it is absent (safe under strict mode).
    param($Object, [Parameter(Mandatory)] [string] $Name)
    if ($null -eq $Object -or $Object -isnot [psobject]) { return $null }
    $property = $Object.PSObject.Properties[$Name]
    if ($null -eq $property) { return $null }
    $property.Value
}

function Get-ErrorCode {
    # Error code from an IMDS body ({"error": "..."}) or a Key Vault body ({"error": {"code": "..."}}).
    param([string] $Body)
    try {
        $errorValue = Get-JsonProperty ($Body | ConvertFrom-Json -ErrorAction Stop) 'error'
        if ($errorValue -is [string]) { return $errorValue }
        $code = Get-JsonProperty $errorValue 'code'
        if ($code) { return [string] $code }
    } catch {
        Write-Debug 'error body is not JSON'
    }
    'no error code'
}

function Test-RetryableStatus {
    param([int] $StatusCode, [switch] $Imds)
    if ($StatusCode -eq 0 -or $StatusCode -eq 429 -or $StatusCode -ge 500) { return $true }
    # IMDS answers 404 while it is updating and 410 for a short while after boot.
    $Imds -and ($StatusCode -eq 404 -or $StatusCode -eq 410)
}

function Get-ImdsAccessToken {
    # A token for $Resource (default: Key Vault of the configured cloud; broker mode: its audience).
    param([Parameter(Mandatory)] $Settings, [string] $Resource)
    $resource = if ($Resource) { $Resource } else { Get-KeyVaultResource -DnsSuffix $Settings.KeyVaultDnsSuffix }
    $uri = '{0}/metadata/identity/oauth2/token?api-version={1}&resource={2}' -f $Settings.ImdsEndpoint.TrimEnd('/'), $script:ImdsApiVersion, [Uri]::EscapeDataString($resource)
    if ($Settings.IdentityClientId) { $uri += '&client_id=' + [Uri]::EscapeDataString($Settings.IdentityClientId) }

    $token = Get-ImdsJsonProperty -Uri $uri -Property 'access_token' -Label 'token' -Request "token request for $resource" `
        -RefusalHint 'does the VM or scale set have a managed identity?'
    Add-BootstrapSecret $token
    Write-BootstrapLog "got a managed identity token for $resource"
    return $token
}

function Get-ImdsJsonProperty {
    # GETs $Uri from IMDS, retrying what IMDS calls transient (throttled, updating, restarting), and
    # returns the answer's $Property. Anything else is refused with $RefusalHint.
    param(
        [Parameter(Mandatory)] [string] $Uri,
        [Parameter(Mandatory)] [string] $Property,
        [Parameter(Mandatory)] [string] $Label,
        [Parameter(Mandatory)] [string] $Request,
        [Parameter(Mandatory)] [string] $RefusalHint
    )
    $attempt = 0
    foreach ($delay in $script:ImdsRetryDelaysSeconds) {
        $attempt++
        Start-BootstrapDelay -Seconds $delay
        $response = Invoke-BootstrapHttpGet -Uri $Uri -Headers @{ Metadata = 'true' }
        if ($response.StatusCode -eq 200) {
            $value = $null
            try { $value = Get-JsonProperty ($response.Body | ConvertFrom-Json -ErrorAction Stop) $Property } catch { $value = $null }
            if ([string]::IsNullOrEmpty($value)) { throw "IMDS answered the $Request 200 without $Property; check IMDS_ENDPOINT" }
            return $value
        }
        $what = if ($response.StatusCode -eq 0) { "no answer ($($response.Body))" } else { "HTTP $($response.StatusCode) $(Get-ErrorCode $response.Body)" }
        if (-not (Test-RetryableStatus -StatusCode $response.StatusCode -Imds)) {
            throw "IMDS refused the ${Request}: $what ($RefusalHint)"
        }
        Write-BootstrapLog -Level WARN "IMDS $Label attempt $attempt of $($script:ImdsRetryDelaysSeconds.Count) failed: $what"
    }
    throw "IMDS $Request failed after $attempt attempts"
}

function Get-KeyVaultSecretValue {
    param([Parameter(Mandatory)] $Settings, [Parameter(Mandatory)] [string] $AccessToken)
    $uri = Get-KeyVaultSecretUri -VaultName $Settings.KeyVaultName -DnsSuffix $Settings.KeyVaultDnsSuffix -SecretName $Settings.SecretName -VaultUrl $Settings.KeyVaultUrl
    $where = "secret '$($Settings.SecretName)' in Key Vault '$($Settings.KeyVaultName)'"

    $attempt = 0
    foreach ($delay in $script:KeyVaultRetryDelaysSeconds) {
        $attempt++
        Start-BootstrapDelay -Seconds $delay
        $response = Invoke-BootstrapHttpGet -Uri $uri -Headers @{ Authorization = "Bearer $AccessToken" }
        switch ($response.StatusCode) {
            200 {
                $value = $null
                # Never let a parse error echo the body: it holds the PAT.
                try { $value = Get-JsonProperty ($response.Body | ConvertFrom-Json -ErrorAction Stop) 'value' } catch { $value = $null }
                if ([string]::IsNullOrEmpty($value)) { throw "Key Vault returned no value for $where" }
                Add-BootstrapSecret $value
                Write-BootstrapLog "read $where"
                return $value
            }
            401 { throw "Key Vault rejected the managed identity token for ${where}: HTTP 401 $(Get-ErrorCode $response.Body)" }
            403 { throw "Key Vault denied access to ${where}: HTTP 403 $(Get-ErrorCode $response.Body). Grant the VM identity the 'Key Vault Secrets User' role (or a get-secret access policy)." }
            404 { throw "Key Vault has no ${where}: HTTP 404 $(Get-ErrorCode $response.Body)" }
        }
        $what = if ($response.StatusCode -eq 0) { "no answer ($($response.Body))" } else { "HTTP $($response.StatusCode) $(Get-ErrorCode $response.Body)" }
        if (-not (Test-RetryableStatus -StatusCode $response.StatusCode)) {
            throw "Key Vault refused the request for ${where}: $what"
        }
        Write-BootstrapLog -Level WARN "Key Vault attempt $attempt of $($script:KeyVaultRetryDelaysSeconds.Count) failed: $what"
    }
    throw "reading $where failed after $attempt attempts"
}

function Get-BrokerErrorText {
    # The broker's {"error": "..."} reason, or the HTTP status alone.
    param([string] $Body)
    try {
        $errorValue = Get-JsonProperty ($Body | ConvertFrom-Json -ErrorAction Stop) 'error'
        if ($errorValue -is [string] -and $errorValue) { return $errorValue }
    } catch {
        Write-Debug 'broker error body is not JSON'
    }
    'no reason given'
}

function Get-ImdsAttestedDocument {
    # This VM's attested document (the signature IMDS answers with): the token names the scale set,
    # the document, signed by Azure for this VM, tells the broker which instance asks. Not a secret,
    # but never logged whole. Retried as the token is.
    param([Parameter(Mandatory)] $Settings)
    # A nonce of 10 random digits (IMDS's documented form), fresh for every document.
    $bytes = New-Object byte[] 4
    $random = [System.Security.Cryptography.RandomNumberGenerator]::Create()
    try { $random.GetBytes($bytes) } finally { $random.Dispose() }
    $nonce = '{0:D10}' -f [BitConverter]::ToUInt32($bytes, 0)
    $uri = '{0}/metadata/attested/document?api-version=2018-10-01&nonce={1}' -f $Settings.ImdsEndpoint.TrimEnd('/'), $nonce
    $signature = Get-ImdsJsonProperty -Uri $uri -Property 'signature' -Label 'attested document' `
        -Request 'attested document request' -RefusalHint "check IMDS_ENDPOINT names this VM's instance metadata service"
    Write-BootstrapLog "got this VM's attested document"
    return $signature
}

function Get-BrokerRegistrationSecret {
    # POST {"instance": <computer name>, "attestedDocument": <this VM's>} to kiln's broker with the
    # IMDS token; returns {"token"}.
    param([Parameter(Mandatory)] $Settings, [Parameter(Mandatory)] [string] $AccessToken)
    $document = Get-ImdsAttestedDocument -Settings $Settings
    $body = @{ instance = $Settings.AgentName; attestedDocument = $document } | ConvertTo-Json -Compress
    $headers = @{ Authorization = "Bearer $AccessToken"; Accept = 'application/json' }
    $where = "the registration broker ($($Settings.RegistrationUrl))"
    $attempt = 0
    $wait = 0
    foreach ($delay in $script:BrokerRetryDelaysSeconds) {
        $attempt++
        Start-BootstrapDelay -Seconds ([Math]::Max($delay, $wait))
        $response = Invoke-BootstrapHttpRequest -Uri $Settings.RegistrationUrl -Method Post -Headers $headers -Body $body
        $wait = 0
        if ($response.StatusCode -eq 200) {
            $token = $null
            # Never let a parse error echo the body: it holds the secret.
            try { $token = Get-JsonProperty ($response.Body | ConvertFrom-Json -ErrorAction Stop) 'token' } catch { $token = $null }
            if ([string]::IsNullOrEmpty($token)) { throw "$where answered 200 without a token" }
            Add-BootstrapSecret $token
            Write-BootstrapLog "got the registration secret for '$($Settings.AgentName)' from $where"
            return $token
        }
        $reason = Get-BrokerErrorText $response.Body
        switch ($response.StatusCode) {
            401 { throw "the registration broker refused instance '$($Settings.AgentName)': HTTP 401 ($reason). Check KILN_REGISTRATION_AUDIENCE ('$($Settings.RegistrationAudience)') is the broker's audience and the VM's identity is kiln's agent identity." }
            400 { throw "the registration broker refused instance '$($Settings.AgentName)': HTTP 400 ($reason). The request names this VM's computer name and the attested document IMDS gave it; check IMDS_ENDPOINT." }
            403 { throw "the registration broker refused instance '$($Settings.AgentName)': HTTP 403 ($reason). This VM's identity or instance is not one of kiln's agent scale sets, or the attested document is not this instance's." }
            409 { throw "the registration broker refused instance '$($Settings.AgentName)': HTTP 409 ($reason). An agent of this name is registered already; kiln removes it, or reimage the instance." }
        }
        $what = if ($response.StatusCode -eq 0) { "no answer ($($response.Body))" } else { "HTTP $($response.StatusCode) ($reason)" }
        if (-not (Test-RetryableStatus -StatusCode $response.StatusCode)) {
            throw "the registration broker refused instance '$($Settings.AgentName)': $what. Check KILN_REGISTRATION_URL names kiln's /api/registrations."
        }
        if ($response.StatusCode -eq 429 -and $null -ne $response.RetryAfter) {
            # The broker's word on when to come back wins over the schedule, within reason.
            $wait = [Math]::Min([int] $response.RetryAfter, $script:BrokerMaxRetryAfterSeconds)
        }
        Write-BootstrapLog -Level WARN "registration broker attempt $attempt of $($script:BrokerRetryDelaysSeconds.Count) failed: $what"
    }
    throw "$where failed after $attempt attempts"
}

# --- Agent folder permissions ----------------------------------------------------------------
<#
    Every job runs as the agent's account (NETWORK SERVICE), which by Windows' defaults may modify
    a folder created under C:\ (Authenticated Users, which it belongs to, inherit Modify there). A
    job could then rewrite config.cmd or a bootstrap script, which the next registration runs as
    LocalSystem with the registration secret, or bin\, which runs every later job. So the agent
    folder is owned by Administrators, does not inherit from C:\, and grants exactly: Administrators
    and SYSTEM full control, the agent's account read & execute; every file and folder in it
    inherits that, except the work folder and _diag, where the agent's account may also modify.

    The plan is data (Get-AgentFolderAclPlan); ConvertTo-IcaclsArgumentList turns it into icacls
    calls; only Invoke-Icacls and Get-AgentPathSecurity touch Windows. Limit: the tests run on
    Linux, where NTFS ACLs do not exist; they check the plan, the icacls arguments, the comparison
    and that the apply layer gets exactly the plan, with those two functions mocked. That icacls and
    Get-Acl behave on Windows as assumed here is not proven by them.
#>

function New-AgentAclGrant {
    # One Allow entry inherited by every subfolder and file: (OI)(CI) in icacls' terms.
    param([Parameter(Mandatory)] [string] $Sid, [Parameter(Mandatory)] [ValidateSet('FullControl', 'Modify', 'ReadAndExecute')] [string] $Rights)
    [pscustomobject]@{ Sid = $Sid; Rights = $Rights }
}

function Get-AgentFolderAclPlan {
    # What each path must look like, in the order it is applied. Kind: 'agent-root' (owner
    # Administrators, inheritance broken, exactly its grants), 'executed' (owned by Administrators,
    # nothing but what it inherits from the root) or 'writable' (inherits, plus Modify for the
    # agent's account).
    param([Parameter(Mandatory)] [string] $AgentRoot, [string] $WorkDir)
    if (-not $WorkDir) { $WorkDir = Join-Path $AgentRoot '_work' }
    $plan = New-Object System.Collections.Generic.List[object]
    $plan.Add([pscustomobject]@{
            Path = $AgentRoot; Kind = 'agent-root'; Owner = $script:AdministratorsSid; Protected = $true
            Access = @(
                (New-AgentAclGrant -Sid $script:AdministratorsSid -Rights FullControl),
                (New-AgentAclGrant -Sid $script:SystemSid -Rights FullControl),
                (New-AgentAclGrant -Sid $script:AgentAccountSid -Rights ReadAndExecute))
        })
    foreach ($item in $script:AgentExecutedItems) {
        $plan.Add([pscustomobject]@{ Path = (Join-Path $AgentRoot $item); Kind = 'executed'; Owner = $script:AdministratorsSid; Protected = $false; Access = @() })
    }
    foreach ($folder in $WorkDir, (Join-Path $AgentRoot '_diag')) {
        $plan.Add([pscustomobject]@{ Path = $folder; Kind = 'writable'; Owner = $null; Protected = $false; Access = @(New-AgentAclGrant -Sid $script:AgentAccountSid -Rights Modify) })
    }
    $plan.ToArray()
}

function ConvertTo-IcaclsArgumentList {
    # The icacls calls that make the folder match the plan, in order (one string array per call).
    param([Parameter(Mandatory)] [object[]] $Plan)
    $rightsCodes = @{ FullControl = 'F'; Modify = 'M'; ReadAndExecute = 'RX' }
    $calls = New-Object System.Collections.Generic.List[object]
    foreach ($entry in $Plan) {
        $grants = @($entry.Access | ForEach-Object { '*{0}:(OI)(CI){1}' -f $_.Sid, $rightsCodes[$_.Rights] })
        switch ($entry.Kind) {
            'agent-root' {
                # Everything back to plain inheritance first: that drops every explicit entry anyone
                # added, on the root (config.cmd's grant to the agent service's group) and below.
                # The root inherits C:\'s permissions for the moment until the next call; this runs
                # at image build and right after config.cmd, when no agent and no job is running.
                $calls.Add(@($entry.Path, '/reset', '/T', '/Q'))
                $calls.Add(@(@($entry.Path, '/inheritance:r', '/grant:r') + $grants + '/Q'))
                # An owner may rewrite the ACL whatever it says, so nothing below may be the job's.
                $calls.Add(@($entry.Path, '/setowner', ('*' + $entry.Owner), '/T', '/Q'))
            }
            'writable' { $calls.Add(@(@($entry.Path, '/grant:r') + $grants + '/Q')) }
            # The root's /reset /T and /setowner /T already left these Administrators' and
            # inheriting only; they are in the plan to be checked.
            'executed' { }
            default { throw "unknown kind '$($entry.Kind)' in the agent folder plan for $($entry.Path)" }
        }
    }
    $calls.ToArray()
}

function Get-FileSystemRightsName {
    # 'FullControl', 'Modify', 'ReadAndExecute', ... for an access mask, ignoring Synchronize, which
    # Windows adds to every grant icacls makes.
    param([Parameter(Mandatory)] [int] $Mask)
    $full = [int] [System.Security.AccessControl.FileSystemRights]::FullControl
    if ($Mask -eq $full) { return 'FullControl' }
    $synchronize = [int] [System.Security.AccessControl.FileSystemRights]::Synchronize
    [string] [System.Enum]::ToObject([System.Security.AccessControl.FileSystemRights], ($Mask -band -bnot $synchronize))
}

function Get-PrincipalLabel {
    param([Parameter(Mandatory)] [string] $Sid)
    if ($script:PrincipalNames.ContainsKey($Sid)) { return '{0} ({1})' -f $script:PrincipalNames[$Sid], $Sid }
    $Sid
}

function Format-AgentAclEntry {
    param([string] $Type, [string] $Sid, [string] $Rights, [string] $Inheritance, [string] $Propagation)
    '{0} {1} to {2} (inheritance {3}, propagation {4})' -f $Type, $Rights, (Get-PrincipalLabel $Sid), $Inheritance, $Propagation
}

function Get-AgentFolderAclProblems {
    # Every difference between the plan and the paths' actual permissions, one line each.
    param([Parameter(Mandatory)] [object[]] $Plan)
    foreach ($entry in $Plan) {
        $path = $entry.Path
        try {
            $actual = Get-AgentPathSecurity -Path $path
        } catch {
            "${path}: its permissions cannot be read ($($_.Exception.Message))"
            continue
        }
        if ($entry.Owner -and $actual.Owner -ne $entry.Owner) {
            "${path}: owned by $(Get-PrincipalLabel $actual.Owner), not $(Get-PrincipalLabel $entry.Owner)"
        }
        if ($entry.Protected -and -not $actual.Protected) { "${path}: inherits its parent's permissions (they must not reach it)" }
        if ($actual.Protected -and -not $entry.Protected) { "${path}: does not inherit the agent folder's permissions" }
        $expected = @($entry.Access | ForEach-Object { Format-AgentAclEntry -Type 'Allow' -Sid $_.Sid -Rights $_.Rights -Inheritance 'ContainerInherit, ObjectInherit' -Propagation 'None' })
        $found = @($actual.Explicit | ForEach-Object { Format-AgentAclEntry -Type $_.Type -Sid $_.Sid -Rights (Get-FileSystemRightsName $_.Mask) -Inheritance $_.Inheritance -Propagation $_.Propagation })
        foreach ($line in $expected) { if ($found -notcontains $line) { "${path}: lacks $line" } }
        # More grants on a folder meant to be written do no harm, and one is expected: config.cmd
        # --runAsService gives the agent service's group full control of a work folder outside the
        # agent folder, which the root's reset does not reach.
        if ($entry.Kind -eq 'writable') { continue }
        foreach ($line in $found) { if ($expected -notcontains $line) { "${path}: has an unexpected entry: $line" } }
    }
}

function Assert-AgentFolderUntouched {
    # Before a registration: what it executes must still carry the image's permissions. A mismatch
    # is an error, not something to reset: the job's account may already have rewritten those
    # files, and a reset would then hand them LocalSystem and the registration secret. The work
    # folder and _diag are not checked (a work folder on the temporary disk may not exist yet).
    param([Parameter(Mandatory)] [object[]] $Plan)
    $problems = @(Get-AgentFolderAclProblems -Plan @($Plan | Where-Object { $_.Kind -ne 'writable' }))
    if ($problems.Count -eq 0) { return }
    $message = ("the agent folder's permissions are not the image's, so this VM does not register: {0}. " +
        'The account jobs run as, {1}, may have changed what a registration runs as LocalSystem, and resetting the permissions would not undo that. ' +
        'Reimage the instance; do not repair the permissions by hand on a VM that has run jobs.') -f ($problems -join '; '), (Get-PrincipalLabel $script:AgentAccountSid)
    throw [AgentFolderAclError]::new($message)
}

function Set-AgentFolderAcl {
    # Applies the plan (creating the writable folders first) and checks the result.
    param([Parameter(Mandatory)] [object[]] $Plan)
    foreach ($entry in $Plan | Where-Object { $_.Kind -eq 'writable' }) {
        if (-not (Test-Path -LiteralPath $entry.Path)) { New-Item -ItemType Directory -Path $entry.Path -Force | Out-Null }
    }
    foreach ($arguments in ConvertTo-IcaclsArgumentList -Plan $Plan) {
        Invoke-Icacls -Arguments $arguments
    }
    $problems = @(Get-AgentFolderAclProblems -Plan $Plan)
    if ($problems.Count -gt 0) { throw "icacls did not leave the agent folder as planned: $($problems -join '; ')" }
    Write-BootstrapLog "agent folder permissions applied: $($Plan[0].Path) is Administrators', $(Get-PrincipalLabel $script:AgentAccountSid) may read and execute it and modify only $((@($Plan | Where-Object { $_.Kind -eq 'writable' }) | ForEach-Object { $_.Path }) -join ' and ')"
}

# --- Agent state and configuration -----------------------------------------------------------

function Get-AgentServiceName {
    param([Parameter(Mandatory)] [string] $AgentRoot)
    $file = Join-Path $AgentRoot '.service'
    if (-not (Test-Path -LiteralPath $file -PathType Leaf)) { return $null }
    $name = (Get-Content -LiteralPath $file -Raw).Trim()
    if ($name) { $name } else { $null }
}

function Get-AgentState {
    # State: None (never configured), Configured (for this name/org/pool, service present) or Partial.
    # -WithoutService: an agent configured to run in a console (configure-run.ps1) has no service.
    # -Recycle: nor has one configured for one job (KILN_RECYCLE); a recorded service means it was
    # configured to run job after job, which recycle mode must not keep.
    param([Parameter(Mandatory)] $Settings, [switch] $WithoutService, [switch] $Recycle)
    $root = $Settings.AgentRoot
    $present = @($script:AgentMarkerFiles | Where-Object { Test-Path -LiteralPath (Join-Path $root $_) })
    if ($present.Count -eq 0) { return [pscustomobject]@{ State = 'None'; Reason = 'no agent configuration found'; ServiceName = $null; ServiceState = $null } }

    $result = [pscustomobject]@{ State = 'Partial'; Reason = ''; ServiceName = (Get-AgentServiceName -AgentRoot $root); ServiceState = $null }
    foreach ($required in '.agent', '.credentials') {
        if ($present -notcontains $required) { $result.Reason = "$required is missing"; return $result }
    }
    $agent = $null
    try { $agent = Get-Content -LiteralPath (Join-Path $root '.agent') -Raw | ConvertFrom-Json -ErrorAction Stop } catch { $agent = $null }
    if ($null -eq $agent) { $result.Reason = '.agent is not readable'; return $result }
    $agentName = [string] (Get-JsonProperty $agent 'agentName')
    $serverUrl = [string] (Get-JsonProperty $agent 'serverUrl')
    $poolName = [string] (Get-JsonProperty $agent 'poolName')
    if ($agentName -ne $Settings.AgentName) {
        $result.Reason = "configured as '$agentName', not '$($Settings.AgentName)'"; return $result
    }
    if ($serverUrl.TrimEnd('/') -ne $Settings.OrgUrl.TrimEnd('/')) {
        $result.Reason = "configured for '$serverUrl', not '$($Settings.OrgUrl)'"; return $result
    }
    # Older agents do not record the pool name; then the pool is not compared.
    if ($poolName -and $poolName -ne $Settings.Pool) {
        $result.Reason = "configured for pool '$poolName', not '$($Settings.Pool)'"; return $result
    }
    if ($Recycle -and $result.ServiceName) {
        $result.Reason = "configured to run as service '$($result.ServiceName)', but KILN_RECYCLE is true (one job, no service)"; return $result
    }
    if ($WithoutService -or $Recycle) {
        $result.State = 'Configured'
        $result.Reason = "configured as '$($Settings.AgentName)'"
        return $result
    }
    if (-not $result.ServiceName) { $result.Reason = 'no agent service is recorded (.service)'; return $result }
    $result.ServiceState = Get-AgentServiceState -Name $result.ServiceName
    if ($null -eq $result.ServiceState) { $result.Reason = "service '$($result.ServiceName)' does not exist"; return $result }
    $result.State = 'Configured'
    $result.Reason = "configured as '$($Settings.AgentName)', service '$($result.ServiceName)' is $($result.ServiceState)"
    $result
}

function Invoke-AgentConfigCommand {
    # Runs config.cmd with the given arguments; logs its output masked; returns its exit code.
    # -Secret reaches config.cmd as VSTS_AGENT_INPUT_TOKEN (the agent reads --token from it), set for
    # this call only: a command line is readable by every process on the machine, and jobs run there.
    param([Parameter(Mandatory)] [string] $AgentRoot, [Parameter(Mandatory)] [string[]] $Arguments, [string] $Secret)
    $configCmd = Join-Path $AgentRoot 'config.cmd'
    $shown = ($Arguments | ForEach-Object { Protect-BootstrapText $_ }) -join ' '
    Write-BootstrapLog "running config.cmd $shown"
    # Native stderr must not become a terminating error (Windows PowerShell 5.1 with Stop).
    $ErrorActionPreference = 'Continue'
    $global:LASTEXITCODE = $null
    Push-Location -LiteralPath $AgentRoot
    if ($Secret) { $env:VSTS_AGENT_INPUT_TOKEN = $Secret }
    try {
        & $configCmd @Arguments 2>&1 | ForEach-Object { Write-BootstrapLog ('config.cmd: ' + [string] $_) }
        $code = $global:LASTEXITCODE
    } finally {
        Remove-Item Env:VSTS_AGENT_INPUT_TOKEN -ErrorAction SilentlyContinue
        Pop-Location
    }
    if ($null -eq $code) { $code = -1 }  # config.cmd did not run at all
    Write-BootstrapLog "config.cmd exited with $code"
    [int] $code
}

function Remove-AgentConfiguration {
    # Cleans a half-configured agent: unregisters it if it can, then removes what is left locally.
    param([Parameter(Mandatory)] $Settings, [Parameter(Mandatory)] [string] $Pat)
    $root = $Settings.AgentRoot
    if (Test-Path -LiteralPath (Join-Path $root '.agent')) {
        $code = Invoke-AgentConfigCommand -AgentRoot $root -Arguments @('remove', '--unattended', '--auth', 'pat') -Secret $Pat
        if ($code -ne 0) { Write-BootstrapLog -Level WARN "config.cmd remove failed ($code); removing the local configuration by hand" }
    }
    $serviceName = Get-AgentServiceName -AgentRoot $root
    if ($serviceName -and $null -ne (Get-AgentServiceState -Name $serviceName)) {
        Write-BootstrapLog "removing leftover service '$serviceName'"
        Remove-AgentService -Name $serviceName
    }
    foreach ($marker in $script:AgentMarkerFiles) {
        $path = Join-Path $root $marker
        if (Test-Path -LiteralPath $path) { Remove-Item -LiteralPath $path -Force }
    }
}

function Get-AgentConfigArguments {
    # No --token: the secret goes to Invoke-AgentConfigCommand -Secret (VSTS_AGENT_INPUT_TOKEN).
    # -AsService: config.cmd installs the agent's own service, but does not start it
    # (--preventServiceStart): the folder's permissions are applied again first.
    param([Parameter(Mandatory)] $Settings, [switch] $AsService)
    $service = if ($AsService) { @('--runAsService', '--preventServiceStart') } else { @() }
    @('--unattended', '--url', $Settings.OrgUrl, '--auth', 'pat', '--pool', $Settings.Pool, '--agent', $Settings.AgentName) +
    $service + @('--replace', '--work', $Settings.WorkDir)
}

function Start-RegisteredAgent {
    # After config.cmd: the folder's permissions again (config.cmd changes them), then the agent.
    param([Parameter(Mandatory)] $Settings, [Parameter(Mandatory)] $State, [Parameter(Mandatory)] [object[]] $AclPlan)
    Set-AgentFolderAcl -Plan $AclPlan
    if ($Settings.Recycle) {
        Write-BootstrapLog "starting '$($script:AgentOnceServiceName)' for one job (Agent.Listener.exe run --once); nothing starts the agent again, kiln reimages this VM after the job"
        Start-AgentService -Name $script:AgentOnceServiceName
    } else {
        Write-BootstrapLog "starting agent service '$($State.ServiceName)'"
        Start-AgentService -Name $State.ServiceName
    }
}

function Invoke-AdoBootstrap {
    <#
    .SYNOPSIS
        The whole bootstrap; returns the process exit code (0, 1, 2 or 3) and nothing else.
    #>
    [CmdletBinding()]
    param([string] $AgentRoot, [string] $LogPath)

    Set-StrictMode -Version 3.0
    $ErrorActionPreference = 'Stop'
    $script:BootstrapSecrets.Clear()

    if (-not $AgentRoot) { $AgentRoot = Get-MachineEnvironmentVariable -Name 'ADO_AGENT_ROOT' }
    if (-not $AgentRoot) { $AgentRoot = $PSScriptRoot }
    if (-not $LogPath) { $LogPath = Join-Path $env:ProgramData 'kiln\logs\bootstrap-agent.log' }
    $script:BootstrapLogPath = $LogPath
    $logDir = Split-Path -Parent $LogPath
    if ($logDir -and -not (Test-Path -LiteralPath $logDir)) { New-Item -ItemType Directory -Path $logDir -Force | Out-Null }

    $pat = $null
    try {
        Write-BootstrapLog "agent bootstrap starting (agent folder $AgentRoot)"
        $settings = Get-BootstrapSettings -AgentRoot $AgentRoot
        $source = if ($settings.Mode -eq 'broker') { "registration broker $($settings.RegistrationUrl)" } else { "secret '$($settings.SecretName)' in '$($settings.KeyVaultName)'" }
        $runs = if ($settings.Recycle) { 'one job, then the VM is reimaged (KILN_RECYCLE)' } else { 'job after job, as a service' }
        Write-BootstrapLog "agent '$($settings.AgentName)', pool '$($settings.Pool)', organisation $($settings.OrgUrl), $source; runs $runs"

        $aclPlan = Get-AgentFolderAclPlan -AgentRoot $settings.AgentRoot -WorkDir $settings.WorkDir
        Assert-AgentFolderUntouched -Plan $aclPlan

        $state = Get-AgentState -Settings $settings -Recycle:$settings.Recycle
        Write-BootstrapLog "agent state: $($state.State) ($($state.Reason))"
        if ($state.State -eq 'Configured' -and $settings.Recycle) {
            # It was started right after its registration, for its one job: this VM is used.
            Write-BootstrapLog "the agent is registered and runs only once, started right after its registration; not starting it again: kiln reimages this VM"
            return 0
        }
        if ($state.State -eq 'Configured') {
            if ($state.ServiceState -ne 'Running') {
                Write-BootstrapLog "starting agent service '$($state.ServiceName)'"
                Start-AgentService -Name $state.ServiceName
            }
            Write-BootstrapLog 'agent already configured; nothing to do'
            return 0
        }

        if ($settings.Mode -eq 'broker') {
            $token = Get-ImdsAccessToken -Settings $settings -Resource $settings.RegistrationAudience
            $pat = Get-BrokerRegistrationSecret -Settings $settings -AccessToken $token
        } else {
            $token = Get-ImdsAccessToken -Settings $settings
            $pat = Get-KeyVaultSecretValue -Settings $settings -AccessToken $token
        }
        $token = $null

        if ($state.State -eq 'Partial') {
            Write-BootstrapLog -Level WARN "cleaning a half-configured agent: $($state.Reason)"
            Remove-AgentConfiguration -Settings $settings -Pat $pat
        }

        # One clean retry inside this run; after that the service's restart policy takes over.
        $arguments = Get-AgentConfigArguments -Settings $settings -AsService:(-not $settings.Recycle)
        for ($try = 1; $try -le 2; $try++) {
            $code = Invoke-AgentConfigCommand -AgentRoot $settings.AgentRoot -Arguments $arguments -Secret $pat
            $after = Get-AgentState -Settings $settings -Recycle:$settings.Recycle
            if ($code -eq 0 -and $after.State -eq 'Configured') {
                Write-BootstrapLog "agent configured: $($after.Reason)"
                Start-RegisteredAgent -Settings $settings -State $after -AclPlan $aclPlan
                return 0
            }
            Write-BootstrapLog -Level WARN "configuration attempt $try failed (exit code $code, state $($after.State): $($after.Reason))"
            if ($after.State -ne 'None') { Remove-AgentConfiguration -Settings $settings -Pat $pat }
        }
        throw 'config.cmd did not leave a configured agent after 2 attempts'
    } catch [BootstrapConfigError] {
        Write-BootstrapLog -Level ERROR $_.Exception.Message
        return 2
    } catch [AgentFolderAclError] {
        Write-BootstrapLog -Level ERROR $_.Exception.Message
        return 3
    } catch {
        Write-BootstrapLog -Level ERROR ('agent bootstrap failed: ' + $_.Exception.Message)
        return 1
    } finally {
        $pat = $null
        $token = $null
        $script:BootstrapSecrets.Clear()
    }
}

# Dot-sourcing (the tests, configure-run.ps1) only loads the functions.
if ($MyInvocation.InvocationName -ne '.') {
    exit (Invoke-AdoBootstrap -AgentRoot $AgentRoot -LogPath $LogPath)
}
