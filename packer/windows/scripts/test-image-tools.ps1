# Checks, after the last restart, that every recorded tool still answers at the version it was installed at, and that AdoBootstrap is registered.
[CmdletBinding()]
param()
$ErrorActionPreference = 'Stop'
Import-Module (Join-Path $env:KILN_IMAGE_FOLDER 'scripts/helpers/ImageHelpers.psm1')

function Get-KilnToolCheck {
    # How a recorded tool shows its version (the version itself comes from its record, since the
    # toolset names lines and the install step resolved them), or $null for one checked otherwise.
    param([Parameter(Mandatory)] [string] $Name)
    $checks = @{
        'chocolatey' = @('choco', '--version'); 'git' = @('git', '--version'); 'node' = @('node', '--version')
        'python' = @('python', '--version'); 'pip' = @('python', '-m', 'pip', '--version'); 'cmake' = @('cmake', '--version')
        'azure-cli' = @('az', '--version'); 'azd' = @('azd', 'version'); 'yarn' = @('yarn', '--version'); 'pnpm' = @('pnpm', '--version')
    }
    $check = $checks[$Name]
    if (-not $check) { return $null }
    [pscustomobject]@{ Command = $check[0]; Arguments = @($check | Select-Object -Skip 1) }
}

function Test-KilnImageTools {
    param([Parameter(Mandatory)] [string] $AgentRoot)
    $failures = New-Object System.Collections.Generic.List[string]
    $step = {
        param([string] $Name, [scriptblock] $Check)
        try { & $Check } catch { $failures.Add("${Name}: $($_.Exception.Message)") }
    }
    $records = @(Get-KilnToolRecords)
    # Every tool the image promises (docs/software-report.md names): a missing record is a failure too.
    $expected = @('azd', 'azure-cli', 'azure-pipelines-agent', 'az-powershell', 'chocolatey', 'cmake', 'git', 'node', 'nssm', 'pip', 'pnpm', 'python', 'vs-buildtools', 'yarn')
    foreach ($name in $expected) {
        if (-not ($records | Where-Object { $_.name -eq $name })) { $failures.Add("${name}: no tool record (its install step did not finish)") }
    }
    foreach ($record in $records) {
        $check = Get-KilnToolCheck -Name $record.name
        if (-not $check) { continue }
        try { Assert-ToolOutput -Command $check.Command -Arguments $check.Arguments -Pattern (Get-KilnVersionPattern $record.version) }
        catch { $failures.Add("$($record.name): $($_.Exception.Message)") }
    }
    & $step 'vs-buildtools' {
        $vswhere = Join-Path ${env:ProgramFiles(x86)} 'Microsoft Visual Studio\Installer\vswhere.exe'
        $found = & $vswhere -products 'Microsoft.VisualStudio.Product.BuildTools' -requires (Get-Toolset).visualStudioBuildTools.requiredComponent -property installationVersion
        if (-not $found) { throw 'no Build Tools with the C++ workload' }
    }
    & $step 'az-powershell' {
        if (-not (Get-Module -ListAvailable -Name Az.Accounts)) { throw 'Az.Accounts is not installed' }
    }
    & $step 'azure-pipelines-agent' {
        if (-not (Test-Path -LiteralPath (Join-Path $AgentRoot 'config.cmd'))) { throw "no config.cmd in $AgentRoot" }
        foreach ($file in 'bootstrap-agent.ps1', 'configure-run.ps1') {
            if (-not (Test-Path -LiteralPath (Join-Path $AgentRoot $file))) { throw "$file is missing from $AgentRoot" }
        }
        if (Test-Path -LiteralPath (Join-Path $AgentRoot '.agent')) { throw 'the image holds a configured agent' }
    }
    & $step 'AdoBootstrap' {
        $service = Get-Service -Name 'AdoBootstrap'
        if ([string] $service.StartType -ne 'Automatic') { throw "start type is $($service.StartType)" }
        if ([Environment]::GetEnvironmentVariable('ADO_AGENT_ROOT', 'Machine') -ne $AgentRoot) { throw 'ADO_AGENT_ROOT is not set' }
    }
    if ($failures.Count -gt 0) { throw ("image checks failed:`n  " + ($failures -join "`n  ")) }
    Write-Host "verified: every tool of the image ($($records.Count) recorded)"
}

if ($MyInvocation.InvocationName -ne '.') { Test-KilnImageTools -AgentRoot $env:AGENT_ROOT }
