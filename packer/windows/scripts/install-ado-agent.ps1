# Downloads the Azure DevOps agent AGENT_VERSION, checks its SHA-256, unpacks it into AGENT_ROOT and checks it runs.
$ErrorActionPreference = 'Stop'
Import-Module (Join-Path $env:KILN_IMAGE_FOLDER 'scripts\helpers\ImageHelpers.psm1') -Force
$toolset = Get-Toolset

$version = $env:AGENT_VERSION
$root = $env:AGENT_ROOT
if (-not $version) { throw 'AGENT_VERSION is not set' }
if (-not $root) { throw 'AGENT_ROOT is not set' }
# The template passes agent_sha256 or the toolset.json entry; never download an unverified agent.
$sha256 = $env:AGENT_SHA256
if (-not $sha256) {
    $known = $toolset.adoAgent.sha256.PSObject.Properties[$version]
    if ($known) { $sha256 = $known.Value }
}
if (-not $sha256) { throw "no SHA-256 known for agent ${version}: add it to toolset.json (adoAgent.sha256) or pass -var agent_sha256=..." }

$url = $toolset.adoAgent.downloadUrl -f $version
$zip = Invoke-DownloadWithRetry -Url $url -Path (Join-Path $env:TEMP "vsts-agent-win-x64-$version.zip") -Sha256 $sha256
New-Item -ItemType Directory -Path $root -Force | Out-Null
Expand-Archive -LiteralPath $zip -DestinationPath $root -Force
Remove-Item -LiteralPath $zip -Force

if (-not (Test-Path -LiteralPath (Join-Path $root 'config.cmd'))) { throw "config.cmd is missing from $root" }
$listener = Join-Path $root 'bin\Agent.Listener.exe'
$reported = (& $listener --version | Select-Object -First 1)
if ([string] $reported -ne $version) { throw "Agent.Listener.exe --version printed '$reported', expected $version" }
Write-Host "verified: Azure DevOps agent $reported in $root"
