<#
.SYNOPSIS
    Registers this VM as an Azure DevOps agent at boot, with a PAT read from Key Vault through the
    VM's managed identity. Run by the AdoBootstrap service; safe to run again at every boot.

.DESCRIPTION
    Settings come from the MACHINE environment (read at run time, so values injected after the
    service started are seen on the next run or after `Restart-Service AdoBootstrap`):
      ADO_ORG_URL          required, e.g. https://dev.azure.com/acme
      KEYVAULT_NAME        required, the vault that holds the PAT
      ADO_PAT_SECRET       optional, secret name (default ado-pat)
      ADO_POOL             optional, agent pool (default Default)
      ADO_WORK_DIR         optional, agent work folder (default <agent root>\_work)
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

    The PAT is never written to any stream or log: every line that is logged passes through
    Protect-BootstrapText, which masks the PAT and the IMDS access token.

    Exit codes: 0 configured (or already configured); 2 settings invalid; 1 any other failure.
    The AdoBootstrap service restarts the script after a non-zero exit.

    Windows-only operations sit behind small functions (Get-MachineEnvironmentVariable,
    Get-ComputerName, Get-AgentServiceState, Start-AgentService, Remove-AgentService,
    Start-BootstrapDelay) so the Pester tests can mock them on Linux. The script stays compatible
    with Windows PowerShell 5.1, which is what a fresh image runs it with.
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
$script:KeyVaultApiVersion = '7.4'
$script:ImdsApiVersion = '2018-02-01'
$script:AgentMarkerFiles = @('.agent', '.credentials', '.credentials_rsaparams', '.service')

# Values that must never reach a stream or a log; filled as they are learned.
$script:BootstrapSecrets = New-Object System.Collections.Generic.List[string]
$script:BootstrapLogPath = $null

