# Checks, after the last restart, that every tool of the image still answers at its toolset.json version and AdoBootstrap is registered.
$ErrorActionPreference = 'Stop'
Import-Module (Join-Path $env:KILN_IMAGE_FOLDER 'scripts\helpers\ImageHelpers.psm1') -Force
$toolset = Get-Toolset

$failures = New-Object System.Collections.Generic.List[string]
function Test-Step([string] $Name, [scriptblock] $Check) {
    try { & $Check } catch { $failures.Add("${Name}: $($_.Exception.Message)") }
}

Test-Step 'choco' { Assert-ToolOutput -Command 'choco' -Arguments @('--version') -Pattern ('^' + [regex]::Escape($toolset.chocolatey.version) + '$') }
Test-Step 'git' { Assert-ToolOutput -Command 'git' -Arguments @('--version') -Pattern $toolset.git.versionPattern }
Test-Step 'node' { Assert-ToolOutput -Command 'node' -Arguments @('--version') -Pattern $toolset.nodejs.versionPattern }
Test-Step 'python' { Assert-ToolOutput -Command 'python' -Arguments @('--version') -Pattern $toolset.python.versionPattern }
Test-Step 'pip' { Assert-ToolOutput -Command 'python' -Arguments @('-m', 'pip', '--version') -Pattern ('^pip ' + [regex]::Escape($toolset.pip.version) + ' ') }
Test-Step 'cmake' { Assert-ToolOutput -Command 'cmake' -Arguments @('--version') -Pattern $toolset.cmake.versionPattern }
Test-Step 'az' { Assert-ToolOutput -Command 'az' -Arguments @('--version') -Pattern $toolset.azureCli.versionPattern }
Test-Step 'azd' { Assert-ToolOutput -Command 'azd' -Arguments @('version') -Pattern $toolset.azd.versionPattern }
foreach ($package in $toolset.nodePackages) {
    Test-Step $package.name { Assert-ToolOutput -Command $package.name -Arguments @('--version') -Pattern ('^' + [regex]::Escape($package.version) + '$') }
}
Test-Step 'Build Tools' {
    $vswhere = Join-Path ${env:ProgramFiles(x86)} 'Microsoft Visual Studio\Installer\vswhere.exe'
    $found = & $vswhere -products 'Microsoft.VisualStudio.Product.BuildTools' -requires $toolset.visualStudioBuildTools.requiredComponent -property installationVersion
    if (-not $found) { throw 'no Build Tools with the C++ workload' }
}
Test-Step 'Az module' {
    if (-not (Get-Module -ListAvailable -Name Az.Accounts)) { throw 'Az.Accounts is not installed' }
}
Test-Step 'agent' {
    if (-not (Test-Path -LiteralPath (Join-Path $env:AGENT_ROOT 'config.cmd'))) { throw "no config.cmd in $env:AGENT_ROOT" }
    foreach ($file in 'bootstrap-agent.ps1', 'configure-run.ps1') {
        if (-not (Test-Path -LiteralPath (Join-Path $env:AGENT_ROOT $file))) { throw "$file is missing from $env:AGENT_ROOT" }
    }
    if (Test-Path -LiteralPath (Join-Path $env:AGENT_ROOT '.agent')) { throw 'the image holds a configured agent' }
}
Test-Step 'AdoBootstrap' {
    $service = Get-Service -Name 'AdoBootstrap'
    if ([string] $service.StartType -ne 'Automatic') { throw "start type is $($service.StartType)" }
    if ([Environment]::GetEnvironmentVariable('ADO_AGENT_ROOT', 'Machine') -ne $env:AGENT_ROOT) { throw 'ADO_AGENT_ROOT is not set' }
}

if ($failures.Count -gt 0) { throw ("image checks failed:`n  " + ($failures -join "`n  ")) }
Write-Host 'verified: every tool of the image'
