# Makes the agent folder unwritable by the account jobs run as (bootstrap-agent.ps1's plan) and checks it.
<#
    Runs after install-ado-agent.ps1 and configure-ado-bootstrap.ps1, once everything a registration
    executes is in AGENT_ROOT (config.cmd, run.cmd, bin\, externals\, bootstrap-agent.ps1,
    configure-run.ps1). The plan and the icacls calls are bootstrap-agent.ps1's, the same ones the
    bootstrap applies again after every config.cmd, so the image and a registered VM cannot drift
    apart. See "Agent folder permissions" in bootstrap-agent.ps1.
#>
# No parameters: bootstrap-agent.ps1, dot-sourced below, declares -AgentRoot and -LogPath, and
# dot-sourcing binds them in this scope.
. (Join-Path $PSScriptRoot 'bootstrap-agent.ps1')

function Set-ImageAgentFolderAcl {
    param([Parameter(Mandatory)] [string] $AgentRoot)
    $ErrorActionPreference = 'Stop'
    $missing = @($script:AgentExecutedItems | Where-Object { -not (Test-Path -LiteralPath (Join-Path $AgentRoot $_)) })
    if ($missing.Count -gt 0) {
        throw "the agent folder $AgentRoot lacks $($missing -join ', '): run install-ado-agent.ps1 and configure-ado-bootstrap.ps1 first"
    }
    Set-AgentFolderAcl -Plan (Get-AgentFolderAclPlan -AgentRoot $AgentRoot)
    Write-Host "verified: $AgentRoot is owned by Administrators and does not inherit from its parent; $(Get-PrincipalLabel $script:AgentAccountSid) may read and execute it, and modify only _work and _diag"
}

if ($MyInvocation.InvocationName -ne '.') {
    if (-not $env:AGENT_ROOT) { throw 'AGENT_ROOT is not set' }
    Set-ImageAgentFolderAcl -AgentRoot $env:AGENT_ROOT
}
