# Installs Node.js LTS (version from toolset.json) and checks `node --version` and npm.
$ErrorActionPreference = 'Stop'
Import-Module (Join-Path $env:KILN_IMAGE_FOLDER 'scripts\helpers\ImageHelpers.psm1') -Force
$toolset = Get-Toolset

Install-ChocoPackage -Name $toolset.nodejs.package -Version $toolset.nodejs.version
Assert-ToolOutput -Command 'node' -Arguments @('--version') -Pattern $toolset.nodejs.versionPattern
Assert-ToolOutput -Command 'npm' -Arguments @('--version') -Pattern '^\d+\.\d+\.\d+$'
