# Registers AdoBootstrap (NSSM wrapping Windows PowerShell, runs bootstrap-agent.ps1 at every boot) and AdoAgentOnce.
<#
    Why a service through NSSM: a PowerShell script is not a service (the SCM would kill it after 30 s
    for not answering). NSSM gives the seed README's promise literally: a service named AdoBootstrap
    that starts at boot as LocalSystem with nobody logged in, runs the script, is restarted by NSSM
    when the script exits non-zero (after 60 s), stops cleanly when it exits 0 or 3 (the agent
    folder's permissions are not the image's: retrying cannot help, the VM must be reimaged), and
    can be restarted by name after the environment is injected:
        Restart-Service AdoBootstrap
    The script is idempotent, so running it at every boot costs one file check once configured.

    AdoAgentOnce runs the agent for one job (KILN_RECYCLE=true): Agent.Listener.exe run --once as
    NETWORK SERVICE, started by the bootstrap right after the registration. The agent's own service
    (AgentService.exe) cannot honour --once, and restarts the listener; this one starts on demand
    only (not at boot) and NSSM does not restart the listener when it exits, so after its job
    nothing runs it again until kiln reimages the VM.

    Both are registered but not started: the build VM must not try to register itself.
#>
[CmdletBinding()]
param(
    # Defaults (set in the main block below): AGENT_ROOT, KILN_IMAGE_FOLDER\scripts, ProgramData\kiln\logs.
    [string] $AgentRoot,
    [string] $ScriptFolder,
    [string] $LogFolder
)

# --- Windows-only operations, isolated so the Pester tests can mock them -----------------------
function Invoke-Nssm {
    param([Parameter(Mandatory)] [string[]] $Arguments)
    & nssm.exe @Arguments | Out-Null
    if ($LASTEXITCODE -ne 0) { throw "nssm $($Arguments -join ' ') failed with exit code $LASTEXITCODE" }
}

function Get-ServiceStartType {
    param([Parameter(Mandatory)] [string] $Name)
    $service = Get-Service -Name $Name -ErrorAction SilentlyContinue
    if ($service) { [string] $service.StartType } else { $null }
}

function Set-MachineEnvironmentVariable {
    param([Parameter(Mandatory)] [string] $Name, [Parameter(Mandatory)] [string] $Value)
    [Environment]::SetEnvironmentVariable($Name, $Value, [EnvironmentVariableTarget]::Machine)
}

function Get-WindowsPowerShellPath {
    Join-Path $env:SystemRoot 'System32\WindowsPowerShell\v1.0\powershell.exe'
}

