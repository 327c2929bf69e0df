# Installs Python 3.12 (version from toolset.json) for all users and checks `python --version`.
$ErrorActionPreference = 'Stop'
Import-Module (Join-Path $env:KILN_IMAGE_FOLDER 'scripts\helpers\ImageHelpers.psm1') -Force
$toolset = Get-Toolset

Install-ChocoPackage -Name $toolset.python.package -Version $toolset.python.version
Assert-ToolOutput -Command 'python' -Arguments @('--version') -Pattern $toolset.python.versionPattern
Assert-ToolOutput -Command 'python' -Arguments @('-m', 'pip', '--version') -Pattern '^pip \d+'