class BootstrapConfigError : System.Exception {
    BootstrapConfigError([string] $message) : base($message) {}
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
        SecretName       = Read-Setting 'ADO_PAT_SECRET' 'ado-pat'
        Pool             = Read-Setting 'ADO_POOL' 'Default'
        ImdsEndpoint     = Read-Setting 'IMDS_ENDPOINT' 'http://169.254.169.254'
        KeyVaultDnsSuffix = Read-Setting 'KEYVAULT_DNS_SUFFIX' 'vault.azure.net'
        KeyVaultUrl      = Read-Setting 'KEYVAULT_URL' $null
        IdentityClientId = Read-Setting 'MANAGED_IDENTITY_CLIENT_ID' $null
        AgentRoot        = $AgentRoot
        WorkDir          = Read-Setting 'ADO_WORK_DIR' $null
        AgentName        = $null
    }

    if (-not $settings.OrgUrl) {
        $problems.Add('ADO_ORG_URL is not set (expected e.g. https://dev.azure.com/<org>)')
    } elseif (-not (Test-AbsoluteHttpUrl $settings.OrgUrl)) {
        $problems.Add("ADO_ORG_URL '$($settings.OrgUrl)' is not an absolute http(s) URL")
    }
    if (-not $settings.KeyVaultName) {
        $problems.Add('KEYVAULT_NAME is not set')
    } elseif ($settings.KeyVaultName -notmatch '^[A-Za-z](?!.*--)[A-Za-z0-9-]{1,22}[A-Za-z0-9]$') {
        $problems.Add("KEYVAULT_NAME '$($settings.KeyVaultName)' is not a valid vault name (3-24 letters, digits, single hyphens)")
    }
    if ($settings.SecretName -notmatch '^[A-Za-z0-9-]{1,127}$') {
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
    # One GET that never throws on an HTTP status: returns StatusCode (0 = no answer) and Body.
    param([Parameter(Mandatory)] [string] $Uri, [hashtable] $Headers = @{})
    # Invoke-WebRequest writes whole responses (a Key Vault answer holds the PAT) to the debug and
    # verbose streams when those are on: keep them off for this call, whatever the caller asked for.
    $DebugPreference = 'SilentlyContinue'
    $VerbosePreference = 'SilentlyContinue'
    $request = @{ Uri = $Uri; Method = 'Get'; Headers = $Headers; UseBasicParsing = $true; TimeoutSec = 30; ErrorAction = 'Stop'; Debug = $false; Verbose = $false }
    if ($PSVersionTable.PSVersion.Major -ge 7) { $request.NoProxy = $true }  # IMDS must not go through a proxy
    try {
        $response = Invoke-WebRequest @request
        return [pscustomobject]@{ StatusCode = [int] $response.StatusCode; Body = [string] $response.Content }
    } catch {
        $exception = $_.Exception
        $response = $null
        if ($exception.PSObject.Properties['Response']) { $response = $exception.Response }
        if ($null -eq $response) {
            return [pscustomobject]@{ StatusCode = 0; Body = $exception.Message }
        }
        $body = $null
        if ($_.ErrorDetails) { $body = $_.ErrorDetails.Message }
        return [pscustomobject]@{ StatusCode = [int] $response.StatusCode; Body = [string] $body }
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
    param([Parameter(Mandatory)] $Settings)
    $resource = Get-KeyVaultResource -DnsSuffix $Settings.KeyVaultDnsSuffix
    $uri = '{0}/metadata/identity/oauth2/token?api-version={1}&resource={2}' -f $Settings.ImdsEndpoint.TrimEnd('/'), $script:ImdsApiVersion, [Uri]::EscapeDataString($resource)
    if ($Settings.IdentityClientId) { $uri += '&client_id=' + [Uri]::EscapeDataString($Settings.IdentityClientId) }

    $attempt = 0
    $last = $null
    foreach ($delay in $script:ImdsRetryDelaysSeconds) {
        $attempt++
        Start-BootstrapDelay -Seconds $delay
        $last = Invoke-BootstrapHttpGet -Uri $uri -Headers @{ Metadata = 'true' }
        if ($last.StatusCode -eq 200) {
            $token = $null
            try { $token = Get-JsonProperty ($last.Body | ConvertFrom-Json -ErrorAction Stop) 'access_token' } catch { $token = $null }
            if ([string]::IsNullOrEmpty($token)) { throw 'IMDS answered 200 without an access_token' }
            Add-BootstrapSecret $token
            Write-BootstrapLog "got a managed identity token for $resource (attempt $attempt)"
            return $token
        }
        $what = if ($last.StatusCode -eq 0) { "no answer ($($last.Body))" } else { "HTTP $($last.StatusCode) $(Get-ErrorCode $last.Body)" }
        if (-not (Test-RetryableStatus -StatusCode $last.StatusCode -Imds)) {
            throw "IMDS refused the token request for ${resource}: $what (does the VM or scale set have a managed identity?)"
        }
        Write-BootstrapLog -Level WARN "IMDS token attempt $attempt of $($script:ImdsRetryDelaysSeconds.Count) failed: $what"
    }
    throw "IMDS token request for $resource failed after $attempt attempts"
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
    param([Parameter(Mandatory)] $Settings, [switch] $WithoutService)
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
    if ($WithoutService) {
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
    param([Parameter(Mandatory)] [string] $AgentRoot, [Parameter(Mandatory)] [string[]] $Arguments)
    $configCmd = Join-Path $AgentRoot 'config.cmd'
    $shown = ($Arguments | ForEach-Object { Protect-BootstrapText $_ }) -join ' '
    Write-BootstrapLog "running config.cmd $shown"
    # Native stderr must not become a terminating error (Windows PowerShell 5.1 with Stop).
    $ErrorActionPreference = 'Continue'
    $global:LASTEXITCODE = $null
    Push-Location -LiteralPath $AgentRoot
    try {
        & $configCmd @Arguments 2>&1 | ForEach-Object { Write-BootstrapLog ('config.cmd: ' + [string] $_) }
        $code = $global:LASTEXITCODE
    } finally {
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
        $code = Invoke-AgentConfigCommand -AgentRoot $root -Arguments @('remove', '--unattended', '--auth', 'pat', '--token', $Pat)
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
    param([Parameter(Mandatory)] $Settings, [Parameter(Mandatory)] [string] $Pat)
    @(
        '--unattended',
        '--url', $Settings.OrgUrl,
        '--auth', 'pat',
        '--token', $Pat,
        '--pool', $Settings.Pool,
        '--agent', $Settings.AgentName,
        '--runAsService',
        '--replace',
        '--work', $Settings.WorkDir
    )
}

function Invoke-AdoBootstrap {
    <#
    .SYNOPSIS
        The whole bootstrap; returns the process exit code (0, 1 or 2) and nothing else.
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
        Write-BootstrapLog "agent '$($settings.AgentName)', pool '$($settings.Pool)', organisation $($settings.OrgUrl), secret '$($settings.SecretName)' in '$($settings.KeyVaultName)'"

        $state = Get-AgentState -Settings $settings
        Write-BootstrapLog "agent state: $($state.State) ($($state.Reason))"
        if ($state.State -eq 'Configured') {
            if ($state.ServiceState -ne 'Running') {
                Write-BootstrapLog "starting agent service '$($state.ServiceName)'"
                Start-AgentService -Name $state.ServiceName
            }
            Write-BootstrapLog 'agent already configured; nothing to do'
            return 0
        }

        $token = Get-ImdsAccessToken -Settings $settings
        $pat = Get-KeyVaultSecretValue -Settings $settings -AccessToken $token
        $token = $null

        if ($state.State -eq 'Partial') {
            Write-BootstrapLog -Level WARN "cleaning a half-configured agent: $($state.Reason)"
            Remove-AgentConfiguration -Settings $settings -Pat $pat
        }

        # One clean retry inside this run; after that the service's restart policy takes over.
        $arguments = Get-AgentConfigArguments -Settings $settings -Pat $pat
        for ($try = 1; $try -le 2; $try++) {
            $code = Invoke-AgentConfigCommand -AgentRoot $settings.AgentRoot -Arguments $arguments
            $after = Get-AgentState -Settings $settings
            if ($code -eq 0 -and $after.State -eq 'Configured') {
                Write-BootstrapLog "agent configured: $($after.Reason)"
                return 0
            }
            Write-BootstrapLog -Level WARN "configuration attempt $try failed (exit code $code, state $($after.State): $($after.Reason))"
            if ($after.State -ne 'None') { Remove-AgentConfiguration -Settings $settings -Pat $pat }
        }
        throw 'config.cmd did not leave a configured agent after 2 attempts'
    } catch [BootstrapConfigError] {
        Write-BootstrapLog -Level ERROR $_.Exception.Message
        return 2
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
