# Installs Git for Windows (version from toolset.json) and checks `git --version`.
$ErrorActionPreference = 'Stop'
Import-Module (Join-Path $env:KILN_IMAGE_FOLDER 'scripts\helpers\ImageHelpers.psm1') -Force
$toolset = Get-Toolset

Install-ChocoPackage -Name $toolset.git.package -Version $toolset.git.version -PackageParameters '/GitAndUnixToolsOnPath /NoAutoCrlf /NoShellIntegration'
Assert-ToolOutput -Command 'git' -Arguments @('--version') -Pattern $toolset.git.versionPattern
# Agents check out into paths deeper than MAX_PATH.
& git config --system core.longpaths true
Assert-ToolOutput -Command 'git' -Arguments @('config', '--system', 'core.longpaths') -Pattern '^true$'
