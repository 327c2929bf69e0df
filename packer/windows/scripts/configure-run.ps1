# Manual fallback of the AdoBootstrap service: asks for whatever is missing, configures the agent interactively and runs it in this console.
<#
.SYNOPSIS
    Configures this machine's Azure DevOps agent by hand and runs it (run.cmd) in the foreground.
.DESCRIPTION
    For an RDP session when the bootstrap service is not wanted or cannot reach Key Vault. Values
    come from the parameters, else from the machine environment (ADO_ORG_URL, ADO_POOL), else from a
    prompt. The PAT is always prompted for, read as a SecureString and never echoed or logged. The
    agent is named after the computer name, like the bootstrap, so kiln still recognises it. An
    agent that is already configured is not configured again; it is just run. After config.cmd the
    agent folder gets the image's permissions again (config.cmd changes them, and the bootstrap
    refuses to register on a folder that differs). With KILN_RECYCLE=true the agent runs one job
    (run.cmd --once).
.EXAMPLE
    C:\ado-agent\configure-run.ps1 -Pool kiln-windows
#>
[CmdletBinding()]
param(
    [string] $OrgUrl,
    [string] $Pool,
    [string] $WorkDir,
    [string] $AgentRoot = $PSScriptRoot,
    # Configure only; do not start run.cmd.
    [switch] $NoRun
)

# bootstrap-agent.ps1 declares -AgentRoot too, and dot-sourcing it binds its parameters in this
# scope, which would clear ours: keep what was asked for first.
$requested = @{ OrgUrl = $OrgUrl; Pool = $Pool; WorkDir = $WorkDir; AgentRoot = $AgentRoot; NoRun = $NoRun }
. (Join-Path $PSScriptRoot 'bootstrap-agent.ps1')

function Read-PromptValue {
    param([Parameter(Mandatory)] [string] $Prompt, [string] $Default)
    $suffix = if ($Default) { " [$Default]" } else { '' }
    $answer = Read-Host -Prompt ($Prompt + $suffix)
    if ([string]::IsNullOrWhiteSpace($answer)) { return $Default }
    $answer.Trim()
}

function Read-PromptSecret {
    param([Parameter(Mandatory)] [string] $Prompt)
    $secure = Read-Host -Prompt $Prompt -AsSecureString
    $bstr = [Runtime.InteropServices.Marshal]::SecureStringToBSTR($secure)
    try { [Runtime.InteropServices.Marshal]::PtrToStringBSTR($bstr) } finally { [Runtime.InteropServices.Marshal]::ZeroFreeBSTR($bstr) }
}

function Invoke-AgentRun {
    # -Once: one job, then run.cmd exits (KILN_RECYCLE=true).
    param([Parameter(Mandatory)] [string] $AgentRoot, [switch] $Once)
    $arguments = if ($Once) { @('--once') } else { @() }
    & (Join-Path $AgentRoot 'run.cmd') @arguments
}

function Invoke-ConfigureRun {
    [CmdletBinding()]
    param([string] $OrgUrl, [string] $Pool, [string] $WorkDir, [string] $AgentRoot, [switch] $NoRun)
    $ErrorActionPreference = 'Stop'
    $script:BootstrapLogPath = $null  # console only

    if (-not $OrgUrl) { $OrgUrl = Get-MachineEnvironmentVariable -Name 'ADO_ORG_URL' }
    while (-not (Test-AbsoluteHttpUrl $OrgUrl)) { $OrgUrl = Read-PromptValue -Prompt 'Azure DevOps organisation URL (https://dev.azure.com/<org>)' }
    if (-not $Pool) { $Pool = Get-MachineEnvironmentVariable -Name 'ADO_POOL' }
    if (-not $Pool) { $Pool = Read-PromptValue -Prompt 'Agent pool' -Default 'Default' }
    if (-not $WorkDir) { $WorkDir = Join-Path $AgentRoot '_work' }
    if (-not (Test-Path -LiteralPath (Join-Path $AgentRoot 'config.cmd'))) { throw "no config.cmd in $AgentRoot" }
    $recycleValue = Get-MachineEnvironmentVariable -Name 'KILN_RECYCLE'
    $recycle = ConvertFrom-RecycleSetting $recycleValue
    if ($null -eq $recycle) { throw "KILN_RECYCLE '$recycleValue' is neither true nor false (true: the agent runs one job; unset means false)" }

    $settings = [pscustomobject]@{ OrgUrl = $OrgUrl; Pool = $Pool; WorkDir = $WorkDir; AgentRoot = $AgentRoot; AgentName = (Get-ComputerName) }
    $state = Get-AgentState -Settings $settings -WithoutService
    Write-BootstrapLog "agent state: $($state.State) ($($state.Reason))"
    if ($state.State -ne 'Configured') {
        $pat = Read-PromptSecret -Prompt 'PAT (Agent Pools: Read & manage)'
        if ([string]::IsNullOrEmpty($pat)) { throw 'no PAT given' }
        Add-BootstrapSecret $pat
        try {
            if ($state.State -eq 'Partial') { Remove-AgentConfiguration -Settings $settings -Pat $pat }
            # The seed README's manual command: no service, the agent runs in this console.
            $arguments = @(Get-AgentConfigArguments -Settings $settings)
            # The PAT travels as VSTS_AGENT_INPUT_TOKEN for config.cmd only, gone before run.cmd starts.
            $code = Invoke-AgentConfigCommand -AgentRoot $AgentRoot -Arguments $arguments -Secret $pat
            if ($code -ne 0) { throw "config.cmd failed with exit code $code" }
            Set-AgentFolderAcl -Plan (Get-AgentFolderAclPlan -AgentRoot $AgentRoot -WorkDir $WorkDir)
        } finally {
            $pat = $null
            $script:BootstrapSecrets.Clear()
        }
    }
    if (-not $NoRun) { Invoke-AgentRun -AgentRoot $AgentRoot -Once:$recycle }
}

if ($MyInvocation.InvocationName -ne '.') {
    Invoke-ConfigureRun @requested
}
