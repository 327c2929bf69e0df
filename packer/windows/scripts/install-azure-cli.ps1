# Installs the Azure CLI (version from toolset.json) and checks `az --version`.
$ErrorActionPreference = 'Stop'
Import-Module (Join-Path $env:KILN_IMAGE_FOLDER 'scripts\helpers\ImageHelpers.psm1') -Force
$toolset = Get-Toolset

Install-ChocoPackage -Name $toolset.azureCli.package -Version $toolset.azureCli.version
Assert-ToolOutput -Command 'az' -Arguments @('--version') -Pattern $toolset.azureCli.versionPattern