# --- Registration ---------------------------------------------------------------------------------
function Get-AdoBootstrapNssmSettings {
    # Every `nssm set` of the service, in order; one list so the tests can read the contract.
    param([Parameter(Mandatory)] [string] $AgentRoot, [Parameter(Mandatory)] [string] $LogFolder)
    $script = Join-Path $AgentRoot 'bootstrap-agent.ps1'
    $serviceLog = Join-Path $LogFolder 'AdoBootstrap.service.log'
    @(
        , @('AppParameters', "-NoProfile -NonInteractive -ExecutionPolicy Bypass -File `"$script`"")
        , @('AppDirectory', $AgentRoot)
        , @('DisplayName', 'kiln Azure DevOps agent bootstrap')
        , @('Description', 'Registers this VM as an Azure DevOps agent (PAT from Key Vault via managed identity). Restart after changing ADO_* machine variables.')
        , @('ObjectName', 'LocalSystem')
        , @('Start', 'SERVICE_AUTO_START')
        , @('AppExit', 'Default', 'Restart')
        , @('AppExit', '0', 'Exit')
        , @('AppExit', '3', 'Exit')
        , @('AppRestartDelay', '60000')
        , @('AppThrottle', '5000')
        , @('AppStdout', $serviceLog)
        , @('AppStderr', $serviceLog)
        , @('AppRotateFiles', '1')
        , @('AppRotateBytes', '1048576')
    )
}

function Get-AdoAgentOnceNssmSettings {
    # Every `nssm set` of the one-job agent service, in order.
    param([Parameter(Mandatory)] [string] $AgentRoot)
    $serviceLog = Join-Path $AgentRoot '_diag\AdoAgentOnce.service.log'
    @(
        , @('AppParameters', 'run --once')
        , @('AppDirectory', $AgentRoot)
        , @('DisplayName', 'kiln Azure DevOps agent, one job')
        , @('Description', 'Runs the registered agent for one job (KILN_RECYCLE=true); started by AdoBootstrap after the registration, never restarted: kiln reimages the VM.')
        # The SCM's own name for NETWORK SERVICE, the same whatever the Windows language; no password.
        , @('ObjectName', 'NT Authority\NetworkService')
        , @('Start', 'SERVICE_DEMAND_START')
        , @('AppExit', 'Default', 'Exit')
        # _diag: NETWORK SERVICE may write there (configure-agent-permissions.ps1), and NSSM opens
        # the file as the service's account.
        , @('AppStdout', $serviceLog)
        , @('AppStderr', $serviceLog)
    )
}

function Install-NssmService {
    # (Re)creates the service running $Application with the given `nssm set` settings.
    param([Parameter(Mandatory)] [string] $Name, [Parameter(Mandatory)] [string] $Application, [Parameter(Mandatory)] [object[]] $Settings)
    if ($null -ne (Get-ServiceStartType -Name $Name)) {
        Invoke-Nssm -Arguments @('remove', $Name, 'confirm')
    }
    Invoke-Nssm -Arguments @('install', $Name, $Application)
    foreach ($setting in $Settings) {
        Invoke-Nssm -Arguments (@('set', $Name) + $setting)
    }
}

function Register-AdoBootstrap {
    param(
        [Parameter(Mandatory)] [string] $AgentRoot,
        [Parameter(Mandatory)] [string] $ScriptFolder,
        [Parameter(Mandatory)] [string] $LogFolder,
        [string] $ServiceName = 'AdoBootstrap',
        # bootstrap-agent.ps1 starts it by this name ($script:AgentOnceServiceName there).
        [string] $AgentOnceServiceName = 'AdoAgentOnce'
    )
    $ErrorActionPreference = 'Stop'
    if (-not (Test-Path -LiteralPath (Join-Path $AgentRoot 'config.cmd'))) { throw "no agent in ${AgentRoot}: run install-ado-agent.ps1 first" }

    foreach ($file in 'bootstrap-agent.ps1', 'configure-run.ps1') {
        Copy-Item -LiteralPath (Join-Path $ScriptFolder $file) -Destination (Join-Path $AgentRoot $file) -Force
    }
    New-Item -ItemType Directory -Path $LogFolder -Force | Out-Null
    # bootstrap-agent.ps1 finds its agent folder here (and next to itself).
    Set-MachineEnvironmentVariable -Name 'ADO_AGENT_ROOT' -Value $AgentRoot

    Install-NssmService -Name $ServiceName -Application (Get-WindowsPowerShellPath) -Settings (Get-AdoBootstrapNssmSettings -AgentRoot $AgentRoot -LogFolder $LogFolder)
    $listener = Join-Path $AgentRoot 'bin\Agent.Listener.exe'
    Install-NssmService -Name $AgentOnceServiceName -Application $listener -Settings (Get-AdoAgentOnceNssmSettings -AgentRoot $AgentRoot)

    $startType = Get-ServiceStartType -Name $ServiceName
    if ($startType -ne 'Automatic') { throw "$ServiceName start type is '$startType', expected Automatic" }
    $startType = Get-ServiceStartType -Name $AgentOnceServiceName
    if ($startType -ne 'Manual') { throw "$AgentOnceServiceName start type is '$startType', expected Manual (started by the bootstrap only)" }
    Write-Host "verified: service $ServiceName registered (Automatic, LocalSystem) to run $(Join-Path $AgentRoot 'bootstrap-agent.ps1'), and $AgentOnceServiceName (Manual, NETWORK SERVICE) to run $listener run --once"
}

if ($MyInvocation.InvocationName -ne '.') {
    if (-not $AgentRoot) { $AgentRoot = $env:AGENT_ROOT }
    if (-not $ScriptFolder) { $ScriptFolder = Join-Path $env:KILN_IMAGE_FOLDER 'scripts' }
    if (-not $LogFolder) { $LogFolder = Join-Path $env:ProgramData 'kiln\logs' }
    Register-AdoBootstrap -AgentRoot $AgentRoot -ScriptFolder $ScriptFolder -LogFolder $LogFolder
}
