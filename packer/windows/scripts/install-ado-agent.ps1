# Downloads the Azure DevOps agent AGENT_VERSION (a pin with its SHA-256, or latest), checks its SHA-256, unpacks it into AGENT_ROOT and checks it runs.
[CmdletBinding()]
param()
$ErrorActionPreference = 'Stop'
Import-Module (Join-Path $env:KILN_IMAGE_FOLDER 'scripts/helpers/ImageHelpers.psm1')

function Expand-KilnAgent {
    param([Parameter(Mandatory)] [string] $Zip, [Parameter(Mandatory)] [string] $Root)
    New-Item -ItemType Directory -Path $Root -Force | Out-Null
    Expand-KilnZip -Path $Zip -Destination $Root
}

function Install-KilnAdoAgent {
    # The template passes agent_version and agent_sha256 (or toolset.json's entry); a pin is never
    # downloaded without its SHA-256, latest takes it from the release notes.
    param([Parameter(Mandatory)] $Entry, [Parameter(Mandatory)] [string] $Version, [string] $Sha256, [Parameter(Mandatory)] [string] $Root)
    $tool = Resolve-KilnAdoAgent -Entry $Entry -Version $Version -Sha256 $Sha256
    $zip = Save-KilnVerifiedDownload -Tool $tool
    Expand-KilnAgent -Zip $zip -Root $Root
    Remove-Item -LiteralPath $zip -Force
    if (-not (Test-Path -LiteralPath (Join-Path $Root 'config.cmd'))) { throw "config.cmd is missing from $Root" }
    $listener = Join-Path $Root 'bin\Agent.Listener.exe'
    $reported = (& $listener --version | Select-Object -First 1)
    if ([string] $reported -ne $tool.Version) { throw "Agent.Listener.exe --version printed '$reported', expected $($tool.Version)" }
    Write-Host "verified: Azure DevOps agent $reported in $Root"
    Add-KilnToolRecord -Tool $tool
}

if ($MyInvocation.InvocationName -ne '.') {
    if (-not $env:AGENT_VERSION) { throw 'AGENT_VERSION is not set' }
    if (-not $env:AGENT_ROOT) { throw 'AGENT_ROOT is not set' }
    Install-KilnAdoAgent -Entry (Get-Toolset).adoAgent -Version $env:AGENT_VERSION -Sha256 $env:AGENT_SHA256 -Root $env:AGENT_ROOT
}
